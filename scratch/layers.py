r"""``Dense``: one fully connected layer, the twin of ``keras.layers.Dense``.

For a batch of ``B`` samples (one per row):

.. math::

    z = x W + b, \qquad a = f(z)

with the kernel ``W`` of shape ``(n_in, n_out)`` (Keras's layout), the bias
``b`` of shape ``(n_out,)`` (optional) and the activation ``f``. Backward,
given :math:`g = \partial L / \partial a`:

.. math::

    \delta = \frac{\partial L}{\partial z} = J_f^\top g, \qquad
    \frac{\partial L}{\partial W} = x^\top \delta, \qquad
    \frac{\partial L}{\partial b} = \sum_{\text{batch}} \delta, \qquad
    \frac{\partial L}{\partial x} = \delta W^\top
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .activations import Activation

Array = np.ndarray


class Dense:
    """A fully connected layer that caches what its backward pass needs.

    Attributes
    ----------
    kernel : ndarray
        ``W``, shape ``(n_in, n_out)``.
    bias : ndarray or None
        ``b``, shape ``(n_out,)``; ``None`` for a layer without bias.
    activation : Activation
        ``f`` and its vector-Jacobian product.
    inputs, z, outputs : ndarray
        ``x``, ``z`` and ``a`` of the last forward pass (``(B, n)`` each).
    kernel_gradient, bias_gradient : ndarray
        ``dL/dW`` and ``dL/db`` from the last backward pass.

    The kernel, the bias and their gradients are the same arrays for the
    layer's whole life, updated in place: in an ``MLP`` they are views of
    the network's flat arrays (:mod:`scratch.flat`), which its optimizer
    updates. So ``layer.kernel = W`` copies ``W`` into the kernel rather than
    rebinding the name, which would cut the layer off from its network.
    """

    def __init__(self, kernel: Array, activation: Activation, bias: Array | None = None,
                 gradients: Sequence[Array] | None = None) -> None:
        """``gradients``: the arrays to write ``[dL/dW]`` or ``[dL/dW, dL/db]`` into (new zero arrays by default)."""
        self.activation = activation
        self.inputs = self.z = self.outputs = np.zeros((0, kernel.shape[0]), dtype=kernel.dtype)
        if gradients is None:
            gradients = [np.zeros_like(p) for p in (kernel, bias) if p is not None]
        self.hold([p for p in (kernel, bias) if p is not None], gradients)

    def hold(self, parameters: Sequence[Array], gradients: Sequence[Array]) -> None:
        """Keep these arrays as ``[W]`` or ``[W, b]`` (Keras's order) and their gradients, updated in place."""
        self.parameters, self.gradients = list(parameters), list(gradients)
        self._kernel, self._bias = (*self.parameters, None)[:2]
        self.kernel_gradient, self.bias_gradient = (*self.gradients, None)[:2]

    @property
    def kernel(self) -> Array:
        """``W``, shape ``(n_in, n_out)``; assigning copies into it (see the class doc)."""
        return self._kernel

    @kernel.setter
    def kernel(self, value: Array) -> None:
        copy_into("kernel", self._kernel, value)

    @property
    def bias(self) -> Array | None:
        """``b``, shape ``(n_out,)``, or ``None``; assigning copies into it (see the class doc)."""
        return self._bias

    @bias.setter
    def bias(self, value: Array) -> None:
        if self._bias is None:
            raise ValueError("bias cannot be set: this layer has no bias (use_bias=False)")
        copy_into("bias", self._bias, value)

    def forward(self, inputs: Array) -> Array:
        r""":math:`a = f(x W + b)` for a batch ``inputs`` of shape ``(B, n_in)``; caches ``x``, ``z``, ``a``."""
        z = inputs.dot(self._kernel)  # ndarray.dot: np.dot's BLAS call without its Python-level dispatch
        if self._bias is not None:
            z += self._bias
        self.inputs, self.z = inputs, z
        self.outputs = self.activation.forward(z)
        return self.outputs

    def backward(self, output_error: Array, input_error: bool = True) -> Array | None:
        r"""Gradients of the parameters from :math:`g = \partial L/\partial a`; returns :math:`\partial L/\partial x`.

        The gradients are written into :attr:`kernel_gradient` and
        :attr:`bias_gradient` in place. ``input_error=False`` skips
        :math:`\delta W^\top` (the first layer needs no error below it).
        """
        delta = self.activation.backward(output_error, self.z, self.outputs)
        self.inputs.T.dot(delta, out=self.kernel_gradient)
        if self.bias_gradient is not None:
            delta.sum(axis=0, out=self.bias_gradient)
        return delta.dot(self._kernel.T) if input_error else None


def copy_into(name: str, target: Array, value: Array) -> None:
    """``target[...] = value`` once ``value`` has ``target``'s shape (no broadcasting); else a ``ValueError``."""
    value = np.asarray(value)
    if value.shape != target.shape:
        raise ValueError(f"{name} must have shape {target.shape}, got {value.shape}")
    target[...] = value


def initial_kernel(rng: np.random.Generator, n_in: int, n_out: int, init: str) -> Array:
    """A kernel of shape ``(n_in, n_out)`` drawn in float64.

    ``"uniform"``: the seed's ``U[0, 1)``. ``"glorot_uniform"``: Keras's
    default, ``U(-r, r)`` with :math:`r = \\sqrt{6 / (n_{in} + n_{out})}`.
    """
    if init == "uniform":
        return rng.random((n_in, n_out))
    limit = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))
