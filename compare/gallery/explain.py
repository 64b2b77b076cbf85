"""``mlp-compare explain``: the gallery of pitfalls that make scratch and Keras disagree.

Each line of the table is one deliberate difference applied to an otherwise
identical pair (see :mod:`compare.gallery.pitfalls`), run through the harness live:
whether the pair still agrees, where the disagreement shows first, how big it
is, what the harness's localisation calls it, and a short why.

Exit status: 0 when every pitfall behaves as expected (each mistake shows a
discrepancy; the base pair and the lr·k/2 fix agree), 1 otherwise, 2 for
usage errors. TensorFlow is imported only when the gallery runs.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..outputs import add_output_options
from ..report import atomic_write, frame_table, report_dict, write_json

if TYPE_CHECKING:  # the real import is in run(): it brings TensorFlow
    from .pitfalls import Outcome, Setting

PROG = "mlp-compare explain"
#: Width of the wrapped text columns in the terminal table.
WRAP = {"pitfall": 28, "shows first": 34, "discrepancy": 24, "harness's cause": 16, "why": 32}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mlp-compare explain``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The pitfall gallery: each classic difference between a from-scratch MLP and Keras, applied "
        "alone to an otherwise identical pair and measured live by the harness.",
        epilog="Exit status: 0 every pitfall behaves as expected, 1 one does not, 2 usage error.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples and epochs (40 samples, 2 epochs)")
    parser.add_argument("--only", default=None, metavar="KEY[,KEY]", help="run only these pitfalls (keys as in "
                        "the JSON: baseline, float32, seed_rule, ...)")
    add_output_options(parser, {"json": "write every pitfall's numbers and full report as JSON",
                                "markdown": "write the table as Markdown"})
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


# ---------------------------------------------------------------- running
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlp-compare explain``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    start = time.perf_counter()
    from . import pitfalls  # imports TensorFlow

    keys = None if args.only is None else [k.strip() for k in args.only.split(",") if k.strip()]
    known = [p.key for p in pitfalls.PITFALLS]
    if keys is not None and (not keys or set(keys) - set(known)):
        parser.error(f"--only takes keys from: {', '.join(known)}; got {args.only!r}")
    setting = pitfalls.QUICK if args.quick else pitfalls.Setting()
    outcomes = pitfalls.run_all(setting, keys)
    print(render_text(outcomes, setting, time.perf_counter() - start), end="")
    try:
        if args.json:
            write_json(args.json, outcomes_dict(outcomes, setting))
        if args.markdown:
            atomic_write(args.markdown, render_markdown(outcomes))
    except OSError as error:
        print(f"{PROG}: error: cannot write: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0 if all(o.as_expected for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
