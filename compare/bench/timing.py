"""Timing both sides: forward, gradients and one training epoch.

Each operation is run once to warm up (TensorFlow traces its functions on the
first call) and then ``repeats`` times; the median of :func:`time.perf_counter`
differences is reported, which is robust to the odd slow run. Training mutates
the weights, so they are saved before and restored after.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray


@dataclass
class Timing:
    """Median milliseconds of one operation on each side; ``ratio = b / a``."""

    operation: str
    ms_a: float
    ms_b: float

    @property
    def ratio(self) -> float:
        return self.ms_b / self.ms_a if self.ms_a > 0 else float("inf")


def median_ms(function: Callable[[], Any], repeats: int = 5, warmup: int = 1,
              advance: Callable[[int], None] | None = None) -> float:
    """Median wall time of ``function()`` in milliseconds over ``repeats`` runs after ``warmup`` runs.

    ``advance(1)``, if given, is called after every run (a progress bar's ``update``).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    tick = advance or (lambda count: None)
    for _ in range(warmup):
        function()
        tick(1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
        tick(1)
    return statistics.median(times) * 1000.0


#: The operations :func:`time_side` times, each ``repeats`` times after one warm-up run.
OPERATIONS = ("forward", "gradients", "train epoch")


def time_side(model: Any, x: Array, y: Array, *, learning_rate: float, batch_size: int,
              repeats: int = 5, advance: Callable[[int], None] | None = None) -> dict[str, float]:
    """Median ms of ``forward(x)``, ``gradients(x, y)`` and one epoch of ``train`` for one model."""
    saved = model.get_weights()
    try:
        return {
            "forward": median_ms(lambda: model.forward(x), repeats, advance=advance),
            "gradients": median_ms(lambda: model.gradients(x, y), repeats, advance=advance),
            "train epoch": median_ms(
                lambda: model.train(x, y, 1, learning_rate, batch_size=batch_size), repeats, advance=advance
            ),
        }
    finally:
        model.set_weights(saved)


def time_both(a: Any, b: Any, x: Array, y: Array, *, learning_rate: float, batch_size: int,
              repeats: int = 5, advance: Callable[[int], None] | None = None) -> list[Timing]:
    """:func:`time_side` for ``a`` then ``b``, paired by operation (``2 · 3 · (repeats + 1)`` runs in all)."""
    kwargs = dict(learning_rate=learning_rate, batch_size=batch_size, repeats=repeats, advance=advance)
    times_a = time_side(a, x, y, **kwargs)
    times_b = time_side(b, x, y, **kwargs)
    return [Timing(op, times_a[op], times_b[op]) for op in times_a]
