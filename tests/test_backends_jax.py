"""The Keras twin on JAX, in its own worker process, against scratch: every loss, the softmax output, every
optimizer, in float64; the precision JAX really computes in, measured. One worker for the module; float32 (a
second compilation of every operation, ~6 s) is left to ``mlp-compare --backend jax --dtype float32``.

What Keras 3.15 on JAX computes (keras/src/backend/common/dtypes.py maps float64 results to float32 on every
backend but TensorFlow): with x64 enabled, weights, matmuls and activations are float64, but the loss's
reduction rounds through float32, so the loss and everything downstream of it (gradients, updates) carry
float32 rounding; cross-entropies after a sigmoid/softmax are taken from clipped probabilities; ``ops.cast``
of a Python float to float64 is exact.
"""

from __future__ import annotations

import backend_cases
import numpy as np
import pytest
from backend_cases import CASES, Case, worker_for

import scratch

pytestmark = pytest.mark.keras

worker = worker_for("jax")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_jax_twin_agrees_with_scratch_within_the_precision_jax_computes_in(worker, case: Case):
    report = backend_cases.run(worker, case, rtol=1e-5)  # float32's tolerance: JAX's loss is float32 (see below)
    assert report.passed, backend_cases.errors(report)


def test_on_jax_a_float64_tanh_is_float32_and_a_sigmoid_float64(worker):
    """Keras's ``ops.tanh`` on JAX casts to ``result_type(x.dtype, float)``, which maps float64 to float32; the
    sigmoid is computed as it is given. scratch's float64 forward pass is the witness."""
    x = np.random.default_rng(0).uniform(-1, 1, (20, 3))
    errors = {}
    for activation in ("tanh", "sigmoid"):
        mlp = scratch.MLP(3, [4], 2, activation=activation, init="glorot_uniform", seed=1)
        outputs = worker.from_scratch(mlp).forward(x)
        errors[activation] = np.max(np.abs(outputs - mlp.forward(x))) / np.max(np.abs(mlp.forward(x)))
    assert 1e-10 < errors["tanh"] < 1e-6
    assert errors["sigmoid"] <= 1e-15


def test_a_float64_loss_on_jax_carries_float32_rounding(worker):
    """At float64's tolerance the loss itself disagrees, by a float32-sized error: more than float64 arithmetic
    can leave (~1e-16), less than a real bug."""
    report = backend_cases.run(worker, CASES[0])
    assert not report.passed
    assert 1e-12 < report.check("evaluate").max_rel_error < 1e-6


def test_the_measured_conventions_and_precision_of_jax(worker):
    from keras_equiv.precision import Conventions

    assert worker.conventions() == Conventions(crossentropy_from_logits=False, hyperparameter_dtype=None)
    precision = worker.precision(scratch.MLPConfig(2, [5], 1, seed=0))
    assert precision.verdict.startswith("float64 requested, float32 measured in: loss")
    assert {"matmul", "forward"}.isdisjoint(precision.float32_stages)
    assert precision.details["jit_compile"] is True  # fit compiles with XLA by default on JAX


def test_a_convention_jax_cannot_compute_is_refused_in_the_worker_with_keras_words(worker):
    with pytest.raises(ValueError, match="crossentropy_from_logits=True cannot be mirrored on jax"):
        worker.build(2, [3], 1, loss="binary_crossentropy")


def test_progress_and_optimizer_state_cross_the_process_boundary(worker):
    twin = worker.build(2, [3], 1, optimizer="adam", seed=0)
    x, y = scratch.sum_dataset(7, seed=1)
    seen: list[int] = []
    twin.train(x, y, 2, 0.01, batch_size=3, progress=seen.append)
    assert sum(seen) == 2 * 7
    state = twin.get_optimizer_state()
    assert state["iterations"] == 2 * 3
    copy = worker.build(2, [3], 1, optimizer="adam", seed=5)
    copy.set_weights(twin.get_weights())
    copy.set_optimizer_state(state)
    for a, b in zip(copy.get_optimizer_state()["velocity"], state["velocity"]):
        np.testing.assert_array_equal(a, b)
    assert twin.side_label == "keras_equiv.KerasMLP[jax]"


def test_the_jax_float32_loss_line_of_the_pitfall_gallery_shows_its_discrepancy(worker):
    """``mlp-compare explain``'s ``jax_float32_loss`` line, run live on this module's worker. (The gallery's
    other JAX lines need a TensorFlow twin or a second worker: ``mlp-compare explain`` runs them.)"""
    from compare.gallery import backend_pitfalls, pitfalls

    backend_pitfalls.WORKERS[("jax", True)] = worker
    try:
        loss = pitfalls.run_pitfall("jax_float32_loss", pitfalls.Setting(samples=12, epochs=1))
    finally:
        backend_pitfalls.WORKERS.pop(("jax", True))
    assert loss.as_expected and not loss.agrees and 1e-12 < loss.discrepancy < 1e-6
    assert loss.details["verdict"].startswith("float64 requested, float32 measured in: loss")


class Borrowed:
    """The module's worker lent to the command line, which would otherwise start (and close) its own."""

    def __init__(self, worker) -> None:
        self.__dict__["worker"] = worker

    def __getattr__(self, name: str):
        return getattr(self.worker, name)

    def close(self) -> None:
        pass


def test_mlp_compare_backends_reports_each_pair_with_the_tolerance_its_precision_needs(worker, monkeypatch, tmp_path):
    import json

    from compare.cli import main

    monkeypatch.setattr("keras_equiv.remote.BackendWorker", lambda name, x64=True: Borrowed(worker))
    path = tmp_path / "backends.json"
    code = main(["--backends", "tensorflow,jax", "--samples", "15", "--epochs", "1", "--batch-size", "5", "--quiet",
                 "--json", str(path)])
    document = json.loads(path.read_text())
    assert code == 0 and document["passed"] is True
    assert [p["pair"] for p in document["pairs"]] == ["scratch vs tensorflow", "scratch vs jax", "tensorflow vs jax"]
    assert document["backends"]["tensorflow"]["verdict"] == "float64 end to end"
    assert "loss" in document["backends"]["jax"]["float32_stages"]
    rtols = {p["pair"]: {c["rtol"] for c in p["checks"] if c["name"] != "optimizer iterations"}
             for p in document["pairs"]}
    assert rtols == {"scratch vs tensorflow": {1e-10}, "scratch vs jax": {1e-5}, "tensorflow vs jax": {1e-5}}
    assert "jax measured float32 arithmetic" in document["pairs"][1]["tolerance"]
