"""The comparison protocol: the seam between an implementation and the harness.

``scratch.MLP`` and ``keras_equiv.KerasMLP`` both satisfy it, and so can a
learner's own class: the harness in ``compare`` knows nothing else.

Conventions every implementation keeps:

- ``get_weights()`` is in Keras order ``[W0, (b0,) W1, (b1,) ...]`` where
  ``W_l`` has shape ``(n_in, n_out)`` (a Keras kernel) and ``b_l`` shape ``(n_out,)``.
- ``gradients(x, y)`` is ``dLoss/dθ`` of the loss on the whole batch ``x``,
  one array per entry of ``get_weights()``.
- ``train`` runs mini-batch SGD like Keras ``fit``: batches in order, the last
  one partial, and returns one loss per epoch: the mean of each batch's
  pre-update loss weighted by its number of samples. ``shuffle=None`` keeps
  the order; an int ``s`` uses the orders of :func:`scratch.batching.epoch_orders`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class ComparableMLP(Protocol):
    """What the harness needs from a multi-layer perceptron."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network's outputs for inputs ``x``."""
        ...

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """``dLoss/dθ`` on the batch, in ``get_weights()`` order."""
        ...

    def train(
        self,
        x: np.ndarray,
        y: np.ndarray,
        epochs: int,
        learning_rate: float,
        batch_size: int = 1,
        shuffle: int | None = None,
        verbose: bool = False,
    ) -> list[float]:
        """Mini-batch SGD; returns the per-epoch losses."""
        ...

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters, ``[W0, (b0,) W1, (b1,) ...]``."""
        ...

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Replace the parameters (same order, shapes as ``get_weights()``)."""
        ...

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Same as ``forward``: the outputs for ``x``."""
        ...

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The loss on ``(x, y)``."""
        ...
