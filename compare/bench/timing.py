"""Timing both sides: forward, gradients and one training epoch.

Each operation is run once to warm up (TensorFlow traces its functions on the
first call) and then ``repeats`` times; the median of :func:`time.perf_counter`
differences is reported, which is robust to the odd slow run. Training mutates
the weights, so they are saved before and restored after.

A training epoch need not be run again when the comparison has just trained
both sides for several epochs: an :class:`EpochClock`, passed to ``train`` as
its ``progress`` callable, notes when each epoch of that run ends, and
:func:`time_both` then takes the median of those epochs (the first one left
out: it also pays for ``train``'s set-up and TensorFlow's tracing).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = np.ndarray
#: Each side's epoch times from the comparison's training run (``None`` for a side without them), or ``None``.
EpochSeconds = tuple[Sequence[float] | None, Sequence[float] | None] | None


@dataclass
class Timing:
    """Median milliseconds of one operation on each side; ``ratio = b / a``; ``measured``: of what."""

    operation: str
    ms_a: float
    ms_b: float
    measured: str = ""

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


class EpochClock:
    """A ``progress`` callable for ``train`` that notes when each epoch ends, from the samples it is told of.

    ``train`` calls it with the number of samples each batch (or each group of
    batches) trained; every ``samples_per_epoch`` samples, an epoch has ended.
    It passes each count on to ``then`` (a progress bar's ``advance``).
    """

    def __init__(self, samples_per_epoch: int, then: Callable[[int], None] | None = None) -> None:
        self.samples_per_epoch = samples_per_epoch
        self.then = then
        self.samples = 0
        self.start = time.perf_counter()
        self.ends: list[float] = []

    def __call__(self, count: int) -> None:
        self.samples += count
        while self.samples >= self.samples_per_epoch * (len(self.ends) + 1):
            self.ends.append(time.perf_counter())
        if self.then is not None:
            self.then(count)

    def epoch_seconds(self) -> list[float]:
        """The wall time of each ended epoch, the first one counted from the clock's creation."""
        starts = [self.start, *self.ends[:-1]]
        return [end - start for start, end in zip(starts, self.ends)]


def run_epoch_ms(epoch_seconds: Sequence[float]) -> float | None:
    """Median ms of a training run's epochs after the first; ``None`` when it had fewer than 2."""
    later = list(epoch_seconds)[1:]
    return statistics.median(later) * 1000.0 if later else None


#: The operations :func:`time_side` times, each ``repeats`` times after one warm-up run.
OPERATIONS = ("forward", "gradients", "train epoch")


def time_side(model: Any, x: Array, y: Array, *, learning_rate: float, batch_size: int,
              repeats: int = 5, advance: Callable[[int], None] | None = None,
              operations: Sequence[str] = OPERATIONS) -> dict[str, float]:
    """Median ms of ``forward(x)``, ``gradients(x, y)`` and one epoch of ``train`` (those in ``operations``)."""
    runs = {
        "forward": lambda: model.forward(x),
        "gradients": lambda: model.gradients(x, y),
        "train epoch": lambda: model.train(x, y, 1, learning_rate, batch_size=batch_size),
    }
    saved = model.get_weights()
    try:
        return {operation: median_ms(runs[operation], repeats, advance=advance) for operation in operations}
    finally:
        model.set_weights(saved)


def epoch_from_run(epoch_seconds: Sequence[float] | None) -> float | None:
    """Median ms of a side's run epochs after the first; ``None`` when it has none to give (fewer than 2)."""
    return None if epoch_seconds is None else run_epoch_ms(epoch_seconds)


def timed_runs(epoch_seconds: EpochSeconds, repeats: int) -> int:
    """How many runs :func:`time_both` makes: ``repeats + 1`` per operation that a side must time itself."""
    sides = epoch_seconds or (None, None)
    operations = sum(len(OPERATIONS) - (epoch_from_run(seconds) is not None) for seconds in sides)
    return operations * (repeats + 1)


def time_both(a: Any, b: Any, x: Array, y: Array, *, learning_rate: float, batch_size: int,
              repeats: int = 5, advance: Callable[[int], None] | None = None,
              epoch_seconds: EpochSeconds = None) -> list[Timing]:
    """:func:`time_side` for ``a`` then ``b``, paired by operation.

    ``epoch_seconds``: each side's epoch times from the training run the
    comparison just did (see :class:`EpochClock`), or ``None`` for a side
    without them. A side with at least two epochs there gets its "train
    epoch" from them (the median of the epochs after the first) and trains no
    epoch again; a side without them has its epoch timed like the other
    operations (``repeats + 1`` runs).
    """
    kwargs = dict(learning_rate=learning_rate, batch_size=batch_size, repeats=repeats, advance=advance)
    repeated = f"{repeats} repeat{'s' if repeats > 1 else ''}"
    times, labels = [], []
    for model, seconds in zip((a, b), epoch_seconds or (None, None)):
        from_run = epoch_from_run(seconds)
        operations = OPERATIONS if from_run is None else OPERATIONS[:-1]
        times.append(time_side(model, x, y, operations=operations, **kwargs))
        if from_run is not None:
            times[-1]["train epoch"] = from_run
        labels.append(repeated if from_run is None else run_epochs_label(len(seconds)))
    epoch_label = labels[0] if labels[0] == labels[1] else f"a: {labels[0]}; b: {labels[1]}"
    return [Timing(op, times[0][op], times[1][op], epoch_label if op == "train epoch" else repeated)
            for op in OPERATIONS]


def run_epochs_label(epochs: int) -> str:
    """``"epochs 2-50 of the run"``: which of a run's ``epochs`` the "train epoch" row is the median of."""
    return f"epochs 2-{epochs} of the run" if epochs > 2 else "epoch 2 of the run"
