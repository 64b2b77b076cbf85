"""``mlp-compare bench``: where the time goes, and how cost grows with the work.

For each network of a sweep, the same data and the same initial weights go to
every implementation:

* ``scratch``: :class:`scratch.MLP`, as a batch-1 loop (``train(batch_size=1)``)
  or vectorised over mini-batches; at batch 1 also the seed's original
  per-sample algorithm (:mod:`compare.seed_original`);
* ``Keras fit``, compiled with Keras's defaults (``steps_per_execution=1``,
  ``jit_compile="auto"``): the anchor, what users run;
* ``Keras fit`` with ``steps_per_execution`` (many steps per graph call);
* ``Keras custom train step``: :func:`keras_equiv.train_step.make_train_step`, a
  ``tf.function`` around ``GradientTape`` + ``optimizer.apply``, in a Python loop;
* for the forward pass ``model.predict`` and ``model(x)``; for gradients an
  eager ``GradientTape`` (what ``KerasMLP.gradients`` does).

Each phase (forward, gradients, one training epoch) is one pass over the
samples in batches. Each row is warmed up once (TensorFlow traces its
functions on the first call), then timed with :func:`time.perf_counter` over
repeats, each from the same initial weights; the median is quoted with the
min–max. The two ``fit`` rows are timed epoch by epoch inside one
``fit(epochs=n)`` call (a callback), as a user's multi-epoch ``fit`` runs; the
call's one-off set-up is reported apart. Peak memory is measured in one more,
untimed run: ``tracemalloc`` for NumPy's allocations and the process RSS
(sampled by psutil) for both sides.

FLOPs are counted as ``2·B·Σ n_in·n_out`` for a forward pass and
``6·B·Σ n_in·n_out`` for a gradient or training step (forward, error and
weight-gradient products). "% peak" divides GFLOP/s by the float32/float64
throughput of NumPy's own large GEMM, measured at the start of the same run.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scratch import MLP, sum_dataset
from scratch.batching import batch_slices

from . import machine
from .report import atomic_write, atomic_writer, frame_table, write_json
from .seed_original import seed_original_train

PROG = "mlp-compare bench"
FORWARD, GRADIENTS, TRAIN = "forward", "gradients", "train epoch"
PHASES = (FORWARD, GRADIENTS, TRAIN)
#: FLOPs per weight and sample: a forward GEMM (2), or forward + error + weight gradient (6).
FLOPS_PER_WEIGHT = {FORWARD: 2, GRADIENTS: 6, TRAIN: 6}
LEARNING_RATE = 0.1
STEPS_PER_EXECUTION = 1000
DEFAULT_REPEATS = 5
QUICK_REPEATS = 2
#: A row stops repeating once it has run this long (after at least MIN_REPEATS runs).
ROW_BUDGET_S = 3.0
MIN_REPEATS = 3
#: A row is flagged ("!" after n) when other processes took more than this share of the cores meanwhile.
FOREIGN_CPU_LIMIT = 0.10
#: At most this many steps per epoch are timed (the same samples for every implementation).
DEFAULT_MAX_STEPS = 1000

SCRATCH_LOOP = "scratch batch-1 loop"
SCRATCH_BATCHED = "scratch mini-batch"
SEED_ORIGINAL = "seed original (per sample)"
KERAS_FIT = "Keras fit (compile defaults)"
KERAS_FIT_SPE = f"Keras fit steps_per_execution={STEPS_PER_EXECUTION}"
KERAS_STEP = "Keras custom train step"
KERAS_PREDICT = "Keras predict"
KERAS_CALL = "Keras model(x)"
KERAS_TAPE = "Keras GradientTape (eager)"
#: The Keras row each phase's "× Keras" column is relative to: what users run.
ANCHORS = {TRAIN: KERAS_FIT, FORWARD: KERAS_PREDICT, GRADIENTS: KERAS_TAPE}


# ------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    """One network of the sweep: layer sizes, batch size, dtype and sample count."""

    layers: tuple[int, ...]
    batch_size: int
    dtype: str
    samples: int

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers))

    @property
    def task(self) -> str:
        """``"sum"`` (the seed's a+b task) for 2 inputs and 1 output, else ``"random"`` data."""
        return "sum" if self.layers[0] == 2 and self.layers[-1] == 1 else "random"

    @property
    def weights(self) -> int:
        return weight_count(self.layers)

    @property
    def steps(self) -> int:
        return math.ceil(self.samples / self.batch_size)

    def title(self) -> str:
        data = "the seed's a+b task" if self.task == "sum" else "random data (uniform inputs, one-hot targets)"
        return (f"{self.name} sigmoid, no bias, {self.dtype}, batch {self.batch_size}: "
                f"{self.samples:,} samples of {data}, {self.steps:,} steps per epoch, {self.weights:,} weights")


def weight_count(layers: Sequence[int]) -> int:
    """``Σ n_in·n_out`` over the Dense layers (no biases)."""
    return sum(n_in * n_out for n_in, n_out in itertools.pairwise(layers))


def flops_per_sample(layers: Sequence[int], phase: str) -> int:
    """FLOPs per sample of ``phase``: 2·Σ n_in·n_out forward, 6·Σ n_in·n_out gradients/training."""
    return FLOPS_PER_WEIGHT[phase] * weight_count(layers)


def default_batch_sizes(layers: Sequence[int]) -> list[int]:
    """The seed's task at batch 1 and 32; 128 for networks of 100,000+ weights; 32 otherwise."""
    if layers[0] == 2 and layers[-1] == 1:
        return [1, 32]
    return [128] if weight_count(layers) >= 100_000 else [32]


def default_dtype(layers: Sequence[int]) -> str:
    """float64 on the seed's task (the seed's dtype), float32 for the others (what users train in)."""
    return "float64" if layers[0] == 2 and layers[-1] == 1 else "float32"


def default_samples(layers: Sequence[int]) -> int:
    """1,000 on the seed's task (the seed's size); 20,000 for big networks, 5,000 otherwise."""
    if layers[0] == 2 and layers[-1] == 1:
        return 1000
    return 20_000 if weight_count(layers) >= 100_000 else 5000


DEFAULT_NETWORKS = ((2, 5, 1), (64, 128, 10), (784, 512, 512, 10))


def build_cases(networks: Sequence[tuple[int, ...]] | None, batch_sizes: Sequence[int] | None,
                dtypes: Sequence[str] | None, samples: int | None, max_steps: int,
                scale: float = 1.0) -> tuple[list[Case], list[str]]:
    """The sweep: networks × batch sizes × dtypes, each option falling back to the network's default.

    ``samples`` overrides every network's default sample count; ``scale``
    shrinks the defaults (``--quick``). An epoch is capped at ``max_steps``
    steps; the notes returned say where.
    """
    cases, notes = [], []
    for layers in networks or DEFAULT_NETWORKS:
        wanted = samples or max(1, round(default_samples(layers) * scale))
        for batch in batch_sizes or default_batch_sizes(layers):
            for dtype in dtypes or [default_dtype(layers)]:
                timed = min(wanted, max_steps * batch)
                if timed < wanted:
                    notes.append(f"{'-'.join(map(str, layers))} at batch {batch}: {timed:,} of {wanted:,} samples "
                                 f"timed (at most {max_steps:,} steps per epoch, --max-steps), "
                                 "the same samples for every implementation")
                cases.append(Case(tuple(layers), batch, dtype, timed))
    return cases, notes


def case_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The inputs and targets of ``case``, identical for every implementation."""
    if case.task == "sum":
        return sum_dataset(case.samples, seed=0, dtype=case.dtype)
    rng = np.random.default_rng(0)
    x = rng.random((case.samples, case.layers[0])).astype(case.dtype)
    y = np.eye(case.layers[-1], dtype=case.dtype)[rng.integers(case.layers[-1], size=case.samples)]
    return x, y


def scratch_model(case: Case) -> MLP:
    """The scratch network of ``case``: the seed's U[0,1) weights on its task, Glorot otherwise."""
    init = "uniform" if case.task == "sum" else "glorot_uniform"
    layers = case.layers
    return MLP(layers[0], list(layers[1:-1]), layers[-1], dtype=case.dtype, init=init, seed=0)


# ------------------------------------------------------------ measuring
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


# ---------------------------------------------------------- the runners
def each(function: Callable[..., object], batches: Sequence[slice], *arrays: np.ndarray) -> None:
    """``function(*(a[batch] for a in arrays))`` for every batch, keeping no result (as a training loop would)."""
    for batch in batches:
        function(*(array[batch] for array in arrays))


def scratch_runners(case: Case, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> list[Runner]:
    """scratch's forward, gradients and training epoch (and the seed's original at batch 1)."""
    mlp = scratch_model(case)
    batches = list(batch_slices(len(x), case.batch_size))
    name = SCRATCH_LOOP if case.batch_size == 1 else SCRATCH_BATCHED

    def reset() -> None:
        mlp.set_weights(weights)

    runners = [
        Runner(name, FORWARD, lambda: each(mlp.forward, batches, x), reset, True),
        Runner(name, GRADIENTS, lambda: each(mlp.gradients, batches, x, y), reset, True),
        Runner(name, TRAIN, lambda: mlp.train(x, y, 1, LEARNING_RATE, batch_size=case.batch_size), reset, True),
    ]
    if case.batch_size == 1:
        runners.append(Runner(SEED_ORIGINAL, TRAIN,
                              lambda: seed_original_train(x, y, weights, 1, LEARNING_RATE), reset, True))
    return runners


def keras_runners(case: Case, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> list[Runner]:
    """Keras's forward (predict, model(x)), gradients (eager tape) and training (fit ×2, custom step)."""
    from keras_equiv import KerasMLP
    from keras_equiv.floatx import keras_floatx
    from keras_equiv.train_step import EpochTimer, make_train_step, train_epoch

    start = scratch_model(case)
    start.set_weights(weights)
    default = KerasMLP.from_scratch(start, steps_per_execution=1)
    fast = KerasMLP.from_scratch(start, steps_per_execution=STEPS_PER_EXECUTION)
    model, batch = default.model, case.batch_size
    batches = list(batch_slices(len(x), batch))
    step = make_train_step(model)
    for twin in (default, fast):
        twin.model.optimizer.learning_rate = LEARNING_RATE

    def fit(keras_model: Any, epochs: int = 1) -> list[float]:
        timer = EpochTimer()
        with keras_floatx(case.dtype):
            keras_model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
        return timer.seconds

    def predict() -> object:
        with keras_floatx(case.dtype):
            return model.predict(x, batch_size=batch, verbose=0)

    def call(inputs: np.ndarray) -> object:
        return model(inputs, training=False)

    def reset_default() -> None:
        default.set_weights(weights)

    def reset_fast() -> None:
        fast.set_weights(weights)

    return [
        Runner(KERAS_PREDICT, FORWARD, predict, reset_default, False),
        Runner(KERAS_CALL, FORWARD, lambda: each(call, batches, x), reset_default, False),
        Runner(KERAS_TAPE, GRADIENTS, lambda: each(default.gradients, batches, x, y), reset_default, False),
        Runner(KERAS_FIT, TRAIN, lambda: fit(model), reset_default, False, lambda n: fit(model, n)),
        Runner(KERAS_FIT_SPE, TRAIN, lambda: fit(fast.model), reset_fast, False, lambda n: fit(fast.model, n)),
        Runner(KERAS_STEP, TRAIN, lambda: train_epoch(step, model, x, y, batch, LEARNING_RATE), reset_default,
               False),
    ]


# ---------------------------------------------------------------- the run
@dataclass
class CaseResult:
    """One network's table: the case and its rows."""

    case: Case
    rows: list[Row] = field(default_factory=list)


class Progress:
    """A one-line progress bar over the sweep on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled

    def show(self, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}"
        print(f"\r{line[:120]:<120}", end="", file=sys.stderr, flush=True)

    def step(self) -> None:
        self.done += 1

    def close(self) -> None:
        if self.enabled:
            print("\r" + " " * 120 + "\r", end="", file=sys.stderr, flush=True)


def runners_per_case(case: Case, phases: Sequence[str] = PHASES) -> int:
    """How many rows a case has (for the progress bar)."""
    per_phase = {FORWARD: 3, GRADIENTS: 2, TRAIN: 5 if case.batch_size == 1 else 4}
    return sum(per_phase[phase] for phase in phases)


def run_case(case: Case, peaks: dict[str, float], repeats: int, progress: Progress,
             phases: Sequence[str] = PHASES) -> CaseResult:
    """Every row of one case (of ``phases``): scratch's first, then Keras's, from the same data and weights."""
    x, y = case_data(case)
    weights = scratch_model(case).get_weights()
    result = CaseResult(case)
    for runners in (scratch_runners, keras_runners):
        for runner in runners(case, x, y, weights):
            if runner.phase not in phases:
                continue
            progress.show(f"{case.name} {case.dtype} B={case.batch_size}: {runner.implementation}, {runner.phase}")
            result.rows.append(measure(runner, case, peaks[case.dtype], repeats))
            progress.step()
    add_ratios(result.rows)
    result.rows.sort(key=lambda row: PHASES.index(row.phase))
    return result


def run_sweep(cases: Sequence[Case], repeats: int, phases: Sequence[str] = PHASES,
              progress: bool | None = None) -> tuple[list[CaseResult], dict[str, Any], dict[str, float], float]:
    """Describe the machine, measure its GEMM peaks, then every case.

    Returns the results, the machine description, the peaks and the seconds
    the whole sweep took. The progress bar is drawn when ``progress`` (default:
    when stderr is a terminal).
    """
    started = time.perf_counter()
    info = machine.describe_machine(tensorflow=True)
    info["load_average_at_start"] = machine.load_average()
    peaks = measure_peaks()
    bar = Progress(sum(runners_per_case(case, phases) for case in cases),
                   sys.stderr.isatty() if progress is None else progress)
    try:
        results = [run_case(case, peaks, repeats, bar, phases) for case in cases]
    finally:
        bar.close()
    info["gemm_peak_gflops_at_end"] = measure_peaks()
    info["load_average_at_end"] = machine.load_average()
    return results, info, peaks, time.perf_counter() - started


def disturbance_notes(results: Sequence[CaseResult]) -> list[str]:
    """One warning naming the rows timed while other processes were busy (flagged "!" in column n)."""
    rows = [f"{result.case.name} B={result.case.batch_size} {row.implementation} {row.phase} "
            f"({100 * row.foreign_cpu:.0f}%)" for result in results for row in result.rows if disturbed(row)]
    if not rows:
        return []
    return [f"WARNING: other processes used more than {FOREIGN_CPU_LIMIT:.0%} of the cores while these rows were "
            f"timed (marked ! in column n): {'; '.join(rows)}; re-run on a quiet machine"]


def steadiness_note(info: dict[str, Any], peaks: dict[str, float], tolerance: float = 0.15) -> str | None:
    """A warning when the GEMM peaks at the end of the sweep differ from those at its start by > ``tolerance``.

    Another program using the cores during the run slows whatever it overlaps:
    then the timings, and the % of peak, are not to be trusted.
    """
    end = info.get("gemm_peak_gflops_at_end") or {}
    moved = {dtype: end[dtype] / peaks[dtype] - 1 for dtype in end if abs(end[dtype] / peaks[dtype] - 1) > tolerance}
    if not moved:
        return None
    changes = ", ".join(f"{dtype} {peaks[dtype]:.0f} → {end[dtype]:.0f} GFLOP/s" for dtype in moved)
    return (f"WARNING: the GEMM peak changed during the sweep ({changes}): something else was using the CPU; "
            "re-run on a quiet machine before trusting these numbers")


def timing_notes(seconds: float, repeats: int, info: dict[str, Any], peaks: dict[str, float],
                 results: Sequence[CaseResult] = ()) -> list[str]:
    """How long the sweep took, how it was timed, the load average, and whether the machine stayed steady."""
    notes = [f"sweep took {seconds:.0f} s; median of up to {repeats} timed repeats per row after one warm-up "
             f"(at least {min(MIN_REPEATS, repeats)}; fewer when a row's repeats pass {ROW_BUDGET_S:g} s: column n); "
             f"load average (1/5/15 min) {_load(info, 'start')} at the start, {_load(info, 'end')} at the end"]
    warning = steadiness_note(info, peaks)
    return notes + ([warning] if warning else []) + disturbance_notes(results)


def measure_peaks() -> dict[str, float]:
    """NumPy's float32 and float64 GEMM throughput on this machine, now (GFLOP/s)."""
    return {dtype: machine.gemm_gflops(dtype) for dtype in ("float32", "float64")}


# ------------------------------------------------------------- rendering
def _fmt(value: float | None, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def _count(value: float) -> str:
    """Large numbers with thousands separators, small ones with 3 significant digits."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def disturbed(row: Row) -> bool:
    """Whether other processes took more than :data:`FOREIGN_CPU_LIMIT` of the cores while ``row`` was timed."""
    return row.foreign_cpu is not None and row.foreign_cpu > FOREIGN_CPU_LIMIT and sum(row.seconds) > 0.2


def rows_frame(result: CaseResult) -> pd.DataFrame:
    """The table of one case, as display strings."""
    dtype = "f32" if result.case.dtype == "float32" else "f64"
    records = []
    for row in result.rows:
        records.append({
            "implementation": row.implementation,
            "phase": row.phase,
            "median ms": _fmt(row.median_s * 1e3, ".4g"),
            "min–max ms": f"{min(row.seconds) * 1e3:.4g}–{max(row.seconds) * 1e3:.4g}",
            "n": f"{len(row.seconds)}{'!' if disturbed(row) else ''}",
            "samples/s": _count(row.samples_per_s),
            "GFLOP/s": _fmt(row.gflops),
            f"% {dtype} peak": _fmt(row.percent_of_peak, ".2g" if row.percent_of_peak < 1 else ".0f"),
            "× Keras": _fmt(row.ratio),
            "tracemalloc MB": _fmt(row.traced_peak_mb),
            "RSS +MB": _fmt(row.rss_delta_mb),
        })
    return pd.DataFrame(records)


def footer_lines(result: CaseResult, info: dict[str, Any], peaks: dict[str, float]) -> list[str]:
    """What every table says under it: the machine, the peaks, the ratio's anchors and fit's set-up."""
    lines = [
        f"machine: {machine_description(info)}",
        f"peak = NumPy {machine.PEAK_GEMM_SIZE}³ GEMM measured at the start of this run: "
        f"float32 {peaks['float32']:.1f} GFLOP/s, float64 {peaks['float64']:.1f} GFLOP/s",
        f"× Keras = speed relative to {KERAS_FIT} for training, {KERAS_PREDICT} for forward, "
        f"{KERAS_TAPE} for gradients (above 1: faster)",
    ]
    overheads = [f"{row.call_overhead_s * 1e3:.0f} ms ({row.implementation})"
                 for row in result.rows if row.call_overhead_s is not None]
    if overheads:
        lines.append("fit rows: epochs timed inside one fit(epochs=n) call by a callback; each call's own set-up, "
                     f"not in them: {', '.join(overheads)}")
    return lines


def machine_description(info: dict[str, Any]) -> str:
    """The machine line plus TensorFlow's thread pools."""
    line = machine.machine_line(info)
    threads = info.get("tensorflow_threads")
    return line if not threads else f"{line}; TF threads intra-op {threads['intra_op']}, inter-op {threads['inter_op']}"


def render_case(result: CaseResult, info: dict[str, Any], peaks: dict[str, float], markdown: bool = False) -> str:
    """One case as a titled table with its machine footer (text or Markdown)."""
    table = frame_table(rows_frame(result), markdown=markdown)
    footer = footer_lines(result, info, peaks)
    if markdown:
        return "\n".join([f"### {result.case.title()}", "", table, "", *(f"- {line}" for line in footer)])
    return "\n".join([result.case.title(), table, *footer])


def target_checks(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """The project's performance targets, for the cases and rows of this sweep that they are about."""
    checks = []
    for result in results:
        case, rows = result.case, {(r.implementation, r.phase): r for r in result.rows}
        if case.layers == (2, 5, 1) and case.batch_size == 1:
            checks += _speed_targets(rows, "seed's task, batch 1", SCRATCH_LOOP, [(KERAS_FIT, 50), (SEED_ORIGINAL, 1)])
        if case.layers == (784, 512, 512, 10) and case.dtype == "float32" and case.batch_size == 128:
            label = "784-512-512-10 f32 B=128"
            checks += _speed_targets(rows, label, SCRATCH_BATCHED, [(KERAS_FIT, 1.25)])
            for phase, goal in ((TRAIN, 60), (FORWARD, 70)):
                row = rows.get((SCRATCH_BATCHED, phase))
                if row:
                    checks.append(_target(f"{label}: scratch {phase}, % of f32 GEMM peak", row.percent_of_peak,
                                          goal, "%"))
    return checks


def _speed_targets(rows: dict[tuple[str, str], Row], label: str, scratch: str,
                   goals: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    """scratch's training speed over each named implementation's, against its goal."""
    mine = rows.get((scratch, TRAIN))
    return [_target(f"{label}: scratch training speed ÷ {other}'s", rows[other, TRAIN].median_s / mine.median_s,
                    goal, "×")
            for other, goal in goals if mine and (other, TRAIN) in rows]


def _target(name: str, value: float, goal: float, unit: str) -> dict[str, Any]:
    return {"target": name, "measured": value, "goal": goal, "unit": unit, "met": bool(value >= goal)}


def targets_frame(checks: Sequence[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([{"target": c["target"], "measured": f"{c['measured']:.3g}{c['unit']}",
                          "goal": f"≥ {c['goal']:g}{c['unit']}", "": "met" if c["met"] else "MISSED"}
                         for c in checks])


def render_text(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                notes: Sequence[str]) -> str:
    """The whole terminal report: one table per case, the targets and the notes."""
    blocks = [render_case(result, info, peaks) for result in results]
    checks = target_checks(results)
    if checks:
        blocks.append("targets\n" + frame_table(targets_frame(checks)))
    if notes:
        blocks.append("\n".join(f"note: {note}" for note in notes))
    return "\n\n".join(blocks) + "\n"


def render_markdown(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                    notes: Sequence[str], command: str) -> str:
    """The same report as Markdown, with the command that produced it."""
    parts = ["## mlp-compare bench", "", f"`{command}`", ""]
    for result in results:
        parts += [render_case(result, info, peaks, markdown=True), ""]
    checks = target_checks(results)
    if checks:
        parts += ["### Targets", "", frame_table(targets_frame(checks), markdown=True), ""]
    parts += [f"- note: {note}" for note in notes]
    return "\n".join(parts).rstrip() + "\n"


def flat_records(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """One record per row with its case, full precision (for CSV and JSON)."""
    records = []
    for result in results:
        case = result.case
        for row in result.rows:
            records.append({
                "network": case.name, "dtype": case.dtype, "batch_size": case.batch_size,
                "samples": case.samples, "weights": case.weights,
                "implementation": row.implementation, "phase": row.phase,
                "median_ms": row.median_s * 1e3, "min_ms": min(row.seconds) * 1e3,
                "max_ms": max(row.seconds) * 1e3, "repeats": len(row.seconds),
                "samples_per_s": row.samples_per_s, "gflops": row.gflops,
                "percent_of_peak": row.percent_of_peak, "peak_gflops": row.peak_gflops,
                "ratio_vs_keras": row.ratio, "anchor": ANCHORS[row.phase],
                "tracemalloc_peak_mb": row.traced_peak_mb, "rss_delta_mb": row.rss_delta_mb,
                "rss_peak_mb": row.rss_peak_mb,
                "fit_call_overhead_ms": None if row.call_overhead_s is None else row.call_overhead_s * 1e3,
                "foreign_cpu_fraction": row.foreign_cpu,
            })
    return records


def report_dict(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                notes: Sequence[str], settings: dict[str, Any]) -> dict[str, Any]:
    """The JSON document: machine, peaks, settings, one entry per case with its rows, targets, notes."""
    records = flat_records(results)
    cases = []
    for result in results:
        case = result.case
        cases.append({"network": case.name, "layers": list(case.layers), "dtype": case.dtype,
                      "batch_size": case.batch_size, "samples": case.samples, "steps": case.steps,
                      "weights": case.weights, "task": case.task,
                      "rows": [r for r in records if (r["network"], r["dtype"], r["batch_size"])
                               == (case.name, case.dtype, case.batch_size)]})
    return {"machine": info, "gemm_peak_gflops": peaks, "settings": settings, "cases": cases,
            "targets": target_checks(results), "notes": list(notes)}


#: One colour per training implementation in the plot (scratch's loop and mini-batch are one implementation).
PLOT_COLOURS = {SCRATCH_LOOP: "tab:blue", SCRATCH_BATCHED: "tab:blue", SEED_ORIGINAL: "tab:cyan",
                KERAS_FIT: "tab:red", KERAS_FIT_SPE: "tab:orange", KERAS_STEP: "tab:green"}
PLOT_MARKERS = "os^Dvp*h"


def write_plot(path: str, results: Sequence[CaseResult]) -> None:
    """Samples/s and % of peak of each training implementation against network size, log axes, one PNG.

    Colour: the implementation; marker: the batch size; a line joins one
    implementation's points at one batch size across networks.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    frame = pd.DataFrame(flat_records(results))
    frame = frame[frame["phase"] == TRAIN].sort_values("weights")
    batches = sorted(frame["batch_size"].unique())
    markers = {batch: PLOT_MARKERS[i % len(PLOT_MARKERS)] for i, batch in enumerate(batches)}
    figure = Figure(figsize=(8, 8), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    for (implementation, batch), group in frame.groupby(["implementation", "batch_size"], sort=False):
        style = dict(color=PLOT_COLOURS.get(implementation, "gray"), marker=markers[batch],
                     linestyle="-" if implementation.startswith(("scratch", "seed")) else "--")
        top.plot(group["weights"], group["samples_per_s"], **style)
        bottom.plot(group["weights"], group["percent_of_peak"], **style)
    top.set(xscale="log", yscale="log", ylabel="training samples/s",
            title="one training epoch: scratch (solid) and Keras (dashed)")
    bottom.set(xscale="log", yscale="log", xlabel="network size: Σ n_in·n_out weights",
               ylabel="% of this machine's GEMM peak")
    labels = {"scratch" if name.startswith("scratch") else name: PLOT_COLOURS[name]
              for name in PLOT_COLOURS if name in set(frame["implementation"])}
    handles = [Line2D([], [], color=colour, label=label) for label, colour in labels.items()]
    handles += [Line2D([], [], color="black", marker=markers[b], linestyle="", label=f"batch {b}") for b in batches]
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=3)
    with atomic_writer(path, "wb") as file:
        figure.savefig(file, format="png", dpi=100)


def write_files(args: argparse.Namespace, results: Sequence[CaseResult], info: dict[str, Any],
                peaks: dict[str, float], notes: Sequence[str], command: str) -> None:
    """Every file asked for, each written atomically."""
    if args.csv:
        atomic_write(args.csv, pd.DataFrame(flat_records(results)).to_csv(index=False, float_format="%.6g"))
    if args.markdown:
        atomic_write(args.markdown, render_markdown(results, info, peaks, notes, command))
    if args.json:
        write_json(args.json, report_dict(results, info, peaks, notes, settings_of(args, command)))
    if args.plot:
        write_plot(args.plot, results)


# ------------------------------------------------------------------ CLI
def _network(text: str) -> tuple[int, ...]:
    try:
        layers = tuple(int(part) for part in text.split("-"))
    except ValueError:
        layers = ()
    if len(layers) < 2 or min(layers) < 1:
        raise argparse.ArgumentTypeError(f"a network looks like 784-512-512-10 (positive sizes), got {text!r}")
    return layers


def _list_of(item: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        values = [item(part.strip()) for part in text.split(",") if part.strip()]
        if not values:
            raise argparse.ArgumentTypeError("expected at least one value")
        return values
    return parse


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _dtype(text: str) -> str:
    if text not in ("float32", "float64"):
        raise argparse.ArgumentTypeError(f"dtype must be float32 or float64, got {text!r}")
    return text


def _phase(text: str) -> str:
    phase = TRAIN if text == "train" else text
    if phase not in PHASES:
        raise argparse.ArgumentTypeError(f"a phase is forward, gradients or train, got {text!r}")
    return phase


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare bench``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Time scratch and Keras side by side (forward, gradients, one training epoch) over a sweep "
        "of networks, with throughput, GFLOP/s, percent of this machine's GEMM peak and peak memory.",
        epilog="Default sweep: 2-5-1 (the seed's a+b task, float64) at batch 1 and 32 on 1,000 samples; "
        "64-128-10 float32 at batch 32 on 5,000; 784-512-512-10 float32 at batch 128 on 20,000. "
        "Options that are not given fall back to each network's default.",
    )
    parser.add_argument("--networks", type=_list_of(_network), metavar="A-B-C[,…]",
                        help="networks as layer sizes, e.g. 2-5-1,784-512-512-10")
    parser.add_argument("--batch-sizes", type=_list_of(_positive), metavar="N[,N]", help="e.g. 1,32,128")
    parser.add_argument("--dtypes", type=_list_of(_dtype), metavar="DTYPE[,DTYPE]", help="float32 and/or float64")
    parser.add_argument("--phases", type=_list_of(_phase), default=list(PHASES), metavar="PHASE[,PHASE]",
                        help="forward, gradients and/or train (default: all three)")
    parser.add_argument("--samples", type=_positive, help="samples per epoch for every network")
    parser.add_argument("--repeats", type=_positive, help=f"timed repeats per row (default {DEFAULT_REPEATS}, "
                        f"{QUICK_REPEATS} with --quick); rows slower than {ROW_BUDGET_S:g} s in total stop after "
                        f"{MIN_REPEATS}")
    parser.add_argument("--max-steps", type=_positive, default=None,
                        help=f"time at most this many steps per epoch (default {DEFAULT_MAX_STEPS})")
    parser.add_argument("--quick", action="store_true", help="a fast look: a tenth of the samples, fewer repeats")
    parser.add_argument("--csv", metavar="PATH", help="write every row as CSV")
    parser.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    parser.add_argument("--json", metavar="PATH", help="write everything as JSON")
    parser.add_argument("--plot", metavar="PATH", help="write a PNG: samples/s and %% of peak against network size")
    return parser


def settings_of(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The run's settings, for the JSON."""
    return {"command": command, "phases": args.phases, "repeats": args.repeats, "max_steps": args.max_steps,
            "quick": args.quick, "learning_rate": LEARNING_RATE, "row_budget_s": ROW_BUDGET_S,
            "min_repeats": MIN_REPEATS, "steps_per_execution": STEPS_PER_EXECUTION}


def resolve(args: argparse.Namespace) -> tuple[list[Case], list[str]]:
    """Fill in the defaults (``--quick`` shrinks them) and build the sweep."""
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.max_steps is None:
        args.max_steps = 100 if args.quick else DEFAULT_MAX_STEPS
    return build_cases(args.networks, args.batch_sizes, args.dtypes, args.samples, args.max_steps,
                       scale=0.1 if args.quick else 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare bench``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'scratch-vs-keras[plot]'")
    for option in ("csv", "markdown", "json", "plot"):
        path = getattr(args, option)
        if path and not Path(path).resolve().parent.is_dir():
            parser.error(f"--{option} {path}: the folder {Path(path).parent} does not exist")
    cases, notes = resolve(args)
    command = " ".join(["mlp-compare", "bench", *argv])
    results, info, peaks, seconds = run_sweep(cases, args.repeats, args.phases)
    notes += timing_notes(seconds, args.repeats, info, peaks, results)
    print(render_text(results, info, peaks, notes), end="")
    try:
        write_files(args, results, info, peaks, notes, command)
    except OSError as error:
        print(f"{PROG}: error: cannot write a report file: {error}", file=sys.stderr)
        return 2
    return 0


def _load(info: dict[str, Any], when: str) -> str:
    load = info.get(f"load_average_at_{when}")
    return "unknown" if not load else " / ".join(f"{v:.2f}" for v in load)


if __name__ == "__main__":
    sys.exit(main())
