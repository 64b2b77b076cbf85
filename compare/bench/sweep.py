"""The sweep: every case's rows measured in turn, with the machine's GEMM peaks and the notes on how it went."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..progress import Phases, no_progress
from . import machine
from .cases import FORWARD, GRADIENTS, NUMPY_IMPLEMENTATIONS, PHASES, TRAIN, Case, case_data, scratch_model
from .gemm_time import gemm_seconds
from .measuring import FOREIGN_CPU_LIMIT, MIN_REPEATS, ROW_BUDGET_S, Row, add_ratios, disturbed, measure
from .runners import keras_runners, scratch_runners


@dataclass
class CaseResult:
    """One network's table: the case and its rows."""

    case: Case
    rows: list[Row] = field(default_factory=list)


def runners_per_case(case: Case, phases: Sequence[str] = PHASES) -> int:
    """How many rows a case has on TensorFlow alone (for the progress bar)."""
    per_phase = {FORWARD: 3, GRADIENTS: 2, TRAIN: 5 if case.batch_size == 1 else 4}
    return sum(per_phase[phase] for phase in phases)


def run_case(case: Case, peaks: dict[str, float], repeats: int, advance: Callable[[int], None],
             phases: Sequence[str] = PHASES, workers: Mapping[str, Any] | None = None) -> CaseResult:
    """Every row of one case (of ``phases``): scratch's first, then Keras's, from the same data and weights.

    ``workers`` maps each backend timed elsewhere to its :class:`keras_equiv.remote.BackendWorker` (``None``: here):
    its rows are measured there, one backend after the other (never two at once), by
    :func:`~compare.bench.runners.keras_rows`. Without it, Keras runs here only (TensorFlow).
    """
    x, y = case_data(case)
    weights = scratch_model(case).get_weights()
    result = CaseResult(case)
    local = keras_runners if workers is None or None in workers.values() else None
    for runners in (scratch_runners, local):
        for runner in runners(case, x, y, weights) if runners else []:
            if runner.phase not in phases:
                continue
            result.rows.append(measure(runner, case, peaks[case.dtype], repeats))
            advance(1)
    for worker in (workers or {}).values():
        if worker is not None:
            rows = worker.call("compare.bench.runners:keras_rows", case, x, y, weights, peaks[case.dtype], repeats,
                               list(phases))
            result.rows += rows
            advance(len(rows))
    add_ratios(result.rows)
    add_gemm_times(case, result.rows, repeats)
    result.rows.sort(key=lambda row: PHASES.index(row.phase))
    return result


def add_gemm_times(case: Case, rows: Sequence[Row], repeats: int) -> None:
    """For every NumPy row, the time its phase's matrix products take alone (see :mod:`.gemm_time`).

    Gradients and training do the same products: they are timed once.
    """
    seconds: dict[bool, float] = {}
    for row in rows:
        if row.implementation in NUMPY_IMPLEMENTATIONS:
            forward = row.phase == FORWARD
            if forward not in seconds:
                seconds[forward] = gemm_seconds(case, row.phase, min(repeats, MIN_REPEATS))
            row.gemm_s = seconds[forward]


def run_sweep(cases: Sequence[Case], repeats: int, phases: Sequence[str] = PHASES,
              progress: Phases = no_progress, backends: Sequence[str] | None = None,
              ) -> tuple[list[CaseResult], dict[str, Any], dict[str, float], float]:
    """Describe the machine, measure its GEMM peaks, then every case.

    Returns the results, the machine description, the peaks and the seconds
    the whole sweep took. ``progress`` shows the phases (see :mod:`compare.progress`).
    ``backends`` (default: TensorFlow alone) are the Keras backends timed, each
    but TensorFlow in its own worker process, started once for the sweep.
    """
    started = time.perf_counter()
    workers = _start_workers(backends, progress) if backends else None
    try:
        with progress("starting Keras, measuring the GEMM peaks"):
            info = machine.describe_machine(tensorflow=workers is None or None in workers.values())
            for name, worker in (workers or {}).items():
                if worker is not None:
                    info[f"keras_{name}"] = {k: v for k, v in worker.info.items() if k != "pid"}
            info["load_average_at_start"] = machine.load_average()
            peaks = measure_peaks()
        total = sum(runners_per_case(case, phases) for case in cases) * max(1, len(workers or {}))
        with progress("benchmark rows", total=total, unit="row") as step:
            results = [run_case(case, peaks, repeats, step, phases, workers) for case in cases]
    finally:
        for worker in (workers or {}).values():
            if worker is not None:
                worker.close()
    with progress("measuring the GEMM peaks again"):
        info["gemm_peak_gflops_at_end"] = measure_peaks()
    info["load_average_at_end"] = machine.load_average()
    return results, info, peaks, time.perf_counter() - started


def _start_workers(names: Sequence[str], progress: Phases) -> dict[str, Any]:
    """``{backend: worker}``, ``None`` for TensorFlow when it is this process's backend (timed here)."""
    from keras_equiv import backends
    from keras_equiv.remote import BackendWorker

    workers: dict[str, Any] = {}
    try:
        for name in names:
            with progress(f"starting Keras on {name}"):
                workers[name] = None if name == backends.current() == "tensorflow" else BackendWorker(name)
    except BaseException:
        for worker in workers.values():
            if worker is not None:
                worker.close()
        raise
    return workers


def disturbance_notes(results: Sequence[CaseResult]) -> list[str]:
    """One warning naming the rows timed while other processes were busy (flagged "!" in column n)."""
    rows = [f"{result.case.name} B={result.case.batch_size} {row.implementation} {row.phase} "
            f"({100 * row.foreign_cpu:.0f}%)" for result in results for row in result.rows if disturbed(row)]
    if not rows:
        return []
    return [f"WARNING: other processes used more than {FOREIGN_CPU_LIMIT:.0%} of the cores while these rows were "
            f"timed (marked ! in column n): {'; '.join(rows)}; re-run on a quiet machine"]


def peak_problem(info: dict[str, Any], peaks: dict[str, float], results: Sequence[CaseResult] = (),
                 tolerance: float = 0.15) -> str | None:
    """Why the "% of peak" and "GEMM %" columns cannot be trusted, or ``None``.

    They cannot when the GEMM peaks at the end of the sweep differ from those
    at its start by more than ``tolerance`` (another program used the cores
    and slowed whatever it overlapped), when a row is above 100% of the peak
    (impossible: the peak was measured while the machine was busy), or when a
    row's matrix products alone took longer than the row (as impossible).
    """
    end = info.get("gemm_peak_gflops_at_end") or {}
    moved = [dtype for dtype in end if abs(end[dtype] / peaks[dtype] - 1) > tolerance]
    if moved:
        changes = ", ".join(f"{dtype} {peaks[dtype]:.0f} → {end[dtype]:.0f} GFLOP/s" for dtype in moved)
        return f"the GEMM peak changed during the sweep ({changes}): something else was using the CPU"
    above = [f"{result.case.name} {row.implementation} {row.phase} ({row.percent_of_peak:.0f}%)"
             for result in results for row in result.rows if row.percent_of_peak > 100]
    if above:
        return (f"rows above 100% of the GEMM peak, which cannot be: {'; '.join(above)}; the peak was measured "
                "while something else was using the CPU")
    slower = [f"{result.case.name} {row.implementation} {row.phase} ({100 * row.gemm_share:.0f}%)"
              for result in results for row in result.rows if row.gemm_share is not None and row.gemm_share > 1]
    if slower:
        return (f"rows whose matrix products alone took longer than the whole row, which cannot be: "
                f"{'; '.join(slower)}; something else was using the CPU")
    return None


def peak_reliable(info: dict[str, Any], peaks: dict[str, float], results: Sequence[CaseResult] = ()) -> bool:
    """Whether the percentages of the GEMM peak, and the GEMM shares, can be shown (see :func:`peak_problem`)."""
    return peak_problem(info, peaks, results) is None


def timing_notes(seconds: float, repeats: int, info: dict[str, Any], peaks: dict[str, float],
                 results: Sequence[CaseResult] = ()) -> list[str]:
    """How long the sweep took, how it was timed, the load average, and whether the machine stayed steady."""
    notes = [f"sweep took {seconds:.0f} s; median of up to {repeats} timed repeats per row after one warm-up "
             f"(at least {min(MIN_REPEATS, repeats)}; fewer when a row's repeats pass {ROW_BUDGET_S:g} s: column n); "
             f"load average (1/5/15 min) {_load(info, 'start')} at the start, {_load(info, 'end')} at the end"]
    problem = peak_problem(info, peaks, results)
    warning = [] if problem is None else [f"WARNING: {problem}; percentages of the peak are unreliable and not "
                                          "shown (nor the GEMM shares), nor are these timings to be trusted: "
                                          "re-run on a quiet machine"]
    return notes + warning + disturbance_notes(results)


def measure_peaks() -> dict[str, float]:
    """NumPy's float32 and float64 GEMM throughput on this machine, now (GFLOP/s)."""
    return {dtype: machine.gemm_gflops(dtype) for dtype in ("float32", "float64")}


def _load(info: dict[str, Any], when: str) -> str:
    load = info.get(f"load_average_at_{when}")
    return "unknown" if not load else " / ".join(f"{v:.2f}" for v in load)
