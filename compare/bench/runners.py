"""The runners: scratch's and Keras's forward, gradients and training epoch of one case, ready to time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from scratch.batching import batch_slices

from . import cases
from .cases import Case, scratch_model
from .measuring import Runner
from .seed_original import seed_original_train


def each(function: Callable[..., object], batches: Sequence[slice], *arrays: np.ndarray) -> None:
    """``function(*(a[batch] for a in arrays))`` for every batch, keeping no result (as a training loop would)."""
    for batch in batches:
        function(*(array[batch] for array in arrays))


def scratch_runners(case: Case, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> list[Runner]:
    """scratch's forward, gradients and training epoch (and the seed's original at batch 1)."""
    mlp = scratch_model(case)
    batches = list(batch_slices(len(x), case.batch_size))
    name = cases.SCRATCH_LOOP if case.batch_size == 1 else cases.SCRATCH_BATCHED

    def reset() -> None:
        mlp.set_weights(weights)

    runners = [
        Runner(name, cases.FORWARD, lambda: each(mlp.forward, batches, x), reset, True),
        Runner(name, cases.GRADIENTS, lambda: each(mlp.gradients, batches, x, y), reset, True),
        Runner(name, cases.TRAIN, lambda: mlp.train(x, y, 1, cases.LEARNING_RATE, batch_size=case.batch_size),
               reset, True),
    ]
    if case.batch_size == 1:
        runners.append(Runner(cases.SEED_ORIGINAL, cases.TRAIN,
                              lambda: seed_original_train(x, y, weights, 1, cases.LEARNING_RATE), reset, True))
    return runners


def keras_runners(case: Case, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> list[Runner]:
    """Keras's forward (predict, model(x)), gradients (eager) and training (fit ×2, custom step), on this
    process's backend: on JAX and PyTorch the names say so (``Keras/jax fit ...``), PyTorch has no
    ``steps_per_execution`` row (it must be 1) and only TensorFlow has the ``tf.function`` custom step."""
    from keras_equiv import KerasMLP, backends
    from keras_equiv.floatx import keras_floatx

    from .epoch_timer import EpochTimer

    backend = backends.current()
    start = scratch_model(case)
    start.set_weights(weights)
    default = KerasMLP.from_scratch(start, steps_per_execution=1)
    fast = None if backend == "torch" else KerasMLP.from_scratch(start, steps_per_execution=cases.STEPS_PER_EXECUTION)
    model, batch = default.model, case.batch_size
    batches = list(batch_slices(len(x), batch))
    for twin in (default, fast):
        if twin is not None:
            twin.model.optimizer.learning_rate = cases.LEARNING_RATE

    def fit(keras_model: Any, epochs: int = 1) -> list[float]:
        timer = EpochTimer()
        with keras_floatx(case.dtype):
            keras_model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
        return timer.seconds

    def predict() -> object:
        with keras_floatx(case.dtype):
            return model.predict(x, batch_size=batch, verbose=0)

    def call(inputs: np.ndarray) -> object:
        return model(inputs, training=False)

    def reset_default() -> None:
        default.set_weights(weights)

    def reset_fast() -> None:
        fast.set_weights(weights)  # type: ignore[union-attr]

    name = partial(cases.keras_name, backend=backend)
    runners = [
        Runner(name(cases.KERAS_PREDICT), cases.FORWARD, predict, reset_default, False),
        Runner(name(cases.KERAS_CALL), cases.FORWARD, lambda: each(call, batches, x), reset_default, False),
        Runner(name(cases.KERAS_TAPE), cases.GRADIENTS, lambda: each(default.gradients, batches, x, y),
               reset_default, False),
        Runner(name(cases.KERAS_FIT), cases.TRAIN, lambda: fit(model), reset_default, False, lambda n: fit(model, n)),
    ]
    if fast is not None:
        runners.append(Runner(name(cases.KERAS_FIT_SPE), cases.TRAIN, lambda: fit(fast.model), reset_fast, False,
                              lambda n: fit(fast.model, n)))
    if backend == "tensorflow":
        from keras_equiv.train_step import make_train_step, train_epoch

        step = make_train_step(model)
        runners.append(Runner(cases.KERAS_STEP, cases.TRAIN, lambda: train_epoch(step, model, x, y, batch,
                                                                                 cases.LEARNING_RATE),
                              reset_default, False))
    return runners


def keras_rows(case: Case, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray], peak: float, repeats: int,
               phases: Sequence[str]) -> list[Any]:
    """Every Keras row of ``case`` measured in this process (a backend's worker: :mod:`keras_equiv.remote`)."""
    from .measuring import measure

    return [measure(runner, case, peak, repeats) for runner in keras_runners(case, x, y, weights)
            if runner.phase in phases]
