"""Activation functions and their derivatives, written on the activation.

Every derivative here takes the layer's *output* ``a = f(z)``, not its input
``z``: that is how the seed computes ``sigmoid'(z) = a(1 - a)`` and it saves
keeping ``z`` around during backpropagation.

==========  ==========================  ======================
name        f(z)                        f'(z) written on a
==========  ==========================  ======================
sigmoid     1 / (1 + e^{-z})            a (1 - a)
tanh        tanh(z)                     1 - a^2
relu        max(z, 0)                   1 if a > 0 else 0
linear      z                           1
==========  ==========================  ======================

``relu'(0)`` is taken as 0, as TensorFlow does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, computed stably.

    ``e^{-z}`` overflows for ``z < -709`` in float64 (``-88`` in float32), so
    we only ever exponentiate a non-positive number, ``e = e^{-|z|}`` in (0, 1]:

    - for ``z >= 0``: :math:`\sigma(z) = 1 / (1 + e)`
    - for ``z <  0``: :math:`\sigma(z) = e / (1 + e)` (multiply by :math:`e^{z}` above and below)

    Both branches keep full relative precision, even far in the tails. The
    numerator, ``1`` or ``e``, is ``max(e, sign(z))`` (``sign(z)`` is 1 for
    ``z > 0`` where ``e <= 1``, 0 at 0 where ``e = 1``, and -1 for ``z < 0``),
    which picks the branch without ``np.where``: several times faster on big
    arrays, where a per-element branch is what costs.
    """
    e = np.exp(-np.abs(z))
    return np.maximum(e, np.sign(z)) / (1 + e)


def sigmoid_derivative(a: Array) -> Array:
    r""":math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a (1 - a)`."""
    return a * (1 - a)


def tanh(z: Array) -> Array:
    r"""Hyperbolic tangent :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`."""
    return np.tanh(z)


def tanh_derivative(a: Array) -> Array:
    r""":math:`\tanh'(z) = 1 - \tanh^2(z) = 1 - a^2`."""
    return 1 - a * a


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


#: name -> (function, derivative written on the activation)
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "linear": (linear, linear_derivative),
}
