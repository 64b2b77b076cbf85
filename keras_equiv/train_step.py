"""The compiled custom train step a learner writes: ``tf.function`` around tape + apply.

This is the Keras guide's "training loop from scratch", kept as small as it
can be so that a benchmark can show how much of ``fit``'s time per step is the
framework around the arithmetic::

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred)
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply(grads, model.trainable_variables)
        return loss

It does what ``fit``'s own ``train_step`` does (Keras 3, TensorFlow backend)
minus the callbacks, the metric bookkeeping and the data pipeline, so it gives
the same losses and weights as ``fit`` (the tests measure how closely).

float64 caveat (see :mod:`keras_equiv.floatx`): the step is traced and run
under :func:`~keras_equiv.floatx.keras_floatx` of the model's dtype, as ``fit``
is by :class:`~keras_equiv.KerasMLP`, so no variable or constant is created in
float32 behind a float64 model's back.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scratch.batching import batch_slices

from ._tf import keras, tf
from .floatx import keras_floatx

if tf is None:
    raise ImportError(f"keras_equiv.train_step is a tf.function step, for the TensorFlow backend; this process runs "
                      f"Keras on {keras.backend.backend()}")

#: ``train_step(x, y) -> loss``: one SGD step on a batch, returning its pre-update loss.
TrainStep = Callable[[object, object], object]


def model_dtype(model: keras.Model) -> str:
    """The dtype of the model's variables (``"float32"`` or ``"float64"``)."""
    return tf.as_dtype(model.trainable_variables[0].dtype).name


def make_train_step(model: keras.Model) -> TrainStep:
    """A ``tf.function`` doing one training step of a compiled ``model`` on ``(x, y)``.

    Parameters
    ----------
    model : keras.Model
        A compiled model (``model.optimizer`` and its compiled loss are used).

    Returns
    -------
    callable
        ``train_step(x, y)``: forward under ``GradientTape``, the model's
        compiled loss, ``optimizer.apply(grads, trainable_variables)``; returns
        the batch's loss (before the update) as a scalar tensor. It is traced
        once for any batch size (the batch dimension is ``None``) and compiled
        with XLA only when the model's ``jit_compile`` resolved to it (never on
        a CPU-only machine, as in ``fit``).
    """
    if not model.compiled:
        raise ValueError("make_train_step needs a compiled model (call model.compile first)")
    dtype = model_dtype(model)
    variables = model.trainable_variables
    optimizer = model.optimizer
    with keras_floatx(dtype):
        if not optimizer.built:
            optimizer.build(variables)

    def train_step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)
        return loss

    signature = [
        tf.TensorSpec([None, model.inputs[0].shape[-1]], dtype),
        tf.TensorSpec([None, model.outputs[0].shape[-1]], dtype),
    ]
    return tf.function(train_step, input_signature=signature, jit_compile=bool(model.jit_compile))


def train_epoch(
    train_step: TrainStep,
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    learning_rate: float | None = None,
) -> float:
    """One epoch of ``train_step`` over ``(x, y)`` in order, batches of ``batch_size``.

    Parameters
    ----------
    train_step : callable
        From :func:`make_train_step` for the same ``model``.
    model : keras.Model
        The model being trained (for its dtype and optimizer).
    x, y : ndarray
        Inputs ``(n, n_in)`` and targets ``(n, n_out)`` in the model's dtype.
    batch_size : int
        Samples per step; the last batch may be partial, as in ``fit``.
    learning_rate : float, optional
        Set on the optimizer before the epoch (default: keep its current one).

    Returns
    -------
    float
        The epoch loss as ``fit`` reports it: the batches' pre-update losses
        weighted by their sizes, ``sum_b B_b L_b / n``, accumulated in the
        model's dtype like ``fit``'s ``Mean`` loss tracker.
    """
    dtype = model_dtype(model)
    scalar = np.dtype(dtype).type
    total, count = scalar(0), scalar(0)
    with keras_floatx(dtype):
        if learning_rate is not None:
            model.optimizer.learning_rate = learning_rate
        for batch in batch_slices(len(x), batch_size):
            size = scalar(batch.stop - batch.start)
            loss = train_step(x[batch], y[batch])
            total += scalar(loss.numpy()) * size
            count += size
    return float(total / count)

