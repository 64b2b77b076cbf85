"""``mlp-compare grade``: grade a whole class of from-scratch MLPs, one row per submission.

Each submission (``path.py:Class``, a quoted glob ``'submissions/*.py:Class'``,
a folder with ``--class``, or ``module:Class``) is built with the same
network, data and training as ``mlp-compare`` would build it and compared with
``scratch.MLP`` in a spawned process of its own, under a time and a memory
limit, as many at once as there are cores. Keras is paid for once: in the same
run, one more process proves that ``scratch.MLP`` ≡ ``keras_equiv.KerasMLP``
on this configuration, so every submission equivalent to ``scratch.MLP`` is
equivalent to Keras.

The data, the exit statuses, the report files and the progress line are the
shared ones of every sub-command (:func:`compare.cli.load_data`,
:mod:`compare.exits`, :mod:`compare.outputs`, :mod:`compare.progress`): exit 0
when every submission is equivalent (up to the conventions given to
``--accept``) and the proof holds, 1 otherwise, 2 for usage and input errors,
3 when it passed but a report file could not be written, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import glob
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pandas as pd

from .. import cli, exits
from ..background import usable_cores
from ..loading import SPEC_FORMS, LoadError, constructor_help, is_path, split_spec
from ..outputs import Output, add_output_options, checked_outputs, report_stream, write_outputs
from ..progress import add_progress_options, phases_for
from ..report import frame_table, json_text
from .pool import Job, run_isolated
from .worker import EMPTY_ROW, grade, prove_reference, reference_run, task

PROG = "mlp-compare grade"
#: The key of scratch.MLP's own run, made once for every job (no submission's ``path:Class`` looks like it).
REFERENCE_RUN = "scratch.MLP run"
EQUIVALENT = ("equivalent", "equivalent up to")
#: Width of the wrapped columns of the terminal table.
WRAP = {"first cause": 18, "where": 30, "hint": 60}
#: The report files the command writes: format -> what it holds.
OUTPUTS = {"json": "write every row, its causes and tracebacks as JSON", "csv": "write one row per submission as CSV",
           "markdown": "write the table as Markdown (a CI job summary)"}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare grade``."""
    parser = exits.CommandParser(
        prog=PROG, description="Grade many from-scratch MLPs at once: each submission against scratch.MLP in a "
        "process of its own (time and memory limits), in parallel, after one proof that scratch.MLP ≡ Keras on the "
        f"same configuration. Each class is built as {constructor_help()}.",
        epilog=exits.epilog("every submission is equivalent (up to --accept) and the proof holds", "otherwise"))
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help=f"{SPEC_FORMS}, a quoted glob 'folder/*.py:CLASS', or a folder or file with --class")
    parser.add_argument("--class", dest="class_name", metavar="CLASS",
                        help="the class to grade in submissions given without :CLASS")
    cli.add_config_options(parser.add_argument_group("network (as mlp-compare)"))
    cli.add_optimizer_options(parser.add_argument_group("optimizer arguments (as mlp-compare)"))
    cli.add_training_options(parser.add_argument_group("training (as mlp-compare)"))
    cli.add_data_options(parser.add_argument_group("data (as mlp-compare)"))
    grading = parser.add_argument_group("grading")
    cli.add_accept_option(grading)
    grading.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                         help="wall-clock and CPU limit per submission (default: 120)")
    grading.add_argument("--memory", type=int, default=1024, metavar="MB",
                         help="address space a submission may add to its fresh process's (default: 1024)")
    grading.add_argument("--jobs", type=int, default=usable_cores(),
                         help="submissions graded at once (default: the number of cores)")
    grading.add_argument("--no-keras", action="store_true",
                         help="skip the proof that scratch.MLP ≡ Keras (grade against scratch.MLP alone)")
    output = parser.add_argument_group("output")
    add_output_options(output, OUTPUTS)
    add_progress_options(output)
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name, minimum in (("epochs", 0), ("batch_size", 1), ("jobs", 1), ("memory", 1), ("shuffle", 0)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    for name in ("lr", "timeout"):
        if not 0 < getattr(args, name) < float("inf"):
            parser.error(f"--{name} must be a finite number > 0, got {getattr(args, name)}")


# ------------------------------------------------------------ submissions
def find_submissions(texts: Sequence[str], class_name: str | None) -> list[str]:
    """The ``path.py:Class`` or ``module:Class`` of every submission the arguments name, each once, in order.

    Raises :class:`LoadError` for an argument that names no class or matches no file.
    """
    found = []
    for text in texts:
        where, cls = split_spec(text, "SUBMISSION") if ":" in text else (text, class_name or "")
        if not cls:
            raise LoadError(f"{text!r} names no class: write {text}:CLASS or give --class")
        if Path(where).is_dir():
            files = sorted(str(p) for p in Path(where).glob("*.py") if p.name != "__init__.py")
        elif glob.has_magic(where):
            files = sorted(glob.glob(where))
        else:
            files = [where] if is_path(where) else []
            found += [] if files else [f"{where}:{cls}"]
        if not files and (Path(where).is_dir() or glob.has_magic(where)):
            raise LoadError(f"no Python file matches {where!r}")
        found += [f"{path}:{cls}" for path in files]
    return list(dict.fromkeys(found))


# -------------------------------------------------------------- rendering
def rows_frame(rows: Sequence[dict], wrap: bool = False) -> pd.DataFrame:
    """One line per submission: verdict, conventions accepted, first cause, where, time."""
    frame = pd.DataFrame([{
        "submission": row["submission"],
        "verdict": row["verdict"],
        "conventions": ", ".join(row.get("conventions") or []),
        "first cause": row.get("cause", ""),
        "where": " ".join(part for part in (row.get("where", ""), f"in {row['side']}" if row.get("side") else "")
                          if part),
        "time (s)": f"{row['seconds']:.1f}",
    } for row in rows])
    if wrap:
        for column in ("first cause", "where"):
            frame[column] = [textwrap.fill(text, WRAP[column]) for text in frame[column]]
    return frame


def summary(rows: Sequence[dict], reference: dict | None) -> tuple[bool, str]:
    """Whether all is well, and the line that says so."""
    good = sum(row["verdict"] in EQUIVALENT for row in rows)
    up_to = sum(row["verdict"] == "equivalent up to" for row in rows)
    proof_ok = reference is None or reference["verdict"] in ("equivalent", "skipped")
    text = f"{good} of {len(rows)} submissions equivalent" + (f" ({up_to} up to accepted conventions)" if up_to
                                                               else "")
    return good == len(rows) and proof_ok, text + ("" if proof_ok else "; but scratch.MLP ≢ Keras here (see above)")


def reference_line(reference: dict | None) -> str:
    if reference is None:
        return "reference: scratch.MLP (the proof against Keras skipped: --no-keras)"
    if reference["verdict"] == "equivalent":
        return (f"reference: scratch.MLP ≡ keras_equiv.KerasMLP on this configuration, proved in this run "
                f"({reference['checks']} checks, {reference['seconds']:.1f} s)")
    return (f"reference: the proof that scratch.MLP ≡ Keras {reference['verdict']}: {reference.get('cause', '')} "
            f"{reference.get('hint', '')}".rstrip())


def render_text(rows: Sequence[dict], reference: dict | None, head: str, seconds: float) -> str:
    """The terminal output: what was run, the proof, the table, each failure's hint, the verdict."""
    lines = [*textwrap.wrap(head, 110), reference_line(reference), "", frame_table(rows_frame(rows, wrap=True)), ""]
    for row in rows:
        if row["verdict"] not in EQUIVALENT:
            lines += textwrap.wrap(f"{row['submission']}: {row['hint']}", 110, subsequent_indent="    ")
    passed, text = summary(rows, reference)
    return "\n".join([*lines, "", f"{'PASS' if passed else 'FAIL'}: {text} ({seconds:.1f} s)"]) + "\n"


def render_markdown(rows: Sequence[dict], reference: dict | None, head: str) -> str:
    passed, text = summary(rows, reference)
    frame = rows_frame(rows)
    frame["hint"] = ["" if row["verdict"] in EQUIVALENT else row["hint"].replace("|", "\\|") for row in rows]
    return (f"## {'✅' if passed else '❌'} {text}\n\n{head}\n\n{reference_line(reference)}\n\n"
            f"{frame_table(frame, markdown=True)}\n")


def render_csv(rows: Sequence[dict]) -> str:
    frame = rows_frame(rows).rename(columns={"time (s)": "seconds"})
    frame.insert(2, "equivalent", [row["verdict"] in EQUIVALENT for row in rows])
    frame["hint"] = [row["hint"] for row in rows]
    return frame.to_csv(index=False)


def render_file(output: Output, rows: list[dict], reference: dict | None, head: str, extra: dict) -> str:
    """The content of one report file (by the output's format)."""
    if output.format == "json":
        passed, text = summary(rows, reference)
        return json_text({"passed": passed, "summary": text, "run": head, **extra, "reference": reference,
                          "submissions": rows})
    return render_csv(rows) if output.format == "csv" else render_markdown(rows, reference, head)


# ---------------------------------------------------------------- running
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare grade``; returns the exit status (see :mod:`compare.exits`)."""
    return exits.guarded(PROG, lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    _validate(parser, args)
    try:
        outputs = checked_outputs(args, list(OUTPUTS))
    except exits.UsageError as error:
        parser.error(str(error))
    try:
        targets = find_submissions(args.submissions, args.class_name)
        x, y = cli.load_data(args, PROG)
        config = cli.config_from(args, x.shape[1], cli.num_outputs(args.dataset, y))
    except (LoadError, exits.UsageError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return exits.USAGE
    training = {"epochs": args.epochs, "learning_rate": args.lr, "batch_size": args.batch_size,
                "shuffle": args.shuffle}
    shared = task(config, cli.constructor_arguments(config), x, y, training, args.accept)
    head = (f"{len(targets)} submissions against scratch.MLP: {'-'.join(map(str, config.layer_sizes))} "
            f"{','.join(sorted(set(config.activation)))}, bias {config.use_bias}, {config.dtype}, loss {config.loss}, "
            f"optimizer {config.optimizer['name']}; {args.dataset} ({len(x)} samples), {args.epochs} epochs, "
            f"lr {args.lr}, batch {args.batch_size}, shuffle {args.shuffle}; {args.jobs} at once, "
            f"{args.timeout:g} s and {args.memory} MB each")
    started = time.perf_counter()
    label = f"grading {len(targets)} submissions" + ("" if args.no_keras else " and the proof against Keras")
    with phases_for(args)(label, total=len(targets) + 1 + (not args.no_keras), unit="run") as advance:
        results = _run_all(args, shared, targets, lambda key, result: advance(1))
    seconds = time.perf_counter() - started
    reference = results.get("reference")
    rows = [{"submission": spec} | EMPTY_ROW | results[spec] for spec in targets]
    print(render_text(rows, reference, head, seconds), end="", file=report_stream(outputs))
    passed, text = summary(rows, reference)
    extra = {"seconds": seconds, "jobs": args.jobs, "config": config.to_dict(), "training": training}
    written = write_outputs({o: partial(render_file, rows=rows, reference=reference, head=head, extra=extra)
                             for o in outputs})
    if written.failed:
        print(f"{PROG}: error: {written.summary()} (the grading itself: {'PASS' if passed else 'FAIL'}: {text})",
              file=sys.stderr)
        return exits.NOT_WRITTEN if passed else exits.FAILED
    return exits.PASSED if passed else exits.FAILED


def _run_all(args: argparse.Namespace, shared: dict, targets: list[str],
             on_result: Callable[[str, dict], None]) -> dict[str, dict]:
    """Every job's result: first scratch.MLP's own run, once; then the proof and the submissions, given that run.

    When scratch.MLP's run fails, each job runs scratch.MLP itself (and the proof says why it fails).
    """
    slow_limit = max(args.timeout, 600.0)
    first = run_isolated([Job(REFERENCE_RUN, reference_run, shared, slow_limit, None)], 1, on_result)[REFERENCE_RUN]
    if "run" in first:
        shared = shared | {"reference_run": first["run"]}
    jobs = [] if args.no_keras else [Job("reference", prove_reference, shared, slow_limit, None)]
    jobs += [Job(spec, grade, shared | {"spec": spec}, args.timeout, args.memory) for spec in targets]
    return run_isolated(jobs, args.jobs, on_result)


if __name__ == "__main__":
    sys.exit(main())
