"""Localisation: where two implementations stop agreeing, and the likely cause.

Nothing here is guessed from the symptoms alone; every statement in a
:class:`~compare.results.Localisation` comes from a replay or a measurement:

1. **Layout and set-up.** Weight counts or shapes differ (``missing bias``,
   ``architecture``); the copy of the weights did not take (``different
   initial weights``); the outputs have different dtypes (``dtype mismatch``);
   the outputs differ from identical weights (``forward pass``).
2. **Gradients.** When ``b``'s gradients are a constant multiple ``r`` of
   ``a``'s, ``r`` is matched against the known factors ``2^i k^j B^l``
   (``k`` outputs, ``B`` samples): a factor 2 or ``k`` is a ``loss
   convention`` (½·Σ vs mean), a factor ``B`` is ``batch averaging``.
3. **Training.** Both sides are replayed epoch by epoch from the copied
   weights, each epoch fed in its exact documented order
   (:func:`scratch.batching.epoch_orders`) through ``train(x_e, y_e, 1, lr,
   batch_size)``, and compared after each epoch. In the first epoch that
   disagrees, both sides restart from the last agreeing weights and train on
   the first ``k`` batches of that epoch; bisection on ``k`` (each end
   verified: ``k-1`` batches agree, ``k`` do not) gives the first batch that
   breaks the agreement, and the parameters that differ after it. The batch
   is then examined alone: its gradients (factor analysis as above), one step
   on it alone (does the step itself differ?) and its size (``partial last
   batch``).
4. **Nothing in the replay disagrees** although the one-call run did: the
   side whose own run departs from its own replay in the documented order
   does not follow that order (``shuffling``) or carries state between calls.
5. **Weights agree, epoch losses do not**: a constant ratio of the losses is
   a ``loss convention`` in what is reported; otherwise the batch losses of
   the first differing epoch are replayed and both averages, the plain mean
   and Keras's sample-weighted mean, are compared with what each side
   reported (``epoch-loss averaging``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scratch.batching import epoch_orders

from .results import Localisation, Report
from .tolerances import Tolerance, allclose

Array = np.ndarray
Weights = list[Array]

#: A gradient (or step, or loss curve) counts as "a constant multiple" of the
#: other when the residual of the least-squares fit is below this, relative.
PROPORTIONAL_RTOL = 1e-4
#: A measured factor matches a known one within this relative distance.
FACTOR_RTOL = 1e-3
#: Do not replay more single batches than this to explain an epoch loss.
MAX_BATCH_REPLAYS = 5000


@dataclass
class Run:
    """Everything about one comparison that a replay needs."""

    a: Any
    b: Any
    x: Array
    y: Array
    epochs: int
    learning_rate: float
    batch_size: int
    shuffle: int | None
    tolerance: Tolerance
    initial: Weights
    names: tuple[str, str]
    parameter_names: list[str]
    dtypes: tuple[str, str] | None = None
    layouts: tuple[list[tuple[int, ...]], list[tuple[int, ...]]] | None = None
    losses: tuple[list[float], list[float]] | None = None
    finals: tuple[Weights, Weights] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    @property
    def num_outputs(self) -> int:
        return int(np.shape(self.y)[-1])

    def epoch_data(self) -> list[tuple[Array, Array]]:
        """Each epoch's ``(x, y)`` in the documented order."""
        data = []
        for order in epoch_orders(self.num_samples, self.epochs, self.shuffle):
            data.append((self.x, self.y) if order is None else (self.x[order], self.y[order]))
        return data

    def differing(self, weights_a: Sequence[Array], weights_b: Sequence[Array]) -> list[str]:
        """Names of the parameters that differ beyond tolerance."""
        return [
            name
            for name, wa, wb in zip(self.parameter_names, weights_a, weights_b)
            if not allclose(wa, wb, self.tolerance)
        ]


# ----------------------------------------------------------------- factors
def proportionality(list_a: Sequence[Array], list_b: Sequence[Array]) -> float | None:
    """The ``r`` with ``a ≈ r·b`` (least squares), if the fit is exact to :data:`PROPORTIONAL_RTOL`.

    ``b`` is taken as the reference: ``r = 0.5`` says ``a``'s values are half of ``b``'s.
    """
    a, b = (np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in arrays]) if len(arrays)
            else np.zeros(0) for arrays in (list_a, list_b))
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return None
    norm_b = float(b @ b)
    if norm_b == 0.0:
        return 0.0 if not np.any(a) else None
    ratio = float(b @ a) / norm_b
    residual = np.linalg.norm(a - ratio * b)
    return ratio if residual <= PROPORTIONAL_RTOL * max(np.linalg.norm(a), np.linalg.norm(b) * abs(ratio)) else None


@dataclass(frozen=True)
class Factor:
    """A known factor ``2^twos · k^outputs · B^samples`` and what it means."""

    twos: int
    outputs: int
    samples: int
    value: float

    @property
    def cause(self) -> str:
        return "batch averaging" if self.samples else "loss convention"

    def formula(self) -> str:
        up = [s for s, e in (("2", self.twos), ("k", self.outputs), ("B", self.samples)) if e > 0]
        down = [s for s, e in (("2", self.twos), ("k", self.outputs), ("B", self.samples)) if e < 0]
        return f"{'·'.join(up) or '1'}" + (f"/{'·'.join(down)}" if down else "")

    def meaning(self) -> str:
        parts = []
        if self.twos:
            parts.append("the factor 2 of d(t−o)²/do (½·Σ(t−o)² vs mean((t−o)²), or a dropped 2 in the MSE gradient)")
        if self.outputs:
            parts.append("averaging over the k outputs (sum vs mean over outputs)")
        if self.samples:
            parts.append("averaging over the B samples of the batch (sum vs mean over the batch)")
        return "; ".join(parts)


def match_factor(ratio: float | None, num_outputs: int, batch: int) -> list[Factor]:
    """The known factors equal to ``ratio``, simplest first (empty when none or ``ratio ≈ 1``)."""
    if ratio is None or ratio <= 0 or math.isclose(ratio, 1.0, rel_tol=FACTOR_RTOL):
        return []
    found = []
    for twos in (-1, 0, 1):
        for outputs in (-1, 0, 1) if num_outputs > 1 else (0,):
            for samples in (-1, 0, 1) if batch > 1 else (0,):
                value = 2.0**twos * num_outputs**outputs * batch**samples
                if math.isclose(ratio, value, rel_tol=FACTOR_RTOL) and not math.isclose(value, 1.0):
                    found.append(Factor(twos, outputs, samples, value))
    return sorted(found, key=lambda f: (abs(f.twos) + abs(f.outputs) + abs(f.samples), abs(f.samples)))


def factor_hint(what: str, ratio: float, factors: list[Factor], run: Run, batch: int) -> str:
    """``scratch.MLP's gradients are 0.5 × keras_equiv.KerasMLP's (k=1 outputs, B=32 samples) = 1/2: ...``"""
    readings = [f"{f.formula()}: {f.meaning()}" for f in factors]
    head = (f"{run.names[0]}'s {what} are {ratio:.6g} × {run.names[1]}'s "
            f"(k={run.num_outputs} outputs, B={batch} samples) = ")
    return head + " — or ".join(readings)


# --------------------------------------------------------------- replays
def _set_both(run: Run, weights: Weights) -> None:
    run.a.set_weights([w.copy() for w in weights])
    run.b.set_weights([w.copy() for w in weights])


def _train(obj: Any, x: Array, y: Array, run: Run, epochs: int = 1, shuffle: int | None = None) -> list[float]:
    return [float(v) for v in obj.train(x, y, epochs, run.learning_rate, batch_size=run.batch_size, shuffle=shuffle)]


def _num_batches(num_samples: int, batch_size: int) -> int:
    return -(-num_samples // batch_size)


@dataclass
class EpochReplay:
    """Both sides replayed epoch by epoch in the documented orders."""

    first_bad: int | None  # 1-based epoch of the first disagreement, None if none
    start: Weights | None  # a's weights before that epoch (both agreed there)
    losses: tuple[list[float], list[float]]
    finals: tuple[Weights, Weights]


def replay_epochs(run: Run) -> EpochReplay:
    """Train both from the copied weights one epoch per ``train`` call; stop at the first disagreement."""
    _set_both(run, run.initial)
    losses: tuple[list[float], list[float]] = ([], [])
    for epoch, (xe, ye) in enumerate(run.epoch_data(), start=1):
        start = run.a.get_weights()
        losses[0].extend(_train(run.a, xe, ye, run))
        losses[1].extend(_train(run.b, xe, ye, run))
        if run.differing(run.a.get_weights(), run.b.get_weights()):
            return EpochReplay(epoch, start, losses, (run.a.get_weights(), run.b.get_weights()))
    return EpochReplay(None, None, losses, (run.a.get_weights(), run.b.get_weights()))


def _prefix_differs(run: Run, start: Weights, xe: Array, ye: Array, batches: int) -> list[str]:
    """From ``start`` on both sides, train on the epoch's first ``batches`` batches; what differs."""
    stop = min(batches * run.batch_size, len(xe))
    _set_both(run, start)
    _train(run.a, xe[:stop], ye[:stop], run)
    _train(run.b, xe[:stop], ye[:stop], run)
    return run.differing(run.a.get_weights(), run.b.get_weights())


def first_bad_batch(run: Run, start: Weights, xe: Array, ye: Array) -> tuple[int, list[str]] | None:
    """The first batch ``k`` (1-based) such that ``k-1`` batches agree and ``k`` do not.

    Batch 1 is tried first (most bugs show there), then the whole epoch, then
    bisection between the last prefix known to agree and the first known not to.
    Returns ``None`` when the whole epoch agrees from ``start``.
    """
    total = _num_batches(len(xe), run.batch_size)
    differs = _prefix_differs(run, start, xe, ye, 1)
    if differs:
        return 1, differs
    good, bad = 1, total
    bad_differs = _prefix_differs(run, start, xe, ye, total) if total > 1 else []
    if not bad_differs:
        return None
    while bad - good > 1:
        middle = (good + bad) // 2
        differs = _prefix_differs(run, start, xe, ye, middle)
        if differs:
            bad, bad_differs = middle, differs
        else:
            good = middle
    return bad, bad_differs


# ------------------------------------------------------------- diagnosis
def diagnose(run: Run, report: Report) -> Localisation:
    """The localisation for a report with failed checks (see the module docstring)."""
    try:
        for step in (_setup_cause, _gradient_cause):
            found = step(run, report)
            if found is not None:
                return found
        return _training_cause(run, report)
    except Exception as error:  # a side raised during a replay: say so rather than crash
        return Localisation("unknown", f"the localisation replay stopped: {type(error).__name__}: {error}")


def _setup_cause(run: Run, report: Report) -> Localisation | None:
    """Layout, dtypes, the weight copy and the forward pass."""
    if run.layouts is not None:
        count_a, count_b = len(run.layouts[0]), len(run.layouts[1])
        evidence = [f"a's weight shapes: {run.layouts[0]}", f"b's weight shapes: {run.layouts[1]}"]
        if count_a != count_b:
            if max(count_a, count_b) == 2 * min(count_a, count_b):
                fewer = run.names[1] if count_b < count_a else run.names[0]
                hint = f"{fewer} has no bias vectors: build both with the same use_bias"
                return Localisation("missing bias", hint, evidence=evidence)
            hint = "the weight counts differ: the layer structure differs"
            return Localisation("architecture", hint, evidence=evidence)
        return Localisation("architecture", "the weight shapes differ: build both with the same layer sizes",
                            evidence=evidence)
    if run.dtypes is not None and run.dtypes[0] != run.dtypes[1]:
        hint = f"a computes in {run.dtypes[0]}, b in {run.dtypes[1]}: build both with the same dtype"
        return Localisation("dtype mismatch", hint, evidence=[f"forward output dtypes: {run.dtypes}"])
    initial = report.check("initial weights")
    if not initial.passed:
        hint = (f"{run.names[1]}.get_weights() after set_weights({run.names[0]}'s weights) does not return them: "
                "its set_weights does not take (or get_weights reorders)")
        return Localisation("different initial weights", hint, evidence=[f"initial weights: {initial.note}"])
    forward = report.check("forward")
    if not forward.passed:
        hint = ("the outputs differ from identical weights: the forward pass differs "
                "(activation, layer order, kernel layout)")
        evidence = [f"forward: max rel error {forward.max_rel_error:.3g} at {forward.worst_index} {forward.note}"]
        return Localisation("forward pass", hint, evidence=evidence)
    return None


def _gradient_cause(run: Run, report: Report) -> Localisation | None:
    """Gradients on the whole data differ: a factor, or a different backward pass."""
    failed = [c for c in report.checks if c.name.startswith("gradient") and not c.passed]
    if not failed:
        return None
    _set_both(run, run.initial)
    grads_a, grads_b = run.a.gradients(run.x, run.y), run.b.gradients(run.x, run.y)
    ratio = proportionality(grads_a, grads_b)
    batch = run.num_samples
    factors = match_factor(ratio, run.num_outputs, batch)
    layers = [c.name.removeprefix("gradient ").strip() for c in failed]
    evidence = [f"gradients on all {batch} samples: a ≈ r·b with r = {ratio:.6g}" if ratio is not None
                else "gradients on all samples: b is not a constant multiple of a"]
    training = _training_failed(report)
    if factors:
        loc = Localisation(factors[0].cause, factor_hint("gradients", ratio, factors, run, batch),
                           layer=layers[0], layers=layers, evidence=evidence)
    else:
        loc = Localisation("backward pass", "the gradients differ from identical weights with no known factor: "
                           "the backward pass computes something else", layer=layers[0], layers=layers,
                           evidence=evidence)
    if training:
        _add_training_place(run, loc)
    return loc


def _training_failed(report: Report) -> bool:
    return any(not c.passed for c in report.checks if c.name == "epoch losses" or c.name.startswith("final"))


def _add_training_place(run: Run, loc: Localisation) -> None:
    """Fill in the first disagreeing epoch and batch of training (keeps ``loc``'s cause)."""
    replay = replay_epochs(run)
    if replay.first_bad is None or replay.start is None:
        return
    xe, ye = run.epoch_data()[replay.first_bad - 1]
    found = first_bad_batch(run, replay.start, xe, ye)
    loc.epoch = replay.first_bad
    if found is not None:
        loc.batch = found[0]
        loc.samples = _batch_bounds(run, found[0], len(xe))


def _batch_bounds(run: Run, batch: int, num_samples: int) -> tuple[int, int]:
    return (batch - 1) * run.batch_size, min(batch * run.batch_size, num_samples)


def _training_cause(run: Run, report: Report) -> Localisation:
    """Forward and gradients agree, training does not."""
    weights_fail = any(not c.passed for c in report.checks if c.name.startswith("final"))
    if not weights_fail:
        return _loss_reporting_cause(run, report)
    replay = replay_epochs(run)
    if replay.first_bad is None or replay.start is None:
        return _order_cause(run, replay)
    xe, ye = run.epoch_data()[replay.first_bad - 1]
    found = first_bad_batch(run, replay.start, xe, ye)
    if found is None:
        hint = ("every batch of the epoch agrees from identical weights, only the accumulated trajectories drift "
                "apart (rounding amplified by the dynamics): loosen --rtol or train fewer epochs")
        return Localisation("rounding drift", hint, epoch=replay.first_bad,
                            evidence=[f"replay of epoch {replay.first_bad} from the agreeing weights agrees"])
    return _batch_cause(run, replay.first_bad, replay.start, xe, ye, *found)


def _batch_cause(run: Run, epoch: int, start: Weights, xe: Array, ye: Array, batch: int, layers: list[str]
                 ) -> Localisation:
    """Why batch ``batch`` of ``epoch`` breaks the agreement."""
    lo, hi = _batch_bounds(run, batch, len(xe))
    size, partial = hi - lo, hi - lo < run.batch_size
    loc = Localisation("unknown", "", epoch=epoch, batch=batch, samples=(lo, hi), layer=layers[0], layers=layers)
    before = _state_before(run, start, xe, ye, lo)
    xb, yb = xe[lo:hi], ye[lo:hi]
    _set_both(run, before)
    grads_a, grads_b = run.a.gradients(xb, yb), run.b.gradients(xb, yb)
    ratio = proportionality(grads_a, grads_b)
    grads_agree = not run.differing(grads_a, grads_b)
    loc.evidence.append(f"gradients on this batch ({size} samples): "
                        + ("agree" if grads_agree else f"a ≈ r·b with r = {ratio:.6g}" if ratio else "differ"))
    step_a, step_b = _single_steps(run, before, xb, yb)
    step_ratio = proportionality(step_a, step_b)
    alone_differs = run.differing([b + s for b, s in zip(before, step_a)], [b + s for b, s in zip(before, step_b)])
    loc.evidence.append("one step on this batch alone: " + ("differs" if alone_differs else "agrees")
                        + (f"; a's step ≈ {step_ratio:.6g} × b's" if step_ratio is not None else ""))
    factors = [] if grads_agree else match_factor(ratio, run.num_outputs, size)
    if factors:
        loc.cause, loc.hint = factors[0].cause, factor_hint("gradients", ratio, factors, run, size)
    elif partial:
        loc.cause, loc.hint = "partial last batch", _partial_hint(run, size, step_a, step_b)
    elif not alone_differs and grads_agree and (hint := _batch_size_hint(run, start, xe[:hi], ye[:hi])):
        loc.cause, loc.hint = "batch size", hint
    elif not alone_differs and grads_agree:
        loc.cause = "shuffling"
        loc.hint = ("this batch alone gives the same step on both sides, but not after the batches before it: "
                    "the sides do not feed the batches in the given order (b shuffles or reorders the samples)")
    elif grads_agree:
        step_factors = match_factor(step_ratio, run.num_outputs, size)
        loc.cause = step_factors[0].cause if step_factors else "update step"
        loc.hint = (factor_hint("steps", step_ratio, step_factors, run, size) if step_factors else
                    "the gradients agree but the update does not: learning rate, update sign or optimizer state "
                    "(momentum, weight decay) differ")
    else:
        loc.cause, loc.hint = "backward pass", "the gradients on this batch differ with no known factor"
    return loc


#: Batch sizes a side may use instead of the one asked for: Keras ``fit``'s default.
OTHER_BATCH_SIZES = (32,)


def _batch_size_hint(run: Run, start: Weights, x: Array, y: Array) -> str | None:
    """Does one side train these samples as if with another batch size? Replayed, not guessed."""
    reached = []
    for side in (run.a, run.b):
        side.set_weights([w.copy() for w in start])
        _train(side, x, y, run)
        reached.append(side.get_weights())
    for side, other in ((1, 0), (0, 1)):
        for size in (*OTHER_BATCH_SIZES, len(x)):
            if size == run.batch_size:
                continue
            obj = (run.a, run.b)[other]
            obj.set_weights([w.copy() for w in start])
            obj.train(x, y, 1, run.learning_rate, batch_size=size)
            if not run.differing(reached[side], obj.get_weights()):
                return (f"{run.names[side]} trains in batches of {size}, not batch_size={run.batch_size}: "
                        f"its weights after these {len(x)} samples equal {run.names[other]}'s trained at "
                        f"batch_size={size}" + (" (Keras fit's default when batch_size is not passed)"
                                                 if size == 32 else ""))
    return None


def _partial_hint(run: Run, size: int, step_a: Weights, step_b: Weights) -> str:
    """What one side does differently with the partial last batch, from each side's step on it alone."""
    head = f"the first disagreement is the epoch's last, partial batch ({size} of {run.batch_size} samples)"
    for side, step, other in ((0, step_a, step_b), (1, step_b, step_a)):
        name = run.names[side]
        if not any(np.any(s) for s in step) and any(np.any(s) for s in other):
            return head + f": {name} makes no update on it (it drops the partial last batch); Keras trains on it"
        ratio = proportionality(step, other)
        if ratio is not None and math.isclose(ratio, size / run.batch_size, rel_tol=FACTOR_RTOL):
            return head + (f": {name}'s step on it is {size}/{run.batch_size} of the other's (it divides by "
                           "batch_size, not by the batch's own size)")
    return head + ": the sides treat the partial last batch differently (Keras trains on it as a batch of its own size)"


def _state_before(run: Run, start: Weights, xe: Array, ye: Array, stop: int) -> Weights:
    """a's weights after training on the first ``stop`` samples of the epoch from ``start``."""
    run.a.set_weights([w.copy() for w in start])
    if stop > 0:
        _train(run.a, xe[:stop], ye[:stop], run)
    return run.a.get_weights()


def _single_steps(run: Run, before: Weights, xb: Array, yb: Array) -> tuple[Weights, Weights]:
    """Each side's change of weights from one ``train`` call on ``(xb, yb)`` alone."""
    _set_both(run, before)
    _train(run.a, xb, yb, run)
    _train(run.b, xb, yb, run)
    step_a = [w - b for w, b in zip(run.a.get_weights(), before)]
    step_b = [w - b for w, b in zip(run.b.get_weights(), before)]
    return step_a, step_b


def _order_cause(run: Run, replay: EpochReplay) -> Localisation:
    """The epoch-by-epoch replay agrees although the one-call run did not."""
    assert run.finals is not None and run.losses is not None
    evidence = ["the replay, one epoch per train call in the documented orders, agrees at every epoch"]
    deviants = []
    for side in (0, 1):
        if run.differing(run.finals[side], replay.finals[side]):
            deviants.append(side)
            epoch = _first_loss_difference(run.losses[side], replay.losses[side], run.tolerance)
            evidence.append(f"{run.names[side]}: its own {run.epochs}-epoch run departs from its "
                            f"replay" + (f" from epoch {epoch}" if epoch else ""))
    side = " and ".join(run.names[s] for s in deviants) or "neither side"
    first = min((_first_loss_difference(run.losses[s], replay.losses[s], run.tolerance) or 1 for s in deviants),
                default=None)
    if run.shuffle is not None:
        hint = (f"{side} does not shuffle in the documented order: with shuffle={run.shuffle} each epoch must use "
                "np.random.default_rng(shuffle).permutation(n), one permutation per epoch from one generator")
        return Localisation("shuffling", hint, epoch=first, batch=1 if first else None, evidence=evidence)
    hint = (f"{side} trains differently in one call of {run.epochs} epochs than in one call per epoch: "
            "it reorders samples or carries state (a schedule, momentum) across epochs")
    return Localisation("shuffling" if deviants else "unknown", hint, epoch=first, evidence=evidence)


def _first_loss_difference(losses: list[float], other: list[float], tolerance: Tolerance) -> int | None:
    for epoch, (la, lb) in enumerate(zip(losses, other), start=1):
        if not allclose(np.array(la), np.array(lb), tolerance):
            return epoch
    return None


def _loss_reporting_cause(run: Run, report: Report) -> Localisation:
    """The weights agree after training but the epoch losses do not."""
    assert run.losses is not None
    losses_a, losses_b = run.losses
    if len(losses_a) != len(losses_b):
        return Localisation("unknown", f"a reports {len(losses_a)} epoch losses, b {len(losses_b)}: "
                            "train must return one loss per epoch")
    epoch = _first_loss_difference(losses_a, losses_b, run.tolerance) or 1
    evidence = ["the final weights agree: both sides made the same updates"]
    ratio = proportionality([np.array(losses_a)], [np.array(losses_b)])
    factors = [f for f in match_factor(ratio, run.num_outputs, 1) if not f.samples]
    if factors:
        return Localisation("loss convention", factor_hint("reported losses", ratio, factors, run, 1),
                            epoch=epoch, evidence=evidence)
    means = _epoch_batch_means(run, epoch)
    if means is None:
        return Localisation("unknown", "the epoch losses differ while the weights agree: the loss is computed or "
                            "reported differently", epoch=epoch, evidence=evidence)
    plain, weighted = means
    evidence.append(f"epoch {epoch}: plain mean of batch losses {plain:.10g}, sample-weighted mean {weighted:.10g}; "
                    f"a reports {losses_a[epoch - 1]:.10g}, b reports {losses_b[epoch - 1]:.10g}")
    reads = [_which_mean(value, plain, weighted, run.tolerance) for value in (losses_a[epoch - 1], losses_b[epoch - 1])]
    if "plain" in reads and "weighted" in reads:
        side = run.names[reads.index("plain")]
        hint = (f"{side} reports the plain mean of its batch losses; Keras weights each batch by its number of "
                f"samples (they differ because the last batch is partial)")
        return Localisation("epoch-loss averaging", hint, epoch=epoch, evidence=evidence)
    return Localisation("unknown", "the epoch losses differ while the weights agree, and neither is explained by "
                        "how the batch losses are averaged (pre- vs post-update loss?)", epoch=epoch, evidence=evidence)


def _which_mean(value: float, plain: float, weighted: float, tolerance: Tolerance) -> str:
    if allclose(np.array(value), np.array(weighted), tolerance):
        return "weighted"
    return "plain" if allclose(np.array(value), np.array(plain), tolerance) else "neither"


def _epoch_batch_means(run: Run, epoch: int) -> tuple[float, float] | None:
    """Replay ``a`` up to ``epoch`` and return (plain, weighted) means of that epoch's batch losses."""
    data = run.epoch_data()
    if _num_batches(run.num_samples, run.batch_size) > MAX_BATCH_REPLAYS:
        return None
    run.a.set_weights([w.copy() for w in run.initial])
    for xe, ye in data[: epoch - 1]:
        _train(run.a, xe, ye, run)
    xe, ye = data[epoch - 1]
    losses, sizes = [], []
    for lo in range(0, len(xe), run.batch_size):
        hi = min(lo + run.batch_size, len(xe))
        losses.append(_train(run.a, xe[lo:hi], ye[lo:hi], run)[0])
        sizes.append(hi - lo)
    return float(np.mean(losses)), float(np.dot(losses, sizes) / sum(sizes))

