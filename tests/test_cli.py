"""The mlp-compare command: exit statuses, reports, files, error messages.

Subprocess runs start TensorFlow (~5 s each), so there are few of them, each
checking several things, and only where the property needs a process of its
own (a terminal, Ctrl-C, the console script); everything else, failing runs
through Keras included, runs in-process.
"""

import fcntl
import json
import os
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from compare import cli

ROOT = Path(__file__).resolve().parents[1]


def mlp_compare() -> list[str]:
    """The installed ``mlp-compare`` script (``console_main``), or ``python -m compare`` where it is not installed."""
    script = shutil.which("mlp-compare")
    return [sys.executable, "-m", "compare"] if script is None else [script]


# ------------------------------------------------------- through TensorFlow
#: What TensorFlow and absl write when they are not kept quiet (log prefixes, the retracing warning, notes).
TENSORFLOW_NOISE = ("WARNING:tensorflow", "tf.function", "retracing", "oneDNN", "cuda", "absl", "I0000", "W0000",
                    "E0000", "tensorflow/core")


def assert_no_tensorflow_noise(text: str) -> None:
    found = [word for word in TENSORFLOW_NOISE if word.lower() in text.lower()]
    assert not found, f"TensorFlow log text {found} in:\n{text}"


def run_in_terminal(command: list[str], cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as stdin, stdout and stderr; its exit status and all it wrote."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))  # 40 rows, 100 columns
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(leader)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.keras
@pytest.mark.slow
def test_the_default_run_on_a_terminal_shows_progress_then_only_the_report_and_writes_every_report(tmp_path):
    """The README's first command as a user runs it: on a terminal, with every report file besides (Markdown
    through a symlink, CSV into a FIFO, a PDF plot). One process, so TensorFlow starts once; standard output
    carrying the JSON alone (``--json -``) and no progress off a terminal are asserted in-process below
    (test_json_to_stdout_and_the_report_to_stderr)."""
    (tmp_path / "kept").mkdir()
    (tmp_path / "r.md").symlink_to(tmp_path / "kept" / "report.md")
    os.mkfifo(tmp_path / "losses.csv")
    received = []
    reader = threading.Thread(target=lambda: received.append((tmp_path / "losses.csv").read_text()))
    reader.start()
    code, screen = run_in_terminal([*mlp_compare(), "--json", "r.json", "--markdown", "r.md", "--csv", "losses.csv",
                                    "--plot", "p.pdf"], tmp_path)
    reader.join(timeout=10)
    assert code == 0, screen
    assert screen.count("\n") <= 40, screen  # the report alone: no line per epoch
    assert "training scratch.MLP:" in screen and "training keras_equiv.KerasMLP:" in screen
    assert "sample/s" in screen and "\r" in screen.replace("\r\n", "")  # tqdm redraws its line in place
    assert "Epoch 1/50" not in screen and "PASS: all 9 checks agree" in screen and "timing" in screen
    assert_no_tensorflow_noise(screen)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["passed"] is True
    assert doc["config"]["architecture"] == "2-5-1" and doc["config"]["samples"] == 1000
    assert doc["config"]["epochs"] == 50 and doc["config"]["batch_size"] == 1 and doc["config"]["bias"] is False
    assert doc["names"] == ["scratch.MLP", "keras_equiv.KerasMLP"]
    assert [c["name"] for c in doc["checks"]][1:] == [
        "forward", "evaluate", "gradient W0", "gradient W1", "epoch losses", "final W0", "final W1",
        "optimizer iterations"]
    assert len(doc["losses"]["a"]) == len(doc["losses"]["b"]) == 50
    assert {t["operation"] for t in doc["timings"]} == {"forward", "gradients", "train epoch"}
    assert (tmp_path / "r.md").is_symlink() and (tmp_path / "r.md").read_text().startswith("## ✅ PASS")
    assert re.search(r"^\| architecture +\| 2-5-1 +\|$", (tmp_path / "r.md").read_text(), re.MULTILINE)
    assert len(received[0].splitlines()) == 51 and stat.S_ISFIFO(os.stat(tmp_path / "losses.csv").st_mode)
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    assert sorted(os.listdir(tmp_path)) == ["kept", "losses.csv", "p.pdf", "r.json", "r.md"]  # no temporary files
    assert os.listdir(tmp_path / "kept") == ["report.md"]


@pytest.mark.keras
@pytest.mark.slow
def test_ctrl_c_during_keras_training_exits_130_in_one_line(tmp_path):
    command = [sys.executable, "-m", "compare", "--samples", "8000", "--epochs", "5", "--batch-size", "4", "--repeats",
               "0", "--verbose"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    seen = b""
    while b"training keras_equiv.KerasMLP" not in seen:  # --verbose draws each phase as it starts (no newline)
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, f"ended before Keras trained: {seen!r}"
        seen += chunk
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == 130, err
    assert out == b"" and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "mlp-compare: interrupted" and "100%" not in err


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="scratch trains in a forked child only on Linux with two cores")
def test_ctrl_c_while_tensorflow_loads_and_scratch_trains_beside_it_exits_130_and_leaves_no_process(tmp_path):
    command = [sys.executable, "-m", "compare", "--samples", "8000", "--verbose"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), start_new_session=True)
    seen = b""
    while b"while scratch.MLP trains" not in seen:
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, f"ended before loading Keras: {seen!r}"
        seen += chunk
    time.sleep(0.5)  # scratch is training in the child
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the command and its child
    out, err = process.communicate(timeout=60)
    err = err.decode()
    assert process.returncode == 130, err
    assert out == b"" and "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "mlp-compare: interrupted"
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):  # the child is gone too
        os.killpg(process.pid, 0)


def test_ctrl_c_stops_python_m_scratch_with_one_line(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "scratch", "--samples", "200000", "--epochs", "100"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)))
    time.sleep(1.2)  # NumPy imported (about 0.2 s), training under way (it prints only at the end)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and out == "" and err == "\npython -m scratch: interrupted\n"


# ----------------------------------------------------------- in-process
def run_main(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.keras
def test_wrong_gradient_exits_1_and_names_the_cause(capsys, tmp_path):
    code, out, err = run_main(capsys, "--impl", "compare.gallery.wrong:NoFactorTwo", "--samples", "50", "--epochs",
                              "2", "--repeats", "0", "--json", str(tmp_path / "r.json"))
    assert code == 1, out + err
    assert "FAIL: gradient W0, gradient W1" in out
    assert "cause: loss convention — at epoch 1, batch 1" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["passed"] is False and doc["localisation"]["cause"] == "loss convention"
    assert doc["names"] == ["compare.NoFactorTwo", "keras_equiv.KerasMLP"]


@pytest.mark.keras
def test_unweighted_epoch_loss_exits_1_and_names_the_cause(capsys):
    code, out, err = run_main(capsys, "--impl", "compare.gallery.wrong:PlainEpochMean", "--samples", "50", "--epochs",
                              "2", "--batch-size", "16", "--repeats", "0", "--bias", "--shuffle", "3")
    assert code == 1, out + err
    assert "FAIL: epoch losses" in out and "final W0" not in out.split("FAIL:")[1]
    assert "cause: epoch-loss averaging — at epoch 1" in out
    assert "compare.PlainEpochMean reports the plain mean" in out


def test_scratch_against_scratch_with_csv_data(capsys, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x1,x2,x3,y\n" + "".join(f"{i / 10},{i / 20},{i / 30},{i / 60}\n" for i in range(20)))
    code, out, err = run_main(capsys, "--dataset", f"csv:{data}", "--target-columns", "y", "--hidden", "4,3",
                              "--activation", "tanh,relu,linear", "--reference", "scratch:MLP", "--epochs", "3",
                              "--batch-size", "6", "--repeats", "1", "--json", str(tmp_path / "r.json"))
    assert code == 0, out + err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["config"]["architecture"] == "3-4-3-1" and doc["config"]["samples"] == 20
    assert doc["config"]["activation"] == "tanh,relu,linear"


def test_no_hidden_layer(capsys):
    code, out, _ = run_main(capsys, "--hidden", "", "--reference", "scratch:MLP", "--samples", "20", "--epochs",
                            "1", "--repeats", "0")
    assert code == 0 and "architecture 2-1" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "-1"], "--epochs must be >= 0"),
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--lr", "0"], "--lr must be a finite number > 0"),
        (["--hidden", "5,x"], "expected comma-separated integers"),
        (["--dtype", "float16"], "invalid choice: 'float16'"),
        (["--no-such-flag"], "unrecognized arguments"),
        (["--seed", "-1"], "--seed must be >= 0, got -1"),
        (["--hidden", "5,,3"], "'5,,3' has an empty entry"),
        (["--hidden", "5,3,"], "'5,3,' has an empty entry"),
        (["--activation", "relu,,sigmoid"], "'relu,,sigmoid' has an empty entry"),
    ],
)
def test_bad_flags_exit_2_with_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("mlp-compare: error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err and "--help" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--impl", "scratch"], "--impl must look like PATH.py:CLASS or MODULE:CLASS"),
        (["--impl", "no_such_module_xyz:MLP"], "cannot import 'no_such_module_xyz'"),
        (["--impl", "scratch:Nope"], "module 'scratch' has no class 'Nope'"),
        (["--activation", "swish"], "activation must be one of"),
        (["--activation", "tanh,relu,linear"], "one name or a list of 2 names"),
        (["--dataset", "csv:/no/such/file.csv"], "no such file"),
        (["--dataset", "iris"], "unknown dataset 'iris'"),
        (["--samples", "0"], "--samples must be >= 1"),
    ],
)
def test_usage_errors_are_one_clear_line(capsys, args, message):
    code, out, err = run_main(capsys, *args, "--reference", "scratch:MLP")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mlp-compare: error: ") and message in err, err
    assert "Traceback" not in err and out == ""


def test_non_numeric_csv_is_a_usage_error(capsys, tmp_path):
    data = tmp_path / "words.csv"
    data.write_text("a,label\n1,cat\n2,dog\n")
    code, _, err = run_main(capsys, "--dataset", f"csv:{data}", "--reference", "scratch:MLP")
    assert code == 2 and "non-numeric column(s) label" in err


SMALL_RUN = ("--reference", "scratch:MLP", "--samples", "10", "--epochs", "1", "--repeats", "0")
#: An --impl that records its construction and can delete a folder when it is built.
SENTINEL_IMPL = """
import os, shutil
from scratch import MLP

class Built(MLP):
    def __init__(self, *args, **kwargs):
        open(os.environ["BUILT_MARK"], "w").close()
        if os.environ.get("REMOVE_WHEN_BUILT"):
            shutil.rmtree(os.environ["REMOVE_WHEN_BUILT"])
        super().__init__(*args, **kwargs)
"""


@pytest.fixture
def sentinel(tmp_path, monkeypatch):
    """``--impl sentinel_impl:Built``; ``mark`` exists once it has been built (the run has started)."""
    (tmp_path / "sentinel_impl.py").write_text(SENTINEL_IMPL)
    monkeypatch.syspath_prepend(str(tmp_path))
    mark = tmp_path / "built.mark"
    monkeypatch.setenv("BUILT_MARK", str(mark))
    return mark


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["--json", "{tmp}/missing/r.json"], "--json {tmp}/missing/r.json: the folder {tmp}/missing does not exist"),
        (["--csv", "{tmp}/l.csv", "--json", "/sys/r.json"], "--json /sys/r.json: cannot create a file in /sys"),
        (["--markdown", "{tmp}/sentinel_impl.py/r.md"], "--markdown {tmp}/sentinel_impl.py/r.md: "
                                                         "{tmp}/sentinel_impl.py is not a folder"),
        (["--plot", "{tmp}/p.jpg"], "--plot {tmp}/p.jpg: the file name must end in .png, .svg or .pdf"),
    ],
)
def test_unwritable_outputs_are_refused_before_the_run(capsys, tmp_path, sentinel, outputs, message):
    """/sys takes no new file even from root (these tests run as root, for whom chmod 555 stops nothing)."""
    if "/sys/r.json" in outputs and not os.path.isdir("/sys"):
        pytest.skip("no /sys here")
    args = [part.format(tmp=tmp_path) for part in outputs]
    code, out, err = run_main(capsys, *SMALL_RUN, "--impl", "sentinel_impl:Built", *args)
    assert code == 2 and out == ""
    assert err.startswith(f"mlp-compare: error: {message.format(tmp=tmp_path)}") and err.count("\n") == 1, err
    assert not sentinel.exists()  # refused before anything was built, let alone trained
    assert not (tmp_path / "l.csv").exists()  # and no output written


def test_json_to_stdout_and_the_report_to_stderr(capsys, tmp_path):
    code, out, err = run_main(capsys, *SMALL_RUN, "--json", "-", "--csv", str(tmp_path / "l.csv"))
    assert code == 0
    assert json.loads(out)["passed"] is True  # stdout is the JSON alone
    assert "PASS: all 9 checks agree" in err and (tmp_path / "l.csv").exists()
    assert "training" not in err  # no progress when standard error is not a terminal (and no --verbose)
    assert not (tmp_path / "-").exists() and not os.path.exists("-")


def test_a_report_that_cannot_be_written_after_the_run_says_so_and_the_result(capsys, tmp_path, sentinel,
                                                                                monkeypatch):
    folder = tmp_path / "reports"
    folder.mkdir()
    monkeypatch.setenv("REMOVE_WHEN_BUILT", str(folder))  # the folder vanishes after the check, during the run
    code, out, err = run_main(capsys, *SMALL_RUN, "--impl", "sentinel_impl:Built", "--json", str(folder / "r.json"),
                              "--csv", str(tmp_path / "l.csv"))
    assert code == 3 and sentinel.exists()
    assert "PASS: all 9 checks agree" in out  # the report itself was shown
    assert err.count("\n") == 1 and err.startswith(f"mlp-compare: error: --json {folder}/r.json could not be written")
    assert f"written: --csv {tmp_path}/l.csv" in err and "(the comparison itself: PASS: all 9 checks agree" in err
    assert (tmp_path / "l.csv").exists()


def test_impl_with_a_syntax_error_is_one_line_naming_file_and_line(capsys, tmp_path, monkeypatch):
    (tmp_path / "broken_impl.py").write_text("import numpy\n\ndef forward(self:\n    pass\n")
    (tmp_path / "raising_impl.py").write_text("x = 1\nraise RuntimeError('not configured')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module, expected in (("broken_impl", f"{tmp_path}/broken_impl.py, line 3: SyntaxError"),
                             ("raising_impl", f"RuntimeError: not configured ({tmp_path}/raising_impl.py, line 2)")):
        code, out, err = run_main(capsys, *SMALL_RUN, "--impl", f"{module}:MLP")
        assert code == 2 and out == ""
        assert err.startswith("mlp-compare: error: --impl")
        assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_csv_without_header_and_target_columns_by_index(capsys, tmp_path):
    data = tmp_path / "plain.csv"
    data.write_text("".join(f"{i / 10},{i / 20},{i / 30}\n" for i in range(12)))
    code, _, err = run_main(capsys, *SMALL_RUN[:2], "--dataset", f"csv:{data}", "--target-columns", "0,-1",
                              "--epochs", "1", "--repeats", "0", "--json", str(tmp_path / "r.json"))
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["config"]["architecture"] == "1-5-2" and doc["config"]["samples"] == 12  # no row lost to a header


def test_more_samples_than_rows_warns_and_uses_each_row_once(capsys, tmp_path):
    data = tmp_path / "three.csv"
    data.write_text("a,b,y\n1,2,3\n4,5,9\n7,8,15\n")
    code, out, err = run_main(capsys, *SMALL_RUN[:2], "--dataset", f"csv:{data}", "--samples", "100", "--epochs",
                              "1", "--repeats", "0")
    assert code == 0
    assert err == (f"mlp-compare: warning: --samples 100 is more than the 3 samples of csv:{data}; "
                   "using all 3, once each\n")
    assert "samples 3," in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target-columns", "y"], "--target-columns only applies to --dataset csv:PATH, not to 'sum'"),
        (["--dataset", "xor", "--no-header"], "--header/--no-header only applies to --dataset csv:PATH"),
    ],
)
def test_options_that_do_not_apply_to_the_dataset_are_refused(capsys, args, message):
    code, out, err = run_main(capsys, *SMALL_RUN, *args)
    assert code == 2 and out == "" and err.startswith(f"mlp-compare: error: {message}") and err.count("\n") == 1


def test_a_large_sample_count_is_announced_with_its_size(capsys):
    code, _, err = run_main(capsys, *SMALL_RUN[:2], "--dataset", "xor", "--samples", "100000", "--epochs", "0",
                              "--repeats", "0")
    assert code == 0
    # 100,000 samples × (2 inputs + 1 target) × 8 bytes = 2.4 MB
    assert "mlp-compare: note: --samples 100,000 (2 MB of data in float64): each side trains 0 epochs of 100,000 " \
           "steps" in err


def test_subcommands_hand_their_arguments_to_their_own_module(capsys, tmp_path, monkeypatch):
    (tmp_path / "fake_bench.py").write_text("def main(argv):\n    print('bench got', argv)\n    return 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.SUBCOMMANDS, "bench", ("fake_bench", "a fake"))
    code, out, _ = run_main(capsys, "bench", "--fast", "x", "--help")
    assert code == 3 and "bench got ['--fast', 'x', '--help']" in out


def test_the_default_command_refuses_unknown_options(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--no-such-option"])
    assert exited.value.code == 2 and "unrecognized arguments: --no-such-option" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "optimizer"), [
    ([], {"name": "sgd", "momentum": 0.0, "nesterov": False, "hyperparameter_dtype": "float32"}),
    (["--optimizer", "adam", "--beta-1", "0.8", "--amsgrad"],
     {"name": "adam", "beta_1": 0.8, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": True,
      "hyperparameter_dtype": "float32"}),
    (["--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--hyperparameter-dtype", "none"],
     {"name": "sgd", "momentum": 0.9, "nesterov": True, "hyperparameter_dtype": None}),
    (["--optimizer-config", '{"name": "rmsprop", "centered": true}'],
     {"name": "rmsprop", "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": True}),
])
def test_optimizer_options_build_keras_named_arguments(args, optimizer):
    parsed = cli.build_parser().parse_args(args)
    assert dict(cli.config_from(parsed, 2, 1).optimizer) == optimizer


@pytest.mark.parametrize(("args", "message"), [
    (["--optimizer", "sgd", "--beta-1", "0.8"], "optimizer 'sgd' has no argument 'beta_1'"),
    (["--optimizer", "adam", "--optimizer-config", '{"name": "adam"}'], "--optimizer-config replaces --optimizer"),
    (["--optimizer", "adam", "--beta-1", "1.5"], "beta_1"),
])
def test_bad_optimizer_options_are_one_line_usage_errors(capsys, args, message):
    code, _, err = run_main(capsys, *args, "--reference", "scratch:MLP", "--epochs", "1", "--repeats", "0")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------ --impl forms and --accept
STUDENTS = Path(__file__).resolve().parent / "students"
SMALL = ("--reference", "scratch:MLP", "--samples", "30", "--epochs", "2", "--repeats", "0")


@pytest.fixture
def own_folder(tmp_path, monkeypatch):
    """A folder holding a learner's files, made the current directory, with an import path like the
    installed ``mlp-compare`` script's: the current directory is not on it."""
    for name in ("row_network.py", "seed_lesson.py"):
        shutil.copy(STUDENTS / name, tmp_path / f"own_{name}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd(), str(tmp_path))])
    return tmp_path


@pytest.mark.parametrize("impl", ["own_row_network.py:Plain", "own_row_network:Plain",
                                  "{folder}/own_row_network.py:Plain"])
def test_impl_takes_a_file_path_or_a_module_in_the_current_directory(capsys, own_folder, impl):
    code, out, err = run_main(capsys, "--impl", impl.format(folder=own_folder), *SMALL)
    assert code == 0, out + err
    assert "PASS" in out


def test_a_syntax_error_in_the_impl_names_the_file_and_line(capsys, own_folder):
    (own_folder / "broken_syntax.py").write_text("class Net:\n    def forward(self x):\n        pass\n")
    code, _, err = run_main(capsys, "--impl", "broken_syntax.py:Net", *SMALL)
    assert code == 2 and err.count("\n") == 1
    assert "broken_syntax.py, line 2: SyntaxError" in err


def test_an_exception_in_the_impl_shows_the_users_traceback(capsys, own_folder):
    code, _, err = run_main(capsys, "--impl", "own_row_network.py:Crashes", *SMALL)
    assert code == 1
    assert err.splitlines()[-1].startswith("mlp-compare: FAIL: own_row_network.Crashes.train raised ValueError")
    assert 'own_row_network.py", line' in err and "in scaled" in err and "compare/harness.py" not in err


def test_accepted_conventions_make_the_seeds_code_pass(capsys, own_folder):
    args = ("--impl", "own_seed_lesson.py:Adapter", "--batch-size", "5", *SMALL)
    code, out, _ = run_main(capsys, *args)
    assert code == 1 and "cause: sign convention" in out and "also: loss convention" in out
    code, out, _ = run_main(capsys, *args, "--accept", "sign,half-sum,per-sample")
    assert code == 0 and "EQUIVALENT up to: sign, half-sum, per-sample" in out


def test_help_says_what_the_impl_class_must_accept_and_bad_conventions_are_refused(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "Class(num_inputs, hidden_layers, num_outputs, activation=" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit) as info:
        cli.main(["--accept", "sign,halfsum"])
    assert info.value.code == 2 and "unknown convention(s) halfsum" in capsys.readouterr().err


EXIT_NOW = """
import atexit, sys, types
from compare.exits import exit_now
if {tensorflow}:
    sys.modules["tensorflow"] = types.ModuleType("tensorflow")  # as if TensorFlow were loaded
atexit.register(lambda: print("teardown ran", file=sys.stderr))
sys.stdout.write("the report, not yet flushed")
exit_now(3)
"""


@pytest.mark.parametrize("tensorflow", [True, False])
def test_exit_now_flushes_and_skips_the_teardown_only_when_tensorflow_is_loaded(tensorflow):
    result = subprocess.run([sys.executable, "-c", EXIT_NOW.format(tensorflow=tensorflow)], capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert result.returncode == 3
    assert result.stdout == "the report, not yet flushed"
    assert ("teardown ran" in result.stderr) is not tensorflow
