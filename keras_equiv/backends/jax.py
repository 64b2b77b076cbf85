"""Gradients on the JAX backend: ``jax.grad`` of the stateless forward pass and loss, as ``fit`` takes them.

Keras's JAX trainer differentiates ``stateless_call`` followed by
``stateless_compute_loss`` with respect to the trainable values; so does this,
without ``jit`` (one batch, once) and discarding the metric updates.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def gradients(model: Any, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """``jax.grad`` of the model's loss with respect to its trainable variables' values."""
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    metrics = [v.value for v in model.metrics_variables]

    def loss_of(values: list) -> Any:
        outputs, _ = model.stateless_call(values, non_trainable, inputs, training=True)
        loss, _ = model.stateless_compute_loss(values, non_trainable, metrics, x=inputs, y=targets, y_pred=outputs,
                                               training=True)
        return loss

    return [np.asarray(g) for g in jax.grad(loss_of)(trainable)]
