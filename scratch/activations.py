r"""Activation functions, each with its backward pass as a vector-Jacobian product.

A Dense layer computes :math:`a = f(z)`. Going backward it is handed the
upstream gradient :math:`g = \partial L / \partial a` and must return
:math:`\partial L / \partial z = J_f(z)^\top g`. For the element-wise
functions below the Jacobian is diagonal, so this is :math:`g \odot f'(z)`,
and :math:`f'` is cheapest written on the *output* ``a`` (the seed's
``sigmoid'(z) = a (1 - a)``): each ``<name>_backward`` multiplies ``g`` by
``<name>_derivative(a)``. A function whose Jacobian is not diagonal (a
softmax, say) fits the same ``backward(g, z, a)`` signature.

Every function takes an optional ``out``: an array of the result's shape and
dtype that receives it. A layer passes buffers it keeps from one batch to the
next, so a training step allocates (almost) nothing; without ``out`` each
function returns a new array.

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
        ``forward(z, out=None) -> a``.
    backward : callable
        ``backward(g, z, a, out=None) -> dL/dz`` given ``g = dL/da``, the
        layer's pre-activation ``z`` and its output ``a``. It may return ``g``
        itself (the identity's) rather than fill ``out``.
    formula : str
        ``f(z)`` as text, for tables and messages.
    """

    name: str
    forward: Callable[..., Array]
    backward: Callable[..., Array]
    formula: str


#: Above this ``z``, :math:`\sigma(z)` is 1 to the last bit in float32 and float64 (:math:`e^{-40} < 2^{-57}`).
SIGMOID_SATURATION = 40.0


def sigmoid(z: Array, out: Array | None = None) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z}) = e^z / (1 + e^z)`, computed stably.

    The second form is TensorFlow's (Eigen's ``scalar_logistic_op``), and for
    every ``z`` it loses no precision: for ``z < 0``, :math:`e^z` underflows
    gracefully towards 0 and the quotient keeps full relative precision far
    into the tail; for large ``z`` the quotient is 1. Only :math:`e^z` itself
    could overflow (``z > 709`` in float64, ``88`` in float32), so ``z`` is
    first capped at :data:`SIGMOID_SATURATION`, where :math:`\sigma` already
    rounds to 1: four passes over the array in all, and no warning.

    ``out``, if given, receives the result (an array of ``z``'s shape and
    dtype): the layers pass a buffer they reuse from batch to batch.
    """
    e = np.minimum(z, SIGMOID_SATURATION, out=out)
    np.exp(e, out=e)
    return np.divide(e, e + 1, out=e)


def sigmoid_derivative(a: Array, out: Array | None = None) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a (1 - a)`."""
    one_minus_a = np.subtract(1, a, out=out)
    return np.multiply(one_minus_a, a, out=one_minus_a)


def tanh(z: Array, out: Array | None = None) -> Array:
    r"""Hyperbolic tangent :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(z, out=out)


def tanh_derivative(a: Array, out: Array | None = None) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2(z) = 1 - a^2`."""
    a_squared = np.multiply(a, a, out=out)
    return np.subtract(1, a_squared, out=a_squared)


def relu(z: Array, out: Array | None = None) -> Array:
    r"""Rectified linear unit :math:`\max(z, 0)`."""
    return np.maximum(z, 0, out=out)


def relu_derivative(a: Array, out: Array | None = None) -> Array:
    r""":math:`\mathrm{relu}'(z) = 1` where :math:`a > 0`, else 0 (also at 0)."""
    return np.greater(a, 0, out=out) if out is not None else (a > 0).astype(a.dtype)


def linear(z: Array, out: Array | None = None) -> Array:
    r"""Identity :math:`f(z) = z` (Keras's ``activation="linear"`` or ``None``); ``out`` receives a copy."""
    if out is None:
        return z
    np.copyto(out, z)
    return out


def linear_derivative(a: Array, out: Array | None = None) -> Array:
    r""":math:`f'(z) = 1`."""
    if out is None:
        return np.ones_like(a)
    out.fill(1)
    return out


def softmax(z: Array, out: Array | None = None) -> Array:
    r"""Softmax over each row, :math:`e^{z_j - m} / \sum_i e^{z_i - m}` with :math:`m = \max_i z_i`
    (the shift changes nothing mathematically and keeps every exponent :math:`\le 0`)."""
    e = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
    np.exp(e, out=e)
    return np.divide(e, e.sum(axis=-1, keepdims=True), out=e)


def softmax_backward(g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
    r""":math:`J^\top g = a \odot (g - \sum_j g_j a_j)` for each row (:math:`J = \mathrm{diag}(a) - a a^\top`)."""
    ga = np.multiply(g, a, out=out)
    row_sums = ga.sum(axis=-1, keepdims=True)
    return np.multiply(a, np.subtract(g, row_sums, out=ga), out=ga)


def sigmoid_backward(g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
    r""":math:`\partial L/\partial z = g \odot a (1 - a)`."""
    derivative = sigmoid_derivative(a, out)
    return np.multiply(g, derivative, out=derivative)


def tanh_backward(g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
    r""":math:`\partial L/\partial z = g \odot (1 - a^2)`."""
    derivative = tanh_derivative(a, out)
    return np.multiply(g, derivative, out=derivative)


def relu_backward(g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
    r""":math:`\partial L/\partial z = g \odot [a > 0]`."""
    derivative = relu_derivative(a, out)
    return np.multiply(g, derivative, out=derivative)


def linear_backward(g: Array, z: Array, a: Array, out: Array | None = None) -> Array:
    """The identity passes the upstream gradient through unchanged (``g`` itself; ``out`` is not used)."""
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
