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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


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
    """

    name: str
    value: Callable[[Array, Array], float]
    gradient: Callable[[Array, Array], Array]
    formula: str


def sum_of_squares(error: Array) -> float:
    r""":math:`\sum_i e_i^2`, as the dot product of ``error`` with itself (one BLAS call)."""
    return float(np.vdot(error, error))


def mse(target: Array, output: Array) -> float:
    r"""Mean squared error :math:`\frac{1}{Bk}\sum (y - \hat y)^2` (the seed's ``_mse``)."""
    return sum_of_squares(target - output) / output.size


def mse_gradient(target: Array, output: Array) -> Array:
    r""":math:`\partial L_{mse} / \partial \hat y = \frac{2}{Bk}(\hat y - y)`."""
    return (output - target) * (2 / output.size)


def seed_loss(target: Array, output: Array) -> float:
    r"""The seed's rule: :math:`\frac{1}{B}\sum_b \frac12 \sum_j (y - \hat y)^2`."""
    return 0.5 * sum_of_squares(target - output) / output.shape[0]


def seed_loss_gradient(target: Array, output: Array) -> Array:
    r""":math:`\partial L_{seed} / \partial \hat y = \frac{1}{B}(\hat y - y)`."""
    return (output - target) / output.shape[0]


#: Every loss, by name.
LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", mse, mse_gradient, "mean over outputs of (ŷ − y)², averaged over the batch"),
        Loss("seed", seed_loss, seed_loss_gradient, "½·Σ over outputs of (ŷ − y)², averaged over the batch"),
    )
}
