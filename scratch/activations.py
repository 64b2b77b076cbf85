r"""Activation functions, each with its backward pass as a vector-Jacobian product.

A Dense layer computes :math:`a = f(z)`. Going backward it is handed the
upstream gradient :math:`g = \partial L / \partial a` and must return
:math:`\partial L / \partial z = J_f(z)^\top g`. For the element-wise
functions below the Jacobian is diagonal, so this is :math:`g \odot f'(z)`,
and :math:`f'` is cheapest written on the *output* ``a`` (the seed's
``sigmoid'(z) = a (1 - a)``): each ``<name>_backward`` multiplies ``g`` by
``<name>_derivative(a)``. A function whose Jacobian is not diagonal (a
softmax, say) fits the same ``backward(g, z, a)`` signature.

==========  ==============================  ==================================
name        f(z)                            backward: dL/dz
==========  ==============================  ==================================
sigmoid     1 / (1 + e^{-z})                g · a (1 - a)
tanh        tanh(z)                         g · (1 - a^2)
relu        max(z, 0)                       g · [a > 0]
linear      z                               g
softmax     e^{z_j} / Σ_i e^{z_i} (per row)  a · (g - Σ_j g_j a_j) (per row)
==========  ==============================  ==================================

The softmax's Jacobian is full, :math:`J = \mathrm{diag}(a) - a a^\top`,
yet its product with ``g`` needs no matrix: :math:`J^\top g = a \odot (g -
\langle g, a\rangle)`.

``relu'(0)`` is taken as 0, as TensorFlow does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """One activation function: its forward map and its vector-Jacobian product.

    Attributes
    ----------
    name : str
        The registry key, Keras's name for the same function.
    forward : callable
        ``forward(z) -> a``.
    backward : callable
        ``backward(g, z, a) -> dL/dz`` given ``g = dL/da``, the layer's
        pre-activation ``z`` and its output ``a``.
    formula : str
        ``f(z)`` as text, for tables and messages.
    """

    name: str
    forward: Callable[[Array], Array]
    backward: Callable[[Array, Array, Array], Array]
    formula: str


#: Above this ``z``, :math:`\sigma(z)` is 1 to the last bit in float32 and float64 (:math:`e^{-40} < 2^{-57}`).
SIGMOID_SATURATION = 40.0


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z}) = e^z / (1 + e^z)`, computed stably.

    The second form is the one TensorFlow's float64 kernel computes (Eigen's
    ``scalar_logistic_op``), and it loses no precision anywhere: for
    ``z < 0``, :math:`e^z` underflows gracefully towards 0 and the quotient
    keeps full relative precision far into the tail; for large ``z`` the
    quotient is 1. Only :math:`e^z` itself could overflow (``z > 709`` in
    float64, ``88`` in float32), so ``z`` is first capped at
    :data:`SIGMOID_SATURATION`, where :math:`\sigma` already rounds to 1:
    four passes over the array, and no warning.
    """
    e = np.exp(np.minimum(z, SIGMOID_SATURATION))
    return e / (e + 1.0)  # 1.0, not 1: NumPy converts a Python int operand by a slower path (performance.md)


def sigmoid_derivative(a: Array) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a (1 - a)`."""
    return a * (1.0 - a)


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(z)


def tanh_derivative(a: Array) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2(z) = 1 - a^2`."""
    return 1.0 - a * a


def relu(z: Array) -> Array:
    r"""Rectified linear unit :math:`\max(z, 0)`."""
    return np.maximum(z, 0)


def relu_derivative(a: Array) -> Array:
    r""":math:`\mathrm{relu}'(z) = 1` where :math:`a > 0`, else 0 (also at 0)."""
    return (a > 0).astype(a.dtype)


def linear(z: Array) -> Array:
    r"""Identity :math:`f(z) = z` (Keras's ``activation="linear"`` or ``None``)."""
    return z


def linear_derivative(a: Array) -> Array:
    r""":math:`f'(z) = 1`."""
    return np.ones_like(a)


def softmax(z: Array) -> Array:
    r"""Softmax over each row, :math:`e^{z_j - m} / \sum_i e^{z_i - m}` with :math:`m = \max_i z_i`
    (the shift changes nothing mathematically and keeps every exponent :math:`\le 0`)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(g: Array, z: Array, a: Array) -> Array:
    r""":math:`J^\top g = a \odot (g - \sum_j g_j a_j)` for each row (:math:`J = \mathrm{diag}(a) - a a^\top`)."""
    return a * (g - (g * a).sum(axis=-1, keepdims=True))


def sigmoid_backward(g: Array, z: Array, a: Array) -> Array:
    r""":math:`\partial L/\partial z = g \odot a (1 - a)`."""
    return g * sigmoid_derivative(a)


def tanh_backward(g: Array, z: Array, a: Array) -> Array:
    r""":math:`\partial L/\partial z = g \odot (1 - a^2)`."""
    return g * tanh_derivative(a)


def relu_backward(g: Array, z: Array, a: Array) -> Array:
    r""":math:`\partial L/\partial z = g \odot [a > 0]`."""
    return g * relu_derivative(a)


def linear_backward(g: Array, z: Array, a: Array) -> Array:
    """The identity passes the upstream gradient through unchanged."""
    return g


#: Every activation a Dense layer can use, by Keras's name.
ACTIVATIONS: dict[str, Activation] = {
    activation.name: activation
    for activation in (
        Activation("sigmoid", sigmoid, sigmoid_backward, "1 / (1 + e^-z)"),
        Activation("tanh", tanh, tanh_backward, "tanh(z)"),
        Activation("relu", relu, relu_backward, "max(z, 0)"),
        Activation("linear", linear, linear_backward, "z"),
        Activation("softmax", softmax, softmax_backward, "e^z_j / sum_i e^z_i"),
    )
}


def logits_output(activation: Activation) -> Activation:
    """``activation`` whose backward pass hands ``dL/dz`` straight through.

    For an output layer whose loss is computed from its ``z`` (a cross-entropy
    from the logits), the loss's gradient already is ``dL/dz``: the
    activation's own Jacobian is part of the loss's formula.
    """
    return Activation(activation.name, activation.forward, linear_backward, activation.formula + " (from logits)")
