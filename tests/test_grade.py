"""``mlp-compare grade``: every submission isolated, one row each, limits that hold, one proof against Keras.

The runs spawn real processes (about a second each to start), so there are
few of them, on 20 samples and 2 epochs; the rest is tested in-process.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pandas as pd
import pytest

from compare import cli
from compare.grade import command, pool
from compare.loading import LoadError

STUDENTS = Path(__file__).resolve().parent / "students"
SMALL = ["--samples", "20", "--epochs", "2", "--batch-size", "4", "--jobs", "2"]


@pytest.fixture
def submissions(tmp_path: Path) -> Path:
    """A class's folder: the learners' files, each under its own name."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("row_network.py", "seed_lesson.py"):
        shutil.copy(STUDENTS / name, folder / name)
    (folder / "notes.txt").write_text("not a submission")
    return folder


def grade(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    code = cli.main(["grade", *args])
    return code, capsys.readouterr().out


def by_submission(document: dict) -> dict[str, dict]:
    return {Path(row["submission"].rpartition(":")[0]).name + ":" + row["submission"].rpartition(":")[2]: row
            for row in document["submissions"]}


@pytest.mark.slow
def test_each_submission_gets_its_own_row_and_a_bad_one_never_stops_the_rest(capsys, submissions, tmp_path):
    specs = [f"{submissions}/row_network.py:{name}" for name in ("Plain", "Forever", "Hog", "Crashes", "Misspelt")]
    specs.append(f"{submissions}/seed_lesson.py:Adapter")
    paths = {kind: tmp_path / f"grades.{kind}" for kind in ("json", "csv", "md")}
    code, out = grade(capsys, *specs, *SMALL, "--no-keras", "--timeout", "3", "--memory", "300",
                      "--accept", "sign,half-sum,per-sample", "--json", str(paths["json"]),
                      "--csv", str(paths["csv"]), "--markdown", str(paths["md"]))
    assert code == 1  # not every submission is equivalent
    rows = by_submission(json.loads(paths["json"].read_text()))
    assert [(rows[k]["verdict"], rows[k]["cause"]) for k in rows] == [
        ("equivalent", ""), ("timeout", "time limit"), ("memory limit", "exception"), ("error", "exception"),
        ("not conforming", "conformance"), ("equivalent up to", "sign convention")]
    assert rows["seed_lesson.py:Adapter"]["conventions"] == ["sign", "half-sum", "per-sample"]
    assert 3 <= rows["row_network.py:Forever"]["seconds"] < 30  # killed at its limit, not waited for
    crash = rows["row_network.py:Crashes"]
    assert crash["where"] == "row_network.py:108 in scaled" and "Crashes.train raised ValueError" in crash["hint"]
    assert 'row_network.py", line 108, in scaled' in crash["details"] and "compare/" not in crash["details"]
    assert "rename gradient to gradients" in rows["row_network.py:Misspelt"]["hint"]
    assert rows["row_network.py:Misspelt"]["side"] == "row_network.Misspelt"
    # the same rows in the terminal table, the CSV and the Markdown
    assert "FAIL: 2 of 6 submissions equivalent (1 up to accepted conventions)" in out
    table = pd.read_csv(paths["csv"])
    assert list(table["verdict"]) == [r["verdict"] for r in rows.values()]
    assert list(table["equivalent"]) == [True, False, False, False, False, True]
    markdown = paths["md"].read_text()
    assert markdown.startswith("## ❌ 2 of 6 submissions equivalent") and markdown.count("| ") > 6 * 6


@pytest.mark.keras
@pytest.mark.slow
def test_keras_is_proved_once_and_never_imported_by_a_worker(capsys, submissions, tmp_path):
    (submissions / "no_tf.py").write_text(
        "import sys\nfrom row_network import Plain\n\n\nclass NoTensorFlow(Plain):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        assert 'tensorflow' not in sys.modules, 'the worker imported TensorFlow'\n"
        "        super().__init__(*args, **kwargs)\n")
    path = tmp_path / "grades.json"
    code, out = grade(capsys, f"{submissions}/no_tf.py:NoTensorFlow", *SMALL, "--json", str(path))
    document = json.loads(path.read_text())
    assert code == 0, out
    assert document["reference"]["verdict"] == "equivalent"
    assert document["reference"]["names"] == ["scratch.MLP", "keras_equiv.KerasMLP"]
    assert "scratch.MLP ≡ keras_equiv.KerasMLP on this configuration, proved in this run" in out


# --------------------------------------------------------------- in-process
def test_submissions_are_found_by_glob_folder_file_and_module(submissions, monkeypatch):
    monkeypatch.chdir(submissions.parent)
    found = command.find_submissions(["submissions/*.py:Plain", "submissions", "submissions/row_network.py:Hog",
                                      "some.module:Net"], "Adapter")
    assert found == ["submissions/row_network.py:Plain", "submissions/seed_lesson.py:Plain",
                     "submissions/row_network.py:Adapter", "submissions/seed_lesson.py:Adapter",
                     "submissions/row_network.py:Hog", "some.module:Net"]
    with pytest.raises(LoadError, match="names no class"):
        command.find_submissions(["submissions"], None)
    with pytest.raises(LoadError, match="no Python file matches"):
        command.find_submissions(["nothing/*.py:Net"], None)


def test_exit_0_needs_every_submission_equivalent(capsys, submissions, monkeypatch):
    """The exit status, from rows made without spawning anything."""
    verdicts = {"equivalent": "equivalent", "seed": "equivalent up to"}
    monkeypatch.setattr(command, "run_isolated", lambda jobs, workers, report: {
        job.key: {"verdict": verdicts["seed" if "seed" in job.key else "equivalent"], "seconds": 0.1}
        for job in jobs})
    code, out = grade(capsys, str(submissions), "--class", "Adapter", "--no-keras")
    assert code == 0 and "PASS: 2 of 2 submissions equivalent (1 up to accepted conventions)" in out
    monkeypatch.setattr(command, "run_isolated", lambda jobs, workers, report: {
        job.key: {"verdict": "timeout", "seconds": 2.0} for job in jobs})
    assert grade(capsys, str(submissions), "--class", "Adapter", "--no-keras")[0] == 1


def test_usage_errors_exit_2(capsys):
    assert cli.main(["grade", "nothing/*.py:Net", "--no-keras"]) == 2
    assert "no Python file matches" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["grade", "x.py:Net", "--timeout", "0"])
    assert info.value.code == 2 and "--timeout must be a finite number > 0" in capsys.readouterr().err


def test_a_child_killed_by_a_signal_is_reported_as_such():
    job = pool.Job("x", print, {}, 10.0, 100)
    assert pool._ended(-9, job)["verdict"] == "crashed" and "SIGKILL" in pool._ended(-9, job)["hint"]
    assert pool._ended(-signal.SIGXCPU, job)["verdict"] == "timeout"  # the CPU-time limit


def test_the_summary_counts_only_equivalent_rows_and_needs_the_proof():
    rows = [{"verdict": "equivalent"}, {"verdict": "equivalent up to"}]
    assert command.summary(rows, {"verdict": "equivalent"}) == (
        True, "2 of 2 submissions equivalent (1 up to accepted conventions)")
    assert command.summary(rows, {"verdict": "not equivalent"})[0] is False
    assert command.summary([*rows, {"verdict": "timeout"}], None)[0] is False
