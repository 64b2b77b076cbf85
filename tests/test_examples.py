"""Every example runs, at reduced size (``SVK_QUICK=1``), and says what it should.

The examples are imported and their ``main()`` called in this process (the
TensorFlow start-up is paid once); ``seed_demo.py``, which needs no
TensorFlow, also runs as a real script in a subprocess.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from scratch.__main__ import main as scratch_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def load_example(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``examples/<name>.py`` afresh with ``SVK_QUICK=1`` (read at import time)."""
    monkeypatch.setenv("SVK_QUICK", "1")
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    module = load_example(name, monkeypatch)
    code = module.main()
    return code, capsys.readouterr().out


def test_every_example_is_tested():
    tested = {"seed_demo", "seed_keras_demo", "check_your_own_mlp", "digits", "seed_course_classifier"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


def test_seed_demo_runs_as_a_script_and_agrees_with_python_m_scratch(capsys):
    result = subprocess.run([sys.executable, str(EXAMPLES / "seed_demo.py")], capture_output=True, text=True,
                            env={**os.environ, "SVK_QUICK": "1"}, timeout=120, check=True)
    out = result.stdout
    assert "largest weight difference 0.0e+00" in out  # the hand-made step is train()'s step
    errors = [float(v) for v in re.findall(r"Error: ([\d.]+) at epoch", out)]
    assert len(errors) == 5 and errors[-1] < errors[0]
    assert "0.1 + 0.3 is equal to" in out
    # `python -m scratch` is the same demo (the seed's rule): at the same size it prints the same lines
    assert scratch_main(["--samples", "100", "--epochs", "5"]) == 0
    demo = capsys.readouterr().out
    assert re.findall(r"Error: .*|.* is equal to .*", demo) == re.findall(r"Error: .*|.* is equal to .*", out)


@pytest.mark.keras
def test_seed_keras_demo_agrees(monkeypatch, capsys):
    code, out = run_example("seed_keras_demo", monkeypatch, capsys)
    assert code == 0 and "PASS: all 13 checks agree" in out
    mses = re.findall(r"test mse: (\S+)", out)
    assert len(mses) == 2 and mses[0] == mses[1]
    for scratch_says, keras_says in re.findall(r"scratch says (\S+), keras says (\S+)", out):
        assert scratch_says == keras_says


@pytest.mark.keras
def test_check_your_own_mlp_passes_and_catches_the_classic_bug(monkeypatch, capsys):
    code, out = run_example("check_your_own_mlp", monkeypatch, capsys)  # main() runs the CI function first
    assert code == 0 and "MyMLP agrees with Keras" in out
    assert "cause: loss convention" in out and "0.5 ×" in out  # the missing factor 2, found


@pytest.mark.keras
def test_digits_reports_accuracy_and_full_agreement(monkeypatch, capsys):
    pytest.importorskip("sklearn")
    code, out = run_example("digits", monkeypatch, capsys)
    assert code == 0 and "PASS" in out
    accuracies = re.search(r"test accuracy: scratch ([\d.]+), keras ([\d.]+)", out)
    assert accuracies and accuracies[1] == accuracies[2]
    assert "same predicted digit on 100.0% of the test images" in out


def test_digits_without_scikit_learn_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` raise ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, out = run_example("digits", monkeypatch, capsys)
    assert code == 0 and out.startswith("skipped:") and "scikit-learn" in out


@pytest.mark.keras
def test_seed_course_classifier_agrees_every_epoch(monkeypatch, capsys):
    pytest.importorskip("sklearn")
    code, out = run_example("seed_course_classifier", monkeypatch, capsys)
    assert code == 0 and "PASS" in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit() and len(line.split()) == 3]
    assert len(rows) == 3  # SVK_QUICK: 3 epochs, one row each
    for _, loss_scratch, loss_keras in rows:
        assert float(loss_scratch) == pytest.approx(float(loss_keras), rel=1e-12)
    assert "optimizer velocity W0" in out and "accuracy" in out  # Adam's moments and the accuracy were compared
