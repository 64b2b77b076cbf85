r"""The pitfall gallery: one classic mistake at a time, measured by the harness.

Every pitfall starts from the **base pair**, which agrees to rounding:
``scratch.MLP(3, [4], 3)`` (sigmoid, biases, float64, the seed's ``U[0, 1)``
weights, Keras's ``mse``) and its twin ``keras_equiv.KerasMLP`` built from it,
trained by per-sample SGD on *pairwise sums* (three inputs in ``[0, 0.5)``,
targets :math:`(x_0+x_1,\ x_1+x_2,\ x_2+x_0)`, so :math:`k = 3` outputs).
Each pitfall changes exactly one thing — a dtype, a loss, one of ``fit``'s
defaults, a wrapper around ``train`` — runs the pair through
:func:`compare.compare` and records what disagrees, by how much, and where it
shows first (the harness's localisation). Nothing is written by hand: every
number comes from the run.

The mistakes themselves are small classes, written the way a learner would
make them, each once: on top of ``scratch.MLP`` in :mod:`compare.gallery.wrong`,
on top of ``KerasMLP`` in :mod:`compare.gallery.keras_wrong`. This module
imports TensorFlow (through ``keras_equiv``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import scratch
from keras_equiv import KerasMLP
from keras_equiv._tf import keras
from keras_equiv.floatx import keras_floatx

from ..harness import SideError, compare
from ..localise import proportionality
from ..results import Report
from .keras_wrong import KERAS_SEED, KerasDefaultBatch, KerasDefaultShuffle, KerasDoubleSoftmax, KerasForgotTheCopy
from .wrong import PlainEpochMean, PyTorchMomentum, TextbookAdam

Array = np.ndarray


# ------------------------------------------------------------- the set-up
@dataclass(frozen=True)
class Setting:
    """Size of the runs: the base network, the data and the training.

    ``partial_batch`` is the batch size of the pitfalls that need mini-batches;
    with the default 50 samples it leaves a partial last batch (32 + 18).
    """

    samples: int = 50
    epochs: int = 3
    learning_rate: float = 0.5
    hidden: tuple[int, ...] = (4,)
    seed: int = 0
    partial_batch: int = 32

    def run_kwargs(self, batch_size: int = 1) -> dict[str, Any]:
        """The keyword arguments of :func:`compare.compare` for this setting."""
        return dict(epochs=self.epochs, learning_rate=self.learning_rate, batch_size=batch_size)


#: ``--quick``: fewer samples and epochs, still a partial last batch (32 + 8).
QUICK = Setting(samples=40, epochs=2)


def pairwise_sums(samples: int, seed: int = 0) -> tuple[Array, Array]:
    """Inputs ``U[0, 0.5)^3`` and the three pairwise sums as targets, ``(n, 3)`` each."""
    x = np.random.default_rng(seed).random((samples, 3)) / 2
    y = x + np.roll(x, -1, axis=1)  # (x0+x1, x1+x2, x2+x0)
    return x, y


def base_mlp(setting: Setting, num_outputs: int = 3, cls: type[scratch.MLP] = scratch.MLP,
             **changes: Any) -> scratch.MLP:
    """The scratch side of the base pair (of class ``cls``), with ``changes`` to its constructor arguments."""
    kwargs = dict(activation="sigmoid", use_bias=True, dtype="float64", init="uniform", seed=setting.seed)
    return cls(3, list(setting.hidden), num_outputs, **(kwargs | changes))


def keras_twin(mlp: scratch.MLP, cls: type[KerasMLP] = KerasMLP, **changes: Any) -> KerasMLP:
    """A Keras side with ``mlp``'s architecture (``changes`` applied); the harness copies the weights."""
    return cls(mlp.config.replace(**changes))


# ------------------------------------------------------------ the fix
class KerasScaledRate(KerasMLP):
    """Keras's ``mse`` trained at ``lr·k/2``: the fix for the seed's ½·Σ rule."""

    def train(self, x: Array, y: Array, epochs: int, learning_rate: float, **kwargs: Any) -> list[float]:
        return super().train(x, y, epochs, learning_rate * self.num_outputs / 2, **kwargs)


# ------------------------------------------------------------- outcomes
@dataclass
class Outcome:
    """What one pitfall did to the pair.

    Attributes
    ----------
    key, title, why : str
        The pitfall's id, its one-line name and the short reason.
    expect_agree : bool
        Whether the pair should still agree (the base pair, the lr·k/2 fix).
    agrees : bool
        Whether it did: every check passed, or for the lr·k/2 fix, the weights
        followed the same path (its losses are on another scale by definition).
    shows_first : str
        The first check that disagrees and where the localisation puts it.
    discrepancy : float
        The headline number (see ``discrepancy_label``).
    discrepancy_label : str
        What ``discrepancy`` measures, e.g. ``"forward max rel error"``.
    cause : str
        The cause the harness's localisation names (``""`` if none).
    details : dict
        The other live numbers behind the line (ratios, raw losses, messages).
    report : Report or None
        The harness's full report.
    """

    key: str
    title: str
    why: str
    expect_agree: bool
    agrees: bool
    shows_first: str
    discrepancy: float
    discrepancy_label: str
    cause: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    report: Report | None = None

    @property
    def as_expected(self) -> bool:
        return self.agrees == self.expect_agree


def first_failure(report: Report) -> tuple[str, float, str]:
    """The first failing check's name and max rel error, and the localisation's place."""
    failed = report.failed_checks
    if not failed:
        worst = max(report.checks, key=lambda c: c.max_rel_error)
        return "", worst.max_rel_error, ""
    loc = report.localisation
    return failed[0].name, failed[0].max_rel_error, loc.where() if loc else ""


def outcome_from_report(pitfall: Pitfall, report: Report, **details: Any) -> Outcome:
    """The usual outcome: the first failing check, its error and the localisation."""
    check, error, where = first_failure(report)
    shows = "nowhere: every check passes" if not check else check + (f" ({where})" if where else "")
    label = f"rel error, {check}" if check else "worst rel error"
    cause = report.localisation.cause if report.localisation else ""
    if cause and pitfall.known_cause and cause != pitfall.known_cause:
        cause += f" (really: {pitfall.known_cause})"
    return Outcome(pitfall.key, pitfall.title, pitfall.why, pitfall.expect_agree, report.passed, shows, error, label,
                   cause, details, report)


def gradient_ratio(a: Any, b: Any, x: Array, y: Array) -> float:
    r"""The ``r`` with ``grad_a = r · grad_b`` from the same weights (NaN if not proportional)."""
    b.set_weights(a.get_weights())
    ratio = proportionality(a.gradients(x, y), b.gradients(x, y))
    return float("nan") if ratio is None else ratio


def final_weights_error(report: Report) -> float:
    """The largest max rel error over the ``final ...`` checks."""
    return max(c.max_rel_error for c in report.checks if c.name.startswith("final"))


# ------------------------------------------------------------- the pitfalls
@dataclass(frozen=True)
class Pitfall:
    """One deliberate difference: its name, why it matters and how to run it."""

    key: str
    title: str
    why: str
    run: Callable[[Pitfall, Setting], Outcome]
    expect_agree: bool = False
    known_cause: str = ""  # when the harness's localisation has no word for it


def run_baseline(p: Pitfall, s: Setting) -> Outcome:
    """The base pair, unchanged: the control line."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    return outcome_from_report(p, compare(a, keras_twin(a), x, y, **s.run_kwargs()))


def run_float32(p: Pitfall, s: Setting) -> Outcome:
    """Keras built in float32; the harness compares in float64."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    report = compare(a, keras_twin(a, dtype="float32"), x, y, **s.run_kwargs())
    errors = {c.name: c.max_rel_error for c in report.checks if c.name in ("forward", "epoch losses")}
    return outcome_from_report(p, report, forward_error=errors["forward"], epoch_losses_error=errors["epoch losses"])


def run_seed_rule(p: Pitfall, s: Setting) -> Outcome:
    """Scratch descends the seed's ½·Σ rule, Keras ``mse``, both at the same lr."""
    x, y = pairwise_sums(s.samples, s.seed)
    a, b = base_mlp(s, loss="seed"), keras_twin(base_mlp(s))
    ratio = gradient_ratio(a, b, x, y)
    outcome = outcome_from_report(p, compare(a, b, x, y, **s.run_kwargs()), gradient_ratio=ratio, k=a.num_outputs)
    outcome.discrepancy, outcome.discrepancy_label = ratio, "gradient ratio seed/mse"
    return outcome


def run_seed_rule_scaled(p: Pitfall, s: Setting) -> Outcome:
    """The same, with Keras at lr·k/2: the weights agree, each side reports its own loss."""
    x, y = pairwise_sums(s.samples, s.seed)
    a, b = base_mlp(s, loss="seed"), keras_twin(base_mlp(s), KerasScaledRate)
    report = compare(a, b, x, y, **s.run_kwargs())
    loss_ratio = float(np.mean(np.array(report.losses_a) / np.array(report.losses_b)))
    outcome = outcome_from_report(p, report, loss_ratio=loss_ratio, k=a.num_outputs,
                                  scaled_learning_rate=s.learning_rate * a.num_outputs / 2)
    weights_ok = all(c.passed for c in report.checks if c.name.startswith(("initial", "forward", "final")))
    outcome.agrees = weights_ok
    outcome.discrepancy, outcome.discrepancy_label = final_weights_error(report), "rel error, final weights"
    outcome.shows_first = f"nowhere in the weights; the losses differ by ×{loss_ratio:.6g} (k/2, each side's own loss)"
    return outcome


def run_default_batch(p: Pitfall, s: Setting) -> Outcome:
    """Scratch per sample, Keras ``fit`` without ``batch_size``."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    return outcome_from_report(p, compare(a, keras_twin(a, KerasDefaultBatch), x, y, **s.run_kwargs()))


def run_default_shuffle(p: Pitfall, s: Setting) -> Outcome:
    """Keras ``fit`` without ``shuffle=False``."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    return outcome_from_report(p, compare(a, keras_twin(a, KerasDefaultShuffle), x, y, **s.run_kwargs()))


def run_plain_mean(p: Pitfall, s: Setting) -> Outcome:
    """Scratch reports the plain mean of its batch losses, at batch 32 (last batch partial)."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s, cls=PlainEpochMean)
    report = compare(a, keras_twin(a), x, y, **s.run_kwargs(batch_size=s.partial_batch))
    last = s.samples % s.partial_batch
    return outcome_from_report(p, report, batch_size=s.partial_batch, last_batch=last or s.partial_batch,
                               final_weights_error=final_weights_error(report))


def raw_numpy_mse(y: Array, output: Array) -> float:
    """The MSE as it is often first written; with ``y`` of shape (n,) and ``output`` (n, 1)
    the difference broadcasts to an (n, n) matrix and the mean runs over all n² pairs."""
    return float(np.mean((y - output) ** 2))


def run_flat_targets(p: Pitfall, s: Setting) -> Outcome:
    """A one-output net given ``y`` of shape (n,): a raw NumPy MSE, Keras's ``mse``, this project."""
    x, y = pairwise_sums(s.samples, s.seed)
    y_column = y[:, :1]  # one output: x0 + x1, shape (n, 1)
    y_flat = y_column.ravel()  # the same targets, shape (n,)
    a = base_mlp(s, num_outputs=1)
    output = a.forward(x)
    raw, right = raw_numpy_mse(y_flat, output), raw_numpy_mse(y_column, output)
    with keras_floatx("float64"):
        keras_value = float(keras.losses.MeanSquaredError(dtype="float64")(y_flat, output))
    try:
        compare(a, keras_twin(a), x, y_flat, **s.run_kwargs())
        refusal = ""
    except SideError as error:
        refusal = str(error)
    details = dict(raw_numpy_mse=raw, correct_mse=right, keras_mse=keras_value, broadcast_shape=(y_flat - output).shape,
                   refusal=refusal)
    message = refusal.split("ValueError: ", 1)[-1].split(";")[0]  # "y must have shape (n, 1) ..., got (n,)"
    shows = f"refused before any step: {message}" if refusal else "NOT refused: the harness trained on it"
    return Outcome(p.key, p.title, p.why, p.expect_agree, False, shows, abs(raw - right) / right,
                   "rel error of a raw NumPy MSE", "refused" if refusal else "", details)


def run_missing_bias(p: Pitfall, s: Setting) -> Outcome:
    """Keras without biases; then both trained anyway from the same kernels."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    b = keras_twin(a, use_bias=False)
    report = compare(a, b, x, y, **s.run_kwargs())
    b.set_weights(a.get_weights()[::2])  # trained anyway: the same kernels, one side without biases
    loss_a, loss_b = a.train(x, y, s.epochs, s.learning_rate)[-1], b.train(x, y, s.epochs, s.learning_rate)[-1]
    trained_gap = abs(loss_a - loss_b) / max(loss_a, loss_b)
    outcome = outcome_from_report(p, report, weight_arrays=(len(a.get_weights()), len(b.get_weights())),
                                  last_loss_with_bias=loss_a, last_loss_without=loss_b)
    outcome.discrepancy, outcome.discrepancy_label = trained_gap, "last-loss rel gap, trained anyway"
    return outcome


def run_own_init(p: Pitfall, s: Setting) -> Outcome:
    """Keras keeps the glorot_uniform weights it drew itself."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s)
    keras.utils.set_random_seed(KERAS_SEED)  # Keras's glorot draw, made repeatable
    b = keras_twin(a, KerasForgotTheCopy)
    keras_initial = [w.tolist() for w in b.get_weights()]
    report = compare(a, b, x, y, **s.run_kwargs())
    return outcome_from_report(p, report, keras_initial_weights=keras_initial)


# ------------------------------------------- optimizers and classification
def first_step(side: Any, x: Array, y: Array, learning_rate: float) -> list[Array]:
    """How one ``train`` step on all of ``(x, y)`` moves each weight (the side's state is left as it was)."""
    start = side.get_weights(), side.get_optimizer_state()
    side.train(x, y, 1, learning_rate, batch_size=len(x))
    moved = [after - before for after, before in zip(side.get_weights(), start[0])]
    side.set_weights(start[0])
    side.set_optimizer_state(start[1])
    return moved


def run_textbook_adam(p: Pitfall, s: Setting) -> Outcome:
    """The paper's Adam (bias-corrected moments) from scratch vs Keras's ``Adam`` (ε added to √v, not √v̂)."""
    x, y = pairwise_sums(s.samples, s.seed)
    a = base_mlp(s, cls=TextbookAdam)
    b = keras_twin(base_mlp(s, optimizer="adam"))
    learning_rate = s.learning_rate / 50
    b.set_weights(a.get_weights())
    gradients = a.gradients(x, y)
    steps = {"textbook_first_step": first_step(a, x, y, learning_rate), "keras_first_step": first_step(b, x, y,
                                                                                                       learning_rate)}
    report = compare(a, b, x, y, epochs=s.epochs, learning_rate=learning_rate, batch_size=s.partial_batch)
    return outcome_from_report(p, report, learning_rate=learning_rate, gradients=[g.tolist() for g in gradients],
                               **{k: [w.tolist() for w in v] for k, v in steps.items()},
                               final_weights_error=final_weights_error(report))


def run_clipped_bce(p: Pitfall, s: Setting) -> Outcome:
    """Saturated sigmoid outputs: a from-scratch BCE on clipped probabilities vs TensorFlow's, from the logits."""
    x, y = pairwise_sums(s.samples, s.seed)
    labels = (y[:, :1] > np.median(y[:, :1])).astype(float)  # one 0/1 target: is x0 + x1 above its median?
    a = base_mlp(s, num_outputs=1, loss="binary_crossentropy", crossentropy_from_logits=False)
    a.set_weights([w * 30 for w in a.get_weights()])  # outputs far into the sigmoid's flat tails
    b = keras_twin(base_mlp(s, num_outputs=1, loss="binary_crossentropy"))
    b.set_weights(a.get_weights())
    losses = {"clipped_loss": a.evaluate(x, labels), "logits_loss": b.evaluate(x, labels)}
    start = [w.tolist() for w in a.get_weights()]
    report = compare(a, b, x, labels, **s.run_kwargs(batch_size=s.partial_batch))
    outcome = outcome_from_report(p, report, start_weights=start, labels=labels.ravel().tolist(), **losses)
    outcome.discrepancy = abs(losses["clipped_loss"] - losses["logits_loss"]) / losses["logits_loss"]
    outcome.discrepancy_label = "rel gap of the starting loss"
    return outcome


def run_float32_hyperparameters(p: Pitfall, s: Setting) -> Outcome:
    """A float64 Adam whose β₁, β₂ are exact vs TensorFlow's, which rounds them through float32."""
    x, y = pairwise_sums(s.samples, s.seed)
    exact = {"name": "adam", "hyperparameter_dtype": None}
    a, b = base_mlp(s, optimizer=exact), keras_twin(base_mlp(s, optimizer="adam"))
    learning_rate = s.learning_rate / 50
    report = compare(a, b, x, y, epochs=s.epochs, learning_rate=learning_rate, batch_size=s.partial_batch)
    rounded = base_mlp(s, optimizer="adam")  # the fix: round as TensorFlow does (the default)
    fixed = compare(rounded, keras_twin(rounded), x, y, epochs=s.epochs, learning_rate=learning_rate,
                    batch_size=s.partial_batch)
    return outcome_from_report(p, report, beta_1_keras_uses=float(np.float32(0.9)), fix_agrees=fixed.passed,
                               final_weights_error=final_weights_error(report))


def run_pytorch_momentum(p: Pitfall, s: Setting) -> Outcome:
    """Momentum kept as PyTorch keeps it (v = μv + g, step ηv) vs Keras's (m = μm − ηg): equal at a constant rate."""
    x, y = pairwise_sums(s.samples, s.seed)
    momentum = {"name": "sgd", "momentum": 0.9}
    a, b = base_mlp(s, cls=PyTorchMomentum, optimizer=momentum), keras_twin(base_mlp(s, optimizer=momentum))
    learning_rate = s.learning_rate / 5
    report = compare(a, b, x, y, **(s.run_kwargs(batch_size=s.partial_batch) | {"learning_rate": learning_rate}))
    ratio = proportionality(a.get_optimizer_state()["momentum"], b.get_optimizer_state()["momentum"])
    for side in (a, b):  # then the rate changes: PyTorch's v carries the old rate's steps at the new rate
        side.train(x, y, 1, learning_rate / 10, batch_size=s.partial_batch)
    gap = max(float(np.max(np.abs(wa - wb))) for wa, wb in zip(a.get_weights(), b.get_weights()))
    outcome = outcome_from_report(p, report, learning_rate=learning_rate, slot_ratio=ratio,
                                  weights_gap_after_rate_change=gap)
    outcome.shows_first += f"; after lr ÷ 10 the weights part by {gap:.2g}"
    return outcome


def run_double_softmax(p: Pitfall, s: Setting) -> Outcome:
    """Keras with a softmax output *and* ``CategoricalCrossentropy(from_logits=True)``: softmax applied twice."""
    x, y = pairwise_sums(s.samples, s.seed)
    classes = np.eye(3)[y.argmax(axis=1)]  # which pairwise sum is largest
    a = base_mlp(s, activation=["sigmoid", "softmax"], loss="categorical_crossentropy")
    b = keras_twin(a, KerasDoubleSoftmax)
    b.set_weights(a.get_weights())
    start = [w.tolist() for w in a.get_weights()]
    with warnings.catch_warnings(record=True) as caught:  # Keras warns that the softmax's output is no logits
        warnings.simplefilter("always")
        losses = {"right_loss": a.evaluate(x, classes), "double_softmax_loss": b.evaluate(x, classes)}
        report = compare(a, b, x, classes, **s.run_kwargs(batch_size=s.partial_batch))
    keras_warned = any("from_logits=True" in str(w.message) for w in caught)
    return outcome_from_report(p, report, start_weights=start, classes=classes.tolist(), keras_warned=keras_warned,
                               **losses)


PITFALLS: list[Pitfall] = [
    Pitfall("baseline", "none: the base pair", "same weights, same math, same order: only rounding differs",
            run_baseline, expect_agree=True),
    Pitfall("float32", "Keras in float32, scratch in float64",
            "Keras builds float32 unless told: even the weight copy rounds (2⁻²⁴ ≈ 6e-8)", run_float32),
    Pitfall("seed_rule", "seed's ½·Σ(t−o)² rule vs Keras mse, same lr",
            "d/dŷ of ½·Σ is (ŷ−y), of mse 2/k·(ŷ−y): steps k/2 as big", run_seed_rule),
    Pitfall("seed_rule_scaled", "seed's ½·Σ rule vs Keras mse at lr·k/2",
            "½·Σ(t−o)² = k/2 · mse, so lr·k/2 takes the very same steps", run_seed_rule_scaled, expect_agree=True),
    Pitfall("default_batch", "Keras fit's default batch_size=32 vs per-sample SGD",
            "one step per 32 samples, on their mean gradient", run_default_batch, known_cause="batch size"),
    Pitfall("default_shuffle", "Keras fit's default shuffle=True",
            "fit reshuffles every epoch; scratch keeps the order", run_default_shuffle),
    Pitfall("plain_mean", "epoch loss = plain mean of batch losses (batch 32)",
            "Keras weights each batch by its size; the last one is partial", run_plain_mean),
    Pitfall("flat_targets", "targets of shape (n,) for an (n, 1) output",
            "(n,) − (n,1) broadcasts to (n,n): the mean of all n² pairs", run_flat_targets),
    Pitfall("missing_bias", "Keras Dense(use_bias=False), scratch with biases",
            "no bias to copy or learn: the weights cannot even be copied", run_missing_bias),
    Pitfall("own_init", "Keras keeps its own glorot weights (copy forgotten)",
            "two different random starts: different networks from step 0", run_own_init),
    Pitfall("textbook_adam", "the paper's Adam vs Keras's Adam",
            "Keras adds ε to √v, not to √v̂: in the paper's terms ε grows by 1/√(1−β₂ᵗ)", run_textbook_adam),
    Pitfall("clipped_bce", "BCE on clipped probabilities vs TensorFlow's, from the logits",
            "a saturated sigmoid rounds to 1; the clip caps −log at 16.1, the logits do not", run_clipped_bce),
    Pitfall("float32_hyperparameters", "exact β₁, β₂ in a float64 Adam vs TensorFlow's",
            "ops.cast(0.9, float64) goes through float32: β₁ is 0.89999998 in Keras", run_float32_hyperparameters),
    Pitfall("pytorch_momentum", "momentum in PyTorch's form vs Keras's",
            "v = μv + g holds the gradient, Keras's m = μm − ηg the step: equal until η changes",
            run_pytorch_momentum),
    Pitfall("double_softmax", "softmax output + CategoricalCrossentropy(from_logits=True)",
            "a second softmax? Not on TensorFlow: Keras reads the softmax's own logits and warns (JAX, "
            "PyTorch: softmax twice)", run_double_softmax, expect_agree=True),
]


from . import backend_pitfalls  # noqa: E402, F401 (it imports this module, then appends its lines to PITFALLS)


def run_pitfall(key: str, setting: Setting = Setting()) -> Outcome:
    """Run the pitfall named ``key`` (see :data:`PITFALLS`) at ``setting``."""
    for pitfall in PITFALLS:
        if pitfall.key == key:
            return pitfall.run(pitfall, setting)
    raise KeyError(f"no pitfall {key!r}; choose one of {', '.join(p.key for p in PITFALLS)}")


def run_all(setting: Setting = Setting(), keys: list[str] | None = None) -> list[Outcome]:
    """Every pitfall (or those in ``keys``), in gallery order."""
    return [run_pitfall(p.key, setting) for p in PITFALLS if keys is None or p.key in keys]


__all__ = ["PITFALLS", "QUICK", "Outcome", "Pitfall", "Setting", "run_all", "run_pitfall"]
