"""The Keras 3 backends ``keras_equiv`` runs on, what each needs, and its gradients.

This package imports no Keras: the command line asks it whether a backend is
installed, and a worker process (:mod:`keras_equiv.worker`) asks it which
environment to set *before* its first ``import keras``. The few lines that
differ between backends (how a gradient is taken) are one small module each,
imported only inside a process running that backend (TensorFlow's also hands
``fit`` its data as a cached ``tf.data.Dataset``):

==============  =======================================  =========================================
backend         gradients                                module
==============  =======================================  =========================================
``tensorflow``  ``tf.GradientTape`` around the forward   :mod:`keras_equiv.backends.tensorflow`
                pass and ``model.compute_loss``
``jax``         ``jax.grad`` of ``stateless_call`` and   :mod:`keras_equiv.backends.jax`
                ``stateless_compute_loss``
``torch``       ``loss.backward()``, then each           :mod:`keras_equiv.backends.torch`
                variable's ``.grad``
==============  =======================================  =========================================
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

#: The backends, in the order reports list them.
BACKENDS = ("tensorflow", "jax", "torch")
#: The package each backend needs besides ``keras``.
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
#: How to install each, with this project's extras.
INSTALLS = {
    "tensorflow": "pip install 'tensorflow>=2.16' (or pip install -e . in this project)",
    "jax": "pip install 'jax[cpu]' (or pip install -e '.[jax]' in this project)",
    "torch": "pip install torch (or pip install -e '.[torch]'; see docs/backends.md for the CPU-only wheel)",
}
INSTALL_HINT = (f"keras_equiv needs TensorFlow with Keras 3: {INSTALLS['tensorflow']}. "
                "The scratch package works without it.")
#: ``steps_per_execution`` a ``KerasMLP`` compiles with by default: the PyTorch backend refuses more than 1.
DEFAULT_STEPS_PER_EXECUTION = {"tensorflow": 1000, "jax": 1000, "torch": 1}


class BackendUnavailable(ImportError):
    """The backend asked for is not installed (the message says how to install it)."""


def check_name(name: str) -> str:
    """``name`` if it is one of :data:`BACKENDS`; else a ``ValueError`` listing them."""
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {name!r}")
    return name


def installed(name: str) -> bool:
    """Whether ``keras`` and the backend's package can be imported (looked up, not imported)."""
    return all(importlib.util.find_spec(package) is not None for package in ("keras", PACKAGES[check_name(name)]))


def install_hint(name: str) -> str:
    """One line: the backend is not installed, and how to install it."""
    return f"the {check_name(name)} backend is not installed: {INSTALLS[name]}"


def require(name: str) -> str:
    """``name``, checked to be a backend and installed (:class:`BackendUnavailable` otherwise)."""
    if not installed(check_name(name)):
        raise BackendUnavailable(install_hint(name))
    return name


def current() -> str:
    """The backend of this process: Keras's own once imported, else what ``KERAS_BACKEND`` will make it."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def environment(name: str, x64: bool = True) -> dict[str, str]:
    """The variables a process sets before its first ``import keras`` to run on backend ``name``.

    On JAX, ``JAX_ENABLE_X64``: without it every float64 array is silently
    made float32 (``x64=False`` shows what that does).
    """
    variables = {"KERAS_BACKEND": check_name(name)}
    if name == "jax":
        variables["JAX_ENABLE_X64"] = "1" if x64 else "0"
    return variables


def gradients(model: Any, inputs: Any, targets: Any) -> list:
    """``dLoss/dθ`` of a compiled model's loss on one batch, by the process's backend (NumPy arrays)."""
    return _module().gradients(model, inputs, targets)


def fit_data(inputs: Any, targets: Any, batch_size: int) -> dict[str, Any]:
    """The data arguments of ``model.fit`` for these arrays in batches of ``batch_size``, in order.

    The arrays themselves (``x``, ``y``, ``batch_size``), except on TensorFlow
    (see :func:`keras_equiv.backends.tensorflow.fit_data`).
    """
    return getattr(_module(), "fit_data", _arrays)(inputs, targets, batch_size)


def _arrays(inputs: Any, targets: Any, batch_size: int) -> dict[str, Any]:
    return {"x": inputs, "y": targets, "batch_size": batch_size}


def _module() -> Any:
    """The module of the process's backend (imported only now: it imports the backend's package)."""
    return importlib.import_module(f".{current()}", __name__)
