"""Import Keras (and TensorFlow, on its backend) lazily, quietly, and only once.

Keras runs on the backend that ``KERAS_BACKEND`` names when ``keras`` is first
imported: TensorFlow unless the process says otherwise (this module sets it
to ``"tensorflow"`` when unset). ``keras_equiv`` works on ``"tensorflow"``,
``"jax"`` and ``"torch"`` (see :mod:`keras_equiv.backends`); ``tf`` is the
TensorFlow module on the TensorFlow backend and ``None`` on the others.
A process that wants another backend runs it in a worker process
(:mod:`keras_equiv.remote`), which sets the variable before its first import.

TensorFlow 2.16+ writes its start-up notes (oneDNN, CUDA drivers, CPU
features) straight to file descriptor 2 from C++ before ``absl`` logging is
initialised, so ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them (whatever
its value: a level inherited from a parent process that imported this module
does not either). Unless the user asked for every note
(``TF_CPP_MIN_LOG_LEVEL=0``), descriptor 2 is held on ``/dev/null`` for the
duration of the import, and the level defaults to 2. Python exceptions still
reach the caller.

One TensorFlow warning is dropped after the import, and only that one:
"N out of the last M calls to <function ...multi_step_on_iterator> triggered
tf.function retracing". TensorFlow counts traces per Python *code object*, so
the compiled training and evaluation functions of every Keras model count as
one function. Each new model must trace its own functions once, on its first
``fit`` and ``evaluate``: a program that builds a few models in a row (the
pitfall gallery, a test suite, a loop over configurations) is warned of
"retracing" although no function was traced twice. The traces that were
avoidable are avoided where they happen (see ``KerasMLP.predict``); the tests
check that one model used with many shapes draws no such warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from .backends import INSTALL_HINT


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import() -> tuple[ModuleType | None, ModuleType]:
    from .backends import BACKENDS, install_hint  # no Keras there

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    backend = os.environ["KERAS_BACKEND"]
    if backend == "jax":  # float64 arrays need x64 before JAX creates any array; JAX_ENABLE_X64=0 is respected
        os.environ.setdefault("JAX_ENABLE_X64", "1")
    wants_every_note = os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"
    quiet = contextlib.nullcontext() if wants_every_note else _stderr_silenced()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = None
    try:
        with quiet:
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices()  # device start-up notes, e.g. "failed call to cuInit"
    except ImportError as error:
        hint = INSTALL_HINT if backend == "tensorflow" else install_hint(backend)
        raise ImportError(f"{hint} ({error})") from error
    if not keras.__version__.startswith("3.") or keras.backend.backend() not in BACKENDS:
        raise ImportError(
            f"keras_equiv needs Keras 3 on one of the backends {', '.join(BACKENDS)}; found Keras "
            f"{keras.__version__} on {keras.backend.backend()!r} (set KERAS_BACKEND=tensorflow)"
        )
    if tf is not None:
        tf.get_logger().addFilter(RETRACING_FILTER)
    return tf, keras


class _PerModelTracesFilter(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warning (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


RETRACING_FILTER = _PerModelTracesFilter()
tf, keras = _import()
