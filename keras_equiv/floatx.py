"""Run Keras code under a given ``floatx`` and put the caller's back afterwards.

Passing ``dtype=`` to each layer and to the loss is not enough for float64:
Keras also creates the optimizer's learning-rate variable and ``fit``'s loss
tracker (a ``Mean`` metric) in ``keras.config.floatx()``, float32 by default.
In float32, the learning rate 0.1 becomes 0.100000001490116 and the epoch loss
is accumulated and rounded in float32, so a float64 model would no longer be
float64 everywhere. We switch ``floatx`` only around our own calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._tf import keras


@contextlib.contextmanager
def keras_floatx(dtype: str) -> Iterator[None]:
    """Temporarily ``keras.config.set_floatx(dtype)``; the old value is restored."""
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)
