"""The backend plumbing that needs no Keras: names, installs, the command line's refusals, the precision verdict
and the mirroring of a backend's conventions (each checked against what the test spells out by hand)."""

from __future__ import annotations

import importlib.util

import pytest

import scratch
from compare.cli import main
from keras_equiv import backends
from keras_equiv.precision import Conventions, Precision, Stage, differences, mirrored

TENSORFLOW = Conventions(crossentropy_from_logits=True, hyperparameter_dtype="float32")
JAX = Conventions(crossentropy_from_logits=False, hyperparameter_dtype=None)


def test_an_unknown_backend_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="backend must be one of tensorflow, jax, torch; got 'mxnet'"):
        backends.require("mxnet")


def hide(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == package else real(name, *a))


def test_a_backend_that_is_not_installed_says_how_to_install_it(monkeypatch):
    hide(monkeypatch, "torch")
    assert not backends.installed("torch")
    with pytest.raises(backends.BackendUnavailable, match=r"the torch backend is not installed: pip install torch"):
        backends.require("torch")


@pytest.mark.parametrize("argv", [["--backend", "torch"], ["--backends", "tensorflow,torch"]])
def test_the_command_refuses_a_missing_backend_in_one_line_with_exit_2_before_running(monkeypatch, capsys, argv):
    hide(monkeypatch, "torch")
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the torch backend is not installed" in err and "pip install" in err


@pytest.mark.parametrize("argv, message", [
    (["--backends", "jax,mxnet"], "backend must be one of tensorflow, jax, torch; got 'mxnet'"),
    (["--backend", "jax", "--backends", "jax"], "give --backend or --backends, not both"),
    (["--backend", "jax", "--reference", "scratch:MLP"], "leave --reference out"),
    (["--backends", "jax", "--csv", "-"], "--csv and --plot draw one pair's loss curves"),
])
def test_the_command_refuses_bad_backend_options_in_one_line(capsys, argv, message):
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_the_verdict_names_the_stages_measured_in_float32_and_only_those():
    stages = (Stage("matmul", "float64", 0.0), Stage("forward", "float64", 2e-16), Stage("loss", "float64", 3e-8),
              Stage("gradients", "float32", 1e-15))
    precision = Precision("jax", "float64", stages, JAX)
    assert precision.verdict == "float64 requested, float32 measured in: loss, gradients"
    assert precision.effective_dtype == "float32"
    clean = Precision("tensorflow", "float64", stages[:2], TENSORFLOW)
    assert clean.verdict == "float64 end to end" and clean.effective_dtype == "float64"
    assert Precision("jax", "float32", stages, JAX).verdict == "float32 (as requested)"


def test_mirroring_changes_only_the_conventions_that_matter():
    bce = scratch.MLPConfig(2, [3], 1, loss="binary_crossentropy", optimizer="adam")
    assert mirrored(bce, JAX).crossentropy_from_logits is False
    assert mirrored(bce, JAX).optimizer["hyperparameter_dtype"] is None
    assert mirrored(bce, TENSORFLOW) == bce
    plain = scratch.MLPConfig(2, [3], 1, activation="linear", loss="binary_crossentropy", optimizer="rmsprop")
    assert mirrored(plain, JAX) == plain  # no sigmoid/softmax output, no rounded hyperparameter
    assert differences(bce, TENSORFLOW, JAX) == ["the cross-entropy after the output (logits vs clipped "
                                                 "probabilities)", "beta_1, beta_2 (rounded through float32 or exact)"]
    assert differences(scratch.MLPConfig(2, [3], 1), TENSORFLOW, JAX) == []


def test_bench_refuses_an_unknown_or_missing_backend_in_one_line(monkeypatch, capsys):
    from compare.bench.command import main as bench

    hide(monkeypatch, "torch")
    for name, message in (("mxnet", "got 'mxnet'"), ("torch", "the torch backend is not installed")):
        with pytest.raises(SystemExit) as exited:
            bench(["--backends", f"tensorflow,{name}", "--quiet"])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err


def test_keras_rows_are_named_by_their_backend_except_tensorflows():
    from compare.bench import cases

    assert cases.keras_name(cases.KERAS_FIT, "tensorflow") == "Keras fit (compile defaults)"
    assert cases.keras_name(cases.KERAS_FIT, "jax") == "Keras/jax fit (compile defaults)"
