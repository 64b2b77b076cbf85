"""Rendering and files: text, Markdown, JSON, CSV, PNG, atomic writes; timing; datasets."""

import json
import os
import struct
import sys

import numpy as np
import pandas as pd
import pytest

import compare
from compare import datasets, report
from compare.bench import timing
from compare.gallery.wrong import NoFactorTwo
from scratch import MLP, sum_dataset

X, Y = sum_dataset(60, seed=0)


@pytest.fixture(scope="module")
def passed():
    rep = compare.compare(MLP(2, [5], 1, seed=0), MLP(2, [5], 1, seed=1), X, Y, epochs=12, learning_rate=0.1)
    rep.config = {"architecture": "2-5-1", "epochs": 12}
    rep.timings = [timing.Timing("forward", 1.0, 4.0)]
    return rep


@pytest.fixture(scope="module")
def failed():
    return compare.compare(NoFactorTwo(2, [5], 1), MLP(2, [5], 1), X, Y, epochs=12, learning_rate=0.1)


def test_text_report_has_header_tables_and_verdict(passed):
    text = report.render_text(passed)
    assert "scratch.MLP (a) vs scratch.MLP (b)" in text and "architecture 2-5-1" in text
    assert "max abs error" in text and "max rel error" in text and "tolerance" in text
    assert text.count("PASS") == len(passed.checks) + 1
    loss_lines = [line for line in text.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert [int(line.split()[0]) for line in loss_lines] == [1, 2, 3, 10, 11, 12]  # not all 12 epochs
    assert "ratio b/a" in text and "4.00" in text


def test_failed_report_names_checks_and_localisation(failed):
    text = report.render_text(failed)
    assert "FAIL: gradient W0, gradient W1" in text
    assert "cause: loss convention — at epoch 1, batch 1 (sample 0), parameter W1" in text
    markdown = report.render_markdown(failed)
    assert markdown.startswith("## ❌ FAIL") and "### Localisation" in markdown
    assert "| gradient W0 " in markdown


def test_json_document(passed, failed, tmp_path):
    path = tmp_path / "r.json"
    report.write_report_json(path, failed)
    doc = json.loads(path.read_text())
    assert doc["passed"] is False
    assert {"name", "max_abs_error", "max_rel_error", "rtol", "passed"} <= set(doc["checks"][0])
    assert len(doc["losses"]["a"]) == len(doc["losses"]["b"]) == 12
    assert doc["localisation"]["cause"] == "loss convention"
    good = report.report_dict(passed)
    assert good["passed"] is True and good["timings"][0]["ratio"] == 4.0 and good["config"]["epochs"] == 12
    json.dumps(good, allow_nan=False)


def test_json_has_no_infinities():
    check = compare.Check.failed("x", 1e-10, "could not measure")
    assert report.json_ready({"v": check.max_abs_error, "a": np.float32(1.5)}) == {"v": None, "a": 1.5}


def test_csv_has_every_epoch_at_full_precision(passed, tmp_path):
    path = tmp_path / "losses.csv"
    report.write_losses_csv(path, passed)
    frame = pd.read_csv(path)
    assert list(frame["epoch"]) == list(range(1, 13))
    np.testing.assert_array_equal(frame.iloc[:, 1].to_numpy(), passed.losses_a)


def test_plot_is_a_png_of_sensible_size(failed, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plot.png"
    report.write_plot(path, failed)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (700, 600)
    assert os.listdir(tmp_path) == ["plot.png"]


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "out.txt"
    report.atomic_write(path, "old")
    with pytest.raises(RuntimeError), report.atomic_writer(path) as file:
        file.write("half a rep")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
    report.atomic_write(path, b"new")
    assert path.read_bytes() == b"new"


def test_frame_table_formats():
    frame = pd.DataFrame({"a": [0.123456789], "b": ["x|y"], "n": [3]})
    assert "0.123" in report.frame_table(frame)
    assert "0.1234567890" in report.frame_table(frame, floatfmt={"": ".10f"})
    assert report.frame_table(frame, markdown=True).startswith("| a ")


# ----------------------------------------------------------------- timing
def test_median_ms_is_the_median(monkeypatch):
    ticks = iter([0.0, 0.010, 1.0, 1.030, 2.0, 2.020])  # runs of 10, 30 and 20 ms
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    assert timing.median_ms(lambda: None, repeats=3, warmup=0) == pytest.approx(20.0)
    with pytest.raises(ValueError):
        timing.median_ms(lambda: None, repeats=0)


def test_time_both_restores_the_weights():
    a, b = MLP(2, [3], 1, seed=0), MLP(2, [3], 1, seed=1)
    before = a.get_weights()
    rows = timing.time_both(a, b, X, Y, learning_rate=0.1, batch_size=4, repeats=1)
    assert [r.operation for r in rows] == ["forward", "gradients", "train epoch"]
    assert all(r.ms_a > 0 and r.ms_b > 0 for r in rows)
    np.testing.assert_array_equal(before[0], a.get_weights()[0])


def test_epoch_clock_notes_each_epoch_from_the_samples_counted(monkeypatch):
    ticks = iter([100.0, 101.0, 103.0, 104.5])  # the clock is made at 100; epochs end at 101, 103 and 104.5
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    forwarded = []
    clock = timing.EpochClock(10, then=forwarded.append)
    for count in (4, 6, 10, 10):  # epoch 1 ends on the second call, epoch 2 on the third, epoch 3 on the fourth
        clock(count)
    assert forwarded == [4, 6, 10, 10]
    assert clock.epoch_seconds() == pytest.approx([1.0, 2.0, 1.5])
    assert timing.run_epoch_ms(clock.epoch_seconds()) == pytest.approx(1750.0)  # median of epochs 2 and 3
    assert timing.run_epoch_ms([9.0]) is None


def test_compare_records_each_sides_epoch_times():
    rep = compare.compare(MLP(2, [3], 1, seed=0), MLP(2, [3], 1, seed=1), X, Y, epochs=3, learning_rate=0.1)
    assert [len(seconds) for seconds in rep.epoch_seconds] == [3, 3]
    assert all(s > 0 for seconds in rep.epoch_seconds for s in seconds)


class TrainsOnlyOnce(MLP):
    """A side that refuses a second ``train`` call: proves the timing reuses the run's epochs."""

    def train(self, *args, **kwargs):
        raise AssertionError("the timing trained again")


def test_time_both_takes_the_training_epoch_from_the_run():
    a, b = TrainsOnlyOnce(2, [3], 1, seed=0), TrainsOnlyOnce(2, [3], 1, seed=1)
    epochs = ([5.0, 0.010, 0.030, 0.020], [6.0, 0.2, 0.4, 0.1])  # the first epoch (set-up, tracing) left out
    rows = timing.time_both(a, b, X, Y, learning_rate=0.1, batch_size=4, repeats=1, epoch_seconds=epochs)
    assert [(r.operation, r.measured) for r in rows] == [
        ("forward", "1 repeat"), ("gradients", "1 repeat"), ("train epoch", "epochs 2-4 of the run")]
    assert (rows[-1].ms_a, rows[-1].ms_b) == pytest.approx((20.0, 200.0))
    with pytest.raises(AssertionError, match="trained again"):  # one epoch is not enough: timed as before
        timing.time_both(a, b, X, Y, learning_rate=0.1, batch_size=4, repeats=1, epoch_seconds=([1.0], [1.0]))


def test_a_side_without_run_epochs_is_timed_and_the_other_keeps_its_run():
    a, b = MLP(2, [3], 1, seed=0), TrainsOnlyOnce(2, [3], 1, seed=1)
    epochs = (None, [6.0, 0.2, 0.4, 0.1])
    rows = timing.time_both(a, b, X, Y, learning_rate=0.1, batch_size=4, repeats=1, epoch_seconds=epochs)
    assert (rows[-1].operation, rows[-1].measured) == ("train epoch", "a: 1 repeat; b: epochs 2-4 of the run")
    assert rows[-1].ms_a > 0 and rows[-1].ms_b == pytest.approx(200.0)
    # a: warm-up + 1 repeat for each of 3 operations; b: the same for forward and gradients only
    assert timing.timed_runs(epochs, repeats=1) == 2 * 3 + 2 * 2
    assert timing.timed_runs(None, repeats=5) == 6 * 3 * 2


def test_mlp_compare_times_again_the_epochs_a_forked_child_ran_beside_the_reference_loading(tmp_path, monkeypatch,
                                                                                          capsys):
    from compare import background, cli

    if not sys.platform.startswith("linux") or background.usable_cores() < 2:
        pytest.skip("needs fork (Linux) and two cores")
    monkeypatch.setattr(background, "can_fork", lambda: True)  # the child runs NumPy alone, whatever is loaded
    reference = tmp_path / "fresh_reference_module.py"  # a module not imported yet: scratch trains beside its import
    reference.write_text("from scratch import MLP as Reference\n")
    code = cli.main(["--reference", f"{reference}:Reference", "--samples", "30", "--epochs", "3", "--repeats", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "a: 1 repeat; b: epochs 2-3 of the run" in out


# --------------------------------------------------------------- datasets
def test_builtin_datasets():
    x, y = datasets.load("sum")
    assert x.shape == (1000, 2) and y.shape == (1000, 1) and x.max() < 0.5
    x, y = datasets.load("xor", samples=6)
    assert x.shape == (6, 2) and list(y[:, 0]) == [0, 1, 1, 0, 0, 1]
    x, y = datasets.load("sum", samples=10, dtype="float32")
    assert x.dtype == np.float32


def test_digits():
    pytest.importorskip("sklearn")
    x, y = datasets.load("digits", samples=50)
    assert x.shape == (50, 64) and y.shape == (50, 10)
    assert 0 <= x.min() and x.max() <= 1 and np.all(y.sum(axis=1) == 1)


def test_csv_dataset(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,t1,t2\n1,2,3,4\n5,6,7,8\n9,10,11,12\n")
    x, y = datasets.load(f"csv:{path}", target_columns=["t1", "t2"])
    np.testing.assert_array_equal(x, [[1, 2], [5, 6], [9, 10]])
    np.testing.assert_array_equal(y, [[3, 4], [7, 8], [11, 12]])
    x, y = datasets.load(f"csv:{path}", samples=2)
    assert x.shape == (2, 3) and y.shape == (2, 1)


@pytest.mark.parametrize(
    ("content", "targets", "message"),
    [
        (None, None, "no such file"),
        ("a,b,t\n1,x,3\n", None, "non-numeric column(s) b"),
        ("a,b,t\n1,,3\n", None, "missing values in column(s) b"),
        ("a,t\n1,2\n", ["z"], "no column 'z'"),
        ("a,t\n1,inf\n", None, "infinite values in column(s) t"),
        ("a\n1\n", None, "at least 2 columns"),
    ],
)
def test_csv_errors_are_one_clear_line(tmp_path, content, targets, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(datasets.DatasetError) as info:
        datasets.load(f"csv:{path}", target_columns=targets)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_dataset():
    with pytest.raises(datasets.DatasetError, match="unknown dataset 'iris'"):
        datasets.load("iris")
