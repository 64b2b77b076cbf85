"""``mlp-compare grade``: every submission isolated, one row each, limits that hold, one proof against Keras.

The runs that start real processes (each forked from a fork server that
imports the harness once, about a second) have few jobs, on 20 samples and 2
epochs; the rest is tested in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from compare import cli
from compare.grade import command, pool, worker
from compare.harness import compare, run_side
from compare.loading import LoadError, load_class
from scratch import MLP, MLPConfig, sum_dataset

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
def test_each_submission_gets_its_own_row_and_a_bad_one_never_stops_the_rest(capsys, submissions, tmp_path,
                                                                             monkeypatch):
    monkeypatch.chdir(submissions)  # a child works in this folder: a path relative to it loads
    specs = ["row_network.py:Plain", *(f"{submissions}/row_network.py:{name}" for name in ("Hog", "Crashes",
                                                                                          "Misspelt"))]
    specs.append(f"{submissions}/seed_lesson.py:Adapter")
    paths = {kind: tmp_path / f"grades.{kind}" for kind in ("json", "csv", "md")}
    code, out = grade(capsys, *specs, *SMALL, "--no-keras", "--timeout", "60", "--memory", "300",
                      "--accept", "sign,half-sum,per-sample", "--json", str(paths["json"]),
                      "--csv", str(paths["csv"]), "--markdown", str(paths["md"]))
    assert code == 1  # not every submission is equivalent
    rows = by_submission(json.loads(paths["json"].read_text()))
    assert [(rows[k]["verdict"], rows[k]["cause"]) for k in rows] == [
        ("equivalent", ""), ("memory limit", "exception"), ("error", "exception"),
        ("not conforming", "conformance"), ("equivalent up to", "sign convention")]
    assert rows["seed_lesson.py:Adapter"]["conventions"] == ["sign", "half-sum", "per-sample"]
    crash = rows["row_network.py:Crashes"]
    assert crash["where"] == "row_network.py:108 in scaled" and "Crashes.train raised ValueError" in crash["hint"]
    assert 'row_network.py", line 108, in scaled' in crash["details"] and "compare/" not in crash["details"]
    assert "rename gradient to gradients" in rows["row_network.py:Misspelt"]["hint"]
    assert rows["row_network.py:Misspelt"]["side"] == "row_network.Misspelt"
    # the same rows in the terminal table, the CSV and the Markdown
    assert "FAIL: 2 of 5 submissions equivalent (1 up to accepted conventions)" in out
    table = pd.read_csv(paths["csv"])
    assert list(table["verdict"]) == [r["verdict"] for r in rows.values()]
    assert list(table["equivalent"]) == [True, False, False, False, True]
    markdown = paths["md"].read_text()
    assert markdown.startswith("## ❌ 2 of 5 submissions equivalent") and markdown.count("| ") > 5 * 6


@pytest.mark.slow
def test_a_job_that_never_ends_is_killed_at_its_time_limit():
    """Its own short limit (the command gives every job the same one); the test ending proves the kill."""
    forever = pool.Job("forever", worker.grade, payload(f"{STUDENTS}/row_network.py:Forever", []), 0.5, 300)
    result = pool.run_isolated([forever], 1)["forever"]
    assert (result["verdict"], result["cause"]) == ("timeout", "time limit") and "0.5 s" in result["hint"]
    assert result["seconds"] >= 0.5  # not before its limit


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


def where_it_runs(payload: dict) -> dict:
    """A job: the folder it runs in and its environment variable ``GRADE_PROBE``."""
    return {"verdict": "ran", "folder": os.getcwd(), "probe": os.environ.get("GRADE_PROBE")}


@pytest.mark.slow
def test_a_job_runs_in_this_processs_folder_and_environment_of_the_moment(tmp_path, monkeypatch):
    """The fork server starts once; a job still sees the folder and environment of when it is started."""
    pool.run_isolated([pool.Job("first", where_it_runs, {}, 30, None)], 1)  # the server runs from here on
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADE_PROBE", "set after the server started")
    result = pool.run_isolated([pool.Job("later", where_it_runs, {}, 30, None)], 1)["later"]
    assert (result["folder"], result["probe"]) == (str(tmp_path), "set after the server started")


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


class FakePool:
    """``run_isolated`` without processes: each job comes back at once with ``verdict``; the jobs are kept.

    ``during``, if set, is called once, while the first jobs "run".
    """

    def __init__(self) -> None:
        self.jobs: list[pool.Job] = []
        self.verdict = "equivalent"
        self.during = None

    def __call__(self, jobs, workers, on_result):
        self.jobs += jobs
        if self.during is not None:
            self.during()
            self.during = None
        results = {}
        for job in jobs:
            results[job.key] = {"verdict": self.verdict, "seconds": 0.1}
            on_result(job.key, results[job.key])
        return results


@pytest.fixture
def graded(monkeypatch) -> FakePool:
    fake = FakePool()
    monkeypatch.setattr(command, "run_isolated", fake)
    return fake


def test_class_labels_are_shaped_for_the_loss(capsys, submissions, graded):
    # moons has two classes: a sparse cross-entropy takes the labels 0/1 themselves, on two softmax outputs
    code = cli.main(["grade", f"{submissions}/row_network.py:Plain", "--no-keras", "--dataset", "moons",
                     "--samples", "40", "--loss", "sparse_categorical_crossentropy", "--activation", "relu,softmax"])
    assert code == 0, capsys.readouterr().err
    payload = graded.jobs[0].payload
    assert payload["y"].shape == (40,) and set(payload["y"]) == {0, 1}
    assert payload["config"]["num_outputs"] == 2


def test_a_csv_header_is_detected_and_a_short_file_warned_about(capsys, submissions, graded, tmp_path):
    data = tmp_path / "three.csv"
    data.write_text("a,b,y\n1,2,3\n4,5,9\n7,8,15\n")
    code = cli.main(["grade", f"{submissions}/row_network.py:Plain", "--no-keras", "--dataset", f"csv:{data}",
                     "--target-columns", "y", "--samples", "100"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err == (f"mlp-compare grade: warning: --samples 100 is more than the 3 samples of csv:{data}; "
                   "using all 3, once each\n")
    assert graded.jobs[0].payload["x"].tolist() == [[1, 2], [4, 5], [7, 8]]  # the header row is no sample
    assert graded.jobs[0].payload["y"].tolist() == [[3], [9], [15]]


@pytest.mark.parametrize(("output", "message"), [
    ("{tmp}/missing/g.json", "--json {tmp}/missing/g.json: the folder {tmp}/missing does not exist"),
    ("{tmp}/g.csv", "--json {tmp}/g.csv: the file name must end in .json"),
])
def test_report_files_are_checked_before_anything_is_graded(capsys, submissions, graded, tmp_path, output, message):
    with pytest.raises(SystemExit) as info:
        cli.main(["grade", f"{submissions}/row_network.py:Plain", "--no-keras", "--json", output.format(tmp=tmp_path)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"mlp-compare grade: error: {message.format(tmp=tmp_path)}")
    assert graded.jobs == []  # nothing was graded


def test_markdown_to_a_ci_job_summary_file_named_without_a_suffix(capsys, submissions, graded, tmp_path):
    summary = tmp_path / "_runner_file_commands" / "step_summary_abc123"  # as $GITHUB_STEP_SUMMARY names it
    summary.parent.mkdir()
    summary.write_text("")  # the runner makes it before the step
    code = cli.main(["grade", str(submissions), "--class", "Plain", "--no-keras", "--markdown", str(summary)])
    assert code == 0, capsys.readouterr().err
    assert summary.read_text(encoding="utf-8").startswith("## ✅ 2 of 2 submissions equivalent")


def test_json_to_stdout_and_the_report_to_stderr(capsys, submissions, graded):
    code = cli.main(["grade", str(submissions), "--class", "Plain", "--no-keras", "--json", "-"])
    out, err = capsys.readouterr()
    assert code == 0
    document = json.loads(out)  # standard output is the JSON alone
    assert document["passed"] is True and len(document["submissions"]) == 2
    assert "PASS: 2 of 2 submissions equivalent" in err


@pytest.mark.parametrize(("verdict", "status"), [("equivalent", 3), ("timeout", 1)])
def test_a_report_that_cannot_be_written_after_grading_says_so_and_the_result(capsys, submissions, graded, tmp_path,
                                                                              verdict, status):
    folder = tmp_path / "reports"
    folder.mkdir()
    graded.verdict, graded.during = verdict, lambda: shutil.rmtree(folder)  # it vanishes after the check
    code = cli.main(["grade", str(submissions), "--class", "Plain", "--no-keras", "--json", str(folder / "g.json"),
                     "--csv", str(tmp_path / "g.csv")])
    out, err = capsys.readouterr()
    assert code == status
    assert err.count("\n") == 1 and err.startswith(f"mlp-compare grade: error: --json {folder}/g.json could not be "
                                                   "written")
    assert f"written: --csv {tmp_path}/g.csv" in err and "(the grading itself: " in err
    assert (tmp_path / "g.csv").exists() and "submissions equivalent" in out


def test_ctrl_c_exits_130_in_one_line(capsys, submissions, monkeypatch):
    def interrupted(jobs, workers, on_result):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "run_isolated", interrupted)
    assert cli.main(["grade", str(submissions), "--class", "Plain", "--no-keras"]) == 130
    assert capsys.readouterr().err == "\nmlp-compare grade: interrupted\n"


@pytest.mark.parametrize(("flags", "shown"), [([], False), (["--verbose"], True), (["--verbose", "--quiet"], False)])
def test_progress_off_a_terminal_only_with_verbose(capsys, submissions, graded, flags, shown):
    assert cli.main(["grade", str(submissions), "--class", "Plain", "--no-keras", *flags]) == 0
    err = capsys.readouterr().err
    # three runs: scratch.MLP's own, then the two submissions
    assert ("grading 2 submissions" in err and "3.00/3.00" in err) if shown else err == ""


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


# ------------------------------------------------------- scratch.MLP's run, made once for every submission
class CountedMLP(MLP):
    """scratch.MLP, keeping the number of samples of each ``train`` call made on it."""

    trained: ClassVar[list[int]] = []

    def train(self, x, *args, **kwargs):
        type(self).trained.append(len(x))
        return super().train(x, *args, **kwargs)


def payload(spec: str, accept: list[str]) -> dict:
    x, y = sum_dataset(24, seed=0)
    config = MLPConfig(2, [5], 1, seed=0)
    training = {"epochs": 2, "learning_rate": 0.1, "batch_size": 4, "shuffle": None}
    return worker.task(config, cli.constructor_arguments(config), x, y, training, accept) | {"spec": spec}


@pytest.mark.parametrize(("spec", "accept", "verdict"), [
    ("row_network.py:Plain", [], "equivalent"),
    ("row_network.py:OutputWithoutDerivative", [], "not equivalent"),
    ("seed_lesson.py:Adapter", ["any"], "equivalent up to"),
])
def test_a_row_is_the_same_when_scratch_mlps_run_is_made_once(monkeypatch, spec, accept, verdict):
    """The witness is the row made the old way, scratch.MLP trained in the submission's own job."""
    job = payload(f"{STUDENTS}/{spec}", accept)
    monkeypatch.setattr(worker, "MLP", CountedMLP)
    made_here = worker.grade(job)
    made_once = worker.reference_run(job)
    CountedMLP.trained = []
    with_run = worker.grade(job | {"reference_run": made_once["run"]})
    assert made_here["verdict"] == verdict
    assert with_run == made_here  # every field: checks, causes, hints
    if verdict == "equivalent":  # trained on the conformance probe's one sample only, not again on the data
        assert CountedMLP.trained == [1]  # (a failure's diagnosis replays it)


def test_a_run_from_another_starting_state_is_not_used():
    x, y = sum_dataset(24, seed=0)
    settings = {"epochs": 2, "learning_rate": 0.1, "batch_size": 4}
    plain = load_class(f"{STUDENTS}/row_network.py:Plain")
    in_place = compare(plain(2, [5], 1, seed=0), MLP(2, [5], 1, seed=0), x, y, **settings)
    other_start = run_side(MLP(2, [5], 1, seed=1), x, y, **settings)  # seed 1: other initial weights
    b = CountedMLP(2, [5], 1, seed=0)
    CountedMLP.trained = []
    report = compare(plain(2, [5], 1, seed=0), b, x, y, **settings, b_run=other_start)
    assert CountedMLP.trained == [1, 24] and report.passed and report.losses_b == in_place.losses_b
    assert report.losses_b != other_start.losses
