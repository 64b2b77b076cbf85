"""The comparison protocol: the seam between an implementation and the harness.

``scratch.MLP`` and ``keras_equiv.KerasMLP`` both satisfy it, and so can a
learner's own class: the harness in ``compare`` knows nothing else, and calls
exactly the methods of :class:`ComparableMLP`.

Conventions every implementation keeps:

- ``get_weights()`` is in Keras order ``[W0, (b0,) W1, (b1,) ...]`` where
  ``W_l`` has shape ``(n_in, n_out)`` (a Keras kernel) and ``b_l`` shape ``(n_out,)``.
- ``forward(x)`` maps a batch ``(n, n_in)`` to outputs ``(n, n_out)``.
- ``gradients(x, y)`` is ``dLoss/dθ`` of the loss on the whole batch ``x``,
  one array per entry of ``get_weights()``; ``evaluate(x, y)`` is that loss.
- ``train`` runs mini-batch training like Keras ``fit``: batches in order,
  the last one partial, and returns one loss per epoch: the mean of each
  batch's pre-update loss weighted by its number of samples. ``shuffle=None``
  keeps the order; an int ``s`` uses the orders of
  :func:`scratch.batching.epoch_orders`.

An implementation whose optimizer keeps state (a step count, momentum, Adam's
moments) also has the two methods of :class:`HasOptimizerState`; the harness
then copies that state along with the weights and compares it after training.
Plain SGD without a step count may leave them out. An implementation may also
offer ``accuracy(x, y) -> float | None`` (Keras's accuracy metric for a
classification loss, ``None`` otherwise): when both sides have it, the harness
compares it on identical weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ComparableMLP(Protocol):
    """What the harness calls on a multi-layer perceptron."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs ``x``."""
        ...

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """``dLoss/dθ`` on the batch, in ``get_weights()`` order."""
        ...

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The loss on ``(x, y)``, as one batch."""
        ...

    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        """Mini-batch training; returns the per-epoch losses."""
        ...

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters, ``[W0, (b0,) W1, (b1,) ...]``."""
        ...

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Replace the parameters (same order, shapes as ``get_weights()``)."""
        ...


@runtime_checkable
class HasOptimizerState(Protocol):
    """Optional: an optimizer whose state the harness copies, replays and compares.

    The state is a dict ``{"iterations": int, "<slot>": [one array per
    parameter, in get_weights() order], ...}`` with Keras's slot names
    (``"momentum"``, ``"velocity"``...); plain SGD has ``{"iterations": n}``.
    """

    def get_optimizer_state(self) -> dict[str, Any]:
        """Copies of the step count and slot arrays."""
        ...

    def set_optimizer_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state returned by ``get_optimizer_state``."""
        ...
