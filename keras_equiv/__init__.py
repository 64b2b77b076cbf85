"""The scratch MLP's twin in Keras: the same network, provably, on TensorFlow, JAX or PyTorch.

``import keras_equiv`` is cheap: Keras (and TensorFlow, on its backend) is
imported, quietly, when :class:`KerasMLP`, :func:`build_model` or
:func:`compile_model` is first used, on the process's backend
(``KERAS_BACKEND``, TensorFlow unless set). Another backend runs in a worker
process: :mod:`keras_equiv.remote`. ``scratch`` never imports Keras.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .backends import INSTALL_HINT

if importlib.util.find_spec("keras") is None:
    raise ImportError(INSTALL_HINT)

__all__ = ["KerasMLP", "build_model", "compile_model"]


def __getattr__(name: str) -> Any:
    """``KerasMLP``, ``build_model``, ``compile_model``: imported from :mod:`keras_equiv.model` on first use."""
    if name in __all__:
        return getattr(importlib.import_module(".model", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
