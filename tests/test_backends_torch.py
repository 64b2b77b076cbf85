"""The Keras twin on PyTorch, in its own worker process, against scratch: every loss, the softmax output,
every optimizer, float64 and float32. Skipped where torch is not installed (the ``torch`` extra).

What Keras 3.15 on PyTorch computes: ``keras.ops.matmul`` casts float64 inputs to float32
(keras-team/keras#23704), so a float64 model's forward pass, and everything after it, is float32-accurate;
cross-entropies after a sigmoid/softmax are taken from clipped probabilities; ``steps_per_execution`` must be 1.
"""

from __future__ import annotations

import backend_cases
import numpy as np
import pytest
from backend_cases import CASES, FLOAT32_CASE, Case, worker_for

import scratch

pytestmark = pytest.mark.keras

worker = worker_for("torch")


@pytest.mark.parametrize("case", [*CASES, FLOAT32_CASE], ids=lambda c: c.id)
def test_the_torch_twin_agrees_with_scratch_within_float32s_tolerance(worker, case: Case):
    report = backend_cases.run(worker, case, rtol=1e-5)
    assert report.passed, backend_cases.errors(report)


def test_a_float64_forward_pass_on_torch_is_float32(worker):
    """scratch's float64 forward pass is the witness: torch's output is float32, and float32-accurate."""
    mlp = scratch.MLP(3, [4], 2, activation="sigmoid", init="glorot_uniform", seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (20, 3))
    outputs = worker.from_scratch(mlp).forward(x)
    assert outputs.dtype == np.float32
    assert 1e-10 < np.max(np.abs(outputs - mlp.forward(x))) / np.max(np.abs(mlp.forward(x))) < 1e-6


def test_the_measured_conventions_and_precision_of_torch(worker):
    from keras_equiv.precision import Conventions

    assert worker.conventions() == Conventions(crossentropy_from_logits=False, hyperparameter_dtype=None)
    precision = worker.precision(scratch.MLPConfig(2, [5], 1, seed=0))
    assert {"matmul", "forward"} <= set(precision.float32_stages)
    assert precision.details["jit_compile"] is False


def test_steps_per_execution_above_one_is_refused_on_torch_before_anything_runs(worker):
    with pytest.raises(ValueError, match="steps_per_execution must be 1 with the PyTorch backend"):
        worker.build(2, [3], 1, steps_per_execution=2)
    assert worker.build(2, [3], 1).steps_per_execution == 1


def test_the_torch_lines_of_the_pitfall_gallery_show_their_discrepancy(worker):
    from compare.gallery import backend_pitfalls, pitfalls

    backend_pitfalls.WORKERS[("torch", True)] = worker
    try:
        matmul = pitfalls.run_pitfall("torch_float32_matmul", pitfalls.Setting(samples=12, epochs=1))
        assert matmul.as_expected and matmul.shows_first.startswith("forward")
        forward = backend_cases.scaled_errors(matmul.report)["forward"]  # float64 with biases, float32-accurate
        assert 1e-12 < forward < 1e-6
        refused = pitfalls.run_pitfall("torch_steps_per_execution", pitfalls.QUICK)
        assert "steps_per_execution` must be 1 with the PyTorch backend" in refused.details["message"]
    finally:
        backend_pitfalls.WORKERS.pop(("torch", True))
