"""Each registry name of :mod:`scratch` mapped to its Keras counterpart.

One dict per registry. A name missing here is a ``ValueError`` naming the
registry, never a silent fallback: a loss, an activation or an optimizer that
``scratch`` knows but this module does not map is refused before a model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scratch.optimizers import SCRATCH_ONLY_ARGUMENTS

from ._tf import keras
from .losses import SeedLoss

#: scratch activation name -> the ``activation=`` argument of ``keras.layers.Dense``.
ACTIVATIONS: dict[str, str] = {name: name for name in ("sigmoid", "tanh", "relu", "linear", "softmax")}

#: scratch loss name -> a function ``dtype -> keras.losses.Loss`` computing in ``dtype``.
LOSSES: dict[str, Callable[[str], keras.losses.Loss]] = {
    "mse": lambda dtype: keras.losses.MeanSquaredError(dtype=dtype),
    "seed": lambda dtype: SeedLoss(dtype=dtype),
    "mae": lambda dtype: keras.losses.MeanAbsoluteError(dtype=dtype),
    "huber": lambda dtype: keras.losses.Huber(delta=1.0, dtype=dtype),
    "binary_crossentropy": lambda dtype: keras.losses.BinaryCrossentropy(dtype=dtype),
    "categorical_crossentropy": lambda dtype: keras.losses.CategoricalCrossentropy(dtype=dtype),
    "sparse_categorical_crossentropy": lambda dtype: keras.losses.SparseCategoricalCrossentropy(dtype=dtype),
}

#: scratch loss name -> the accuracy metric that matches it. Keras's ``metrics=["accuracy"]`` picks one by the
#: shapes alone (binary only for one output), so a 3-output binary cross-entropy would get categorical accuracy.
ACCURACIES: dict[str, Callable[[], keras.metrics.Metric]] = {
    "binary_crossentropy": lambda: keras.metrics.BinaryAccuracy(name="accuracy"),
    "categorical_crossentropy": lambda: keras.metrics.CategoricalAccuracy(name="accuracy"),
    "sparse_categorical_crossentropy": lambda: keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
}

#: scratch optimizer name -> (Keras class, {scratch slot name: the attribute holding Keras's slot variables}),
#: the attributes as each class's ``build`` names them (``keras/src/optimizers/{sgd,adam,rmsprop}.py``).
OPTIMIZERS: dict[str, tuple[type[keras.optimizers.Optimizer], dict[str, str]]] = {
    "sgd": (keras.optimizers.SGD, {"momentum": "momentums"}),
    "adam": (keras.optimizers.Adam, {"momentum": "_momentums", "velocity": "_velocities",
                                     "velocity_hat": "_velocity_hats"}),
    "rmsprop": (keras.optimizers.RMSprop, {"velocity": "_velocities", "momentum": "_momentums",
                                           "average_gradient": "_average_gradients"}),
}


def lookup(registry: Mapping[str, Any], kind: str, name: str) -> Any:
    """``registry[name]``, or a ``ValueError`` saying Keras has no twin for this ``kind``."""
    if name not in registry:
        raise ValueError(f"keras_equiv has no Keras {kind} for {name!r}; it maps {', '.join(sorted(registry))}")
    return registry[name]


def make_loss(name: str, dtype: str) -> keras.losses.Loss:
    """The Keras loss object for the scratch loss ``name``, computed in ``dtype``."""
    return lookup(LOSSES, "loss", name)(dtype)


def make_optimizer(config: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """The Keras optimizer for a scratch optimizer config ``{"name": ..., **arguments}``.

    The learning rate is set by each ``train`` call; the other arguments have
    Keras's own names, so they pass through unchanged, except the scratch-only
    ones (``hyperparameter_dtype``: Keras always rounds as TensorFlow does).
    """
    cls, _ = lookup(OPTIMIZERS, "optimizer", config["name"])
    options = {key: value for key, value in config.items() if key != "name" and key not in SCRATCH_ONLY_ARGUMENTS}
    return cls(learning_rate=0.01, **options)


def slot_attributes(name: str) -> dict[str, str]:
    """``{scratch slot name: Keras optimizer attribute}`` for the optimizer ``name``."""
    return lookup(OPTIMIZERS, "optimizer", name)[1]
