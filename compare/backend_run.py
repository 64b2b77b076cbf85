"""``mlp-compare --backend NAME`` and ``--backends A,B,...``: the same twin on each Keras 3 backend.

For each backend asked for: its conventions and its precision are measured
first (:mod:`keras_equiv.probe`, in that backend's process), then

- the implementation under test (``--impl``, scratch by default), built with
  that backend's measured conventions (:func:`keras_equiv.precision.mirrored`:
  the cross-entropy after a sigmoid/softmax, the float32 rounding of β/μ), is
  compared with the Keras twin on that backend;
- with ``--backends``, every pair of backends is compared too, each side with
  its own conventions (a difference of convention then shows, as it should).

The tolerance of each comparison follows the precision measured: float64's
unless some stage of a side was measured in float32 (then float32's), and the
report says which. TensorFlow runs here when it is this process's backend
(the default); every other backend runs in its own worker process
(:mod:`keras_equiv.remote`). A backend that is not installed is one
line and exit status 2, before anything runs.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from scratch.config import MLPConfig

from . import datasets
from .exits import FAILED, NOT_WRITTEN, PASSED, USAGE, UsageError
from .harness import SideError, compare
from .outputs import Output, report_stream, write_outputs
from .progress import Phases
from .report import frame_table, json_text, render_file, render_text, report_dict, verdict_lines
from .results import Report
from .tolerances import DEFAULT_RTOL

PROG = "mlp-compare"


# ------------------------------------------------------------------ sides
class BackendSide:
    """One backend: Keras in this process (the process's own backend) or in a worker process."""

    def __init__(self, name: str, local: bool) -> None:
        from keras_equiv import remote

        self.name = name
        self.worker = None if local else remote.BackendWorker(name)

    def conventions(self) -> Any:
        if self.worker is not None:
            return self.worker.conventions()
        from keras_equiv.probe import measured_conventions

        return measured_conventions()

    def precision(self, config: MLPConfig, learning_rate: float) -> Any:
        if self.worker is not None:
            return self.worker.precision(config, learning_rate)
        from keras_equiv.probe import measure_precision

        return measure_precision(config, learning_rate)

    def build(self, config: MLPConfig) -> Any:
        if self.worker is not None:
            return self.worker.build(config)
        from keras_equiv import KerasMLP

        return KerasMLP(config)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


@dataclass
class PairResult:
    """One comparison: the two sides' labels, the report, and the tolerance's reason."""

    pair: str
    report: Report
    tolerance: str


@dataclass
class BackendsResult:
    """Every backend's measured precision and every pair's report."""

    precisions: dict[str, Any] = field(default_factory=dict)
    pairs: list[PairResult] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.pairs) and all(p.report.passed for p in self.pairs)


# ---------------------------------------------------------------- checking
def backend_names(args: argparse.Namespace) -> list[str]:
    """The backends asked for, each known and installed (:class:`UsageError` otherwise, before any run)."""
    from keras_equiv import backends

    names = [args.backend] if args.backend else list(dict.fromkeys(args.backends))
    if args.backend and args.backends:
        raise UsageError("give --backend or --backends, not both")
    if args.reference != "keras_equiv:KerasMLP":
        raise UsageError("--backend/--backends choose the Keras reference themselves; leave --reference out")
    if args.backends and (args.csv or args.plot):
        raise UsageError("--csv and --plot draw one pair's loss curves: use --backend NAME (or --json for all)")
    for name in names:
        try:
            backends.require(name)
        except ValueError as error:
            raise UsageError(str(error)) from None
        except backends.BackendUnavailable as error:
            raise UsageError(str(error)) from None
    return names


def tolerance_of(precisions: list[Any], rtol: float | None) -> tuple[float | None, str]:
    """The rtol for a pair (``None``: the harness's default) and why, from the sides' measured precision."""
    if rtol is not None:
        return rtol, f"rtol {rtol:g} (--rtol)"
    measured32 = [p for p in precisions if p.requested == "float64" and p.float32_stages]
    if not measured32:
        return None, "the dtype's own (float64: 1e-10, float32: 1e-5)"
    names = ", ".join(p.backend for p in measured32)
    return DEFAULT_RTOL["float32"], f"float32's {DEFAULT_RTOL['float32']:g}: {names} measured float32 arithmetic"


# ----------------------------------------------------------------- running
def run(args: argparse.Namespace, progress: Phases) -> BackendsResult:
    """Measure each backend, then compare the implementation with each and (``--backends``) the backends pairwise."""
    from keras_equiv import backends
    from keras_equiv.precision import differences, mirrored

    from .cli import build_side, config_from, config_of, load_data

    names = backend_names(args)
    x, y = load_data(args)
    num_outputs = y.shape[1] if y.ndim == 2 else datasets.CLASSES.get(args.dataset, int(y.max()) + 1)
    config = config_from(args, x.shape[1], num_outputs)
    result = BackendsResult(config=config_of(args, config, len(x)))
    sides: dict[str, BackendSide] = {}
    try:
        for name in names:
            local = name == backends.current() == "tensorflow"  # JAX here might lack x64: a worker sets it
            with progress(f"starting Keras on {name} ({'here' if local else 'in its own process'})"):
                sides[name] = BackendSide(name, local=local)
            with progress(f"measuring {name}'s precision"):
                result.precisions[name] = sides[name].precision(config, args.lr)
        kwargs = dict(epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size, shuffle=args.shuffle,
                      atol=args.atol, progress=progress)
        for name in names:
            precision = result.precisions[name]
            mine = mirrored(config, precision.conventions)
            a = build_side(args.impl, "--impl", mine)
            b = _built(sides[name], mine)
            rtol, why = tolerance_of([precision], args.rtol)
            report = compare(a, b, x, y, rtol=rtol, **kwargs)
            result.pairs.append(PairResult(f"{_short(args.impl)} vs {name}", report, why))
        for first, second in itertools.combinations(names, 2):
            pair = [result.precisions[first], result.precisions[second]]
            a, b = (_built(sides[n], mirrored(config, p.conventions)) for n, p in zip((first, second), pair))
            rtol, why = tolerance_of(pair, args.rtol)
            differing = differences(config, pair[0].conventions, pair[1].conventions)
            if differing:
                why += f"; the backends' conventions differ in {' and '.join(differing)}"
            result.pairs.append(PairResult(f"{first} vs {second}", compare(a, b, x, y, rtol=rtol, **kwargs), why))
    finally:
        for side in sides.values():
            side.close()
    for pair in result.pairs:
        pair.report.config = result.config
    return result


def _built(side: BackendSide, config: MLPConfig) -> Any:
    try:
        return side.build(config)
    except (TypeError, ValueError) as error:
        raise UsageError(f"cannot build the Keras twin on {side.name}: {error}") from None


def _short(spec: str) -> str:
    return "scratch" if spec == "scratch:MLP" else spec


# --------------------------------------------------------------- rendering
def precision_frame(result: BackendsResult) -> Any:
    """One row per backend: versions, the precision verdict, its evidence and the conventions."""
    import pandas as pd

    rows = []
    for name, precision in result.precisions.items():
        details = precision.details
        rows.append({"backend": name, "versions": f"keras {details['keras']}, {name} {details[name]}",
                     "precision (measured)": precision.verdict,
                     "jit_compile": str(details["jit_compile"]),
                     "conventions (measured)": precision.conventions.describe()})
    return pd.DataFrame(rows)


def checks_frame(result: BackendsResult) -> Any:
    """One row per pair and check."""
    import pandas as pd

    from .report import checks_frame as one_report

    frames = []
    for pair in result.pairs:
        frame = one_report(pair.report)
        frame.insert(0, "pair", pair.pair)
        frames.append(frame.drop(columns=[c for c in ("worst at", "note") if c in frame.columns]))
    return pd.concat(frames, ignore_index=True)


def evidence_lines(result: BackendsResult) -> list[str]:
    """Each backend's probe, stage by stage: dtype and relative error against scratch's float64."""
    return [f"{name}: {p.evidence()}" for name, p in result.precisions.items()]


def verdict_block(result: BackendsResult) -> list[str]:
    """PASS/FAIL per pair with its tolerance, the localisation of each failure, and the overall verdict."""
    lines = []
    for pair in result.pairs:
        verdict = verdict_lines(pair.report)
        lines.append(f"{pair.pair}: {verdict[0]} (tolerance: {pair.tolerance})")
        lines += [f"  {line}" for line in verdict[1:]]
    failed = [p.pair for p in result.pairs if not p.report.passed]
    lines.append("PASS: every pair agrees within its tolerance" if not failed else f"FAIL: {', '.join(failed)}")
    return lines


def render_backends_text(result: BackendsResult) -> str:
    """The terminal report of ``--backends``."""
    from .report import header_lines

    names = list(result.precisions)
    compared = Report(names=(_short(result.config.get("impl", "scratch:MLP")),
                             f"the Keras twin on {', '.join(names)}; the backends pairwise"),
                      dtype=result.config.get("dtype", ""), config=result.config)
    blocks = ["\n".join(header_lines(compared)).replace(" (compared in ", " (requested: ", 1),
              "precision per backend, measured on a 3-sample probe against scratch's float64\n"
              + frame_table(precision_frame(result)),
              "probe (stage: dtype, relative error)\n" + "\n".join(f"  {line}" for line in evidence_lines(result)),
              frame_table(checks_frame(result)),
              "\n".join(verdict_block(result))]
    return "\n\n".join(blocks) + "\n"


def render_backends_markdown(result: BackendsResult) -> str:
    verdict = verdict_block(result)
    return "\n".join([f"## {'✅' if result.passed else '❌'} {verdict[-1]}", "", "### Precision per backend", "",
                      frame_table(precision_frame(result), markdown=True), "",
                      *(f"- {line}" for line in evidence_lines(result)), "", "### Equivalence", "",
                      frame_table(checks_frame(result), markdown=True), "", "### Verdict", "",
                      *(f"- {line}" for line in verdict[:-1])]) + "\n"


def precision_dict(precision: Any) -> dict[str, Any]:
    return {"verdict": precision.verdict, "requested": precision.requested,
            "float32_stages": precision.float32_stages, "stages": [asdict(s) for s in precision.stages],
            "conventions": asdict(precision.conventions), "details": precision.details}


def backends_dict(result: BackendsResult) -> dict[str, Any]:
    return {"passed": result.passed, "config": result.config,
            "backends": {name: precision_dict(p) for name, p in result.precisions.items()},
            "pairs": [{"pair": p.pair, "tolerance": p.tolerance, **report_dict(p.report)} for p in result.pairs]}


def single_text(result: BackendsResult) -> str:
    """``--backend NAME``: the ordinary report of the one pair, then the backend's measured precision."""
    pair, (name, precision) = result.pairs[0], next(iter(result.precisions.items()))
    lines = [f"backend {name}: {precision.verdict}; {precision.conventions.describe()} (measured)",
             f"  probe: {precision.evidence()}", f"  tolerance: {pair.tolerance}"]
    return render_text(pair.report) + "\n" + "\n".join(lines) + "\n"


def single_config(result: BackendsResult) -> None:
    """Put the backend, its verdict and the tolerance into the one report's configuration (header, JSON)."""
    pair, (name, precision) = result.pairs[0], next(iter(result.precisions.items()))
    pair.report.config = {**result.config, "backend": name, "precision": precision.verdict,
                          "conventions": precision.conventions.describe(), "tolerance": pair.tolerance}


def render_output(output: Output, result: BackendsResult) -> str | bytes:
    if len(result.pairs) == 1:
        return render_file(output, result.pairs[0].report)
    if output.format == "json":
        return json_text(backends_dict(result))
    return render_backends_markdown(result)


def main(args: argparse.Namespace, outputs: list[Output], progress: Phases) -> int:
    """Run, print and write; the exit status."""
    from keras_equiv.remote import WorkerDied

    try:
        result = run(args, progress)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return USAGE
    except ImportError as error:  # a backend that is installed but whose Keras would not import in its worker
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return USAGE
    except (SideError, WorkerDied) as error:
        print(f"{PROG}: FAIL: {error}", file=sys.stderr)
        return FAILED
    single = bool(args.backend)
    if single:
        single_config(result)
    text = single_text(result) if single else render_backends_text(result)
    print(text, end="", file=report_stream(outputs))
    status = PASSED if result.passed else FAILED
    written = write_outputs({output: partial(render_output, result=result) for output in outputs})
    if not written.failed:
        return status
    print(f"{PROG}: error: {written.summary()}", file=sys.stderr)
    return NOT_WRITTEN if status == PASSED else status
