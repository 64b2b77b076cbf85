"""Shared by the backend tests: one small case per loss, the optimizers spread over them, run through a worker."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import scratch
from compare import compare
from compare.results import Report
from keras_equiv import backends

SAMPLES, EPOCHS, BATCH, LEARNING_RATE = 20, 2, 5, 0.1  # batches of 5: dividing by 5 is inexact in float32
#: What installs each non-TensorFlow backend, for the skip message.
EXTRAS = {"jax": "JAX is not installed (pip install -e '.[jax]')",
          "torch": "PyTorch is not installed (pip install -e '.[torch]')"}


def worker_for(backend: str) -> Any:
    """A test module's ``worker`` fixture: one ``BackendWorker`` on ``backend`` for the whole module.

    Skips the module (at import) when the backend is not installed.
    """
    if not backends.installed(backend):
        pytest.skip(EXTRAS[backend], allow_module_level=True)

    @pytest.fixture(scope="module")
    def worker() -> Any:
        from keras_equiv.remote import BackendWorker

        with BackendWorker(backend) as running:
            yield running

    return worker


@dataclass(frozen=True)
class Case:
    """A loss with the output it goes with, an optimizer and a dtype."""

    loss: str
    output: str
    optimizer: Any = "sgd"
    dtype: str = "float64"
    outputs: int = 3
    changes: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        name = self.optimizer if isinstance(self.optimizer, str) else "-".join(
            f"{k}={v}" for k, v in self.optimizer.items())
        return f"{self.loss}-{self.output}-{name}-{self.dtype}"


#: Every loss once; the optimizers (SGD plain, momentum, Nesterov; Adam, AMSGrad; RMSprop plain, centered with
#: momentum) and the softmax output spread over them, in float64 (``FLOAT32_CASE`` besides).
CASES = [
    Case("mse", "linear", {"name": "sgd", "momentum": 0.9}),
    Case("seed", "sigmoid", {"name": "sgd", "momentum": 0.9, "nesterov": True}),
    Case("mae", "tanh", "adam"),
    Case("huber", "linear", "rmsprop"),
    Case("binary_crossentropy", "sigmoid", {"name": "adam", "amsgrad": True}),
    Case("categorical_crossentropy", "softmax", {"name": "rmsprop", "momentum": 0.5, "centered": True}),
    Case("sparse_categorical_crossentropy", "softmax", "sgd"),
]
FLOAT32_CASE = Case("categorical_crossentropy", "softmax", "adam", dtype="float32")


def data(case: Case, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [-1, 1) and targets of the loss's kind."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (SAMPLES, 3)).astype(case.dtype)
    kind = scratch.LOSSES[case.loss].targets
    if kind == "labels":
        return x, rng.integers(case.outputs, size=SAMPLES)
    if kind == "probabilities" and case.loss == "categorical_crossentropy":
        return x, np.eye(case.outputs, dtype=case.dtype)[rng.integers(case.outputs, size=SAMPLES)]
    if kind == "probabilities":
        return x, rng.integers(2, size=(SAMPLES, case.outputs)).astype(case.dtype)
    return x, rng.uniform(-1, 1, (SAMPLES, case.outputs)).astype(case.dtype)


def config(case: Case, conventions: Any) -> scratch.MLPConfig:
    """The case's network, with the backend's measured conventions."""
    from keras_equiv.precision import mirrored

    base = scratch.MLPConfig(3, [4], case.outputs, activation=["tanh", case.output], use_bias=True,
                             dtype=case.dtype, init="glorot_uniform", seed=1, loss=case.loss,
                             optimizer=case.optimizer, **case.changes)
    return mirrored(base, conventions)


def run(worker: Any, case: Case, rtol: float | None = None) -> Report:
    """scratch against the worker's twin on the case, at ``rtol`` (the harness's default for ``None``)."""
    mlp = scratch.MLP(config(case, worker.conventions()))
    x, y = data(case)
    return compare(mlp, worker.from_scratch(mlp), x, y, epochs=EPOCHS, learning_rate=LEARNING_RATE,
                   batch_size=BATCH, rtol=rtol)


def errors(report: Report) -> dict[str, float]:
    """Each check's max rel error, by name."""
    return {check.name: check.max_rel_error for check in report.checks}


def scaled_errors(report: Report) -> dict[str, float]:
    """Each check's max abs error over the largest magnitude of its arrays (``atol = rtol · scale``)."""
    return {check.name: check.max_abs_error / (check.atol / check.rtol) if check.atol > 0 else check.max_abs_error
            for check in report.checks if check.rtol > 0}
