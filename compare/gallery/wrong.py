"""Deliberately wrong NumPy MLPs: one classic mistake each, a few lines on top of ``scratch.MLP``.

Every mistake is written once, here. The pitfall gallery
(:mod:`compare.gallery.pitfalls`) and the harness tests use these classes
in-process; the command line takes them as
``mlp-compare --impl compare.gallery.wrong:NoFactorTwo``.

They override ``scratch.MLP``'s two private hooks: ``_backward(error,
input_error)`` back-propagates the loss gradient ``error = dL/dŷ`` of a batch,
and ``_train_step(inputs, targets, learning_rate)`` does one batch's forward,
backward and update and returns its pre-update loss.

The optimizer mistakes swap ``scratch.MLP``'s optimizer for one with another
update rule and the same slot names, so the harness can copy and compare its state.

This module imports NumPy and ``scratch`` only (no TensorFlow). The Keras-side
mistakes are in :mod:`compare.gallery.keras_wrong`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scratch import MLP, MLPConfig
from scratch.optimizers import SGD, Adam, Optimizer

Array = np.ndarray

#: ``SkipsLargeInputs`` makes no update on a sample whose inputs sum above this.
THRESHOLD = 0.9


class NoFactorTwo(MLP):
    r"""The MSE gradient without its factor 2: :math:`(\hat y - y)/k` instead of :math:`2(\hat y - y)/k`."""

    def _backward(self, error: Array, input_error: bool) -> Array | None:
        return super()._backward(error / 2, input_error)


class SumOverBatch(MLP):
    """Sums the loss gradient over the batch instead of averaging it (``B`` times too large)."""

    def _backward(self, error: Array, input_error: bool) -> Array | None:
        return super()._backward(error * error.shape[0], input_error)


class PlainEpochMean(MLP):
    """Reports each epoch's loss as the plain mean of its batch losses (Keras weights them by batch size)."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        self._batch_losses: list[float] = []
        super().train(x, y, epochs, learning_rate, batch_size, shuffle, verbose)
        per_epoch = -(-len(x) // batch_size)  # batches in an epoch, the last one maybe partial
        losses = self._batch_losses
        return [float(np.mean(losses[start:start + per_epoch])) for start in range(0, len(losses), per_epoch)]

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        loss = super()._train_step(inputs, targets, learning_rate)
        self._batch_losses.append(loss)
        return loss


class DropPartial(MLP):
    """Drops the last, partial batch of every epoch."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        n = len(x) // batch_size * batch_size
        if n == 0:
            return [0.0] * epochs
        return super().train(np.asarray(x)[:n], np.asarray(y)[:n], epochs, learning_rate, batch_size, shuffle)


class PartialDividedByBatchSize(MLP):
    """Divides the partial batch's gradient by ``batch_size`` instead of by its own size."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        self._batch_size = batch_size
        return super().train(x, y, epochs, learning_rate, batch_size, shuffle, verbose)

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        return super()._train_step(inputs, targets, learning_rate * len(inputs) / self._batch_size)


class IgnoresShuffle(MLP):
    """Never shuffles, whatever ``shuffle`` says."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        return super().train(x, y, epochs, learning_rate, batch_size, None, verbose)


class FitsDefaultBatchSize(MLP):
    """Ignores ``batch_size`` and trains in batches of 32, like Keras ``fit`` when none is passed."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        return super().train(x, y, epochs, learning_rate, 32, shuffle, verbose)


class SkipsLargeInputs(MLP):
    """Makes no update on a batch whose inputs sum above :data:`THRESHOLD` (its gradients are right)."""

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        if inputs.sum() > THRESHOLD:
            learning_rate = 0.0
        return super()._train_step(inputs, targets, learning_rate)


class IgnoresSetWeights(MLP):
    """``set_weights`` does nothing: the side keeps its own initial weights."""

    def set_weights(self, weights: Sequence[Array]) -> None:
        pass


class Raises(MLP):
    """``gradients`` raises ``RuntimeError("boom")``: a side that crashes."""

    def gradients(self, x: Array, y: Array) -> list[Array]:
        raise RuntimeError("boom")


# ------------------------------------------------------------ optimizers
class _PaperAdam(Adam):
    r"""Adam as the paper's Algorithm 1 writes it: bias-corrected moments, ε added to :math:`\sqrt{\hat v}`.

    .. math::

        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
        w \leftarrow w - \eta \, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    Keras folds the corrections into :math:`\alpha` instead, which amounts to
    :math:`\epsilon \sqrt{1-\beta_2^t}` in place of ε here.
    """

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        beta_1, beta_2, epsilon = (self.options[k] for k in ("beta_1", "beta_2", "epsilon"))
        beta_1_power, beta_2_power = _powers(self, parameter.dtype)
        m, v = self.slot_arrays["momentum"][index], self.slot_arrays["velocity"][index]
        m[...] = beta_1 * m + (1 - beta_1) * gradient
        v[...] = beta_2 * v + (1 - beta_2) * gradient**2
        m_hat, v_hat = m / (1 - beta_1_power), v / (1 - beta_2_power)
        parameter -= learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)


def _powers(adam: Adam, dtype: np.dtype) -> tuple[np.floating, np.floating]:
    r""":math:`\beta_1^t, \beta_2^t` with β rounded as TensorFlow rounds it, as Keras computes them."""
    t = dtype.type(adam.iterations + 1)
    return adam.hyperparameter("beta_1", dtype) ** t, adam.hyperparameter("beta_2", dtype) ** t


class _EpsilonInsideRootAdam(Adam):
    r"""Keras's Adam with ε under the square root: :math:`w \leftarrow w - \alpha m / \sqrt{v + \epsilon}`."""

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        beta_1, beta_2, epsilon = (self.options[k] for k in ("beta_1", "beta_2", "epsilon"))
        beta_1_power, beta_2_power = _powers(self, parameter.dtype)
        alpha = learning_rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        m, v = self.slot_arrays["momentum"][index], self.slot_arrays["velocity"][index]
        m += (gradient - m) * (1 - beta_1)
        v += (gradient**2 - v) * (1 - beta_2)
        parameter -= alpha * m / np.sqrt(v + epsilon)


class _PyTorchMomentumSGD(SGD):
    r"""Momentum in PyTorch's form: :math:`v \leftarrow \mu v + g`, :math:`w \leftarrow w - \eta v`.

    Keras keeps :math:`m = -\eta v` instead. While η stays the same the steps
    are the same; after a change of η, PyTorch's step rescales the whole stored
    momentum, Keras's only the new gradient.
    """

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        v = self.slot_arrays["momentum"][index]
        v[...] = self.hyperparameter("momentum", parameter.dtype) * v + gradient  # μ rounded as Keras rounds it
        parameter -= learning_rate * v


def _default_optimizer(args: tuple, kwargs: dict[str, Any], default: Any) -> dict[str, Any]:
    """``kwargs`` with ``optimizer=default`` unless given (or unless the network comes as one ``MLPConfig``)."""
    return kwargs if len(args) == 1 and isinstance(args[0], MLPConfig) else {"optimizer": default} | kwargs


def _swap_optimizer(mlp: MLP, name: str, cls: type[Optimizer]) -> None:
    """Give ``mlp`` an optimizer of class ``cls`` with its configured arguments (which must be ``name``'s)."""
    config = dict(mlp.config.optimizer)
    if config.pop("name") != name:
        raise ValueError(f"{type(mlp).__name__} needs optimizer={name!r}, got {mlp.config.optimizer['name']!r}")
    mlp.optimizer = cls(**config)
    mlp.optimizer.build(mlp.parameters)


class TextbookAdam(MLP):
    r"""Adam from the paper's Algorithm 1 (bias-corrected moments, ε outside :math:`\sqrt{\hat v}`), not Keras's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_default_optimizer(args, kwargs, "adam"))
        _swap_optimizer(self, "adam", _PaperAdam)


class AdamEpsilonInsideRoot(MLP):
    r"""Adam with ε inside the square root, :math:`\sqrt{v + \epsilon}`, where Keras adds it to :math:`\sqrt v`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_default_optimizer(args, kwargs, "adam"))
        _swap_optimizer(self, "adam", _EpsilonInsideRootAdam)


class PyTorchMomentum(MLP):
    r"""SGD with momentum kept as PyTorch keeps it (:math:`v = \mu v + g`, step :math:`\eta v`), default μ = 0.9."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_default_optimizer(args, kwargs, {"name": "sgd", "momentum": 0.9}))
        if self.config.optimizer["momentum"] == 0:
            raise ValueError("PyTorchMomentum needs an sgd optimizer with momentum > 0")
        _swap_optimizer(self, "sgd", _PyTorchMomentumSGD)


# ------------------------------------------- training written another way
#: ``StatefulDecay``'s rate after ``s`` steps: ``lr / (1 + DECAY·s)``.
DECAY = 0.05


class PerSample(MLP):
    """One step per sample whatever ``batch_size`` says (the seed's training)."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        return super().train(x, y, epochs, learning_rate, 1, shuffle, verbose)


class FullBatch(MLP):
    """One step per epoch on the whole data set whatever ``batch_size`` says (a full-batch tutorial's loop)."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        return super().train(x, y, epochs, learning_rate, len(x), shuffle, verbose)


class OwnShuffle(MLP):
    """Reshuffles every epoch with a generator of its own (kept across calls), whatever ``shuffle`` says."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        rng = self.__dict__.setdefault("own_rng", np.random.default_rng(2024))
        history = []
        for _ in range(epochs):
            order = rng.permutation(len(x))
            history += super().train(np.asarray(x)[order], np.asarray(y)[order], 1, learning_rate, batch_size)
        return history


class StatefulDecay(MLP):
    """Decays the learning rate by a step counter kept in the object and never reset: ``lr / (1 + DECAY·s)``."""

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        self.steps = self.__dict__.get("steps", 0) + 1
        return super()._train_step(inputs, targets, learning_rate / (1 + DECAY * self.steps))


class ReturnsNone(MLP):
    """``train`` trains but returns ``None``, as the seed's own ``train`` does (it prints the losses instead)."""

    def train(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().train(*args, **kwargs)  # type: ignore[arg-type]


# ------------------------------------------ the protocol's layout broken
class KernelsOutIn(MLP):
    """Shows its kernels ``(out, in)``, the textbook column-vector layout, in get/set_weights and gradients."""

    def get_weights(self) -> list[Array]:
        return [w.T.copy() if w.ndim == 2 else w for w in super().get_weights()]

    def set_weights(self, weights: Sequence[Array]) -> None:
        super().set_weights([np.transpose(w) for w in weights])

    def gradients(self, x: Array, y: Array) -> list[Array]:
        return [g.T.copy() if g.ndim == 2 else g for g in super().gradients(x, y)]


class BiasesAsRows(MLP):
    """Keeps its biases as rows ``(1, n)``, as many tutorials do, and shows them so."""

    def get_weights(self) -> list[Array]:
        return [w.reshape(1, -1) if w.ndim == 1 else w for w in super().get_weights()]

    def set_weights(self, weights: Sequence[Array]) -> None:
        super().set_weights([np.reshape(w, p.shape) for w, p in zip(weights, self.parameters)])


class MisspeltGradients(MLP):
    """Calls its gradient method ``gradient``: the protocol's ``gradients`` is missing."""

    gradient = MLP.gradients
    gradients = None  # type: ignore[assignment]
