"""The command line of ``mlp-compare bench``: the parser, the defaults it fills in, and ``main``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from scratch.config import DTYPES

from .. import exits
from ..outputs import add_output_options, checked_outputs, report_stream, write_outputs
from ..progress import add_progress_options, phases_for
from .cases import PHASES, TRAIN, Case, build_cases
from .measuring import MIN_REPEATS, ROW_BUDGET_S
from .render import render_file, render_text
from .sweep import run_sweep, timing_notes

PROG = "mlp-compare bench"
OUTPUTS = {"csv": "write every row as CSV", "markdown": "write the tables as Markdown",
           "json": "write everything as JSON", "plot": "write an image: samples/s and %% of peak against network size"}
DEFAULT_REPEATS = 5
QUICK_REPEATS = 2
#: At most this many steps per epoch are timed (the same samples for every implementation).
DEFAULT_MAX_STEPS = 1000


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
    if text not in DTYPES:
        raise argparse.ArgumentTypeError(f"dtype must be one of {', '.join(DTYPES)}, got {text!r}")
    return text


def _backend(text: str) -> str:
    from keras_equiv import backends

    try:
        return backends.require(text)
    except (ValueError, backends.BackendUnavailable) as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _phase(text: str) -> str:
    phase = TRAIN if text == "train" else text
    if phase not in PHASES:
        raise argparse.ArgumentTypeError(f"a phase is forward, gradients or train, got {text!r}")
    return phase


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare bench``."""
    parser = exits.CommandParser(
        prog=PROG,
        description="Time scratch and Keras side by side (forward, gradients, one training epoch) over a sweep "
        "of networks, with throughput, GFLOP/s, percent of this machine's GEMM peak and peak memory.",
        epilog="Default sweep: 2-5-1 (the seed's a+b task, float64) at batch 1 and 32 on 1,000 samples; "
        "64-128-10 float32 at batch 32 on 5,000; 784-512-512-10 float32 at batch 128 on 20,000. "
        "Options that are not given fall back to each network's default. "
        + exits.epilog("the sweep ran", None),
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
    parser.add_argument("--backends", type=_list_of(_backend), default=None, metavar="NAME[,NAME]",
                        help="Keras backends to time side by side: tensorflow, jax, torch (default: tensorflow); "
                        "TensorFlow runs here, JAX and PyTorch each in its own worker process")
    add_output_options(parser, OUTPUTS)
    add_progress_options(parser)
    return parser


def resolve(args: argparse.Namespace) -> tuple[list[Case], list[str]]:
    """Fill in the defaults (``--quick`` shrinks them) and build the sweep."""
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.max_steps is None:
        args.max_steps = 100 if args.quick else DEFAULT_MAX_STEPS
    return build_cases(args.networks, args.batch_sizes, args.dtypes, args.samples, args.max_steps,
                       scale=0.1 if args.quick else 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare bench``; returns the exit status (see :mod:`compare.exits`)."""
    return exits.guarded(PROG, lambda: _main(list(sys.argv[1:] if argv is None else argv)))


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install 'scratch-vs-keras[plot]'")
    try:
        outputs = checked_outputs(args, list(OUTPUTS))
    except exits.UsageError as error:
        parser.error(str(error))
    cases, notes = resolve(args)
    command = " ".join(["mlp-compare", "bench", *argv])
    results, info, peaks, seconds = run_sweep(cases, args.repeats, args.phases, phases_for(args), args.backends)
    notes += timing_notes(seconds, args.repeats, info, peaks, results)
    print(render_text(results, info, peaks, notes), end="", file=report_stream(outputs))
    render = partial(render_file, args=args, results=results, info=info, peaks=peaks, notes=notes, command=command)
    written = write_outputs(dict.fromkeys(outputs, render))
    if written.failed:
        print(f"{PROG}: error: {written.summary()} (the sweep itself ran)", file=sys.stderr)
        return exits.NOT_WRITTEN
    return exits.PASSED


if __name__ == "__main__":
    sys.exit(main())
