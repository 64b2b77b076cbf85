"""The seed's original algorithm, kept as it was written: the baseline of the benchmarks.

musikalkemist/DeepLearningForAudioWithPython, lesson 08 ``mlp.py``: one 1-D
sample at a time, sigmoid everywhere, no biases, descent on 1/2 sum (t - o)^2.
``scratch.MLP(..., loss="seed")`` does the same arithmetic; the benchmarks time
both from the same weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


class SeedOriginalMLP:
    """The seed's algorithm as it was written (lesson 08 ``mlp.py``), as the baseline.

    One 1-D sample at a time, ``np.dot``, ``1 / (1 + np.exp(-x))``, reshapes for
    the outer product, ``weights += derivatives * lr`` and the epoch error as
    the mean of ``np.average((target - output) ** 2)`` over samples. The only
    change: the initial weights can be passed in, and ``train`` returns the
    epoch errors instead of printing them.
    """

    def __init__(self, layers: Sequence[int], weights: Sequence[np.ndarray] | None = None) -> None:
        if weights is None:
            weights = [np.random.rand(n_in, n_out) for n_in, n_out in itertools.pairwise(layers)]  # noqa: NPY002
        self.weights = [np.array(w, dtype=float) for w in weights]
        self.derivatives = [np.zeros_like(w) for w in self.weights]
        self.activations = [np.zeros(n) for n in layers]

    def forward_propagate(self, inputs):
        activations = inputs
        self.activations[0] = activations
        for i, w in enumerate(self.weights):
            net_inputs = np.dot(activations, w)
            activations = self._sigmoid(net_inputs)
            self.activations[i + 1] = activations
        return activations

    def back_propagate(self, error):
        for i in reversed(range(len(self.derivatives))):
            activations = self.activations[i + 1]
            delta = error * self._sigmoid_derivative(activations)
            delta_re = delta.reshape(delta.shape[0], -1).T
            current_activations = self.activations[i]
            current_activations = current_activations.reshape(current_activations.shape[0], -1)
            self.derivatives[i] = np.dot(current_activations, delta_re)
            error = np.dot(delta, self.weights[i].T)
        return error

    def train(self, inputs, targets, epochs, learning_rate):
        history = []
        for _ in range(epochs):
            sum_errors = 0
            for j, input in enumerate(inputs):
                target = targets[j]
                output = self.forward_propagate(input)
                error = target - output
                self.back_propagate(error)
                self.gradient_descent(learning_rate)
                sum_errors += self._mse(target, output)
            history.append(sum_errors / len(inputs))
        return history

    def gradient_descent(self, learningRate=1):  # the seed's spelling
        for i in range(len(self.weights)):
            weights = self.weights[i]
            derivatives = self.derivatives[i]
            weights += derivatives * learningRate

    def _sigmoid(self, x):
        return 1.0 / (1 + np.exp(-x))

    def _sigmoid_derivative(self, x):
        return x * (1.0 - x)

    def _mse(self, target, output):
        return np.average((target - output) ** 2)


def seed_original_train(x: np.ndarray, y: np.ndarray, weights: Sequence[np.ndarray], epochs: int = 1,
                        learning_rate: float = 0.1) -> SeedOriginalMLP:
    """Train the seed's original algorithm from ``weights``; returns the trained network."""
    mlp = SeedOriginalMLP([w.shape[0] for w in weights] + [weights[-1].shape[1]], weights)
    mlp.train(x, y, epochs, learning_rate)
    return mlp
