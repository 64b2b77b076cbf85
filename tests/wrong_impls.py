"""Deliberately wrong implementations of the comparison protocol, each with one classic bug.

Used by the harness tests in-process and by the CLI tests through ``--impl wrong_impls:Class``.
"""

import numpy as np

from scratch import MLP
from scratch.batching import batch_slices, epoch_orders


class NoFactorTwo(MLP):
    """The MSE gradient without its factor 2."""

    def _backward(self, error, input_error):
        return super()._backward(error / 2, input_error)


class SumOverBatch(MLP):
    """Sums the loss gradient over the batch instead of averaging it."""

    def _backward(self, error, input_error):
        return super()._backward(error * error.shape[0], input_error)


class PlainEpochMean(MLP):
    """Reports the plain mean of the batch losses as the epoch loss."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        x, y = np.asarray(x, dtype=self.dtype), np.asarray(y, dtype=self.dtype)
        history = []
        for order in epoch_orders(len(x), epochs, shuffle):
            xe, ye = (x, y) if order is None else (x[order], y[order])
            losses = [self._train_step(xe[s], ye[s], learning_rate) for s in batch_slices(len(x), batch_size)]
            history.append(float(np.mean(losses)))
        return history


class DropPartial(MLP):
    """Drops the last, partial batch of every epoch."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        n = len(x) // batch_size * batch_size
        if n == 0:
            return [0.0] * epochs
        return super().train(np.asarray(x)[:n], np.asarray(y)[:n], epochs, learning_rate, batch_size, shuffle)


class PartialDividedByBatchSize(MLP):
    """Divides the partial batch's gradient by batch_size instead of its own size."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        self._batch_size = batch_size
        return super().train(x, y, epochs, learning_rate, batch_size, shuffle, verbose)

    def _train_step(self, inputs, targets, learning_rate):
        return super()._train_step(inputs, targets, learning_rate * len(inputs) / self._batch_size)


class IgnoresShuffle(MLP):
    """Never shuffles."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        return super().train(x, y, epochs, learning_rate, batch_size, None, verbose)


class FitsDefaultBatchSize(MLP):
    """Ignores batch_size and trains in batches of 32, like Keras fit when none is passed."""

    def train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False):
        return super().train(x, y, epochs, learning_rate, 32, shuffle, verbose)


THRESHOLD = 0.9


class SkipsLargeInputs(MLP):
    """Makes no update on a sample whose inputs sum above THRESHOLD (but its gradients are right)."""

    def _train_step(self, inputs, targets, learning_rate):
        if inputs.sum() > THRESHOLD:
            learning_rate = 0.0
        return super()._train_step(inputs, targets, learning_rate)


class IgnoresSetWeights(MLP):
    def set_weights(self, weights):
        pass


class Raises(MLP):
    def gradients(self, x, y):
        raise RuntimeError("boom")


# ------------------------------------------------------------------ tests
