"""The ``mlp-compare`` command (also ``python -m compare``).

With no arguments it runs the seed's demo on both sides: a 2-5-1 sigmoid MLP
without biases, float64, learning a+b from 1000 samples in [0, 0.5), 50
epochs at learning rate 0.1 and batch size 1. It prints the configuration, the
equivalence table, a summary of the per-epoch losses, the timings and the
verdict; ``--json``/``--markdown``/``--csv``/``--plot`` also write files.

Exit status: 0 when every check passes, 1 when any fails (or a side raises),
2 for usage errors. ``mlp-compare bench ...`` and ``mlp-compare explain ...``
hand their arguments to :mod:`compare.bench` and :mod:`compare.explain`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from scratch.losses import LOSSES
from scratch.validation import DTYPES, INITS

from . import datasets
from .harness import SideError, compare
from .report import render_text, write_losses_csv, write_markdown, write_plot, write_report_json
from .results import Report
from .timing import time_both

PROG = "mlp-compare"
SUBCOMMANDS = {"bench": "compare.bench", "explain": "compare.gallery.explain"}
DEFAULT_REFERENCE = "keras_equiv:KerasMLP"


class UsageError(Exception):
    """A mistake in the command line the user can fix; reported in one line, exit 2."""


# ------------------------------------------------------------- arguments
def _int_list(text: str) -> list[int]:
    """``"5,3"`` → ``[5, 3]``; ``""`` → ``[]``."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 5,3 (or '' for none), got {text!r}"
        ) from None


def _name_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build a from-scratch MLP and its Keras twin from identical weights, check that forward "
        "outputs, gradients, per-epoch losses and final weights agree, and time both. "
        "Subcommands: `mlp-compare bench ...`, `mlp-compare explain ...`.",
        epilog="Exit status: 0 all checks pass, 1 a check fails, 2 usage error.",
    )
    net = parser.add_argument_group("network")
    net.add_argument("--hidden", type=_int_list, default=[5], metavar="N,N", help="hidden layer sizes, e.g. 5,3; "
                     "'' for none (default: 5)")
    net.add_argument("--activation", type=_name_list, default=["sigmoid"], metavar="NAME[,NAME]",
                     help="sigmoid, tanh, relu or linear: one for all layers or one per Dense layer (default: sigmoid)")
    net.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False, help="give each layer a bias")
    net.add_argument("--dtype", choices=DTYPES, default="float64")
    net.add_argument("--init", choices=INITS, default="uniform",
                     help="initial weights: the seed's U[0,1) or Keras's glorot_uniform (default: uniform)")
    net.add_argument("--loss", choices=sorted(LOSSES), default="mse",
                     help="Keras's mse, or the seed's ½·Σ(t−o)² per sample (default: mse)")
    net.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the sum data (default: 0)")
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=50)
    train.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    train.add_argument("--batch-size", type=int, default=1)
    train.add_argument("--shuffle", type=int, default=None, metavar="SEED",
                       help="shuffle each epoch with np.random.default_rng(SEED) (default: keep the order)")
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="sum", metavar="NAME", help="sum, xor, digits or csv:PATH (default: sum)")
    data.add_argument("--samples", type=int, default=None, help="number of samples (default: 1000 for sum, all "
                      "otherwise)")
    data.add_argument("--target-columns", type=_name_list, default=None, metavar="COL[,COL]",
                      help="CSV target columns (default: the last column)")
    sides = parser.add_argument_group("implementations")
    sides.add_argument("--impl", default="scratch:MLP", metavar="MODULE:CLASS",
                       help="the implementation to check, in scratch's place; built like scratch.MLP "
                       "(default: scratch:MLP)")
    sides.add_argument("--reference", default=DEFAULT_REFERENCE, metavar="MODULE:CLASS",
                       help=f"the implementation it is checked against (default: {DEFAULT_REFERENCE})")
    check = parser.add_argument_group("tolerance and output")
    check.add_argument("--rtol", type=float, default=None, help="relative tolerance (default: 1e-10 for float64, "
                       "1e-5 for float32)")
    check.add_argument("--atol", type=float, default=None, help="absolute tolerance (default: rtol × the array's "
                       "largest magnitude)")
    check.add_argument("--repeats", type=int, default=5, help="timing repeats, median reported; 0 skips timing "
                       "(default: 5)")
    check.add_argument("--json", metavar="PATH", help="write the report as JSON")
    check.add_argument("--markdown", metavar="PATH", help="write the report as Markdown")
    check.add_argument("--csv", metavar="PATH", help="write both per-epoch loss curves as CSV")
    check.add_argument("--plot", metavar="PATH", help="write a PNG of both loss curves and their difference")
    check.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Range checks argparse's types do not do (argparse's own message, exit 2)."""
    for name, minimum in (("epochs", 0), ("batch_size", 1), ("repeats", 0), ("shuffle", 0)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    if not args.lr > 0 or args.lr == float("inf"):
        parser.error(f"--lr must be a finite number > 0, got {args.lr}")
    for name in ("rtol", "atol"):
        value = getattr(args, name)
        if value is not None and not 0 <= value < float("inf"):
            parser.error(f"--{name} must be a finite number >= 0, got {value}")
    if not args.activation:
        parser.error("--activation needs at least one name")


# ------------------------------------------------------------ building
def load_class(spec: str, option: str) -> type:
    """The class named by ``module:Class`` (raises :class:`UsageError`)."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError(f"{option} must look like module:Class, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"{option} {spec}: cannot import {module_name!r}: {error}") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise UsageError(f"{option} {spec}: module {module_name!r} has no class {class_name!r}")
    return cls


def build_pair(args: argparse.Namespace, num_inputs: int, num_outputs: int) -> tuple[Any, Any]:
    """The implementation under test (``--impl``) and its reference (``--reference``), same architecture."""
    impl = load_class(args.impl, "--impl")
    kwargs = dict(activation=args.activation[0] if len(args.activation) == 1 else args.activation,
                  use_bias=args.bias, dtype=args.dtype, init=args.init, seed=args.seed, loss=args.loss)
    try:
        a = impl(num_inputs, list(args.hidden), num_outputs, **kwargs)
    except (TypeError, ValueError) as error:
        raise UsageError(f"cannot build {args.impl}: {error}") from None
    try:
        reference = load_class(args.reference, "--reference")
    except UsageError as error:
        if args.reference == DEFAULT_REFERENCE:
            raise UsageError(f"the Keras side is not available ({error}); install tensorflow") from None
        raise
    try:
        if hasattr(reference, "from_scratch") and _is_scratch_mlp(a):
            return a, reference.from_scratch(a)
        return a, reference(num_inputs, list(args.hidden), num_outputs, **kwargs)
    except (TypeError, ValueError) as error:
        raise UsageError(f"cannot build {args.reference}: {error}") from None


def _is_scratch_mlp(obj: object) -> bool:
    from scratch import MLP

    return type(obj) is MLP


def config_of(args: argparse.Namespace, num_samples: int, num_inputs: int, num_outputs: int) -> dict[str, Any]:
    """The run's configuration, for the report header and the JSON."""
    sizes = [num_inputs, *args.hidden, num_outputs]
    return {
        "architecture": "-".join(map(str, sizes)),
        "activation": ",".join(args.activation),
        "bias": args.bias,
        "dtype": args.dtype,
        "init": args.init,
        "loss": args.loss,
        "seed": args.seed,
        "dataset": args.dataset,
        "samples": num_samples,
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "batch_size": args.batch_size,
        "shuffle": args.shuffle,
        "impl": args.impl,
        "reference": args.reference,
    }


# ---------------------------------------------------------------- running
def run(args: argparse.Namespace, progress: bool) -> Report:
    """Load the data, build both sides, compare, time; return the report."""
    if args.plot:
        _require_matplotlib()
    try:
        x, y = datasets.load(args.dataset, samples=args.samples, seed=args.seed, dtype=args.dtype,
                             target_columns=args.target_columns)
    except datasets.DatasetError as error:
        raise UsageError(str(error)) from None
    a, b = build_pair(args, x.shape[1], y.shape[1])
    _say(progress, f"comparing {type(a).__name__} and {type(b).__name__}: training {args.epochs} epochs each")
    report = compare(a, b, x, y, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                     shuffle=args.shuffle, rtol=args.rtol, atol=args.atol, verbose=progress)
    report.config = config_of(args, len(x), x.shape[1], y.shape[1])
    if args.repeats > 0:
        _say(progress, f"timing: median of {args.repeats} repeats")
        report.timings = time_both(a, b, x, y, learning_rate=args.lr, batch_size=args.batch_size,
                                   repeats=args.repeats)
    return report


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'scratch-vs-keras[plot]'") from None


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def write_files(args: argparse.Namespace, report: Report) -> None:
    """Every file asked for, each written atomically."""
    for path, writer in ((args.json, write_report_json), (args.markdown, write_markdown),
                         (args.csv, write_losses_csv), (args.plot, write_plot)):
        if path:
            try:
                writer(path, report)
            except OSError as error:
                raise UsageError(f"cannot write {path}: {error.strerror or error}") from None


def dispatch(name: str, argv: list[str]) -> int:
    """Run subcommand ``name`` (``compare.bench`` / ``compare.explain``) if it exists."""
    try:
        module = importlib.import_module(SUBCOMMANDS[name])
    except ModuleNotFoundError as error:
        if error.name != SUBCOMMANDS[name]:
            raise
        print(f"{PROG}: the `{name}` subcommand is not available in this version", file=sys.stderr)
        return 2
    return int(module.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return dispatch(argv[0], argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    progress = not args.quiet and sys.stdout.isatty()
    try:
        report = run(args, progress)
        print(render_text(report), end="")
        write_files(args, report)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except SideError as error:
        print(f"{PROG}: FAIL: {error}", file=sys.stderr)
        return 1
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
