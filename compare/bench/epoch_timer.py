"""The seconds of each epoch of a Keras ``fit`` call, measured from inside it.

Importing this module imports Keras (and so TensorFlow). Only the Keras rows
(:func:`compare.bench.runners.keras_runners`) import it, when they are built,
so that importing :mod:`compare.bench` and its NumPy-only modules does not.
"""

from __future__ import annotations

import time

from keras_equiv._tf import keras


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch of ``fit`` (``time.perf_counter``).

    Times what happens between ``on_epoch_begin`` and ``on_epoch_end``, so
    ``fit``'s one-off set-up per call (data adapter, callbacks, tracing on the
    first call) is not in them. Only epoch hooks are used: per-batch logs are
    not forced into Python.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)
