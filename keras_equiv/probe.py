"""Measure, on the process's Keras backend, its conventions and the precision of each stage of a model.

Runs where Keras runs (in a worker process for another backend); returns the
plain data of :mod:`keras_equiv.precision`. Nothing is looked up in a table:
each fact is one small computation whose answer differs between the cases.
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

import scratch
from scratch import MLPConfig

from ._tf import keras
from .precision import Conventions, Precision, Stage, mirrored

#: Samples in the probe batch: not a power of 2, so that dividing by it is inexact in float32.
PROBE_SAMPLES = 3


@functools.cache
def measured_conventions() -> Conventions:
    """The backend's cross-entropy and hyperparameter conventions (see :class:`Conventions`)."""
    ops = keras.ops
    saturated = keras.activations.sigmoid(ops.convert_to_tensor(np.array([[40.0]])))
    loss = float(ops.convert_to_numpy(keras.losses.binary_crossentropy(np.zeros((1, 1)), saturated)).ravel()[0])
    momentum = float(ops.convert_to_numpy(ops.cast(0.9, "float64")))
    return Conventions(crossentropy_from_logits=loss > 20,  # 40 from the logits, 16.1 clipped
                       hyperparameter_dtype="float32" if momentum == float(np.float32(0.9)) else None)


def probe_data(config: MLPConfig, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A batch of :data:`PROBE_SAMPLES` inputs in [-1, 1) and targets of the kind the loss takes."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (PROBE_SAMPLES, config.num_inputs)).astype(config.dtype)
    kind, k = scratch.LOSSES[config.loss].targets, config.num_outputs
    if kind == "labels":
        return x, rng.integers(k, size=PROBE_SAMPLES)
    if kind == "probabilities":
        hot = np.eye(k)[rng.integers(k, size=PROBE_SAMPLES)] if k > 1 else rng.integers(2, size=(PROBE_SAMPLES, 1))
        return x, hot.astype(config.dtype)
    return x, rng.random((PROBE_SAMPLES, k)).astype(config.dtype)


def scaled_error(mine: object, reference: object) -> float:
    """``max |a - b| / max |b|`` over one array or a list of arrays (0 for two zeros)."""
    mine_list = mine if isinstance(mine, list) else [mine]
    reference_list = reference if isinstance(reference, list) else [reference]
    errors = []
    for a, b in zip(mine_list, reference_list):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        errors.append(float(np.max(np.abs(a - b))) / scale if scale > 0 else float(np.max(np.abs(a - b), initial=0)))
    return max(errors)


def measure_precision(config: MLPConfig, learning_rate: float = 0.1) -> Precision:
    """Each stage of ``config``'s model on this backend against scratch's, from the same weights and data.

    The stages (:data:`keras_equiv.precision.STAGES`): ``keras.ops.matmul`` of
    the probe inputs and the first kernel; the forward pass; the loss
    (``evaluate``); the gradients; one ``fit`` step's reported loss and the
    weights it leaves. Both sides follow the backend's measured conventions.
    """
    from .model import KerasMLP

    conventions = measured_conventions()
    config = mirrored(config, conventions)
    mine, reference = KerasMLP(config, steps_per_execution=1), scratch.MLP(config)
    mine.set_weights(reference.get_weights())
    x, y = probe_data(config)
    kernel = reference.get_weights()[0]
    product = keras.ops.matmul(keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(kernel))
    forward, gradients = mine.forward(x), mine.gradients(x, y)
    loss_dtype = keras.ops.convert_to_numpy(
        mine.model.compute_loss(x=x, y=y, y_pred=mine.model(x, training=False))).dtype.name
    stages = [
        Stage("matmul", keras.ops.convert_to_numpy(product).dtype.name, scaled_error(
            keras.ops.convert_to_numpy(product), x @ kernel)),
        Stage("forward", forward.dtype.name, scaled_error(forward, reference.forward(x))),
        Stage("loss", loss_dtype, scaled_error(mine.evaluate(x, y), reference.evaluate(x, y))),
        Stage("gradients", gradients[0].dtype.name, scaled_error(gradients, reference.gradients(x, y))),
    ]
    start = reference.get_weights()
    epoch_loss = mine.train(x, y, 1, learning_rate, batch_size=PROBE_SAMPLES)
    reference_loss = reference.train(x, y, 1, learning_rate, batch_size=PROBE_SAMPLES)
    stages += [Stage("epoch loss", "", scaled_error(epoch_loss, reference_loss)),
               Stage("update", mine.get_weights()[0].dtype.name,
                     scaled_error(moves(mine, start), moves(reference, start)))]
    return Precision(mine.backend, config.dtype, tuple(stages), conventions, backend_details(mine))


def moves(side: object, start: list[np.ndarray]) -> list[np.ndarray]:
    """How far a step moved each weight from ``start``: the update itself, not the weights it was added to."""
    return [after - before for after, before in zip(side.get_weights(), start)]


def backend_details(model: object) -> dict[str, object]:
    """The versions and ``fit`` settings that go with a measurement."""
    package = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[model.backend]
    return {"keras": keras.__version__, package: importlib.import_module(package).__version__,
            "jit_compile": bool(model.model.jit_compile), "steps_per_execution": model.steps_per_execution}


def steps_per_execution_refusal(steps: int) -> str:
    """What ``fit`` says to ``steps_per_execution=steps`` on this backend: its error message, or ``""``."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=steps)
    try:
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), batch_size=2, verbose=0)
    except ValueError as error:
        return str(error)
    return ""
