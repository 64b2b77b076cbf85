"""``KerasMLP``: the scratch MLP's twin, a plain ``keras.Sequential``.

What a learner would write themselves is :func:`build_model` and
:func:`compile_model`; the class around them only adds the comparison
protocol and the copying of weights both ways.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import scratch
from scratch import MLPConfig, TrainingDivergedError
from scratch import validation as check
from scratch.batching import epoch_orders
from scratch.config import Configured
from scratch.losses import LOGIT_OUTPUTS
from scratch.optimizers import make_optimizer as make_scratch_optimizer

from . import backends, registry
from ._tf import keras
from .floatx import keras_floatx
from .probe import measured_conventions

#: Default for ``steps_per_execution`` on TensorFlow and JAX: run up to this
#: many training steps in one call into the compiled graph. It changes no
#: number (the tests check bit-identical losses and weights against
#: ``steps_per_execution=1``) and removes most of ``fit``'s per-step Python
#: overhead at small batch sizes. The PyTorch backend refuses more than 1.
STEPS_PER_EXECUTION = backends.DEFAULT_STEPS_PER_EXECUTION["tensorflow"]


def build_model(
    layer_sizes: Sequence[int], activations: Sequence[str], use_bias: bool, dtype: str
) -> keras.Sequential:
    """The network as a learner writes it: an ``Input`` then one ``Dense`` per layer."""
    layers = [keras.Input(shape=(layer_sizes[0],), dtype=dtype)]
    for units, activation in zip(layer_sizes[1:], activations):
        keras_activation = registry.lookup(registry.ACTIVATIONS, "activation", activation)
        layers.append(keras.layers.Dense(units, activation=keras_activation, use_bias=use_bias, dtype=dtype))
    return keras.Sequential(layers)


def compile_model(model: keras.Sequential, config: MLPConfig, steps_per_execution: int = 1) -> None:
    """Compile with the config's optimizer and loss, all in its dtype; the optimizer is built at once.

    The loss is an object with its dtype spelled out (``"mse"`` becomes
    ``keras.losses.MeanSquaredError(dtype=dtype)``): a loss object otherwise
    computes in ``floatx`` (float32), whatever the model's dtype. Building the
    optimizer now (rather than on the first ``fit``) gives its state, the step
    count and slots, from the start.
    """
    accuracy = registry.ACCURACIES.get(config.loss)
    with keras_floatx(config.dtype):
        model.compile(
            optimizer=registry.make_optimizer(config.optimizer),  # learning rate set by each train() call
            loss=registry.make_loss(config.loss, config.dtype),
            metrics=None if accuracy is None else [accuracy()],
            steps_per_execution=steps_per_execution,
        )
        model.optimizer.build(model.trainable_variables)


class KerasMLP(Configured):
    """The same network as :class:`scratch.MLP`, built and trained by Keras.

    The constructor takes the same arguments as ``scratch.MLP`` (the fields of
    :class:`scratch.MLPConfig`, or one config) and starts from the very same
    initial weights: they are drawn by NumPy exactly as ``scratch.MLP`` draws
    them (``init="glorot_uniform"`` included) and copied in, so
    ``KerasMLP(..., seed=s)`` and ``MLP(..., seed=s)`` are one network.

    It runs on the process's Keras backend (:attr:`backend`: TensorFlow
    unless ``KERAS_BACKEND`` says ``jax`` or ``torch``); on another backend
    than the process's, use :class:`keras_equiv.remote.BackendWorker`.

    Parameters
    ----------
    steps_per_execution : int, optional
        Passed to ``model.compile``: training steps per graph call. 1 is
        Keras's default; the default here, 1000 (1 on PyTorch, which refuses
        more), gives the same numbers faster.
    """

    def __init__(self, *args: Any, steps_per_execution: int | None = None, **kwargs: Any) -> None:
        self.config = MLPConfig.build(*args, **kwargs)
        #: The Keras backend this model runs on: ``"tensorflow"``, ``"jax"`` or ``"torch"``.
        self.backend = keras.backend.backend()
        self._check_crossentropy_convention()
        if steps_per_execution is None:
            steps_per_execution = backends.DEFAULT_STEPS_PER_EXECUTION[self.backend]
        self.steps_per_execution = check.check_layer_size("steps_per_execution", steps_per_execution)
        if self.backend == "torch" and self.steps_per_execution > 1:
            raise ValueError(f"steps_per_execution must be 1 with the PyTorch backend (Keras refuses more in fit); "
                             f"got {self.steps_per_execution}")
        self.dtype = self.config.np_dtype
        sizes = self.config.layer_sizes
        self.model = build_model(sizes, self.config.activation, self.config.use_bias, self.config.dtype)
        compile_model(self.model, self.config, self.steps_per_execution)
        self.set_weights(scratch.MLP(self.config).get_weights())

    def _check_crossentropy_convention(self) -> None:
        """Refuse a config whose cross-entropy convention this backend cannot compute (measured, see
        :func:`keras_equiv.probe.measured_conventions`): after a sigmoid or softmax output Keras on
        TensorFlow takes the logits, on JAX and PyTorch the clipped probabilities."""
        takes_logits = scratch.LOSSES[self.config.loss].from_logits is not None and \
            self.config.activation[-1] in LOGIT_OUTPUTS
        from_logits = measured_conventions().crossentropy_from_logits
        if takes_logits and self.config.crossentropy_from_logits != from_logits:
            computes = "from its logits" if from_logits else "from the clipped probabilities"
            raise ValueError(f"crossentropy_from_logits={self.config.crossentropy_from_logits} cannot be mirrored on "
                             f"{self.backend}: Keras there computes a cross-entropy after a sigmoid or softmax output "
                             f"{computes} (crossentropy_from_logits={from_logits})")

    @property
    def side_label(self) -> str:
        """How reports name this side: ``keras_equiv.KerasMLP``, with the backend unless it is TensorFlow."""
        return "keras_equiv.KerasMLP" + ("" if self.backend == "tensorflow" else f"[{self.backend}]")

    # ------------------------------------------------------------ conversion
    @classmethod
    def from_scratch(cls, mlp: scratch.MLP, **kwargs: Any) -> KerasMLP:
        """The same network as ``mlp``, with a copy of its current weights and optimizer state.

        Keyword arguments override the copied configuration, e.g.
        ``dtype="float32"`` (the weights are then rounded to float32), or set
        ``steps_per_execution``.
        """
        if not isinstance(mlp, scratch.MLP):
            raise TypeError(f"from_scratch expects a scratch.MLP, got {type(mlp).__name__}")
        steps = {"steps_per_execution": kwargs.pop("steps_per_execution")} if "steps_per_execution" in kwargs else {}
        twin = cls(mlp.config.replace(**kwargs), **steps)
        twin.set_weights(mlp.get_weights())
        twin.set_optimizer_state(mlp.get_optimizer_state())
        return twin

    def to_scratch(self) -> scratch.MLP:
        """A ``scratch.MLP`` with this configuration and a copy of these weights and optimizer state."""
        mlp = scratch.MLP(self.config)
        mlp.set_weights(self.get_weights())
        mlp.set_optimizer_state(self.get_optimizer_state())
        return mlp

    # ---------------------------------------------- the comparison protocol
    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``[W0, (b0,) W1, (b1,) ...]``, Keras's own order."""
        return self.model.get_weights()

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Replace every parameter; on any error the old ones are kept."""
        shapes = [tuple(v.shape) for v in self.model.weights]
        self.model.set_weights(check.check_weights(weights, shapes, self.dtype))

    def get_optimizer_state(self) -> dict[str, Any]:
        """``{"iterations": ..., "<slot>": [...]}`` read from the Keras optimizer's variables."""
        optimizer = self.model.optimizer
        state: dict[str, Any] = {"iterations": int(optimizer.iterations.numpy())}
        for slot, variables in self._slot_variables().items():
            state[slot] = [np.array(v.numpy()) for v in variables]
        return state

    def set_optimizer_state(self, state: Mapping[str, Any]) -> None:
        """Assign a state (see :meth:`get_optimizer_state`) to the Keras optimizer; checked whole first.

        The state must hold exactly the slots this optimizer keeps, one array
        per parameter; the same check, with the same messages, as ``scratch.MLP``'s.
        """
        slots = self._slot_variables()
        shapes = [tuple(v.shape) for v in self.model.trainable_variables]
        owner = make_scratch_optimizer(self.config.optimizer).describe()
        iterations, values = check.check_optimizer_state(state, list(slots), shapes, self.dtype, owner)
        self.model.optimizer.iterations.assign(iterations)
        for slot, arrays in values.items():
            for variable, array in zip(slots[slot], arrays):
                variable.assign(array)

    def _slot_variables(self) -> dict[str, list]:
        """The Keras optimizer's slot variables by scratch slot name (only the slots it has)."""
        attributes = registry.slot_attributes(self.config.optimizer["name"])
        optimizer = self.model.optimizer
        found = {slot: list(getattr(optimizer, attribute, None) or []) for slot, attribute in attributes.items()}
        return {slot: variables for slot, variables in found.items() if variables}

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        return check.check_inputs(x, self.num_inputs, self.dtype)

    def _checked_pair(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x`` as a 2-D batch and ``y`` as the loss expects it (class labels as int64 of shape ``(n,)``)."""
        inputs = self._inputs(x)
        kind = scratch.LOSSES[self.config.loss].targets
        targets = check.check_targets(y, inputs, self.num_outputs, self.dtype, kind)
        return np.atleast_2d(inputs), targets if kind == "labels" else np.atleast_2d(targets)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``model(x)``: the outputs for one sample or a batch."""
        inputs = self._inputs(x)
        outputs = keras.ops.convert_to_numpy(self.model(np.atleast_2d(inputs), training=False))
        return outputs[0] if inputs.ndim == 1 else outputs

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``model.predict(x)``: what users call; the same numbers as ``forward``.

        All of ``x`` is one batch, as in ``forward``. With Keras's default
        ``batch_size=32`` and ``steps_per_execution > 1``, ``predict`` hands its
        compiled function a list of batches whose length depends on ``len(x)``,
        so each new length traced the function again (TensorFlow's "triggered
        tf.function retracing" warning); one batch of any length is traced at
        most twice (the second trace leaves the batch dimension open).
        """
        inputs = np.atleast_2d(self._inputs(x))
        with keras_floatx(self.dtype.name):
            outputs = self.model.predict(inputs, batch_size=len(inputs), verbose=0)
        return outputs[0] if np.ndim(x) == 1 else outputs

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """``dLoss/dθ`` of the model's own compiled loss, as the backend takes it (see :mod:`keras_equiv.backends`):
        ``tf.GradientTape``, ``jax.grad`` or ``loss.backward()``."""
        inputs, targets = self._checked_pair(x, y)
        with keras_floatx(self.dtype.name):
            return backends.gradients(self.model, inputs, targets)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """``model.evaluate`` on the whole of ``(x, y)`` as one batch: the loss."""
        return self._evaluated(x, y)["loss"]

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float | None:
        """The ``"accuracy"`` metric ``model.evaluate`` reports; ``None`` for a regression loss."""
        return self._evaluated(x, y).get("accuracy")

    def _evaluated(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        inputs, targets = self._checked_pair(x, y)
        with keras_floatx(self.dtype.name):
            logs = self.model.evaluate(inputs, targets, batch_size=len(inputs), verbose=0, return_dict=True)
        return {name: float(value) for name, value in logs.items()}

    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False,
              progress: Callable[[int], None] | None = None) -> list[float]:
        """``model.fit`` with ``shuffle=False``, returning ``History.history["loss"]``.

        On TensorFlow ``fit`` is given the batches as a cached ``tf.data.Dataset``
        (:func:`keras_equiv.backends.tensorflow.fit_data`): the same training,
        faster.

        With ``shuffle=None`` this is one ``fit(x, y, batch_size, epochs,
        shuffle=False)`` call. With an int ``shuffle`` Keras must see the
        scratch side's order, so each epoch is one ``fit`` call on the samples
        permuted by :func:`scratch.batching.epoch_orders` (``initial_epoch``
        keeps the epoch count running). ``progress``, if given, is called with
        the number of samples trained since its last call, each time ``fit``
        returns from its compiled steps (every ``steps_per_execution`` batches).
        """
        inputs, targets = self._checked_pair(x, y)
        epochs = check.check_epochs(epochs)
        learning_rate = check.check_learning_rate(learning_rate)
        batch_size = check.check_batch_size(batch_size)
        shuffle = check.check_optional_seed("shuffle", shuffle)
        fit_kwargs = dict(
            shuffle=False,
            verbose=2 if verbose else 0,
            callbacks=[StopOnNonFiniteLoss()] + ([] if progress is None else [
                ReportProgress(progress, batch_size, len(inputs))]),
        )
        with keras_floatx(self.dtype.name):
            self.model.optimizer.learning_rate = learning_rate
            if shuffle is None:
                data = backends.fit_data(inputs, targets, batch_size)
                history = self.model.fit(**data, epochs=epochs, **fit_kwargs)
                return _finite_losses(history.history.get("loss", []))
            losses = []
            for epoch, order in enumerate(epoch_orders(len(inputs), epochs, shuffle)):
                data = backends.fit_data(inputs[order], targets[order], batch_size)
                history = self.model.fit(**data, initial_epoch=epoch, epochs=epoch + 1, **fit_kwargs)
                losses += _finite_losses(history.history["loss"], first_epoch=epoch + 1)
            return losses


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Like ``keras.callbacks.TerminateOnNaN``, without printing: ``train`` raises instead."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and not math.isfinite(float(logs.get("loss", 0.0))):
            self.model.stop_training = True


class ReportProgress(keras.callbacks.Callback):
    """Tell ``progress(n)`` how many more samples ``fit`` has trained, as its batches end."""

    def __init__(self, progress: Callable[[int], None], batch_size: int, num_samples: int) -> None:
        super().__init__()
        self.progress, self.batch_size, self.num_samples = progress, batch_size, num_samples
        self.done = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.done = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        done = min((batch + 1) * self.batch_size, self.num_samples)
        if done > self.done:
            self.progress(done - self.done)
            self.done = done


def _finite_losses(losses: Sequence[float], first_epoch: int = 1) -> list[float]:
    """The epoch losses as floats; the first NaN or inf one raises, naming its epoch."""
    for epoch, loss in enumerate(losses, start=first_epoch):
        if not math.isfinite(loss):
            raise TrainingDivergedError(
                f"training diverged at epoch {epoch}: the loss is {loss}; try a smaller learning_rate"
            )
    return [float(loss) for loss in losses]

