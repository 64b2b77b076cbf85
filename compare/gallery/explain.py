"""``mlp-compare explain``: the gallery of pitfalls that make scratch and Keras disagree.

Each line of the table is one deliberate difference applied to an otherwise
identical pair (see :mod:`compare.gallery.pitfalls`), run through the harness live:
whether the pair still agrees, where the disagreement shows first, how big it
is, what the harness's localisation calls it, and a short why.

Exit status (:mod:`compare.exits`): 0 when every pitfall behaves as expected
(each mistake shows a discrepancy; the base pair and the lr·k/2 fix agree), 1
otherwise, 2 for usage errors, 3 when a report file could not be written, 130
on Ctrl-C. TensorFlow is imported only when the gallery runs.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import exits
from ..outputs import Output, add_output_options, checked_outputs, report_stream, write_outputs
from ..progress import Phases, add_progress_options, no_progress, phases_for
from ..report import frame_table, json_text, report_dict

if TYPE_CHECKING:  # the real import is in run(): it brings TensorFlow
    from .pitfalls import Outcome, Setting

PROG = "mlp-compare explain"
OUTPUTS = {"json": "write every pitfall's numbers and full report as JSON",
           "markdown": "write the table as Markdown"}
#: Width of the wrapped text columns in the terminal table.
WRAP = {"pitfall": 28, "shows first": 34, "discrepancy": 24, "harness's cause": 16, "why": 32}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare explain``."""
    parser = exits.CommandParser(
        prog=PROG,
        description="The pitfall gallery: each classic difference between a from-scratch MLP and Keras, applied "
        "alone to an otherwise identical pair and measured live by the harness.",
        epilog=exits.epilog("every pitfall behaves as expected", "one does not"),
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples and epochs (40 samples, 2 epochs)")
    parser.add_argument("--only", default=None, metavar="KEY[,KEY]", help="run only these pitfalls (keys as in "
                        "the JSON: baseline, float32, seed_rule, ...)")
    add_output_options(parser, OUTPUTS)
    add_progress_options(parser)
    return parser


# ------------------------------------------------------------ rendering
def _discrepancy(outcome: Outcome) -> str:
    return f"{outcome.discrepancy:.3g} ({outcome.discrepancy_label})"


def outcomes_frame(outcomes: Sequence[Outcome], wrap: bool = False) -> pd.DataFrame:
    """One row per pitfall: pitfall, agrees, shows first, discrepancy, the harness's cause, why."""
    rows = []
    for number, outcome in enumerate(outcomes, start=1):
        rows.append({
            "#": str(number),
            "pitfall": outcome.title,
            "agrees": ("yes" if outcome.agrees else "no") + ("" if outcome.as_expected else " (UNEXPECTED)"),
            "shows first": outcome.shows_first,
            "discrepancy": _discrepancy(outcome),
            "harness's cause": outcome.cause or "—",
            "why": outcome.why,
        })
    frame = pd.DataFrame(rows)
    if wrap:
        for column, width in WRAP.items():
            frame[column] = [textwrap.fill(text, width) for text in frame[column]]
    return frame


def render_text(outcomes: Sequence[Outcome], setting: Setting, seconds: float) -> str:
    """The terminal output: what the base pair is, the table, the verdict."""
    head = (f"The pitfall gallery: base pair scratch.MLP 3-{list(setting.hidden)}-3 sigmoid with biases, float64, "
            f"vs its KerasMLP twin; pairwise sums, {setting.samples} samples, {setting.epochs} epochs, "
            f"lr {setting.learning_rate}, batch 1 (batch {setting.partial_batch} where noted). "
            "Each line changes one thing.")
    lines = [textwrap.fill(head, 110), "", frame_table(outcomes_frame(outcomes, wrap=True)), ""]
    lines.append(verdict(outcomes) + f" ({seconds:.1f} s)")
    return "\n".join(lines) + "\n"


def render_markdown(outcomes: Sequence[Outcome]) -> str:
    """The same table as Markdown, with the verdict above it."""
    return f"## {verdict(outcomes)}\n\n{frame_table(outcomes_frame(outcomes), markdown=True)}\n"


def verdict(outcomes: Sequence[Outcome]) -> str:
    unexpected = [o.key for o in outcomes if not o.as_expected]
    if unexpected:
        return f"UNEXPECTED: {', '.join(unexpected)} did not behave as the gallery expects"
    shown = sum(not o.expect_agree for o in outcomes)
    return f"as expected: {shown} pitfalls each show a discrepancy; {len(outcomes) - shown} pairs agree"


def outcomes_dict(outcomes: Sequence[Outcome], setting: Setting) -> dict[str, Any]:
    """The JSON document: ``passed`` (every pitfall as expected), ``config``, ``pitfalls``."""
    return {
        "passed": all(o.as_expected for o in outcomes),
        "config": asdict(setting),
        "pitfalls": [
            {"key": o.key, "title": o.title, "why": o.why, "expect_agree": o.expect_agree, "agrees": o.agrees,
             "as_expected": o.as_expected, "shows_first": o.shows_first, "discrepancy": o.discrepancy,
             "discrepancy_label": o.discrepancy_label, "cause": o.cause, "details": o.details,
             "report": None if o.report is None else report_dict(o.report)}
            for o in outcomes
        ],
    }


def render_file(output: Output, outcomes: Sequence[Outcome], setting: Setting) -> str:
    """The content of one report file (by the output's format)."""
    if output.format == "json":
        return json_text(outcomes_dict(outcomes, setting))
    return render_markdown(outcomes)


# ---------------------------------------------------------------- running
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare explain``; returns the exit status (see :mod:`compare.exits`)."""
    return exits.guarded(PROG, lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        outputs = checked_outputs(args, list(OUTPUTS))
    except exits.UsageError as error:
        parser.error(str(error))
    start = time.perf_counter()
    progress = phases_for(args)
    with progress("starting TensorFlow"):
        from . import pitfalls  # imports TensorFlow

    keys = None if args.only is None else [k.strip() for k in args.only.split(",") if k.strip()]
    known = [p.key for p in pitfalls.PITFALLS]
    if keys is not None and (not keys or set(keys) - set(known)):
        parser.error(f"--only takes keys from: {', '.join(known)}; got {args.only!r}")
    setting = pitfalls.QUICK if args.quick else pitfalls.Setting()
    outcomes = run_gallery(pitfalls, setting, keys, progress)
    print(render_text(outcomes, setting, time.perf_counter() - start), end="", file=report_stream(outputs))
    expected = all(o.as_expected for o in outcomes)
    written = write_outputs({o: partial(render_file, outcomes=outcomes, setting=setting) for o in outputs})
    if written.failed:
        print(f"{PROG}: error: {written.summary()} (the gallery itself: {verdict(outcomes)})", file=sys.stderr)
        return exits.NOT_WRITTEN if expected else exits.FAILED
    return exits.PASSED if expected else exits.FAILED


def run_gallery(pitfalls: Any, setting: Setting, keys: list[str] | None, progress: Phases = no_progress) -> list:
    """Every chosen pitfall in gallery order, as one phase counting pitfalls."""
    chosen = [p.key for p in pitfalls.PITFALLS if keys is None or p.key in keys]
    outcomes = []
    with progress("pitfalls", total=len(chosen), unit="pitfall") as advance:
        for key in chosen:
            outcomes.append(pitfalls.run_pitfall(key, setting))
            advance(1)
    return outcomes


if __name__ == "__main__":
    sys.exit(main())
