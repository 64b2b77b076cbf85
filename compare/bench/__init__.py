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

The command is split by job: :mod:`.cases` (what is benchmarked),
:mod:`.measuring` (timing and memory of one row), :mod:`.runners` (scratch's
and Keras's rows), :mod:`.sweep` (every case in turn, and the notes),
:mod:`.render` (tables and report files) and :mod:`.command` (the command
line). Every public name is re-exported here, so ``from compare.bench import
X`` and ``compare.bench.main`` keep working. Importing this package does not
import TensorFlow: the Keras rows import it when they are built.
"""

from __future__ import annotations

from ..report import write_json
from .cases import (
    ANCHORS,
    DEFAULT_NETWORKS,
    FLOPS_PER_WEIGHT,
    FORWARD,
    GRADIENTS,
    KERAS_CALL,
    KERAS_FIT,
    KERAS_FIT_SPE,
    KERAS_PREDICT,
    KERAS_STEP,
    KERAS_TAPE,
    LEARNING_RATE,
    PHASES,
    SCRATCH_BATCHED,
    SCRATCH_LOOP,
    SEED_ORIGINAL,
    STEPS_PER_EXECUTION,
    TRAIN,
    Case,
    build_cases,
    case_data,
    default_batch_sizes,
    default_dtype,
    default_samples,
    flops_per_sample,
    scratch_model,
    weight_count,
)
from .command import DEFAULT_MAX_STEPS, DEFAULT_REPEATS, PROG, QUICK_REPEATS, build_parser, main, resolve
from .measuring import (
    FOREIGN_CPU_LIMIT,
    MIN_REPEATS,
    ROW_BUDGET_S,
    Row,
    RssSampler,
    Runner,
    add_ratios,
    disturbed,
    gflops,
    measure,
    measure_memory,
    samples_per_second,
    time_epochs,
    time_runs,
)
from .render import (
    PLOT_COLOURS,
    PLOT_MARKERS,
    flat_records,
    footer_lines,
    machine_description,
    render_case,
    render_markdown,
    render_text,
    report_dict,
    rows_frame,
    settings_of,
    target_checks,
    targets_frame,
    write_files,
    write_plot,
)
from .runners import each, keras_runners, scratch_runners
from .sweep import (
    CaseResult,
    Progress,
    disturbance_notes,
    measure_peaks,
    run_case,
    run_sweep,
    runners_per_case,
    steadiness_note,
    timing_notes,
)

__all__ = [
    "ANCHORS",
    "DEFAULT_MAX_STEPS",
    "DEFAULT_NETWORKS",
    "DEFAULT_REPEATS",
    "FLOPS_PER_WEIGHT",
    "FOREIGN_CPU_LIMIT",
    "FORWARD",
    "GRADIENTS",
    "KERAS_CALL",
    "KERAS_FIT",
    "KERAS_FIT_SPE",
    "KERAS_PREDICT",
    "KERAS_STEP",
    "KERAS_TAPE",
    "LEARNING_RATE",
    "MIN_REPEATS",
    "PHASES",
    "PLOT_COLOURS",
    "PLOT_MARKERS",
    "PROG",
    "QUICK_REPEATS",
    "ROW_BUDGET_S",
    "SCRATCH_BATCHED",
    "SCRATCH_LOOP",
    "SEED_ORIGINAL",
    "STEPS_PER_EXECUTION",
    "TRAIN",
    "Case",
    "CaseResult",
    "Progress",
    "Row",
    "RssSampler",
    "Runner",
    "add_ratios",
    "build_cases",
    "build_parser",
    "case_data",
    "default_batch_sizes",
    "default_dtype",
    "default_samples",
    "disturbance_notes",
    "disturbed",
    "each",
    "flat_records",
    "flops_per_sample",
    "footer_lines",
    "gflops",
    "keras_runners",
    "machine_description",
    "main",
    "measure",
    "measure_memory",
    "measure_peaks",
    "render_case",
    "render_markdown",
    "render_text",
    "report_dict",
    "resolve",
    "rows_frame",
    "run_case",
    "run_sweep",
    "runners_per_case",
    "samples_per_second",
    "scratch_model",
    "scratch_runners",
    "settings_of",
    "steadiness_note",
    "target_checks",
    "targets_frame",
    "time_epochs",
    "time_runs",
    "timing_notes",
    "weight_count",
    "write_files",
    "write_json",
    "write_plot",
]
