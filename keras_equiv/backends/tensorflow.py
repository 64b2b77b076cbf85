"""Gradients on the TensorFlow backend: ``tf.GradientTape`` around the forward pass and the loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tf import tf


def gradients(model: Any, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """``tape.gradient`` of ``model.compute_loss`` with respect to the trainable weights."""
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=True)
        loss = model.compute_loss(x=inputs, y=targets, y_pred=outputs)
    return [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
