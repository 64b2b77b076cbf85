r"""A multi-layer perceptron from scratch, with NumPy alone.

The seed's network (``forward_propagate``, ``back_propagate``,
``gradient_descent``, ``train``), made exact: batches, biases, several
activations, float32 or float64, and Keras's definition of the MSE.

Notation, for a batch of ``B`` samples (one per row) and layers ``l = 0..L-1``:

.. math::

    a_0 = x, \qquad z_{l} = a_{l} W_{l} + b_{l}, \qquad a_{l+1} = f_{l}(z_{l}),
    \qquad \hat y = a_{L}

``W_l`` has shape ``(n_in, n_out)``, like a Keras ``Dense`` kernel.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from . import activations as act
from . import validation as check
from .activations import ACTIVATIONS
from .batching import batch_slices, epoch_orders
from .files import atomic_writer
from .losses import LOSSES, mse

Array = np.ndarray


class TrainingDivergedError(FloatingPointError):
    """Training produced a NaN or infinite loss."""


class MLP:
    """A fully connected network trained by stochastic gradient descent.

    Parameters
    ----------
    num_inputs : int
        Width of each input sample.
    hidden_layers : list of int
        Width of each hidden layer; ``[]`` for none.
    num_outputs : int
        Width of each output.
    activation : str or list of str
        ``"sigmoid"``, ``"tanh"``, ``"relu"`` or ``"linear"``: one name for
        every Dense layer, or a list with one name per Dense layer.
    use_bias : bool
        Give each Dense layer a bias vector (starts at zero). The seed had none.
    dtype : {"float64", "float32"}
        The dtype of weights, activations and all arithmetic.
    init : {"uniform", "glorot_uniform"}
        ``"uniform"`` is the seed's ``U[0, 1)``; ``"glorot_uniform"`` is Keras's
        default ``U(-r, r)`` with ``r = sqrt(6 / (n_in + n_out))``.
    seed : int or None
        Seed of the initial weights (``np.random.default_rng(seed)``).
    loss : {"mse", "seed"}
        ``"mse"`` is Keras's mean squared error; ``"seed"`` the seed's
        ``1/2 sum (t - o)^2`` per sample (see :mod:`scratch.losses`).
    """

    def __init__(
        self,
        num_inputs: int = 3,
        hidden_layers: Sequence[int] = (3, 3),
        num_outputs: int = 2,
        *,
        activation: str | Sequence[str] = "sigmoid",
        use_bias: bool = False,
        dtype: str = "float64",
        init: str = "uniform",
        seed: int | None = None,
        loss: str = "mse",
    ) -> None:
        self.layer_sizes = check.check_architecture(num_inputs, hidden_layers, num_outputs)
        self.num_inputs = self.layer_sizes[0]
        self.hidden_layers = self.layer_sizes[1:-1]
        self.num_outputs = self.layer_sizes[-1]
        num_layers = len(self.layer_sizes) - 1
        self.activation = check.check_activations(activation, num_layers)
        # (f_l, f_l') of each Dense layer, looked up once rather than on every step
        self._activation_functions = [ACTIVATIONS[name] for name in self.activation]
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias must be True or False, got {use_bias!r}")
        self.use_bias = use_bias
        self.dtype = check.check_dtype(dtype)
        self.init = check.check_init(init)
        self.seed = check.check_seed(seed)
        self.loss = check.check_loss(loss)

        self.weights = self._initial_weights()
        self.biases = [np.zeros(n, dtype=self.dtype) for n in self.layer_sizes[1:]] if use_bias else []
        self.activations: list[Array] = []
        self.derivatives: list[Array] = [np.zeros_like(w) for w in self.weights]
        self.bias_derivatives: list[Array] = [np.zeros_like(b) for b in self.biases]

    # ------------------------------------------------------------------ set-up
    def _initial_weights(self) -> list[Array]:
        """Draw each kernel in float64 from ``rng`` then cast, so float32 and
        float64 networks built with the same seed start from the same numbers."""
        rng = np.random.default_rng(self.seed)
        weights = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            if self.init == "uniform":
                w = rng.random((n_in, n_out))
            else:
                limit = math.sqrt(6.0 / (n_in + n_out))
                w = rng.uniform(-limit, limit, size=(n_in, n_out))
            weights.append(w.astype(self.dtype))
        return weights

    def __repr__(self) -> str:
        return (
            f"MLP({self.num_inputs}, {self.hidden_layers}, {self.num_outputs}, "
            f"activation={self.activation}, use_bias={self.use_bias}, "
            f"dtype={self.dtype.name!r}, loss={self.loss!r})"
        )

    # ---------------------------------------------------- the seed's methods
    def forward_propagate(self, inputs: Array) -> Array:
        r"""Propagate ``inputs`` through the network and cache every activation.

        .. math:: a_0 = x, \qquad a_{l+1} = f_l(a_l W_l + b_l)

        Parameters
        ----------
        inputs : ndarray
            One sample of shape ``(num_inputs,)`` or a batch ``(B, num_inputs)``.

        Returns
        -------
        ndarray
            The outputs ``a_L``: shape ``(num_outputs,)`` for one sample,
            ``(B, num_outputs)`` for a batch. ``self.activations`` keeps
            ``[a_0, ..., a_L]``, each 2-D ``(B, n)``.
        """
        x = check.check_inputs(inputs, self.num_inputs, self.dtype)
        output = self._forward(np.atleast_2d(x))
        return output[0] if x.ndim == 1 else output

    def _forward(self, inputs: Array) -> Array:
        """``forward_propagate`` on an already checked 2-D batch."""
        activations = [inputs]
        for layer, weights in enumerate(self.weights):
            z = np.dot(activations[-1], weights)
            if self.use_bias:
                z += self.biases[layer]
            activate = self._activation_functions[layer][0]
            activations.append(activate(z))
        self.activations = activations
        return activations[-1]

    def back_propagate(self, error: Array) -> Array:
        r"""Backpropagate the error of the last forward pass; fill ``derivatives``.

        Sign convention: ``error`` is the gradient of the loss with respect to
        the outputs, :math:`\delta = \partial L / \partial \hat y` (for
        ``loss="mse"`` that is :math:`\frac{2}{Bk}(\hat y - y)`). The seed passed
        the opposite sign, ``target - output``, and *added* its derivatives;
        here ``derivatives`` are the true gradients and ``gradient_descent``
        subtracts them. Going down from the last layer:

        .. math::

            \delta_l = \frac{\partial L}{\partial a_{l+1}} \odot f_l'(a_{l+1}), \qquad
            \frac{\partial L}{\partial W_l} = a_l^\top \delta_l, \qquad
            \frac{\partial L}{\partial b_l} = \sum_{\text{batch}} \delta_l, \qquad
            \frac{\partial L}{\partial a_l} = \delta_l W_l^\top

        Parameters
        ----------
        error : ndarray
            :math:`\partial L / \partial \hat y`, the shape of the last output.

        Returns
        -------
        ndarray
            :math:`\partial L / \partial x`, the error at the input layer, the
            shape of the last input.
        """
        if not self.activations:
            raise RuntimeError("back_propagate needs a forward_propagate first")
        output = self.activations[-1]
        error = np.asarray(error, dtype=self.dtype)
        single_sample = error.ndim == 1 and output.shape[0] == 1
        if (error[np.newaxis] if single_sample else error).shape != output.shape:
            raise ValueError(f"error must have the shape of the last output {output.shape}, got {error.shape}")
        input_error = self._backward(np.atleast_2d(error), input_error=True)
        return input_error[0] if single_sample else input_error

    def _backward(self, error: Array, input_error: bool) -> Array | None:
        """``back_propagate`` on a checked 2-D error; skip ``dL/dx`` if not needed."""
        for layer in reversed(range(len(self.weights))):
            derivative = self._activation_functions[layer][1]
            delta = error * derivative(self.activations[layer + 1])
            self.derivatives[layer] = np.dot(self.activations[layer].T, delta)
            if self.use_bias:
                self.bias_derivatives[layer] = delta.sum(axis=0)
            if layer > 0 or input_error:
                error = np.dot(delta, self.weights[layer].T)
        return error if input_error else None

    def gradient_descent(self, learning_rate: float) -> None:
        r"""One step down the gradient: :math:`W_l \leftarrow W_l - \eta\, \partial L/\partial W_l`
        (and the same for each bias)."""
        for weights, derivatives in zip(self.weights, self.derivatives):
            weights -= learning_rate * derivatives
        for bias, derivatives in zip(self.biases, self.bias_derivatives):
            bias -= learning_rate * derivatives

    def train(
        self,
        x: Array,
        y: Array,
        epochs: int,
        learning_rate: float,
        batch_size: int = 1,
        shuffle: int | None = None,
        verbose: bool = False,
    ) -> list[float]:
        """Mini-batch SGD with the semantics of Keras ``fit``.

        Each epoch walks the samples in batches of ``batch_size`` (the last one
        may be partial); each batch does forward, backward and one
        ``gradient_descent`` step. The epoch's loss is the mean of the batches'
        *pre-update* losses weighted by their sizes,
        ``sum_b B_b * L_b / n``, which is what Keras reports.

        Parameters
        ----------
        x, y : ndarray
            Inputs ``(n, num_inputs)`` and targets ``(n, num_outputs)``.
        epochs : int
            Passes over the data (0 trains nothing).
        learning_rate : float
            The step size ``eta``.
        batch_size : int
            Samples per step; 1 is the seed's per-sample training.
        shuffle : int or None
            ``None`` keeps the order; an int seeds the per-epoch permutations
            of :func:`scratch.batching.epoch_orders`.
        verbose : bool
            Print one line per epoch, like Keras.

        Returns
        -------
        list of float
            The loss of each epoch.

        Raises
        ------
        TrainingDivergedError
            When a batch's loss is NaN or infinite (before that step's update).
        """
        inputs = check.check_inputs(x, self.num_inputs, self.dtype)
        if inputs.ndim != 2:
            raise ValueError(f"x must be a 2-D batch (n, {self.num_inputs}) to train on, got shape {inputs.shape}")
        targets = check.check_targets(y, inputs, self.num_outputs, self.dtype)
        epochs = check.check_epochs(epochs)
        learning_rate = check.check_learning_rate(learning_rate)
        batch_size = check.check_batch_size(batch_size)
        shuffle = check.check_shuffle(shuffle)

        num_samples = len(inputs)
        history = []
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch, order in enumerate(epoch_orders(num_samples, epochs, shuffle), start=1):
                epoch_x, epoch_y = (inputs, targets) if order is None else (inputs[order], targets[order])
                loss_sum = 0.0
                for batch in batch_slices(num_samples, batch_size):
                    loss = self._train_step(epoch_x[batch], epoch_y[batch], learning_rate)
                    if not math.isfinite(loss):
                        raise TrainingDivergedError(
                            f"training diverged at epoch {epoch} (samples {batch.start}-{batch.stop - 1}): "
                            f"the loss is {loss}; try a smaller learning_rate"
                        )
                    loss_sum += loss * (batch.stop - batch.start)
                history.append(loss_sum / num_samples)
                if verbose:
                    print(f"Epoch {epoch}/{epochs} - loss: {history[-1]:.4f}")
        return history

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        """Forward, loss, backward, update on one batch; returns the pre-update loss."""
        loss_value, loss_gradient = LOSSES[self.loss]
        output = self._forward(inputs)
        loss = loss_value(targets, output)
        if math.isfinite(loss):
            self._backward(loss_gradient(targets, output), input_error=False)
            self.gradient_descent(learning_rate)
        return loss

    # The seed's private helpers, kept for learners who read the seed first.
    _sigmoid = staticmethod(act.sigmoid)
    _sigmoid_derivative = staticmethod(act.sigmoid_derivative)
    _tanh = staticmethod(act.tanh)
    _tanh_derivative = staticmethod(act.tanh_derivative)
    _relu = staticmethod(act.relu)
    _relu_derivative = staticmethod(act.relu_derivative)
    _linear = staticmethod(act.linear)
    _linear_derivative = staticmethod(act.linear_derivative)
    _mse = staticmethod(mse)

    # ---------------------------------------------- the comparison protocol
    def forward(self, x: Array) -> Array:
        """The outputs for ``x`` (one sample or a batch); same as ``forward_propagate``."""
        return self.forward_propagate(x)

    predict = forward

    def _checked_pair(self, x: Array, y: Array) -> tuple[Array, Array]:
        inputs = check.check_inputs(x, self.num_inputs, self.dtype)
        targets = check.check_targets(y, inputs, self.num_outputs, self.dtype)
        return np.atleast_2d(inputs), np.atleast_2d(targets)

    def gradients(self, x: Array, y: Array) -> list[Array]:
        """``dLoss/dθ`` of this model's loss on the batch, in ``get_weights()`` order."""
        inputs, targets = self._checked_pair(x, y)
        output = self._forward(inputs)
        self._backward(LOSSES[self.loss][1](targets, output), input_error=False)
        return self._interleave(self.derivatives, self.bias_derivatives)

    def evaluate(self, x: Array, y: Array) -> float:
        """This model's loss on the whole of ``(x, y)``."""
        inputs, targets = self._checked_pair(x, y)
        return LOSSES[self.loss][0](targets, self._forward(inputs))

    def _interleave(self, kernels: list[Array], biases: list[Array]) -> list[Array]:
        """Copies in Keras order ``[W0, (b0,) W1, (b1,) ...]``."""
        ordered = []
        for layer, kernel in enumerate(kernels):
            ordered.append(kernel.copy())
            if self.use_bias:
                ordered.append(biases[layer].copy())
        return ordered

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Shapes of ``get_weights()``, in order."""
        return [w.shape for w in self._interleave(self.weights, self.biases)]

    def get_weights(self) -> list[Array]:
        """Copies of the parameters, ``[W0, (b0,) W1, (b1,) ...]``."""
        return self._interleave(self.weights, self.biases)

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Replace every parameter; on any error the old ones are kept."""
        new = check.check_weights(weights, self.weight_shapes(), self.dtype)
        step = 2 if self.use_bias else 1
        self.weights = new[::step]
        self.biases = new[1::step]

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and weights to ``path`` as ``.npz``, atomically."""
        arrays = {f"param_{i}": w for i, w in enumerate(self.get_weights())}
        with atomic_writer(path, "wb") as file:
            np.savez(
                file,
                layer_sizes=np.array(self.layer_sizes),
                activation=np.array(self.activation),
                use_bias=np.array(self.use_bias),
                dtype=np.array(self.dtype.name),
                init=np.array(self.init),
                loss=np.array(self.loss),
                seed=np.array(-1 if self.seed is None else self.seed),
                **arrays,
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLP:
        """Rebuild a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            sizes = [int(n) for n in data["layer_sizes"]]
            seed = int(data["seed"])
            mlp = cls(
                sizes[0],
                sizes[1:-1],
                sizes[-1],
                activation=[str(a) for a in data["activation"]],
                use_bias=bool(data["use_bias"]),
                dtype=str(data["dtype"]),
                init=str(data["init"]),
                seed=None if seed < 0 else seed,
                loss=str(data["loss"]),
            )
            count = sum(1 for key in data.files if key.startswith("param_"))
            mlp.set_weights([data[f"param_{i}"] for i in range(count)])
        return mlp
