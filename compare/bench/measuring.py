"""Measuring one row: timing over repeats, peak memory, throughput, GFLOP/s and the ratio to Keras."""

from __future__ import annotations

import math
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from . import machine
from .cases import ANCHORS, Case, flops_per_sample

#: A row stops repeating once it has run this long (after at least MIN_REPEATS runs).
ROW_BUDGET_S = 3.0
MIN_REPEATS = 3
#: A row is flagged ("!" after n) when other processes took more than this share of the cores meanwhile.
FOREIGN_CPU_LIMIT = 0.10


@dataclass
class Runner:
    """One row to measure: ``run()`` does the phase once; ``reset()`` restores the initial weights."""

    implementation: str
    phase: str
    run: Callable[[], object]
    reset: Callable[[], None]
    numpy: bool
    #: For ``fit``: ``epochs(n)`` runs n epochs in one call and returns each epoch's seconds.
    epochs: Callable[[int], list[float]] | None = None


@dataclass
class Row:
    """The measurements of one implementation × phase of one case."""

    implementation: str
    phase: str
    seconds: list[float]
    samples: int
    flops_per_sample: int
    peak_gflops: float
    traced_peak_mb: float | None = None
    rss_delta_mb: float | None = None
    rss_peak_mb: float | None = None
    ratio: float | None = None
    call_overhead_s: float | None = None
    #: Share of the cores other processes used while this row was timed (see machine.ForeignCpu).
    foreign_cpu: float | None = None
    #: For NumPy rows: seconds the phase's matrix products take alone (see :mod:`.gemm_time`).
    gemm_s: float | None = None

    @property
    def gemm_share(self) -> float | None:
        """The share of the row's median time that its matrix products alone take (``None`` for Keras rows)."""
        return None if self.gemm_s is None else self.gemm_s / self.median_s

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def samples_per_s(self) -> float:
        return samples_per_second(self.samples, self.median_s)

    @property
    def gflops(self) -> float:
        return gflops(self.flops_per_sample, self.samples_per_s)

    @property
    def percent_of_peak(self) -> float:
        return 100.0 * self.gflops / self.peak_gflops


def samples_per_second(samples: int, seconds: float) -> float:
    """Throughput of one pass over ``samples`` samples that took ``seconds``."""
    return samples / seconds if seconds > 0 else math.inf


def gflops(flops_per_sample: float, samples_per_s: float) -> float:
    """GFLOP/s from the FLOPs of one sample and the samples per second."""
    return flops_per_sample * samples_per_s / 1e9


def time_runs(runner: Runner, repeats: int, budget_s: float = ROW_BUDGET_S) -> tuple[list[float], float | None]:
    """Seconds of each timed ``run()``, after one untimed warm-up; each from the initial weights.

    Stops early once the timed runs add up to ``budget_s`` and at least
    ``MIN_REPEATS`` (or ``repeats``, if fewer) have run. A runner with
    ``epochs`` (``fit``) is timed epoch by epoch inside one call instead, and
    the second value returned is then that call's time outside its epochs
    (``fit``'s set-up per call); otherwise it is ``None``.
    """
    runner.reset()
    start = time.perf_counter()
    runner.run()
    if runner.epochs is not None:
        return time_epochs(runner, repeats, time.perf_counter() - start, budget_s)
    seconds: list[float] = []
    while len(seconds) < repeats:
        runner.reset()
        start = time.perf_counter()
        runner.run()
        seconds.append(time.perf_counter() - start)
        if len(seconds) >= MIN_REPEATS and sum(seconds) >= budget_s:
            break
    return seconds, None


def time_epochs(runner: Runner, repeats: int, warmup_s: float, budget_s: float) -> tuple[list[float], float]:
    """Per-epoch seconds of ``repeats`` epochs in one ``fit`` call, and the call's time outside them.

    Fewer epochs when the warm-up says they would take longer than
    ``budget_s``, but at least ``MIN_REPEATS`` (or ``repeats``, if fewer).
    """
    affordable = int(budget_s // warmup_s) if warmup_s > 0 else repeats
    runner.reset()
    start = time.perf_counter()
    seconds = runner.epochs(min(repeats, max(min(MIN_REPEATS, repeats), affordable)))
    return seconds, time.perf_counter() - start - sum(seconds)


class RssSampler(threading.Thread):
    """Samples the process RSS every ``interval`` seconds in the background; keeps the maximum."""

    def __init__(self, interval: float = 0.001) -> None:
        super().__init__(daemon=True)
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._done = threading.Event()
        self.baseline = self.peak = self._process.memory_info().rss

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._done.wait(self._interval)

    def finish(self) -> None:
        self._done.set()
        self.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def measure_memory(runner: Runner) -> dict[str, float | None]:
    """Peak memory of one untimed run: tracemalloc (NumPy rows) and process RSS (all rows), in MB."""
    runner.reset()
    try:
        sampler: RssSampler | None = RssSampler()
    except ImportError:
        sampler = None
    if sampler:
        sampler.start()
    if runner.numpy:
        tracemalloc.start()
    try:
        runner.run()
        traced = tracemalloc.get_traced_memory()[1] / 1e6 if runner.numpy else None
    finally:
        if runner.numpy:
            tracemalloc.stop()
        if sampler:
            sampler.finish()
    return {
        "traced_peak_mb": traced,
        "rss_delta_mb": (sampler.peak - sampler.baseline) / 1e6 if sampler else None,
        "rss_peak_mb": sampler.peak / 1e6 if sampler else None,
    }


def measure(runner: Runner, case: Case, peak: float, repeats: int) -> Row:
    """Time ``runner`` and measure its memory: one :class:`Row`."""
    foreign = machine.ForeignCpu()
    seconds, call_overhead_s = time_runs(runner, repeats)
    row = Row(runner.implementation, runner.phase, seconds, case.samples,
              flops_per_sample(case.layers, runner.phase), peak, call_overhead_s=call_overhead_s,
              foreign_cpu=foreign.fraction())
    for key, value in measure_memory(runner).items():
        setattr(row, key, value)
    return row


def add_ratios(rows: list[Row]) -> None:
    """``ratio`` = the phase's Keras anchor's median time ÷ the row's (above 1: faster than Keras)."""
    anchors = {row.phase: row.median_s for row in rows if ANCHORS.get(row.phase) == row.implementation}
    for row in rows:
        if row.phase in anchors:
            row.ratio = anchors[row.phase] / row.median_s


def disturbed(row: Row) -> bool:
    """Whether other processes took more than :data:`FOREIGN_CPU_LIMIT` of the cores while ``row`` was timed."""
    return row.foreign_cpu is not None and row.foreign_cpu > FOREIGN_CPU_LIMIT and sum(row.seconds) > 0.2
