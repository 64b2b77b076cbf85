"""The mlp-compare command: exit statuses, reports, files, error messages.

Subprocess runs start TensorFlow (~4 s each), so there are few of them, on
small data; the error paths never reach TensorFlow and run in-process.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compare import cli

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, tmp_path, env_extra=None, module=False):
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    env = dict(os.environ, PYTHONPATH=path, **(env_extra or {}))
    script = shutil.which("mlp-compare")
    command = [sys.executable, "-m", "compare"] if module or script is None else [script]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


# ------------------------------------------------------- through TensorFlow
@pytest.mark.keras
@pytest.mark.slow
def test_default_run_passes_and_writes_every_report(tmp_path):
    result = run_cli("--json", "r.json", "--markdown", "r.md", "--csv", "l.csv", "--plot", "p.png",
                     tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
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
    assert "PASS: all 9 checks agree" in result.stdout and "timing" in result.stdout
    assert (tmp_path / "r.md").read_text().startswith("## ✅ PASS")
    assert len((tmp_path / "l.csv").read_text().splitlines()) == 51
    png = (tmp_path / "p.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert sorted(os.listdir(tmp_path)) == ["l.csv", "p.png", "r.json", "r.md"]  # no temporary files left
    assert "comparing" not in result.stderr and "Epoch 1/50" not in result.stdout  # no progress off a terminal


@pytest.mark.keras
@pytest.mark.slow
def test_wrong_gradient_exits_1_and_names_the_cause(tmp_path):
    result = run_cli("--impl", "compare.gallery.wrong:NoFactorTwo", "--samples", "50", "--epochs", "2",
                     "--repeats", "0", "--json", "r.json", tmp_path=tmp_path, module=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL: gradient W0, gradient W1" in result.stdout
    assert "cause: loss convention — at epoch 1, batch 1" in result.stdout
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["passed"] is False and doc["localisation"]["cause"] == "loss convention"
    assert doc["names"] == ["compare.NoFactorTwo", "keras_equiv.KerasMLP"]


@pytest.mark.keras
@pytest.mark.slow
def test_unweighted_epoch_loss_exits_1_and_names_the_cause(tmp_path):
    result = run_cli("--impl", "compare.gallery.wrong:PlainEpochMean", "--samples", "50", "--epochs", "2",
                     "--batch-size", "16", "--repeats", "0", "--bias", "--shuffle", "3", tmp_path=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL: epoch losses" in result.stdout and "final W0" not in result.stdout.split("FAIL:")[1]
    assert "cause: epoch-loss averaging — at epoch 1" in result.stdout
    assert "compare.PlainEpochMean reports the plain mean" in result.stdout


# ----------------------------------------------------------- in-process
def run_main(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


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
    ],
)
def test_bad_flags_exit_2_with_argparse_message(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: mlp-compare" in err and message in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--impl", "scratch"], "--impl must look like PATH.py:CLASS or MODULE:CLASS"),
        (["--impl", "no_such_module_xyz:MLP"], "cannot import 'no_such_module_xyz'"),
        (["--impl", "scratch:Nope"], "module 'scratch' has no class 'Nope'"),
        (["--activation", "softmax"], "activation must be one of"),
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


def test_unwritable_report_path_is_a_usage_error(capsys, tmp_path):
    code, _, err = run_main(capsys, "--reference", "scratch:MLP", "--samples", "10", "--epochs", "1", "--repeats",
                            "0", "--json", str(tmp_path / "missing" / "r.json"))
    assert code == 2 and err.startswith("mlp-compare: error: cannot write")


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
