"""The pitfall gallery's Keras-backend lines: what changes when the same Keras model runs on JAX or PyTorch.

Each line runs live, like the others (:mod:`compare.gallery.pitfalls`), on the base pair's network and data,
with the Keras side in a worker process of that backend (:mod:`keras_equiv.remote`). A backend that is not
installed gives a line that says so and counts as expected (nothing was claimed). Workers are started once
per process and kept in :data:`WORKERS`. Importing this module appends its lines to ``pitfalls.PITFALLS``.
"""

from __future__ import annotations

import atexit
from typing import Any

import numpy as np

import scratch
from keras_equiv import backends
from keras_equiv.precision import mirrored

from ..harness import compare
from . import pitfalls
from .pitfalls import Outcome, Pitfall, Setting, base_mlp, keras_twin, outcome_from_report, pairwise_sums

#: ``{(backend, x64): BackendWorker}``, started on first use, closed at exit.
WORKERS: dict[tuple[str, bool], Any] = {}


def worker_for(backend: str, x64: bool = True) -> Any:
    """The shared worker of ``backend`` (JAX with or without x64)."""
    if (backend, x64) not in WORKERS:
        from keras_equiv.remote import BackendWorker

        WORKERS[(backend, x64)] = BackendWorker(backend, x64=x64)
    return WORKERS[(backend, x64)]


@atexit.register
def _close_workers() -> None:
    for worker in WORKERS.values():
        worker.close()


def skipped(p: Pitfall, backend: str) -> Outcome:
    """The line of a pitfall whose backend is not installed."""
    return Outcome(p.key, p.title, p.why, p.expect_agree, p.expect_agree,
                   f"skipped: {backends.install_hint(backend)}", float("nan"), "not run")


def mirrored_pair(s: Setting, backend: str, x64: bool = True, **changes: Any) -> tuple[scratch.MLP, Any]:
    """The base pair's scratch side with the backend's conventions, and its twin in the backend's worker."""
    worker = worker_for(backend, x64)
    mlp = base_mlp(s, **changes)
    mlp = scratch.MLP(mirrored(mlp.config, worker.conventions()))
    return mlp, worker.from_scratch(mlp)


def run_jax_float32_loss(p: Pitfall, s: Setting) -> Outcome:
    """A float64 model on JAX against scratch, at float64's tolerance: the loss is float32 there."""
    if not backends.installed("jax"):
        return skipped(p, "jax")
    x, y = pairwise_sums(s.samples, s.seed)
    a, b = mirrored_pair(s, "jax")
    report = compare(a, b, x, y, **s.run_kwargs(batch_size=3))
    precision = worker_for("jax").precision(a.config)
    outcome = outcome_from_report(p, report, verdict=precision.verdict, probe=precision.evidence())
    outcome.discrepancy, outcome.discrepancy_label = report.check("evaluate").max_rel_error, "rel error, evaluate"
    return outcome


def run_jax_without_x64(p: Pitfall, s: Setting) -> Outcome:
    """The same float64 model on JAX without ``JAX_ENABLE_X64``: every array silently float32."""
    if not backends.installed("jax"):
        return skipped(p, "jax")
    x, y = pairwise_sums(s.samples, s.seed)
    a, b = mirrored_pair(s, "jax", x64=False)
    output_dtype = b.forward(x).dtype.name
    report = compare(a, b, x, y, **s.run_kwargs())
    return outcome_from_report(p, report, output_dtype=output_dtype, weights_dtype=b.get_weights()[0].dtype.name)


def run_torch_float32_matmul(p: Pitfall, s: Setting) -> Outcome:
    """A float64 model on PyTorch against scratch, at float64's tolerance: Keras's matmul casts to float32."""
    if not backends.installed("torch"):
        return skipped(p, "torch")
    x, y = pairwise_sums(s.samples, s.seed)
    a, b = mirrored_pair(s, "torch")
    report = compare(a, b, x, y, **s.run_kwargs())
    return outcome_from_report(p, report, output_dtype=b.forward(x).dtype.name)


def run_backend_bce(p: Pitfall, s: Setting) -> Outcome:
    """Saturated sigmoid outputs: the same Keras BinaryCrossentropy on TensorFlow (logits) and on JAX (clipped)."""
    other = next((name for name in ("jax", "torch") if backends.installed(name)), None)
    if other is None:
        return skipped(p, "jax")
    x, y = pairwise_sums(s.samples, s.seed)
    labels = (y[:, :1] > np.median(y[:, :1])).astype(float)
    start = base_mlp(s, num_outputs=1, loss="binary_crossentropy")
    start.set_weights([w * 30 for w in start.get_weights()])  # outputs far into the sigmoid's flat tails
    worker = worker_for(other)
    a = keras_twin(start)
    b = worker.build(mirrored(start.config, worker.conventions()))
    a.set_weights(start.get_weights())
    losses = {"tensorflow_loss": a.evaluate(x, labels), f"{other}_loss": b.evaluate(x, labels)}
    report = compare(a, b, x, labels, **s.run_kwargs(batch_size=s.partial_batch))
    outcome = outcome_from_report(p, report, other_backend=other, **losses)
    outcome.discrepancy = abs(losses["tensorflow_loss"] - losses[f"{other}_loss"]) / losses["tensorflow_loss"]
    outcome.discrepancy_label = f"rel gap of the starting loss, tensorflow vs {other}"
    return outcome


def run_torch_steps_per_execution(p: Pitfall, s: Setting) -> Outcome:
    """``compile(steps_per_execution=2)`` then ``fit`` on PyTorch: refused (TensorFlow and JAX take it)."""
    if not backends.installed("torch"):
        return skipped(p, "torch")
    message = worker_for("torch").call("keras_equiv.probe:steps_per_execution_refusal", 2)
    shows = f"refused by fit: {message.split('. ')[0]}" if message else "NOT refused"
    return Outcome(p.key, p.title, p.why, p.expect_agree, False, shows, float("nan"), "refused" if message else "",
                   "refused" if message else "", {"message": message})


BACKEND_PITFALLS: list[Pitfall] = [
    Pitfall("jax_float32_loss", "a float64 model on JAX, compared at float64's tolerance",
            "Keras maps float64 results to float32 off TensorFlow: the loss (and what follows) is float32",
            run_jax_float32_loss, known_cause="float32 arithmetic in the backend"),
    Pitfall("jax_without_x64", "a float64 model on JAX without JAX_ENABLE_X64",
            "without x64 JAX makes every float64 array float32, silently", run_jax_without_x64),
    Pitfall("torch_float32_matmul", "a float64 model on PyTorch, compared at float64's tolerance",
            "Keras's matmul on torch casts float64 to float32 (keras-team/keras#23704)", run_torch_float32_matmul,
            known_cause="float32 arithmetic in the backend"),
    Pitfall("backend_bce", "the same BinaryCrossentropy, TensorFlow vs JAX, saturated sigmoid",
            "TF computes it from the logits, JAX and PyTorch from probabilities clipped at 1e-7", run_backend_bce),
    Pitfall("torch_steps_per_execution", "compile(steps_per_execution=2) on PyTorch",
            "fit on torch refuses more than one step per execution; TF and JAX take it",
            run_torch_steps_per_execution),
]

if not any(p.key == BACKEND_PITFALLS[0].key for p in pitfalls.PITFALLS):
    pitfalls.PITFALLS.extend(BACKEND_PITFALLS)
