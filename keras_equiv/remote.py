"""A Keras backend other than this process's: a worker process, and ``KerasMLP`` proxies that speak the protocol.

One process cannot switch Keras backends: ``KERAS_BACKEND`` is read once,
at the first ``import keras``, and some pairs of frameworks must not even
share a process (PyPI's default PyTorch, built with CUDA and triton, aborts
the process when Keras's torch backend is imported after TensorFlow:
"LLVM ERROR: Option 'bitcode-mdindex-threshold' registered more than once").
So each backend runs in its own worker process (:mod:`keras_equiv.worker`):
a new interpreter (``python -m keras_equiv.worker``), never forked from a
process that imported TensorFlow, started with the backend's environment and
this process's ``sys.path``, and connected back over a local socket with a
random key (:mod:`multiprocessing.connection`). Unlike ``multiprocessing``'s
own spawn, it does not re-import the caller's main script. This module, on
the harness's side, imports no Keras.

>>> with BackendWorker("jax") as jax_side:              # doctest: +SKIP
...     twin = jax_side.from_scratch(scratch.MLP(2, [5], 1, seed=0))
...     compare.compare(scratch_mlp, twin, x, y, epochs=5, learning_rate=0.1)

A :class:`RemoteMLP` has the methods of the comparison protocol (forward,
evaluate, accuracy, gradients, train, get/set_weights, get/set_optimizer_state),
so :func:`compare.compare` treats it like any other implementation.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Listener
from typing import Any

import numpy as np

import scratch
from scratch import MLPConfig
from scratch.config import Configured

from . import backends
from .precision import Conventions, Precision
from .worker import ADDRESS_VARIABLE, KEY_VARIABLE

#: Seconds a new worker may take to start its interpreter and connect back (Keras is imported after).
CONNECT_TIMEOUT_S = 120


class WorkerDied(RuntimeError):
    """The worker process ended while a request was pending."""


class BackendWorker:
    """A spawned process running Keras on ``backend``; builds :class:`RemoteMLP` models there.

    Parameters
    ----------
    backend : {"tensorflow", "jax", "torch"}
        The Keras backend of the worker.
    x64 : bool
        JAX only: enable float64 (``JAX_ENABLE_X64``) before any array exists.
        Without it every float64 array is silently float32.

    Raises
    ------
    BackendUnavailable
        When the backend is not installed (before any process starts).
    """

    def __init__(self, backend: str, x64: bool = True) -> None:
        self.backend = backends.require(backend)
        key = secrets.token_bytes(32)
        with Listener(authkey=key) as listener:
            environment = os.environ | backends.environment(backend, x64) | {
                "PYTHONPATH": os.pathsep.join(entry or os.getcwd() for entry in sys.path),
                ADDRESS_VARIABLE: str(listener.address), KEY_VARIABLE: key.hex()}
            self._process = subprocess.Popen([sys.executable, "-m", "keras_equiv.worker"], env=environment,
                                             stdin=subprocess.DEVNULL)
            self._connection = self._accept(listener)
        self._finalizer = weakref.finalize(self, _stop, self._connection, self._process)
        self.info: dict[str, Any] = self.request(None, "hello")

    def _accept(self, listener: Listener) -> Any:
        """The worker's connection, once it has connected; :class:`WorkerDied` if it ends or takes too long."""
        accepted: list[Any] = []
        waiter = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
        waiter.start()
        for _ in range(CONNECT_TIMEOUT_S * 10):
            waiter.join(0.1)
            if accepted:
                return accepted[0]
            if self._process.poll() is not None:
                break
        self._process.kill()
        raise WorkerDied(f"the {self.backend} worker did not start (exit code {self._process.poll()})")

    # -------------------------------------------------------------- requests
    def request(self, model_id: int | None, method: str, *args: Any,
                progress: Callable[[int], None] | None = None, **kwargs: Any) -> Any:
        """Send one request and wait for its answer; a raised exception is raised here."""
        if self._process.poll() is not None:
            raise WorkerDied(f"the {self.backend} worker is not running (exit code {self._process.returncode})")
        if progress is not None:
            kwargs["progress"] = True
        self._connection.send((model_id, method, args, kwargs))
        while True:
            try:
                kind, payload = self._connection.recv()
            except (EOFError, OSError):
                raise WorkerDied(f"the {self.backend} worker process ended while running {method} "
                                 f"(exit code {self._process.wait(5)})") from None
            if kind == "progress":
                if progress is not None:
                    progress(payload)
                continue
            if kind == "error":
                raise payload
            return payload

    def build(self, *args: Any, **kwargs: Any) -> RemoteMLP:
        """``KerasMLP(*args, **kwargs)`` in the worker (the arguments of :class:`scratch.MLP`)."""
        model_id, config, steps = self.request(None, "build", *args, **kwargs)
        return RemoteMLP(self, model_id, config, steps)

    def from_scratch(self, mlp: scratch.MLP, **kwargs: Any) -> RemoteMLP:
        """The same network as ``mlp`` in the worker, with a copy of its weights and optimizer state."""
        if not isinstance(mlp, scratch.MLP):
            raise TypeError(f"from_scratch expects a scratch.MLP, got {type(mlp).__name__}")
        steps = {"steps_per_execution": kwargs.pop("steps_per_execution")} if "steps_per_execution" in kwargs else {}
        twin = self.build(mlp.config.replace(**kwargs), **steps)
        twin.set_weights(mlp.get_weights())
        twin.set_optimizer_state(mlp.get_optimizer_state())
        return twin

    def conventions(self) -> Conventions:
        """The backend's measured conventions (:func:`keras_equiv.probe.measured_conventions`)."""
        return self.request(None, "conventions")

    def precision(self, config: MLPConfig, learning_rate: float = 0.1) -> Precision:
        """The backend's measured precision for ``config`` (:func:`keras_equiv.probe.measure_precision`)."""
        return self.request(None, "precision", config, learning_rate)

    def call(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """``module:function(*args, **kwargs)`` run in the worker; its (picklable) result."""
        return self.request(None, "call", target, *args, **kwargs)

    # -------------------------------------------------------------- lifetime
    def close(self) -> None:
        """End the worker process (also done when this object is collected or the program ends)."""
        self._finalizer()

    def __enter__(self) -> BackendWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BackendWorker({self.backend!r}, pid={self._process.pid})"


def _stop(connection: Any, process: Any) -> None:
    """Ask the worker to close, and end it if it has not within a second (it holds nothing worth keeping;
    an interpreter that imported a framework can take seconds to tear down)."""
    try:
        connection.send((None, "close", (), {}))
        if connection.poll(5):
            connection.recv()
    except (OSError, EOFError, ValueError):
        pass
    try:
        process.wait(1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    connection.close()


class RemoteMLP(Configured):
    """A ``KerasMLP`` living in a :class:`BackendWorker`: the comparison protocol, by request.

    Arrays cross the process boundary by pickling (copies both ways), so
    nothing here can alias the worker's weights.
    """

    def __init__(self, worker: BackendWorker, model_id: int, config: MLPConfig, steps_per_execution: int) -> None:
        self.worker, self.model_id, self.config = worker, model_id, config
        self.backend = worker.backend
        self.dtype = config.np_dtype
        self.steps_per_execution = steps_per_execution

    @property
    def side_label(self) -> str:
        """How reports name this side: ``keras_equiv.KerasMLP[jax]``."""
        return f"keras_equiv.KerasMLP[{self.backend}]"

    def _ask(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.worker.request(self.model_id, method, *args, **kwargs)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._ask("forward", x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._ask("predict", x)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        return self._ask("evaluate", x, y)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float | None:
        return self._ask("accuracy", x, y)

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        return self._ask("gradients", x, y)

    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False,
              progress: Callable[[int], None] | None = None) -> list[float]:
        """``KerasMLP.train`` in the worker; ``progress`` is called here as the worker's batches end."""
        return self._ask("train", x, y, epochs, learning_rate, batch_size=batch_size, shuffle=shuffle,
                         verbose=verbose, progress=progress)

    def get_weights(self) -> list[np.ndarray]:
        return self._ask("get_weights")

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        self._ask("set_weights", [np.asarray(w) for w in weights])

    def get_optimizer_state(self) -> dict[str, Any]:
        return self._ask("get_optimizer_state")

    def set_optimizer_state(self, state: Mapping[str, Any]) -> None:
        self._ask("set_optimizer_state", dict(state))

    def to_scratch(self) -> scratch.MLP:
        """A ``scratch.MLP`` with this configuration and a copy of these weights and optimizer state."""
        mlp = scratch.MLP(self.config)
        mlp.set_weights(self.get_weights())
        mlp.set_optimizer_state(self.get_optimizer_state())
        return mlp
