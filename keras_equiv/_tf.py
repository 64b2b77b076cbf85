"""Import TensorFlow and Keras lazily, quietly, and only once.

TensorFlow 2.16+ writes its start-up notes (oneDNN, CUDA drivers, CPU
features) straight to file descriptor 2 from C++ before ``absl`` logging is
initialised, so ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them. Unless
the user chose a log level themselves, we set it and hold descriptor 2 on
``/dev/null`` for the duration of the import. Python exceptions still reach
the caller.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

INSTALL_HINT = (
    "keras_equiv needs TensorFlow with Keras 3: pip install 'tensorflow>=2.16' "
    "(or pip install -e . in this project). The scratch package works without it."
)


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


def _import() -> tuple[ModuleType, ModuleType]:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    user_chose_level = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    quiet = contextlib.nullcontext() if user_chose_level else _stderr_silenced()
    if not user_chose_level:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        with quiet:
            import keras
            import tensorflow as tf

            tf.config.list_physical_devices()  # device start-up notes, e.g. "failed call to cuInit"
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from error
    if not keras.__version__.startswith("3.") or keras.backend.backend() != "tensorflow":
        raise ImportError(
            f"keras_equiv needs Keras 3 on the TensorFlow backend; found Keras {keras.__version__} "
            f"on {keras.backend.backend()!r} (set KERAS_BACKEND=tensorflow)"
        )
    return tf, keras


tf, keras = _import()
