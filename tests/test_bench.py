"""``mlp-compare bench`` and the compiled custom train step.

No wall-clock assertion anywhere: the bench command runs once, tiny, to check
the structure of what it prints and writes; its arithmetic is checked against
numbers worked out by hand; the custom train step is checked against ``fit``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json

import numpy as np
import pytest

from compare.bench.cases import (
    FORWARD,
    GRADIENTS,
    KERAS_CALL,
    KERAS_FIT,
    KERAS_FIT_SPE,
    KERAS_PREDICT,
    KERAS_STEP,
    KERAS_TAPE,
    SCRATCH_LOOP,
    SEED_ORIGINAL,
    TRAIN,
    build_cases,
    flops_per_sample,
    weight_count,
)
from compare.bench.command import DEFAULT_MAX_STEPS, main
from compare.bench.gemm_time import phase_products
from compare.bench.measuring import Row, add_ratios, gflops, samples_per_second
from compare.bench.render import rows_frame
from compare.bench.sweep import CaseResult, peak_reliable, timing_notes

BIG = (784, 512, 512, 10)


# ------------------------------------------------------------ arithmetic
def test_weight_and_flop_counts_by_hand():
    # 784·512 + 512·512 + 512·10 = 401,408 + 262,144 + 5,120
    assert weight_count(BIG) == 668_672
    assert weight_count((2, 5, 1)) == 15
    assert flops_per_sample(BIG, FORWARD) == 1_337_344
    assert flops_per_sample(BIG, GRADIENTS) == 4_012_032
    assert flops_per_sample(BIG, TRAIN) == 4_012_032
    # one training step at batch 128: 6 · 128 · 668,672 FLOPs
    assert 128 * flops_per_sample(BIG, TRAIN) == 513_540_096


def test_throughput_arithmetic_by_hand():
    assert samples_per_second(1000, 0.5) == 2000.0
    # a 4 ms training step of 128 samples on the big net: 513,540,096 FLOPs / 0.004 s
    assert gflops(4_012_032, 128 / 0.004) == pytest.approx(128.385024)
    row = Row("scratch mini-batch", TRAIN, seconds=[0.6, 0.4, 0.5], samples=20_000,
              flops_per_sample=4_012_032, peak_gflops=200.0)
    assert row.median_s == 0.5
    assert row.samples_per_s == 40_000.0
    assert row.gflops == pytest.approx(160.48128)  # 4,012,032 · 40,000 / 1e9
    assert row.percent_of_peak == pytest.approx(80.24064)


def test_ratio_is_relative_to_each_phases_keras_anchor():
    def row(implementation, phase, seconds):
        return Row(implementation, phase, [seconds], 100, 1, 1.0)

    rows = [row(SCRATCH_LOOP, TRAIN, 0.01), row(KERAS_FIT, TRAIN, 0.5),
            row(KERAS_STEP, TRAIN, 0.25), row(SCRATCH_LOOP, FORWARD, 0.002),
            row(KERAS_PREDICT, FORWARD, 0.1)]
    add_ratios(rows)
    assert [r.ratio for r in rows] == pytest.approx([50.0, 1.0, 2.0, 50.0, 1.0])


def test_default_sweep_is_the_issues():
    cases, notes = build_cases(None, None, None, None, DEFAULT_MAX_STEPS)
    assert [(c.layers, c.batch_size, c.dtype, c.samples) for c in cases] == [
        ((2, 5, 1), 1, "float64", 1000),
        ((2, 5, 1), 32, "float64", 1000),
        ((64, 128, 10), 32, "float32", 5000),
        (BIG, 128, "float32", 20_000),
    ]
    assert notes == []
    assert cases[0].task == "sum" and cases[3].task == "random"
    assert cases[3].steps == 157  # ceil(20,000 / 128)


def test_epochs_are_capped_at_max_steps_with_a_note():
    cases, notes = build_cases([BIG], [1], None, None, max_steps=1000)
    assert cases[0].samples == 1000
    assert "1,000 of 20,000 samples" in notes[0]


def test_bad_network_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--networks", "2-x-1"])
    assert exit_info.value.code == 2
    assert "784-512-512-10" in capsys.readouterr().err


# ---------------------------------------------------- the custom train step
@pytest.mark.keras
@pytest.mark.parametrize(
    ("dtype", "layers", "batch_size", "activation"),
    [
        ("float64", (2, 5, 1), 1, "sigmoid"),
        ("float64", (3, 7, 4, 2), 16, "tanh"),  # 50 samples: a partial last batch of 2
        ("float32", (3, 7, 4, 2), 16, "sigmoid"),
    ],
)
def test_custom_train_step_matches_fit_bit_for_bit(dtype, layers, batch_size, activation):
    from keras_equiv import KerasMLP
    from keras_equiv.train_step import make_train_step, train_epoch
    from scratch import MLP

    rng = np.random.default_rng(3)
    x = rng.random((50, layers[0])).astype(dtype)
    y = rng.random((50, layers[-1])).astype(dtype)
    start = MLP(layers[0], list(layers[1:-1]), layers[-1], activation=activation, use_bias=True, dtype=dtype,
                init="glorot_uniform", seed=1)
    by_fit = KerasMLP.from_scratch(start, steps_per_execution=1)
    by_step = KerasMLP.from_scratch(start)
    fit_losses = by_fit.train(x, y, epochs=3, learning_rate=0.1, batch_size=batch_size)
    step = make_train_step(by_step.model)
    step_losses = [train_epoch(step, by_step.model, x, y, batch_size, learning_rate=0.1) for _ in range(3)]
    # Measured: bit-identical (the same ops in the same order), in float64 and float32.
    assert step_losses == fit_losses
    for w_fit, w_step in zip(by_fit.get_weights(), by_step.get_weights()):
        assert w_step.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(w_step, w_fit)


@pytest.mark.keras
def test_make_train_step_needs_a_compiled_model():
    from keras_equiv import build_model
    from keras_equiv.train_step import make_train_step

    with pytest.raises(ValueError, match="compiled"):
        make_train_step(build_model([2, 3, 1], ["sigmoid", "sigmoid"], False, "float32"))


# ------------------------------------------------------------ smoke run
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One tiny run of the command writing every file (the only run in the suite)."""
    out = tmp_path_factory.mktemp("bench")
    paths = {kind: out / f"bench.{ext}" for kind, ext in
             (("csv", "csv"), ("markdown", "md"), ("json", "json"), ("plot", "png"))}
    argv = ["--quick", "--networks", "2-3-1", "--batch-sizes", "1", "--samples", "8", "--repeats", "1"]
    for kind, path in paths.items():
        argv += [f"--{kind}", str(path)]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(argv)
    return status, stdout.getvalue(), paths


ROWS = {
    (SCRATCH_LOOP, FORWARD), (KERAS_PREDICT, FORWARD), (KERAS_CALL, FORWARD),
    (SCRATCH_LOOP, GRADIENTS), (KERAS_TAPE, GRADIENTS),
    (SCRATCH_LOOP, TRAIN), (SEED_ORIGINAL, TRAIN), (KERAS_FIT, TRAIN),
    (KERAS_FIT_SPE, TRAIN), (KERAS_STEP, TRAIN),
}


@pytest.mark.keras
@pytest.mark.slow
def test_smoke_prints_one_table_with_the_machine(smoke):
    status, text, _ = smoke
    assert status == 0
    assert text.startswith("2-3-1 sigmoid, no bias, float64, batch 1: 8 samples")
    for column in ("median ms", "min–max ms", "samples/s", "GFLOP/s", "% f64 peak", "× Keras", "tracemalloc MB",
                   "RSS +MB"):
        assert column in text
    for implementation, _ in ROWS:
        assert implementation in text
    assert "machine: " in text and "BLAS: " in text and "TensorFlow " in text and "Keras " in text
    assert "float32" in text and "GFLOP/s" in text  # both GEMM peaks are stated
    assert "sweep took" in text and "load average" in text
    assert "MISSED" not in text and "targets" not in text and " met" not in text  # no internal goals in users' output


@pytest.mark.keras
@pytest.mark.slow
def test_smoke_json(smoke):
    document = json.loads(smoke[2]["json"].read_text())
    assert set(document) == {"machine", "gemm_peak_gflops", "percent_of_peak_reliable", "settings", "cases", "notes"}
    assert {"cpu", "logical_cores", "blas", "numpy", "tensorflow", "keras"} <= set(document["machine"])
    assert set(document["gemm_peak_gflops"]) == {"float32", "float64"}
    (case,) = document["cases"]
    assert (case["network"], case["dtype"], case["batch_size"], case["samples"]) == ("2-3-1", "float64", 1, 8)
    assert {(r["implementation"], r["phase"]) for r in case["rows"]} == ROWS
    for row in case["rows"]:
        assert row["repeats"] == 1
        # the columns are consistent with each other: samples/s from the median, GFLOP/s from samples/s
        assert row["samples_per_s"] == pytest.approx(8 / (row["median_ms"] / 1e3))
        per_sample = flops_per_sample((2, 3, 1), row["phase"])
        assert row["gflops"] == pytest.approx(per_sample * row["samples_per_s"] / 1e9)
        assert row["percent_of_peak"] == pytest.approx(100 * row["gflops"] / document["gemm_peak_gflops"]["float64"])
        assert (row["tracemalloc_peak_mb"] is None) == row["implementation"].startswith("Keras")


@pytest.mark.keras
@pytest.mark.slow
def test_smoke_csv_and_markdown(smoke):
    paths = smoke[2]
    with open(paths["csv"], newline="") as file:
        records = list(csv.DictReader(file))
    assert len(records) == len(ROWS)
    assert {"network", "implementation", "phase", "median_ms", "samples_per_s", "gflops", "percent_of_peak",
            "ratio_vs_keras", "rss_delta_mb"} <= set(records[0])
    markdown = paths["markdown"].read_text()
    assert "`mlp-compare bench --quick --networks 2-3-1" in markdown
    assert "### 2-3-1 sigmoid" in markdown and "| implementation" in markdown and "- machine: " in markdown
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_gemm_share_times_the_products_scratch_does_by_hand():
    # 3-4-2 at batch 5: forward x W per layer; backward from the top: xᵀ δ per layer, δ Wᵀ above the first
    assert [tuple(p) for p in phase_products((3, 4, 2), 5, FORWARD)] == [(5, 3, 4, False, False),
                                                                     (5, 4, 2, False, False)]
    assert [tuple(p) for p in phase_products((3, 4, 2), 5, TRAIN)][2:] == [
        (4, 5, 2, True, False), (5, 2, 4, False, True), (3, 5, 4, True, False)]
    # their FLOPs are the bench's count, less the first layer's error product that nobody computes
    for phase, uncounted in ((FORWARD, 0), (TRAIN, 2 * 128 * 784 * 512)):
        flops = sum(2 * p.m * p.k * p.n for p in phase_products(BIG, 128, phase))
        assert flops == 128 * flops_per_sample(BIG, phase) - uncounted


def test_gemm_share_is_the_products_time_over_the_rows_and_above_one_is_refused():
    row = Row(SCRATCH_LOOP, TRAIN, seconds=[0.5], samples=10, flops_per_sample=1, peak_gflops=1.0, gemm_s=0.2)
    assert row.gemm_share == pytest.approx(0.4)
    assert Row(KERAS_FIT, TRAIN, [0.5], 10, 1, 1.0).gemm_share is None  # Keras rows have none
    result = _result(42.0)
    result.rows[0].gemm_s = 2 * result.rows[0].median_s  # the products alone "took" twice the row: a busy machine
    peaks = {"float64": 100.0, "float32": 100.0}
    assert not peak_reliable({}, peaks, [result])
    assert rows_frame(result, show_percent=False)["GEMM %"][0] == "—"
    result.rows[0].gemm_s = result.rows[0].median_s / 4
    assert peak_reliable({}, peaks, [result]) and rows_frame(result)["GEMM %"][0] == "25"


def test_before_after_imports_another_scratch_beside_this_one_and_interleaves_the_runs(tmp_path):
    import shutil
    from pathlib import Path

    import scratch
    from compare.bench import before_after

    shutil.copytree(Path(scratch.__file__).parent, tmp_path / "scratch")
    other = before_after.load_baseline(tmp_path)
    assert other.__name__ == "scratch_baseline" and other.MLP is not scratch.MLP
    assert other.MLP(2, [3], 1, seed=0).get_weights()[0].tolist() == scratch.MLP(2, [3], 1, seed=0).get_weights()[
        0].tolist()
    order = []
    seconds = before_after.interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b") or 0.25}, 3)
    assert order == ["a", "b", "a", "b", "b", "a", "a", "b"]  # one warm-up each, then the order rotates
    assert len(seconds["a"]) == 3 and seconds["b"] == [0.25] * 3  # a run that returns seconds reports its own
    assert before_after.per_round([1.0, 4.0, 9.0], [1.0, 2.0, 3.0]) == 2.0
    with pytest.raises(FileNotFoundError, match="git archive"):
        before_after.load_baseline(tmp_path / "nothing here")


# ------------------------------------------- percentages of a peak that moved
def _result(percent_of_peak: float) -> CaseResult:
    """One case with one row at ``percent_of_peak`` of a 100 GFLOP/s peak."""
    case = build_cases([(2, 5, 1)], [1], ["float64"], 1000, 1000)[0][0]
    per_sample = flops_per_sample((2, 5, 1), TRAIN)
    seconds = 1000 * per_sample / (percent_of_peak * 1e9)  # 1000 samples at percent_of_peak % of 100 GFLOP/s
    row = Row(SCRATCH_LOOP, TRAIN, seconds=[seconds], samples=1000, flops_per_sample=per_sample, peak_gflops=100.0)
    return CaseResult(case, [row])


@pytest.mark.parametrize(
    ("end_peak", "percent", "reliable", "why"),
    [
        (95.0, 42.0, True, None),  # the peak held (within 15%) and the row is below it
        (40.0, 42.0, False, "the GEMM peak changed during the sweep (float64 100 → 40 GFLOP/s)"),
        (100.0, 210.0, False, "rows above 100% of the GEMM peak, which cannot be: 2-5-1 scratch batch-1 loop"),
    ],
)
def test_percent_of_peak_is_shown_only_when_it_can_be_true(end_peak, percent, reliable, why):
    info = {"gemm_peak_gflops_at_end": {"float64": end_peak}}
    peaks = {"float64": 100.0, "float32": 100.0}
    results = [_result(percent)]
    assert results[0].rows[0].percent_of_peak == pytest.approx(percent)
    assert peak_reliable(info, peaks, results) is reliable
    shown = rows_frame(results[0], show_percent=reliable)["% f64 peak"][0]
    assert shown == (f"{percent:.0f}" if reliable else "—")
    notes = timing_notes(1.0, 1, info, peaks, results)
    if why is None:
        assert not any("WARNING" in note for note in notes)
    else:
        (warning,) = [note for note in notes if why in note]
        assert "percentages of the peak are unreliable and not shown" in warning


def test_report_into_a_missing_folder_is_a_usage_error_before_any_timing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--json", str(tmp_path / "no" / "such" / "bench.json")])
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err
