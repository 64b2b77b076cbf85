"""Deliberately wrong Keras MLPs: one classic mistake each, a few lines on top of ``KerasMLP``.

The Keras-side mistakes of the pitfall gallery, each written once; the NumPy
ones are in :mod:`compare.gallery.wrong`. This module imports TensorFlow
(through ``keras_equiv``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from keras_equiv import KerasMLP
from keras_equiv._tf import keras
from keras_equiv.floatx import keras_floatx

Array = np.ndarray

#: Seed of Keras's own randomness (its shuffling, its glorot draw), so that a
#: mistake that relies on it gives the same numbers on every run.
KERAS_SEED = 1234


class KerasFitDefaults(KerasMLP):
    """``train`` calls ``fit`` the way a learner first writes it, keeping some of its defaults.

    :meth:`fit_options` says which arguments are still passed; whatever is
    left out takes Keras's default (``batch_size=32``, ``shuffle=True``).
    """

    def fit_options(self, batch_size: int) -> dict[str, Any]:
        return {"batch_size": batch_size, "shuffle": False}

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        keras.utils.set_random_seed(KERAS_SEED)  # Keras's own shuffling, made repeatable
        with keras_floatx(self.dtype.name):
            self.model.optimizer.learning_rate = learning_rate
            history = self.model.fit(x, y, epochs=epochs, verbose=0, **self.fit_options(batch_size))
        return [float(loss) for loss in history.history["loss"]]


class KerasDefaultBatch(KerasFitDefaults):
    """``model.fit(x, y, epochs, shuffle=False)``: no ``batch_size``, so Keras takes 32 samples a step."""

    def fit_options(self, batch_size: int) -> dict[str, Any]:
        return {"shuffle": False}


class KerasDefaultShuffle(KerasFitDefaults):
    """``model.fit(x, y, epochs, batch_size)``: no ``shuffle=False``, so Keras reshuffles every epoch."""

    def fit_options(self, batch_size: int) -> dict[str, Any]:
        return {"batch_size": batch_size}


class KerasForgotTheCopy(KerasMLP):
    """Never takes the weights it is given: it keeps the glorot_uniform ones Keras drew itself."""

    def set_weights(self, weights: Any) -> None:
        pass


class KerasDoubleSoftmax(KerasMLP):
    """A softmax output *and* ``CategoricalCrossentropy(from_logits=True)``: the probabilities go through a
    second softmax inside the loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with keras_floatx(self.dtype.name):
            self.model.compile(optimizer=self.model.optimizer, steps_per_execution=self.steps_per_execution,
                               loss=keras.losses.CategoricalCrossentropy(from_logits=True, dtype=self.dtype.name))
