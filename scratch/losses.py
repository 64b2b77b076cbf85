r"""The losses an MLP can descend: each a value and its gradient with respect to the output.

Every loss follows Keras's default reduction: a per-sample loss (reduced over
the ``k`` outputs), then the sum over the ``B`` samples of the batch divided
by ``B``.

``"mse"`` is Keras's ``mean_squared_error``: the mean over the ``k`` outputs,

.. math::  L_{mse} = \frac{1}{B}\sum_{b}\frac{1}{k}\sum_{j}(\hat y_{bj} - y_{bj})^2,
           \qquad \frac{\partial L_{mse}}{\partial \hat y} = \frac{2}{Bk}(\hat y - y).

``"seed"`` is what the seed's code really descends: half the *sum* of squared
errors of one sample, averaged over the batch (at batch size 1 this is exactly
the seed's per-sample rule ``weights += lr * a^T (t - o) a (1 - a)``),

.. math::  L_{seed} = \frac{1}{B}\sum_{b}\frac{1}{2}\sum_{j}(\hat y_{bj} - y_{bj})^2,
           \qquad \frac{\partial L_{seed}}{\partial \hat y} = \frac{1}{B}(\hat y - y).

So :math:`L_{seed} = \frac{k}{2} L_{mse}`, and one SGD step on ``"seed"`` at
learning rate ``lr`` is one step on ``"mse"`` at ``lr * k / 2``.

The others, with :math:`e = \hat y - y`, :math:`\epsilon = 10^{-7}` (Keras's
``backend.epsilon()``) and :math:`p = \mathrm{clip}(\hat y, \epsilon, 1-\epsilon)`:

==================================  ===============================================================
``mae``                             :math:`\frac1k\sum_j |e_j|`, gradient :math:`\mathrm{sign}(e)/(Bk)` (sign 0 = 0)
``huber`` (δ = 1)                    :math:`\frac1k\sum_j` ½e² where :math:`|e| \le δ`, else :math:`δ|e| - ½δ^2`
``binary_crossentropy``             :math:`-\frac1k\sum_j y\log p + (1-y)\log(1-p)`
``categorical_crossentropy``        :math:`-\sum_j y_j \log \mathrm{clip}(\hat y_j / \sum_i \hat y_i)`
``sparse_categorical_crossentropy``  :math:`\log \sum_j p_j - \log p_c` for the integer label ``c``
==================================  ===============================================================

**From the logits.** On TensorFlow, when the output layer is a sigmoid or a
softmax (whose outputs carry their input ``z`` as ``_keras_logits``), Keras
computes every cross-entropy from ``z`` instead, unclipped (``_get_logits`` in
``keras/src/backend/tensorflow/nn.py``), and its gradient is taken with
respect to ``z``: each cross-entropy's :attr:`Loss.from_logits` is that form.

- ``binary_crossentropy``: :math:`\frac1k\sum_j \max(z,0) - zy + \log(1+e^{-|z|})` per sample,
  :math:`\partial L/\partial z = (\sigma(z)-y)/(Bk)`;
- ``categorical_crossentropy``: :math:`\sum_j y_j(\log\sum_i e^{s_i} - s_j)` with :math:`s = z - \max z`,
  :math:`\partial L/\partial z = (\mathrm{softmax}(z)-y)/B`;
- ``sparse_categorical_crossentropy``: the same with the one-hot row of the label ``c``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .activations import sigmoid, softmax

Array = np.ndarray


#: What a loss expects as targets: ``"values"`` (any real numbers, the outputs' shape), ``"probabilities"``
#: (in [0, 1], the outputs' shape) or ``"labels"`` (integer class labels, shape ``(n,)`` or ``(n, 1)``).
TARGET_KINDS = ("values", "probabilities", "labels")
#: Output activations after which TensorFlow computes a cross-entropy from the logits ``z``: their outputs
#: carry ``_keras_logits`` (``keras/src/backend/tensorflow/nn.py``), whatever the cross-entropy.
LOGIT_OUTPUTS = ("sigmoid", "softmax")
#: Keras's ``backend.epsilon()``: probabilities are clipped to ``[EPSILON, 1 - EPSILON]``.
EPSILON = 1e-7


@dataclass(frozen=True)
class Loss:
    """One loss: its batch value and its gradient with respect to the network's output.

    Attributes
    ----------
    name : str
        The registry key (Keras's name where Keras has the loss).
    value : callable
        ``value(targets, outputs) -> float``, the loss of the batch.
    gradient : callable
        ``gradient(targets, outputs) -> dL/dŷ``, the shape of ``outputs``.
    formula : str
        The loss as text, for tables and messages.
    targets : str
        One of :data:`TARGET_KINDS`.
    from_logits : Loss or None
        The same loss computed from the output layer's pre-activation ``z``
        (``value(targets, z)``, ``gradient(targets, z) -> dL/dz``): what
        TensorFlow computes after a sigmoid or softmax output.
    accuracy : callable or None
        ``accuracy(targets, outputs) -> float`` for a classification loss:
        Keras's ``"accuracy"`` metric as it resolves for this loss.
    value_and_gradient : callable
        ``value_and_gradient(targets, outputs) -> (value, gradient)``, what a
        training step needs: by default the two functions above, one after
        the other; a loss whose two share work (the error ``ŷ - y``) gives a
        function that does it once.
    """

    name: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    formula: str
    targets: str = "values"
    from_logits: Loss | None = None
    accuracy: Callable[[Array, Array], float] | None = None
    value_and_gradient: Callable[[Array, Array], tuple[float, Array]] | None = field(default=None, compare=False,
                                                                                   repr=False)

    def __post_init__(self) -> None:
        if self.value_and_gradient is None:  # a frozen dataclass: its field is set once, here
            object.__setattr__(self, "value_and_gradient", one_after_the_other(self.value, self.gradient))


def one_after_the_other(value: Callable[[Array, Array], float],
                        gradient: Callable[[Array, Array], Array]) -> Callable[[Array, Array], tuple[float, Array]]:
    """``value_and_gradient`` from the two functions: ``(value(targets, outputs), gradient(targets, outputs))``."""
    return lambda targets, outputs: (value(targets, outputs), gradient(targets, outputs))


def per_sample_mean(values: Array) -> float:
    r"""Keras's reduction: :math:`\frac1B \sum_b v_b` of per-sample losses ``v``."""
    return float(values.sum() / values.shape[0])


def sum_of_squares(error: Array) -> float:
    r""":math:`\sum_i e_i^2`, as the dot product of ``error`` with itself (one BLAS call)."""
    return float(np.vdot(error, error))


def mse(target: Array, output: Array) -> float:
    r"""Mean squared error :math:`\frac{1}{Bk}\sum (y - \hat y)^2` (the seed's ``_mse``)."""
    return sum_of_squares(target - output) / output.size


def mse_gradient(target: Array, output: Array) -> Array:
    r""":math:`\partial L_{mse} / \partial \hat y = \frac{2}{Bk}(\hat y - y)`."""
    return (output - target) * (2 / output.size)


def mse_value_and_gradient(target: Array, output: Array) -> tuple[float, Array]:
    r""":func:`mse` and :func:`mse_gradient` from one error :math:`e = \hat y - y`: the same numbers, one pass less."""
    error = output - target
    return sum_of_squares(error) / output.size, error * (2 / output.size)


def seed_loss(target: Array, output: Array) -> float:
    r"""The seed's rule: :math:`\frac{1}{B}\sum_b \frac12 \sum_j (y - \hat y)^2`."""
    return 0.5 * sum_of_squares(target - output) / output.shape[0]


def seed_loss_gradient(target: Array, output: Array) -> Array:
    r""":math:`\partial L_{seed} / \partial \hat y = \frac{1}{B}(\hat y - y)`."""
    return (output - target) / output.shape[0]


def seed_loss_value_and_gradient(target: Array, output: Array) -> tuple[float, Array]:
    r""":func:`seed_loss` and :func:`seed_loss_gradient` from one error :math:`e = \hat y - y`."""
    error = output - target
    batch = float(output.shape[0])  # a float operand: NumPy converts a Python int by a slower path
    return 0.5 * sum_of_squares(error) / batch, error / batch


def mae(target: Array, output: Array) -> float:
    r"""Mean absolute error :math:`\frac{1}{B}\sum_b \frac1k \sum_j |y - \hat y|`."""
    return per_sample_mean(np.abs(target - output).mean(axis=-1))


def mae_gradient(target: Array, output: Array) -> Array:
    r""":math:`-\mathrm{sign}(y - \hat y)/(Bk)`, with :math:`\mathrm{sign}(0) = 0` (TensorFlow's ``Abs`` gradient)."""
    return -np.sign(target - output) / output.size


HUBER_DELTA = 1.0


def huber(target: Array, output: Array) -> float:
    r"""Huber loss, :math:`\delta = 1`: ½e² where :math:`|e| \le \delta`, else :math:`\delta |e| - ½\delta^2`."""
    error = output - target
    abs_error = np.abs(error)
    quadratic = 0.5 * error * error
    linear = HUBER_DELTA * abs_error - 0.5 * HUBER_DELTA**2
    return per_sample_mean(np.where(abs_error <= HUBER_DELTA, quadratic, linear).mean(axis=-1))


def huber_gradient(target: Array, output: Array) -> Array:
    r""":math:`e/(Bk)` where :math:`|e| \le \delta`, else :math:`\delta\,\mathrm{sign}(e)/(Bk)`."""
    error = output - target
    return np.where(np.abs(error) <= HUBER_DELTA, error, HUBER_DELTA * np.sign(error)) / output.size


def clipped(output: Array) -> tuple[Array, Array]:
    """``clip(output, ε, 1 - ε)`` in the output's dtype, and where the clip let the gradient through."""
    low, high = output.dtype.type(EPSILON), output.dtype.type(1.0 - EPSILON)
    return np.clip(output, low, high), (output >= low) & (output <= high)


def binary_crossentropy(target: Array, output: Array) -> float:
    r""":math:`-\frac1k\sum_j y\log p + (1-y)\log(1-p)` per sample, :math:`p` the clipped output."""
    p, _ = clipped(output)
    return per_sample_mean(-(target * np.log(p) + (1 - target) * np.log(1 - p)).mean(axis=-1))


def binary_crossentropy_gradient(target: Array, output: Array) -> Array:
    r""":math:`-\big(y/p - (1-y)/(1-p)\big)/(Bk)` where the output is inside the clip range, 0 outside."""
    p, inside = clipped(output)
    return np.where(inside, -(target / p - (1 - target) / (1 - p)), 0) / output.size


def sigmoid_crossentropy_from_logits(target: Array, z: Array) -> float:
    r""":math:`\frac1k\sum_j \max(z,0) - zy + \log(1 + e^{-|z|})`: TensorFlow's stable form."""
    return per_sample_mean((np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1))


def sigmoid_crossentropy_from_logits_gradient(target: Array, z: Array) -> Array:
    r""":math:`\partial L/\partial z = (\sigma(z) - y)/(Bk)`."""
    return (sigmoid(z) - target) / z.size


def categorical_crossentropy(target: Array, output: Array) -> float:
    r""":math:`-\sum_j y_j \log q_j`, :math:`q = \mathrm{clip}(\hat y / \sum_i \hat y_i)`: Keras normalises first."""
    q, _ = clipped(output / output.sum(axis=-1, keepdims=True))
    return per_sample_mean(-(target * np.log(q)).sum(axis=-1))


def categorical_crossentropy_gradient(target: Array, output: Array) -> Array:
    r"""Through the clip and the normalisation :math:`q = \hat y / S`, with :math:`u = -[\text{inside}]\, y / q`:
    :math:`\partial L/\partial \hat y_j = (u_j - \sum_i u_i q_i)/(S B)`."""
    total = output.sum(axis=-1, keepdims=True)
    q, inside = clipped(output / total)
    u = np.where(inside, -target / q, 0)
    return (u - (u * output).sum(axis=-1, keepdims=True) / total) / total / output.shape[0]


def softmax_crossentropy_from_logits(target: Array, z: Array) -> float:
    r""":math:`\sum_j y_j(\log\sum_i e^{s_i} - s_j)` with :math:`s = z - \max_j z_j`."""
    shifted = z - z.max(axis=-1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return per_sample_mean((target * (log_sum - shifted)).sum(axis=-1))


def softmax_crossentropy_from_logits_gradient(target: Array, z: Array) -> Array:
    r""":math:`\partial L/\partial z = (\mathrm{softmax}(z) - y)/B` (TensorFlow's kernel: softmax minus labels)."""
    return (softmax(z) - target) / z.shape[0]


def one_hot(labels: Array, num_classes: int, dtype: np.dtype) -> Array:
    """Rows of the identity: ``one_hot([2, 0], 3)`` is ``[[0, 0, 1], [1, 0, 0]]``."""
    return np.eye(num_classes, dtype=dtype)[labels.reshape(-1)]


def sparse_categorical_crossentropy(labels: Array, output: Array) -> float:
    r""":math:`\log\sum_j p_j - \log p_c` with :math:`p` the clipped output: the clipped ``log`` fed to a softmax."""
    p, _ = clipped(output)
    chosen = np.take_along_axis(p, labels.reshape(-1, 1), axis=-1)[:, 0]
    return per_sample_mean(np.log(p.sum(axis=-1)) - np.log(chosen))


def sparse_categorical_crossentropy_gradient(labels: Array, output: Array) -> Array:
    r""":math:`\partial L/\partial \hat y_j = [\text{inside}](1/\sum_i p_i - [j = c]/p_j)/B`."""
    p, inside = clipped(output)
    hot = one_hot(labels, output.shape[-1], output.dtype)
    return np.where(inside, 1 / p.sum(axis=-1, keepdims=True) - hot / p, 0) / output.shape[0]


def sparse_softmax_crossentropy_from_logits(labels: Array, z: Array) -> float:
    """The categorical form from the logits, with the one-hot rows of the labels."""
    return softmax_crossentropy_from_logits(one_hot(labels, z.shape[-1], z.dtype), z)


def sparse_softmax_crossentropy_from_logits_gradient(labels: Array, z: Array) -> Array:
    r""":math:`(\mathrm{softmax}(z) - \mathrm{onehot}_c)/B`."""
    return softmax_crossentropy_from_logits_gradient(one_hot(labels, z.shape[-1], z.dtype), z)


def binary_accuracy(target: Array, output: Array) -> float:
    """Keras's ``binary_accuracy``: the share of outputs on the right side of 0.5."""
    return float(np.mean(target == (output > 0.5)))


def categorical_accuracy(target: Array, output: Array) -> float:
    """Keras's ``categorical_accuracy``: the share of samples whose largest output is the target's."""
    return float(np.mean(target.argmax(axis=-1) == output.argmax(axis=-1)))


def sparse_categorical_accuracy(labels: Array, output: Array) -> float:
    """Keras's ``sparse_categorical_accuracy``: the share of samples whose largest output is the label."""
    return float(np.mean(labels.reshape(-1) == output.argmax(axis=-1)))


#: Every loss, by name.
LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", mse, mse_gradient, "mean over outputs of (ŷ − y)², averaged over the batch",
             value_and_gradient=mse_value_and_gradient),
        Loss("seed", seed_loss, seed_loss_gradient, "½·Σ over outputs of (ŷ − y)², averaged over the batch",
             value_and_gradient=seed_loss_value_and_gradient),
        Loss("mae", mae, mae_gradient, "mean over outputs of |ŷ − y|, averaged over the batch"),
        Loss("huber", huber, huber_gradient, "Huber (δ = 1) averaged over outputs, then over the batch"),
        Loss("binary_crossentropy", binary_crossentropy, binary_crossentropy_gradient,
             "−mean over outputs of y·log p + (1−y)·log(1−p)", "probabilities",
             Loss("binary_crossentropy", sigmoid_crossentropy_from_logits,
                  sigmoid_crossentropy_from_logits_gradient, "sigmoid cross-entropy from the logits z",
                  "probabilities"), binary_accuracy),
        Loss("categorical_crossentropy", categorical_crossentropy, categorical_crossentropy_gradient,
             "−Σ over classes of y·log ŷ (ŷ normalised and clipped)", "probabilities",
             Loss("categorical_crossentropy", softmax_crossentropy_from_logits,
                  softmax_crossentropy_from_logits_gradient, "softmax cross-entropy from the logits z",
                  "probabilities"), categorical_accuracy),
        Loss("sparse_categorical_crossentropy", sparse_categorical_crossentropy,
             sparse_categorical_crossentropy_gradient, "−log ŷ of the label's class (clipped)", "labels",
             Loss("sparse_categorical_crossentropy", sparse_softmax_crossentropy_from_logits,
                  sparse_softmax_crossentropy_from_logits_gradient, "softmax cross-entropy of the label from z",
                  "labels"), sparse_categorical_accuracy),
    )
}
