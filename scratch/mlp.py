r"""A multi-layer perceptron from scratch, with NumPy alone.

The seed's network (``forward_propagate``, ``back_propagate``,
``gradient_descent``, ``train``), made exact: batches, biases, several
activations, losses and optimizers, float32 or float64. The math lives in
:class:`scratch.layers.Dense`; the network is a list of layers, run forward
in order and backward in reverse.

Notation, for a batch of ``B`` samples (one per row) and layers ``l = 0..L-1``:

.. math::

    a_0 = x, \qquad z_{l} = a_{l} W_{l} + b_{l}, \qquad a_{l+1} = f_{l}(z_{l}),
    \qquad \hat y = a_{L}

``W_l`` has shape ``(n_in, n_out)``, like a Keras ``Dense`` kernel.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import activations as act
from . import persistence
from . import validation as check
from .activations import ACTIVATIONS, logits_output
from .batching import batch_slices, epoch_orders
from .config import Configured, MLPConfig
from .flat import flat_views, shaped_views
from .layers import Dense, initial_kernel
from .losses import LOGIT_OUTPUTS, LOSSES, mse
from .optimizers import OptimizerState, make_optimizer

Array = np.ndarray


class TrainingDivergedError(FloatingPointError):
    """Training produced a NaN or infinite loss."""


class MLP(Configured):
    """A fully connected network trained by gradient descent, one :class:`~scratch.layers.Dense` per layer.

    ``MLP(num_inputs, hidden_layers, num_outputs, *, activation, use_bias,
    dtype, init, seed, loss, optimizer)`` takes the fields of
    :class:`scratch.config.MLPConfig` (see there for each one), or one
    ``MLPConfig``. Those fields are attributes too: ``mlp.num_inputs``,
    ``mlp.activation`` (one name per layer), ``mlp.layer_sizes``...; ``mlp.dtype``
    is the NumPy dtype.

    >>> MLP(2, [5], 1, seed=0)
    MLP(2, [5], 1, activation='sigmoid', use_bias=False, dtype='float64', init='uniform', seed=0, loss='mse')
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.config = MLPConfig.build(*args, **kwargs)
        self.dtype = self.config.np_dtype
        self.optimizer = make_optimizer(self.config.optimizer)
        # every parameter and its gradient, in get_weights() order, as views of one flat array each
        # (scratch.flat): fixed arrays, updated in place, the optimizer updates them all with one call
        shapes = self._parameter_shapes()
        self.flat_parameters, self.parameters = flat_views(shapes, self.dtype)
        self.flat_gradients, self.parameter_gradients = flat_views(shapes, self.dtype)
        self.layers = self._initial_layers()
        loss = LOSSES[self.config.loss]
        #: True when the loss is computed from the output layer's z, as TensorFlow does for a
        #: cross-entropy after a sigmoid or softmax output (see :mod:`scratch.losses`).
        self.from_logits = (self.config.crossentropy_from_logits and loss.from_logits is not None
                            and self.config.activation[-1] in LOGIT_OUTPUTS)
        self.loss_function = loss.from_logits if self.from_logits else loss
        if self.from_logits:
            self.layers[-1].activation = logits_output(self.layers[-1].activation)
        self.optimizer.build(self.parameters)

    def _parameter_shapes(self) -> list[tuple[int, ...]]:
        """``(n_in, n_out)`` for each kernel, followed by ``(n_out,)`` for its bias when there are biases."""
        sizes = self.config.layer_sizes
        return [shape for n_in, n_out in itertools.pairwise(sizes)
                for shape in ([(n_in, n_out), (n_out,)] if self.config.use_bias else [(n_in, n_out)])]

    def _initial_layers(self) -> list[Dense]:
        """One Dense layer per pair of sizes over its share of the flat arrays, kernels drawn in float64, then cast.

        The kernels come from one generator, so float32 and float64 networks
        built with the same seed start from the same numbers; biases start at
        zero, as in Keras.
        """
        rng = np.random.default_rng(self.config.seed)
        sizes = self.config.layer_sizes
        layers = []
        for n_in, n_out, name, (kernel, *bias), gradients in zip(
                sizes[:-1], sizes[1:], self.config.activation, self._by_layer(self.parameters),
                self._by_layer(self.parameter_gradients)):
            kernel[...] = initial_kernel(rng, n_in, n_out, self.config.init)  # cast to the dtype on the copy
            layers.append(Dense(kernel, ACTIVATIONS[name], *bias, gradients=gradients))
        return layers

    def _by_layer(self, arrays: list[Array]) -> list[list[Array]]:
        """``arrays`` in ``get_weights()`` order, cut into each layer's ``[W]`` or ``[W, b]``."""
        per_layer = 2 if self.config.use_bias else 1
        return [arrays[start:start + per_layer] for start in range(0, len(arrays), per_layer)]

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled or deep-copied: the parameters and gradients are made views of the flat arrays again.

        A copy copies each array on its own, views included: the optimizer
        would update the copied flat arrays and the layers would never see it.
        """
        self.__dict__.update(state)
        shapes = self._parameter_shapes()
        self.parameters = shaped_views(self.flat_parameters, shapes)
        self.parameter_gradients = shaped_views(self.flat_gradients, shapes)
        for layer, parameters, gradients in zip(self.layers, self._by_layer(self.parameters),
                                                self._by_layer(self.parameter_gradients), strict=True):
            layer.hold(parameters, gradients)

    # ------------------------------------------------ the seed's attributes
    @property
    def weights(self) -> list[Array]:
        """The kernels ``[W_0, ..., W_{L-1}]`` (the arrays themselves)."""
        return [layer.kernel for layer in self.layers]

    @property
    def biases(self) -> list[Array]:
        """The biases ``[b_0, ...]``; ``[]`` without biases."""
        return [layer.bias for layer in self.layers if layer.bias is not None]

    @property
    def derivatives(self) -> list[Array]:
        r"""The kernels' gradients :math:`\partial L/\partial W_l` from the last backward pass."""
        return [layer.kernel_gradient for layer in self.layers]

    @property
    def bias_derivatives(self) -> list[Array]:
        r"""The biases' gradients :math:`\partial L/\partial b_l`; ``[]`` without biases."""
        return [layer.bias_gradient for layer in self.layers if layer.bias_gradient is not None]

    @property
    def activations(self) -> list[Array]:
        """``[a_0, ..., a_L]`` of the last forward pass, each 2-D ``(B, n)``."""
        return [self.layers[0].inputs] + [layer.outputs for layer in self.layers]

    # ---------------------------------------------------- the seed's methods
    def forward_propagate(self, inputs: Array) -> Array:
        r"""Propagate ``inputs`` through the network, caching every layer's values.

        .. math:: a_0 = x, \qquad a_{l+1} = f_l(a_l W_l + b_l)

        Parameters
        ----------
        inputs : ndarray
            One sample of shape ``(num_inputs,)`` or a batch ``(B, num_inputs)``.

        Returns
        -------
        ndarray
            The outputs ``a_L``: shape ``(num_outputs,)`` for one sample,
            ``(B, num_outputs)`` for a batch.
        """
        x = check.check_inputs(inputs, self.config.num_inputs, self.dtype)
        output = self._forward(np.atleast_2d(x))
        return output[0] if x.ndim == 1 else output

    def _forward(self, activations: Array) -> Array:
        """The forward pass of a checked 2-D batch: each layer feeds the next."""
        for layer in self.layers:
            activations = layer.forward(activations)
        return activations

    def back_propagate(self, error: Array) -> Array:
        r"""Backpropagate the error of the last forward pass; fill ``derivatives``.

        Sign convention: ``error`` is the gradient of the loss with respect to
        the outputs, :math:`\partial L / \partial \hat y` (for ``loss="mse"``
        that is :math:`\frac{2}{Bk}(\hat y - y)`). The seed passed the opposite
        sign, ``target - output``, and *added* its derivatives; here
        ``derivatives`` are the true gradients and ``gradient_descent``
        subtracts them. Each layer, from the last down, turns the error at its
        output into its parameters' gradients and the error at its input
        (:meth:`scratch.layers.Dense.backward`).

        Parameters
        ----------
        error : ndarray
            :math:`\partial L / \partial \hat y`, the shape of the last output.

        Returns
        -------
        ndarray
            :math:`\partial L / \partial x`, the error at the input layer.
        """
        output = self.layers[-1].outputs
        if output.shape[0] == 0:
            raise RuntimeError("back_propagate needs a forward_propagate first")
        error = np.asarray(error, dtype=self.dtype)
        single_sample = error.ndim == 1 and output.shape[0] == 1
        if (error[np.newaxis] if single_sample else error).shape != output.shape:
            raise ValueError(f"error must have the shape of the last output {output.shape}, got {error.shape}")
        input_error = self._backward(np.atleast_2d(error), input_error=True)
        return input_error[0] if single_sample else input_error

    def _backward(self, error: Array, input_error: bool) -> Array | None:
        """The backward pass of a checked 2-D error, last layer first; ``dL/dx`` only if ``input_error``."""
        for index in reversed(range(len(self.layers))):
            error = self.layers[index].backward(error, input_error=index > 0 or input_error)
        return error

    def gradient_descent(self, learning_rate: float) -> None:
        r"""One optimizer step from the last backward pass's gradients.

        For the default ``optimizer="sgd"``: :math:`\theta \leftarrow \theta - \eta\, \partial L/\partial \theta`
        for every kernel and bias (see :mod:`scratch.optimizers` for the others).
        """
        self.optimizer.apply_flat(self.flat_parameters, self.flat_gradients, learning_rate)

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False,
              progress: Callable[[int], None] | None = None) -> list[float]:
        """Mini-batch training with the semantics of Keras ``fit``.

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
        progress : callable, optional
            Called with each batch's number of samples once it is trained
            (a progress bar's ``update``); not part of the comparison protocol.

        Returns
        -------
        list of float
            The loss of each epoch.

        Raises
        ------
        TrainingDivergedError
            When a batch's loss is NaN or infinite (before that step's update).
        """
        inputs = check.check_inputs(x, self.config.num_inputs, self.dtype)
        if inputs.ndim != 2:
            raise ValueError(f"x must be a 2-D batch (n, {self.config.num_inputs}) to train on, "
                             f"got shape {inputs.shape}")
        targets = self._targets(y, inputs)
        epochs = check.check_epochs(epochs)
        learning_rate = check.check_learning_rate(learning_rate)
        batch_size = check.check_batch_size(batch_size)
        shuffle = check.check_optional_seed("shuffle", shuffle)

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
                    if progress is not None:
                        progress(batch.stop - batch.start)
                history.append(loss_sum / num_samples)
                if verbose:
                    print(f"Epoch {epoch}/{epochs} - loss: {history[-1]:.4f}")
        return history

    def _train_step(self, inputs: Array, targets: Array, learning_rate: float) -> float:
        """Forward, loss, backward, update on one checked batch; returns the pre-update loss."""
        loss, error = self.loss_function.value_and_gradient(targets, self._loss_input(self._forward(inputs)))
        if math.isfinite(loss):
            self._backward(error, input_error=False)
            self.gradient_descent(learning_rate)
        return loss

    def _loss_input(self, outputs: Array) -> Array:
        """What the loss is computed from: the outputs, or the output layer's ``z`` when :attr:`from_logits`."""
        return self.layers[-1].z if self.from_logits else outputs

    # The seed's private helpers, kept for learners who read the seed first.
    _sigmoid = staticmethod(act.sigmoid)
    _sigmoid_derivative = staticmethod(act.sigmoid_derivative)
    _mse = staticmethod(mse)

    # ---------------------------------------------- the comparison protocol
    def forward(self, x: Array) -> Array:
        """The outputs for ``x`` (one sample or a batch); same as ``forward_propagate``."""
        return self.forward_propagate(x)

    predict = forward

    def _checked_pair(self, x: Array, y: Array) -> tuple[Array, Array]:
        """``x`` and ``y`` checked, as a 2-D batch and its targets (labels stay 1-D)."""
        inputs = check.check_inputs(x, self.config.num_inputs, self.dtype)
        targets = self._targets(y, inputs)
        return np.atleast_2d(inputs), targets if targets.ndim == 1 and targets.dtype.kind == "i" else np.atleast_2d(
            targets)

    def _targets(self, y: Array, inputs: Array) -> Array:
        return check.check_targets(y, inputs, self.config.num_outputs, self.dtype, self.loss_function.targets)

    def gradients(self, x: Array, y: Array) -> list[Array]:
        """``dLoss/dθ`` of this model's loss on the batch, in ``get_weights()`` order."""
        inputs, targets = self._checked_pair(x, y)
        prediction = self._loss_input(self._forward(inputs))
        self._backward(self.loss_function.gradient(targets, prediction), input_error=False)
        return [g.copy() for g in self.parameter_gradients]

    def evaluate(self, x: Array, y: Array) -> float:
        """This model's loss on the whole of ``(x, y)``."""
        inputs, targets = self._checked_pair(x, y)
        return self.loss_function.value(targets, self._loss_input(self._forward(inputs)))

    def accuracy(self, x: Array, y: Array) -> float | None:
        """Keras's ``"accuracy"`` metric for this loss on ``(x, y)``; ``None`` for a regression loss."""
        accuracy = LOSSES[self.config.loss].accuracy
        if accuracy is None:
            return None
        inputs, targets = self._checked_pair(x, y)
        return accuracy(targets, self._forward(inputs))

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Shapes of ``get_weights()``, in order."""
        return [p.shape for p in self.parameters]

    def get_weights(self) -> list[Array]:
        """Copies of the parameters, ``[W0, (b0,) W1, (b1,) ...]`` (Keras's order)."""
        return [p.copy() for p in self.parameters]

    def set_weights(self, weights: Sequence[Array]) -> None:
        """Replace every parameter (copied in place); on any error the old ones are kept."""
        for parameter, value in zip(self.parameters, check.check_weights(weights, self.weight_shapes(), self.dtype)):
            parameter[...] = value

    def get_optimizer_state(self) -> OptimizerState:
        """The optimizer's step count and slots (see :mod:`scratch.optimizers`), as copies."""
        return self.optimizer.get_state()

    def set_optimizer_state(self, state: Mapping[str, Any]) -> None:
        """Restore the optimizer's state: every slot it keeps, one array per parameter; checked whole first."""
        self.optimizer.set_state(state)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Write the configuration, weights and optimizer state to ``path`` as ``.npz``, atomically."""
        persistence.save(path, self.config, self.get_weights(), self.get_optimizer_state())

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLP:
        """Rebuild a network written by :meth:`save`."""
        config, weights, optimizer_state = persistence.load(path)
        mlp = cls(config)
        mlp.set_weights(weights)
        mlp.set_optimizer_state(optimizer_state)
        return mlp
