"""The seed's toy task: learn to add two numbers."""

from __future__ import annotations

import numpy as np


def sum_dataset(num_samples: int = 1000, seed: int | None = 0, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``x`` drawn from ``U[0, 0.5)^2`` and targets ``y = x_0 + x_1``.

    Returns ``x`` of shape ``(num_samples, 2)`` and ``y`` of shape
    ``(num_samples, 1)``; with inputs below 0.5 every target is below 1, in
    reach of a sigmoid output.
    """
    rng = np.random.default_rng(seed)
    x = rng.random((num_samples, 2)) / 2
    y = x.sum(axis=1, keepdims=True)
    return x.astype(dtype), y.astype(dtype)
