"""Gradients on the PyTorch backend: ``loss.backward()``, then each trainable variable's ``.grad``."""

from __future__ import annotations

from typing import Any

import numpy as np


def gradients(model: Any, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
    """Backpropagate ``model.compute_loss`` once; the ``.grad`` of every trainable tensor (then cleared)."""
    parameters = [v.value for v in model.trainable_variables]
    for parameter in parameters:
        parameter.grad = None
    outputs = model(inputs, training=True)
    model.compute_loss(x=inputs, y=targets, y_pred=outputs).backward()
    grads = [parameter.grad.detach().cpu().numpy().copy() for parameter in parameters]
    for parameter in parameters:
        parameter.grad = None
    return grads
