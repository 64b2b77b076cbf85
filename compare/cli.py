"""The ``mlp-compare`` command (also ``python -m compare``).

With no arguments it runs the seed's demo on both sides: a 2-5-1 sigmoid MLP
without biases, float64, learning a+b from 1000 samples in [0, 0.5), 50
epochs at learning rate 0.1 and batch size 1. It prints the configuration, the
equivalence table, a summary of the per-epoch losses, the timings and the
verdict; ``--json``/``--markdown``/``--csv``/``--plot`` also write files.

Exit status (:mod:`compare.exits`): 0 when every check passes, 1 when any
fails (or a side raises), 2 for usage and input errors, 3 when the checks
passed but a report file could not be written, 130 on Ctrl-C. Report files
are checked before the run and written by :mod:`compare.outputs`; progress is
drawn on standard error by :mod:`compare.progress`. The sub-commands ``mlp-compare bench ...`` and
``mlp-compare explain ...`` are argparse sub-commands whose modules are
imported only when chosen; each parses its own options.

The network options are the fields of :class:`scratch.MLPConfig` that carry a
command-line flag, with their choices taken from the registries.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from scratch.config import MLPConfig
from scratch.losses import LOSSES
from scratch.optimizers import OPTIMIZERS, optimizer_spec

from . import datasets, loading
from .exits import EPILOG, FAILED, NOT_WRITTEN, PASSED, USAGE, CommandParser, UsageError, guarded
from .factors import CONVENTIONS
from .harness import SideError, SideRun, compare, run_side, side_name
from .outputs import Output, add_output_options, checked_outputs, report_stream, write_outputs
from .progress import Phases, add_progress_options, no_progress, phases_for
from .report import render_file, render_text, verdict_lines
from .results import Report

PROG = "mlp-compare"
#: The report files the command writes: format -> what it holds.
OUTPUTS = {"json": "write the report as JSON", "markdown": "write the report as Markdown",
           "csv": "write both per-epoch loss curves as CSV",
           "plot": "write an image of both loss curves and their difference"}
#: sub-command -> (the module whose ``build_parser`` and ``main`` it runs, one line of help)
SUBCOMMANDS = {
    "bench": ("compare.bench.command", "time scratch and Keras side by side over a sweep of networks"),
    "explain": ("compare.gallery.explain", "the pitfall gallery: classic mistakes, each measured by the harness"),
    "grade": ("compare.grade.command", "grade many submissions, each isolated, after one proof against Keras"),
}
DEFAULT_REFERENCE = "keras_equiv:KerasMLP"
#: The default run is the seed's demo: where it differs from MLPConfig's defaults.
CONFIG_DEFAULTS = {"hidden_layers": [5], "seed": 0}


# ------------------------------------------------------------- arguments
def _parts(text: str, example: str) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``; ``""`` → ``[]``; an empty entry (``"a,,b"``, ``"a,"``) is refused."""
    if not text.strip():
        return []
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty entry; write e.g. {example}")
    return parts


def _int_list(text: str) -> list[int]:
    """``"5,3"`` → ``[5, 3]``; ``""`` → ``[]``."""
    try:
        return [int(part) for part in _parts(text, "5,3")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 5,3 (or '' for none), got {text!r}"
        ) from None


def _name_list(text: str) -> list[str]:
    return _parts(text, "relu,sigmoid")


#: How each kind of config field is read from the command line (see ``scratch.config._field``).
OPTION_KINDS: dict[str, dict[str, Any]] = {
    "int": {"type": int},
    "ints": {"type": _int_list, "metavar": "N,N"},
    "names": {"type": _name_list, "metavar": "NAME[,NAME]"},
    "flag": {"action": argparse.BooleanOptionalAction},
    "choice": {},
}


def add_config_options(group: argparse._ArgumentGroup) -> None:
    """One option per :class:`~scratch.MLPConfig` field that has a flag, choices from its registry."""
    for field in MLPConfig.options():
        meta = field.metadata
        default = CONFIG_DEFAULTS.get(field.name, field.default)
        choices = list(meta["choices"]()) if meta["choices"] else None
        kwargs = dict(OPTION_KINDS[meta["kind"]], dest=field.name, default=default)
        if meta["kind"] == "choice":
            kwargs["choices"] = choices
        shown = ",".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        listed = f" ({', '.join(choices)})" if choices and meta["kind"] != "choice" else ""
        group.add_argument(meta["flag"], help=f"{meta['help']}{listed} (default: {shown})", **kwargs)


def optimizer_arguments() -> dict[str, Any]:
    """Every argument some optimizer of :data:`scratch.optimizers.OPTIMIZERS` takes, with an example default."""
    arguments: dict[str, Any] = {}
    for cls in OPTIMIZERS.values():
        arguments |= {name: default for name, default in cls.arguments().items() if name not in arguments}
    return arguments


def add_optimizer_options(group: argparse._ArgumentGroup) -> None:
    """``--beta-1``, ``--momentum``, ``--nesterov``... one per optimizer argument, and ``--optimizer-config JSON``."""
    for name, default in optimizer_arguments().items():
        takers = ", ".join(n for n, cls in OPTIMIZERS.items() if name in cls.arguments())
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            group.add_argument(flag, dest=f"opt_{name}", action=argparse.BooleanOptionalAction,
                               default=argparse.SUPPRESS, help=f"({takers})")
        elif isinstance(default, float):
            group.add_argument(flag, dest=f"opt_{name}", type=float, default=argparse.SUPPRESS, metavar="X",
                               help=f"({takers}; Keras's default {default:g})")
        else:  # hyperparameter_dtype: a dtype name or none
            group.add_argument(flag, dest=f"opt_{name}", type=lambda t: None if t.lower() == "none" else t,
                               default=argparse.SUPPRESS, metavar="DTYPE|none",
                               help=f"({takers}) scratch only: round β/μ through this dtype as TensorFlow does "
                               f"(default {default}; none: exact)")
    group.add_argument("--optimizer-config", type=_json_object, default=None, metavar="JSON",
                       help='the whole optimizer as JSON, e.g. \'{"name": "adam", "beta_1": 0.8}\' (instead of '
                       "--optimizer and the flags above)")


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object like {{\"name\": \"adam\"}}, got {text!r}")
    return value


def optimizer_from(args: argparse.Namespace) -> str | dict[str, Any]:
    """``--optimizer-config``, or ``--optimizer`` with the optimizer flags that were given (absent ones are not set)."""
    given = {name: getattr(args, f"opt_{name}") for name in optimizer_arguments() if hasattr(args, f"opt_{name}")}
    if args.optimizer_config is not None:
        if given or args.optimizer != "sgd":
            raise UsageError("--optimizer-config replaces --optimizer and the optimizer flags; give one or the other")
        return args.optimizer_config
    return {"name": args.optimizer, **given}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare``."""
    parser = CommandParser(
        prog=PROG,
        description="Build a from-scratch MLP and its Keras twin from identical weights, check that forward "
        "outputs, the loss, gradients, per-epoch losses, final weights and optimizer state agree, and time both.",
        epilog=EPILOG,
    )
    commands = parser.add_subparsers(dest="command", title="sub-commands (each has its own --help)",
                                     metavar="{" + ",".join(SUBCOMMANDS) + "}")
    for name, (_, help_text) in SUBCOMMANDS.items():
        commands.add_parser(name, help=help_text, add_help=False)
    add_config_options(parser.add_argument_group("network"))
    add_optimizer_options(parser.add_argument_group("optimizer arguments (Keras's names; each optimizer its own)"))
    add_training_options(parser.add_argument_group("training"))
    add_data_options(parser.add_argument_group("data"))
    sides = parser.add_argument_group("implementations")
    sides.add_argument("--impl", default="scratch:MLP", metavar="PATH.py:CLASS",
                       help=f"the implementation to check, in scratch's place: {loading.SPEC_FORMS} (the current "
                       f"directory is on the import path); built as {loading.constructor_help()} "
                       "(default: scratch:MLP)")
    add_accept_option(sides)
    sides.add_argument("--reference", default=DEFAULT_REFERENCE, metavar="MODULE:CLASS",
                       help=f"the implementation it is checked against (default: {DEFAULT_REFERENCE})")
    add_backend_options(sides)
    check = parser.add_argument_group("tolerance and output")
    check.add_argument("--rtol", type=float, default=None, help="relative tolerance (default: 1e-10 for float64, "
                       "1e-5 for float32)")
    check.add_argument("--atol", type=float, default=None, help="absolute tolerance (default: rtol × the array's "
                       "largest magnitude)")
    check.add_argument("--repeats", type=int, default=5, help="timing repeats, median reported; 0 skips timing "
                       "(default: 5)")
    add_output_options(check, OUTPUTS)
    add_progress_options(check)
    return parser


def add_training_options(group: argparse._ArgumentGroup) -> None:
    """``--epochs``, ``--lr``, ``--batch-size``, ``--shuffle``."""
    group.add_argument("--epochs", type=int, default=50)
    group.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    group.add_argument("--batch-size", type=int, default=1)
    group.add_argument("--shuffle", type=int, default=None, metavar="SEED",
                       help="shuffle each epoch with np.random.default_rng(SEED) (default: keep the order)")


def add_data_options(group: argparse._ArgumentGroup) -> None:
    """``--dataset``, ``--samples``, ``--target-columns``, ``--header``: what :func:`load_data` reads."""
    group.add_argument("--dataset", default="sum", metavar="NAME",
                       help="sum, xor, digits, moons or csv:PATH (default: sum)")
    group.add_argument("--samples", type=int, default=None, help="number of samples (default: 1000 for sum, all "
                       "otherwise)")
    group.add_argument("--target-columns", type=_name_list, default=None, metavar="COL[,COL]",
                       help="CSV target columns, by name or 0-based index (default: the last column)")
    group.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                       help="whether the CSV's first row names its columns (default: yes if one of its cells is "
                       "not a number)")


def _conventions(text: str) -> list[str]:
    """``"sign,half-sum"`` → the names, each one of :data:`~compare.factors.CONVENTIONS` or ``any``."""
    names = _name_list(text)
    unknown = [name for name in names if name != "any" and name not in CONVENTIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown convention(s) {', '.join(unknown)}; choose from any, "
                                         f"{', '.join(CONVENTIONS)}")
    return names


def add_accept_option(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """``--accept NAME[,NAME]``: conventions under which a failing implementation is still equivalent."""
    group.add_argument("--accept", type=_conventions, default=[], metavar="NAME[,NAME]",
                       help="grade a difference in these named conventions as 'equivalent up to' them, once a "
                       f"replay confirms it: any, {', '.join(CONVENTIONS)}")


def add_backend_options(group: argparse._ArgumentGroup) -> None:
    """``--backend NAME`` and ``--backends A,B``: the Keras twin on other Keras 3 backends (see :mod:`.backend_run`)."""
    group.add_argument("--backend", default=None, metavar="NAME", help="the Keras reference on this backend: "
                       "tensorflow, jax or torch, its precision measured and reported (no timing)")
    group.add_argument("--backends", type=_name_list, default=None, metavar="NAME[,NAME]", help="compare with the "
                       "Keras twin on each backend, and the backends with each other: one row per pair and check "
                       "(no timing; mlp-compare bench --backends times them)")


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
    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")


# ------------------------------------------------------------ building
def load_class(spec: str, option: str) -> type:
    """The class named by ``path/to/file.py:Class`` or ``module:Class`` (raises :class:`UsageError`)."""
    try:
        return loading.load_class(spec, option)
    except loading.LoadError as error:
        raise UsageError(str(error)) from None


def config_from(args: argparse.Namespace, num_inputs: int, num_outputs: int) -> MLPConfig:
    """The network the command line describes (raises :class:`UsageError` for a bad combination)."""
    values = {field.name: getattr(args, field.name) for field in MLPConfig.options()}
    if len(values["activation"]) == 1:
        values["activation"] = values["activation"][0]
    values["optimizer"] = optimizer_from(args)
    try:
        return MLPConfig(num_inputs, num_outputs=num_outputs, **values)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None


def constructor_arguments(config: MLPConfig) -> dict[str, Any]:
    """The keyword arguments ``--impl`` and ``--reference`` classes are built with (beside the three sizes).

    Every config field, except an optional one at its default (see ``scratch.config._field``).
    """
    values = config.to_dict()
    defaults = MLPConfig(config.num_inputs, config.hidden_layers, config.num_outputs).to_dict()
    for field in MLPConfig.options():
        if field.metadata["optional"] and values[field.name] == defaults[field.name]:
            values.pop(field.name)
    for name in ("num_inputs", "hidden_layers", "num_outputs"):
        values.pop(name)
    if len(set(values["activation"])) == 1:
        values["activation"] = values["activation"][0]
    if "optimizer" in values:
        values["optimizer"] = optimizer_spec(values["optimizer"])
    return values


def build_side(spec: str, option: str, config: MLPConfig) -> Any:
    """``Class(num_inputs, hidden_layers, num_outputs, **constructor_arguments(config))``."""
    cls = load_class(spec, option)
    try:
        return loading.build(cls, config, option, **constructor_arguments(config))
    except loading.LoadError as error:
        raise UsageError(str(error)) from None
    except SideError as error:
        if isinstance(error.__cause__, (TypeError, ValueError)):  # it refuses this configuration
            raise UsageError(f"cannot build {spec}: {error.__cause__}") from None
        raise


def build_reference(args: argparse.Namespace, config: MLPConfig, a: Any) -> Any:
    """The reference (``--reference``) for ``a``: its ``from_scratch(a)`` when it has one and ``a`` is scratch's."""
    try:
        reference = load_class(args.reference, "--reference")
    except UsageError as error:
        if args.reference == DEFAULT_REFERENCE:
            raise UsageError(f"the Keras side is not available ({error}); install tensorflow") from None
        raise
    if hasattr(reference, "from_scratch") and _is_scratch_mlp(a):
        return reference.from_scratch(a)
    return build_side(args.reference, "--reference", config)


def _is_scratch_mlp(obj: object) -> bool:
    from scratch import MLP

    return type(obj) is MLP


def config_of(args: argparse.Namespace, config: MLPConfig, num_samples: int) -> dict[str, Any]:
    """The run's configuration, for the report header and the JSON: the network, the data, the training."""
    network = constructor_arguments(config)
    if not isinstance(network["activation"], str):
        network["activation"] = ",".join(network["activation"])
    spec = optimizer_spec(config.optimizer)
    if not isinstance(spec, str):
        spec = f"{spec.pop('name')} ({', '.join(f'{k}={v}' for k, v in spec.items())})"
    network["optimizer"] = spec
    network = {"activation": network.pop("activation"), "bias": network.pop("use_bias"), **network}
    return {
        "architecture": "-".join(map(str, config.layer_sizes)),
        **network,
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
def run(args: argparse.Namespace, progress: Phases = no_progress) -> Report:
    """Load the data, build both sides, compare, time; return the report."""
    x, y = load_data(args)
    config = config_from(args, x.shape[1], num_outputs(args.dataset, y))
    a, b, a_run = build_sides(args, config, x, y, progress)
    report = compare(a, b, x, y, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                     shuffle=args.shuffle, rtol=args.rtol, atol=args.atol, progress=progress, a_run=a_run,
                     accept=args.accept)
    report.config = config_of(args, config, len(x))
    if args.repeats > 0:
        report.timings = timings(args, report, a, b, x, y, progress)
    return report


def build_sides(args: argparse.Namespace, config: MLPConfig, x: Any, y: Any,
                progress: Phases) -> tuple[Any, Any, SideRun | None]:
    """Both sides, and ``a``'s half of the comparison when it ran while the reference loaded (else ``None``).

    When ``a`` is ``scratch.MLP`` and the reference's module (TensorFlow, for
    Keras) is still to be imported, ``a``'s half runs in a forked child
    meanwhile (:mod:`compare.background`): the same numbers, seconds sooner.
    """
    from .background import NoAnswer, can_fork, in_background

    a = build_side(args.impl, "--impl", config)
    if not (can_fork() and _is_scratch_mlp(a) and args.reference.partition(":")[0] not in sys.modules):
        with progress(f"loading {args.reference}"):
            return a, build_reference(args, config, a), None
    name = side_name(a)
    with in_background(run_side, a, x, y, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                       shuffle=args.shuffle, name=name) as a_half:
        with progress(f"loading {args.reference} while {name} trains"):
            b = build_reference(args, config, a)
        with progress(f"training {name}"):
            try:
                return a, b, untimed(a_half.result())
            except NoAnswer:  # the child died (killed for memory, say): a trains here, as without a child
                return a, b, None


def untimed(a_run: SideRun) -> SideRun:
    """``a_run`` without its epoch times: the child trained while TensorFlow loaded on the other core, which
    slowed its epochs (measured: 1.5-2.7 times), so the timing table times ``a``'s epoch again, alone."""
    return dataclasses.replace(a_run, epoch_seconds=None)


def timings(args: argparse.Namespace, report: Report, a: Any, b: Any, x: Any, y: Any, progress: Phases) -> list:
    """The timing table: forward and gradients timed now, a training epoch from the run's own epochs when it can."""
    from .bench.timing import time_both, timed_runs

    runs = timed_runs(report.epoch_seconds, args.repeats)
    with progress(f"timing: median of {args.repeats} repeats", total=runs, unit="run") as advance:
        return time_both(a, b, x, y, learning_rate=args.lr, batch_size=args.batch_size, repeats=args.repeats,
                         advance=advance, epoch_seconds=report.epoch_seconds)


def load_data(args: argparse.Namespace, prog: str = PROG) -> tuple[Any, Any]:
    """The data set the command line names; its size said up front when large, a short file warned about.

    Targets are shaped for ``--loss`` (class labels or one-hot rows); notes and
    warnings go to standard error as ``PROG: warning: ...``.
    """
    note = datasets.size_note(args.dataset, args.samples, args.dtype, args.epochs, args.batch_size)
    try:
        if note:
            _warn(note, "note", prog)
        return datasets.load(args.dataset, samples=args.samples, seed=args.seed, dtype=args.dtype,
                             target_columns=args.target_columns, header=args.header,
                             warn=partial(_warn, prog=prog), targets=LOSSES[args.loss].targets)
    except datasets.DatasetError as error:
        raise UsageError(str(error)) from None


def num_outputs(dataset: str, y: Any) -> int:
    """The network's outputs for targets ``y``: their columns, or for class labels (1-D) the classes."""
    return y.shape[1] if y.ndim == 2 else datasets.CLASSES.get(dataset, int(y.max()) + 1)


def _warn(message: str, kind: str = "warning", prog: str = PROG) -> None:
    print(f"{prog}: {kind}: {message}", file=sys.stderr, flush=True)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'scratch-vs-keras[plot]'") from None


def write_reports(report: Report, outputs: list[Output]) -> int:
    """Write every report file asked for; the exit status, with one line if any could not be written."""
    status = PASSED if report.equivalent else FAILED
    written = write_outputs({output: partial(render_file, report=report) for output in outputs})
    if not written.failed:
        return status
    print(f"{PROG}: error: {written.summary()} (the comparison itself: {verdict_lines(report)[0]})",
          file=sys.stderr)
    return NOT_WRITTEN if status == PASSED else status


def run_subcommand(name: str, argv: list[str]) -> int:
    """Import sub-command ``name``'s module only now, and let its own parser read ``argv``."""
    module = importlib.import_module(SUBCOMMANDS[name][0])
    return int(module.main(argv) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare``; returns the exit status (see :mod:`compare.exits`)."""
    return guarded(PROG, lambda: _main(argv))


def console_main() -> None:
    """The ``mlp-compare`` console script: :func:`main`, then :func:`~compare.exits.exit_now` with its status."""
    from .exits import exit_now

    exit_now(main())


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is not None:
        return run_subcommand(args.command, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    _validate(parser, args)
    try:
        outputs = checked_outputs(args, list(OUTPUTS))
        if args.plot:
            _require_matplotlib()
        if args.backend or args.backends:
            from . import backend_run

            return backend_run.main(args, outputs, phases_for(args))
        report = run(args, phases_for(args))
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return USAGE
    except SideError as error:
        print(f"{error.details}{PROG}: FAIL: {error}", file=sys.stderr)
        return FAILED
    print(render_text(report), end="", file=report_stream(outputs))
    return write_reports(report, outputs)


if __name__ == "__main__":
    sys.exit(main())
