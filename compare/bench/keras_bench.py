"""How much of Keras's time per training epoch is per-step framework overhead?

Run ``python -m compare.bench.keras_bench`` (``--quick`` for a fast look).

Side by side in one run, one training epoch each, from the same data and the
same initial weights:

* scratch (``scratch.MLP.train``) and, at batch 1, the seed's original algorithm;
* Keras ``fit`` compiled with Keras's defaults (``steps_per_execution=1``):
  what users run;
* Keras ``fit`` with ``steps_per_execution=1000``: the same numbers (tested
  bit-identical), many steps per call into the TensorFlow graph;
* the compiled custom train step (``keras_equiv.train_step``: ``tf.function``
  around ``GradientTape`` + ``optimizer.apply``) in a Python loop.

on the seed's task (2-5-1 sigmoid, float64, 1,000 samples) at batch 1, and on
784-512-512-10 float32 at batch 128 on 20,000 samples. The gap between the
three Keras rows is per-step overhead: the arithmetic is identical.

This is a thin wrapper over ``mlp-compare bench`` (:mod:`.command`),
which measures everything else (forward, gradients, any network).
"""

from __future__ import annotations

import argparse

from ..progress import phases_for
from ..report import write_json
from .cases import TRAIN, Case
from .command import DEFAULT_REPEATS, QUICK_REPEATS
from .render import render_text, report_dict
from .sweep import run_sweep, timing_notes

CASES = (
    Case((2, 5, 1), 1, "float64", 1000),
    Case((784, 512, 512, 10), 128, "float32", 20_000),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the samples, 2 repeats")
    parser.add_argument("--repeats", type=int, default=None, help=f"timed repeats (default {DEFAULT_REPEATS})")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    cases = [Case(c.layers, c.batch_size, c.dtype, c.samples // (10 if args.quick else 1)) for c in CASES]
    results, info, peaks, seconds = run_sweep(cases, repeats, [TRAIN], phases_for(args))
    notes = timing_notes(seconds, repeats, info, peaks, results)
    print(render_text(results, info, peaks, notes), end="")
    if args.json:
        settings = {"command": "python -m compare.bench.keras_bench", "repeats": repeats, "quick": args.quick}
        write_json(args.json, report_dict(results, info, peaks, notes, settings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
