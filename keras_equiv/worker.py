"""The worker process's side: one Keras backend, serving ``KerasMLP`` models to the process that started it.

``python -m keras_equiv.worker`` is started by :class:`keras_equiv.remote.BackendWorker`
as a new interpreter (never forked), with the backend's environment already
set (``KERAS_BACKEND``, JAX's ``JAX_ENABLE_X64``), so that its first
``import keras`` is on that backend. It connects back to the address and key
the parent gave it (:data:`ADDRESS_VARIABLE`, :data:`KEY_VARIABLE`), then answers requests
``(model_id, method, args, kwargs)`` one at a time with ``("ok", result)``,
``("error", exception)`` or, while a model trains, ``("progress", samples)``
messages first. ``model_id`` ``None`` addresses the worker itself
(:data:`WORKER_METHODS`). Ctrl-C is left to the parent, which ends the worker.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import warnings
from collections.abc import Callable
from multiprocessing.connection import Client
from typing import Any

from . import backends

#: The environment variables that carry the parent's listening address and its key (hex).
ADDRESS_VARIABLE, KEY_VARIABLE = "KERAS_EQUIV_WORKER_ADDRESS", "KERAS_EQUIV_WORKER_KEY"
#: What ``model_id=None`` requests may call.
WORKER_METHODS = ("hello", "build", "release", "conventions", "precision", "call")


class Worker:
    """The models a worker holds and the worker-level requests."""

    def __init__(self, send: Callable[[tuple], None]) -> None:
        from . import model  # the first import of Keras, on the backend set by serve()

        self.model_module = model
        self.models: dict[int, Any] = {}
        self.next_id = 0
        self.send = send

    def hello(self) -> dict[str, Any]:
        """The backend and versions, once Keras has been imported."""
        from ._tf import keras

        backend = keras.backend.backend()
        package = importlib.import_module(backends.PACKAGES[backend])
        return {"backend": backend, "keras": keras.__version__, backend: package.__version__, "pid": os.getpid()}

    def build(self, *args: Any, **kwargs: Any) -> tuple[int, Any, int]:
        """A new ``KerasMLP``: its id, its config and its ``steps_per_execution``."""
        mlp = self.model_module.KerasMLP(*args, **kwargs)
        self.next_id += 1
        self.models[self.next_id] = mlp
        return self.next_id, mlp.config, mlp.steps_per_execution

    def release(self, model_id: int) -> None:
        self.models.pop(model_id, None)

    def conventions(self) -> Any:
        from .probe import measured_conventions

        return measured_conventions()

    def precision(self, config: Any, learning_rate: float = 0.1) -> Any:
        from .probe import measure_precision

        return measure_precision(config, learning_rate)

    def call(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``module:function`` here (e.g. a benchmark that must time this backend in its own process)."""
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    def handle(self, model_id: int | None, method: str, args: tuple, kwargs: dict) -> Any:
        if model_id is None:
            if method not in WORKER_METHODS:
                raise AttributeError(f"the worker has no request {method!r}")
            return getattr(self, method)(*args, **kwargs)
        model = self.models[model_id]
        if method == "train" and kwargs.pop("progress", False):
            kwargs["progress"] = lambda samples: self.send(("progress", samples))
        return getattr(model, method)(*args, **kwargs)


def picklable(error: BaseException) -> BaseException:
    """``error`` itself when it survives pickling, else a ``RuntimeError`` with its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def serve(connection: Any) -> None:
    """The worker process: import Keras (on the backend its environment names), then answer until told to close."""
    if os.environ.get("JAX_ENABLE_X64") == "0":  # asked for on purpose: JAX's warning on every float64 array is noise
        warnings.filterwarnings("ignore", message="Explicitly requested dtype float64")
    try:
        worker = Worker(connection.send)
    except Exception as error:  # Keras or the backend would not import: say why, then end
        connection.send(("error", picklable(error)))
        return
    while True:
        try:
            model_id, method, args, kwargs = connection.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if method == "close":
            connection.send(("ok", None))
            return
        try:
            reply = ("ok", worker.handle(model_id, method, args, kwargs))
        except Exception as error:
            reply = ("error", picklable(error))
        connection.send(reply)


def main() -> None:
    """Connect to the parent, serve it, and leave Ctrl-C to it (it ends the worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    address, key = os.environ.pop(ADDRESS_VARIABLE), bytes.fromhex(os.environ.pop(KEY_VARIABLE))
    with Client(address, authkey=key) as connection:
        serve(connection)


if __name__ == "__main__":
    main()
