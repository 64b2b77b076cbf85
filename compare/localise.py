"""Localisation: where two implementations stop agreeing, and the likely cause.

Nothing here is guessed from the symptoms alone; every statement in a
:class:`~compare.results.Localisation` comes from a replay or a measurement:

1. **Layout and set-up.** Weight counts or shapes differ (``missing bias``,
   ``architecture``); the copy of the weights did not take (``different
   initial weights``); the outputs have different dtypes (``dtype mismatch``);
   the outputs differ from identical weights (``forward pass``); ``evaluate``
   differs on identical outputs (a known factor is a ``loss convention``,
   anything else a different ``loss function``).
2. **Gradients.** When ``b``'s gradients are a constant multiple ``r`` of
   ``a``'s, ``r`` is matched against the known factors ``2^i k^j B^l``
   (``k`` outputs, ``B`` samples, :mod:`compare.factors`): a factor 2 or
   ``k`` is a ``loss convention`` (½·Σ vs mean), a factor ``B`` is ``batch
   averaging``.
3. **Training.** Every replay is one primitive, :func:`replay`: restore a
   side to a :class:`Snapshot` (weights, and optimizer state where the side
   has one), call ``train``, take the new snapshot. Both sides are replayed
   epoch by epoch from the copied weights, each epoch fed in its exact
   documented order (:func:`scratch.batching.epoch_orders`) through
   ``train(x_e, y_e, 1, lr, batch_size)``, and compared after each epoch. In the first epoch that
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
6. **Everything agrees but the optimizer state**: ``optimizer state``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scratch.batching import epoch_orders
from scratch.protocol import ComparableMLP, HasOptimizerState

from . import optimizer_state
from .causes import Cause
from .factors import FACTOR_RTOL, factor_hint, match_factor, proportionality
from .results import Localisation, Report
from .tolerances import Tolerance, allclose

Array = np.ndarray
Weights = list[Array]

#: Do not replay more single batches than this to explain an epoch loss.
MAX_BATCH_REPLAYS = 5000
#: Batch sizes a side may use instead of the one asked for: Keras ``fit``'s default.
OTHER_BATCH_SIZES = (32,)


# ------------------------------------------------------------- snapshots
@dataclass(frozen=True)
class Snapshot:
    """What a side's next ``train`` call depends on: its weights and, if it has one, its optimizer state."""

    weights: Weights
    optimizer_state: dict | None = None


def snapshot(side: ComparableMLP) -> Snapshot:
    """``side``'s current weights and optimizer state (copies)."""
    state = side.get_optimizer_state() if isinstance(side, HasOptimizerState) else None
    return Snapshot(side.get_weights(), state)


def restore(side: ComparableMLP, state: Snapshot) -> None:
    """Put ``side`` back to ``state`` (the optimizer state only where both have one)."""
    side.set_weights([w.copy() for w in state.weights])
    if state.optimizer_state is not None and isinstance(side, HasOptimizerState):
        side.set_optimizer_state(state.optimizer_state)


@dataclass(frozen=True)
class Run:
    """One comparison, as the harness ran it: what every replay starts from and what it is compared with.

    ``initial`` is the state both sides started from; ``dtypes`` the output
    dtypes of the two forward passes; ``layouts`` the two lists of weight
    shapes when they differ; ``losses`` and ``finals`` the main training run's
    epoch losses and end states (``None`` where that stage was not reached).
    """

    sides: tuple[ComparableMLP, ComparableMLP]
    names: tuple[str, str]
    x: Array
    y: Array
    epochs: int
    learning_rate: float
    batch_size: int
    shuffle: int | None
    tolerance: Tolerance
    initial: Snapshot
    parameter_names: list[str]
    dtypes: tuple[str, str] | None = None
    layouts: tuple[list[tuple[int, ...]], list[tuple[int, ...]]] | None = None
    losses: tuple[list[float], list[float]] | None = None
    finals: tuple[Snapshot, Snapshot] | None = None

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

    def factor_hint(self, what: str, ratio: float, factors: list, batch: int) -> str:
        return factor_hint(what, ratio, factors, self.names, self.num_outputs, batch)


# --------------------------------------------------------------- replays
def replay(run: Run, side: int, start: Snapshot, x: Array, y: Array, *, epochs: int = 1,
           batch_size: int | None = None, shuffle: int | None = None) -> tuple[Snapshot, list[float]]:
    """The one replay primitive: side ``side`` (0 is a, 1 is b) from ``start``, one ``train`` call on ``(x, y)``.

    Returns the side's snapshot after the call and the epoch losses it reported.
    """
    obj = run.sides[side]
    restore(obj, start)
    losses = obj.train(x, y, epochs, run.learning_rate, batch_size=batch_size or run.batch_size, shuffle=shuffle)
    return snapshot(obj), [float(v) for v in losses]


def replay_both(run: Run, start: Snapshot, x: Array, y: Array) -> tuple[Snapshot, Snapshot]:
    """Both sides from the same ``start``, one epoch on ``(x, y)``."""
    return replay(run, 0, start, x, y)[0], replay(run, 1, start, x, y)[0]


def gradients_at(run: Run, start: Snapshot, x: Array, y: Array) -> tuple[Weights, Weights]:
    """Both sides' gradients on ``(x, y)`` from the same ``start``."""
    for side in run.sides:
        restore(side, start)
    return run.sides[0].gradients(x, y), run.sides[1].gradients(x, y)


def _num_batches(num_samples: int, batch_size: int) -> int:
    return -(-num_samples // batch_size)


@dataclass
class EpochReplay:
    """Both sides replayed epoch by epoch in the documented orders."""

    first_bad: int | None  # 1-based epoch of the first disagreement, None if none
    start: Snapshot | None  # a's state before that epoch (both agreed there)
    losses: tuple[list[float], list[float]]
    finals: tuple[Snapshot, Snapshot]


def weights_differ(run: Run, end_a: Snapshot, end_b: Snapshot) -> list[str]:
    """The parameters whose weights differ (``W0``, ``b0``...)."""
    return run.differing(end_a.weights, end_b.weights)


def states_differ(run: Run, end_a: Snapshot, end_b: Snapshot) -> list[str]:
    """The optimizer-state entries that differ (``iterations``, ``momentum W0``...); none without states."""
    if end_a.optimizer_state is None or end_b.optimizer_state is None:
        return []
    return optimizer_state.differing_entries(end_a.optimizer_state, end_b.optimizer_state, run.parameter_names,
                                             run.tolerance)


#: What a replay compares between the two sides' end snapshots: :func:`weights_differ` or :func:`states_differ`.
Differs = Callable[[Run, Snapshot, Snapshot], list[str]]


def replay_epochs(run: Run, differs: Differs = weights_differ) -> EpochReplay:
    """Train both from the initial state, one epoch per ``train`` call; stop at the first disagreement."""
    states = [run.initial, run.initial]
    losses: tuple[list[float], list[float]] = ([], [])
    for epoch, (xe, ye) in enumerate(run.epoch_data(), start=1):
        start = states[0]
        for side in (0, 1):
            states[side], epoch_losses = replay(run, side, states[side], xe, ye)
            losses[side].extend(epoch_losses)
        if differs(run, states[0], states[1]):
            return EpochReplay(epoch, start, losses, (states[0], states[1]))
    return EpochReplay(None, None, losses, (states[0], states[1]))


def _prefix_differs(run: Run, start: Snapshot, xe: Array, ye: Array, batches: int, differs: Differs) -> list[str]:
    """From ``start`` on both sides, train on the epoch's first ``batches`` batches; what differs."""
    stop = min(batches * run.batch_size, len(xe))
    return differs(run, *replay_both(run, start, xe[:stop], ye[:stop]))


def first_bad_batch(run: Run, start: Snapshot, xe: Array, ye: Array, differs: Differs = weights_differ
                    ) -> tuple[int, list[str]] | None:
    """The first batch ``k`` (1-based) such that ``k-1`` batches agree and ``k`` do not.

    Batch 1 is tried first (most bugs show there), then the whole epoch, then
    bisection between the last prefix known to agree and the first known not to.
    Returns ``None`` when the whole epoch agrees from ``start``.
    """
    total = _num_batches(len(xe), run.batch_size)
    first = _prefix_differs(run, start, xe, ye, 1, differs)
    if first:
        return 1, first
    good, bad = 1, total
    bad_differs = _prefix_differs(run, start, xe, ye, total, differs) if total > 1 else []
    if not bad_differs:
        return None
    while bad - good > 1:
        middle = (good + bad) // 2
        middle_differs = _prefix_differs(run, start, xe, ye, middle, differs)
        if middle_differs:
            bad, bad_differs = middle, middle_differs
        else:
            good = middle
    return bad, bad_differs


# ------------------------------------------------------------- diagnosis
def diagnose(run: Run, report: Report) -> Localisation:
    """The localisation for a report with failed checks (see the module docstring)."""
    try:
        for step in (_setup_cause, _loss_function_cause, _gradient_cause):
            found = step(run, report)
            if found is not None:
                return found
        return _training_cause(run, report)
    except Exception as error:  # a side raised during a replay: say so rather than crash
        return Localisation(Cause.UNKNOWN, f"the localisation replay stopped: {type(error).__name__}: {error}")


def _setup_cause(run: Run, report: Report) -> Localisation | None:
    """Layout, dtypes, the weight copy and the forward pass."""
    if run.layouts is not None:
        count_a, count_b = len(run.layouts[0]), len(run.layouts[1])
        evidence = [f"a's weight shapes: {run.layouts[0]}", f"b's weight shapes: {run.layouts[1]}"]
        if count_a != count_b:
            if max(count_a, count_b) == 2 * min(count_a, count_b):
                fewer = run.names[1] if count_b < count_a else run.names[0]
                hint = f"{fewer} has no bias vectors: build both with the same use_bias"
                return Localisation(Cause.MISSING_BIAS, hint, evidence=evidence)
            hint = "the weight counts differ: the layer structure differs"
            return Localisation(Cause.ARCHITECTURE, hint, evidence=evidence)
        return Localisation(Cause.ARCHITECTURE, "the weight shapes differ: build both with the same layer sizes",
                            evidence=evidence)
    if run.dtypes is not None and run.dtypes[0] != run.dtypes[1]:
        hint = f"a computes in {run.dtypes[0]}, b in {run.dtypes[1]}: build both with the same dtype"
        return Localisation(Cause.DTYPE_MISMATCH, hint, evidence=[f"forward output dtypes: {run.dtypes}"])
    initial = report.check("initial weights")
    if not initial.passed:
        hint = (f"{run.names[1]}.get_weights() after set_weights({run.names[0]}'s weights) does not return them: "
                "its set_weights does not take (or get_weights reorders)")
        return Localisation(Cause.INITIAL_WEIGHTS, hint, evidence=[f"initial weights: {initial.note}"])
    forward = report.check("forward")
    if not forward.passed:
        hint = ("the outputs differ from identical weights: the forward pass differs "
                "(activation, layer order, kernel layout)")
        evidence = [f"forward: max rel error {forward.max_rel_error:.3g} at {forward.worst_index} {forward.note}"]
        return Localisation(Cause.FORWARD_PASS, hint, evidence=evidence)
    return None


def _loss_function_cause(run: Run, report: Report) -> Localisation | None:
    """``evaluate`` differs on identical weights (so on identical outputs): a factor, or another loss."""
    check = report.check("evaluate")
    if check.passed:
        return None
    for side in run.sides:
        restore(side, run.initial)
    losses = [float(side.evaluate(run.x, run.y)) for side in run.sides]
    evidence = [f"evaluate on all {run.num_samples} samples: a {losses[0]:.10g}, b {losses[1]:.10g}"]
    ratio = losses[0] / losses[1] if losses[1] else None
    factors = match_factor(ratio, run.num_outputs, run.num_samples)
    if factors:
        hint = run.factor_hint("losses", ratio, factors, run.num_samples)
        return Localisation(factors[0].cause, hint, evidence=evidence)
    hint = (f"{run.names[0]} and {run.names[1]} give different losses for the same outputs, and not by a known "
            "factor: they compute different loss functions (e.g. MAE vs MSE)")
    return Localisation(Cause.LOSS_FUNCTION, hint, evidence=evidence)


def _gradient_cause(run: Run, report: Report) -> Localisation | None:
    """Gradients on the whole data differ: a factor, or a different backward pass."""
    failed = [c for c in report.checks if c.name.startswith("gradient") and not c.passed]
    if not failed:
        return None
    grads_a, grads_b = gradients_at(run, run.initial, run.x, run.y)
    ratio = proportionality(grads_a, grads_b)
    batch = run.num_samples
    factors = match_factor(ratio, run.num_outputs, batch)
    layers = [c.name.removeprefix("gradient ").strip() for c in failed]
    evidence = [f"gradients on all {batch} samples: a ≈ r·b with r = {ratio:.6g}" if ratio is not None
                else "gradients on all samples: b is not a constant multiple of a"]
    if factors:
        loc = Localisation(factors[0].cause, run.factor_hint("gradients", ratio, factors, batch),
                           layer=layers[0], layers=layers, evidence=evidence)
    else:
        loc = Localisation(Cause.BACKWARD_PASS, "the gradients differ from identical weights with no known factor: "
                           "the backward pass computes something else", layer=layers[0], layers=layers,
                           evidence=evidence)
    if _training_failed(report):
        _add_training_place(run, loc)
    return loc


def _training_failed(report: Report) -> bool:
    return any(not c.passed for c in report.checks if c.name == "epoch losses" or c.name.startswith("final"))


def _add_training_place(run: Run, loc: Localisation) -> None:
    """Fill in the first disagreeing epoch and batch of training (keeps ``loc``'s cause)."""
    replayed = replay_epochs(run)
    if replayed.first_bad is None or replayed.start is None:
        return
    xe, ye = run.epoch_data()[replayed.first_bad - 1]
    found = first_bad_batch(run, replayed.start, xe, ye)
    loc.epoch = replayed.first_bad
    if found is not None:
        loc.batch = found[0]
        loc.samples = _batch_bounds(run, found[0], len(xe))


def _batch_bounds(run: Run, batch: int, num_samples: int) -> tuple[int, int]:
    return (batch - 1) * run.batch_size, min(batch * run.batch_size, num_samples)


def _training_cause(run: Run, report: Report) -> Localisation:
    """Forward, loss and gradients agree, training does not."""
    weights_fail = any(not c.passed for c in report.checks if c.name.startswith("final"))
    if not weights_fail:
        losses_fail = not report.check("epoch losses").passed
        return _loss_reporting_cause(run, report) if losses_fail else _optimizer_state_cause(run, report)
    replayed = replay_epochs(run)
    if replayed.first_bad is None or replayed.start is None:
        return _order_cause(run, replayed)
    xe, ye = run.epoch_data()[replayed.first_bad - 1]
    found = first_bad_batch(run, replayed.start, xe, ye)
    if found is None:
        hint = ("every batch of the epoch agrees from identical weights, only the accumulated trajectories drift "
                "apart (rounding amplified by the dynamics): loosen --rtol or train fewer epochs")
        return Localisation(Cause.ROUNDING_DRIFT, hint, epoch=replayed.first_bad,
                            evidence=[f"replay of epoch {replayed.first_bad} from the agreeing weights agrees"])
    return _batch_cause(run, replayed.first_bad, replayed.start, xe, ye, *found)


@dataclass
class _BatchEvidence:
    """What one batch does on each side from the same state: gradients and one step."""

    grads_agree: bool
    ratio: float | None
    steps: tuple[Weights, Weights]
    ends: tuple[Snapshot, Snapshot]
    step_ratio: float | None
    alone_differs: bool
    lines: list[str] = field(default_factory=list)


def _examine_batch(run: Run, before: Snapshot, xb: Array, yb: Array) -> _BatchEvidence:
    grads_a, grads_b = gradients_at(run, before, xb, yb)
    ratio = proportionality(grads_a, grads_b)
    grads_agree = not run.differing(grads_a, grads_b)
    end_a, end_b = replay_both(run, before, xb, yb)
    steps = ([w - b for w, b in zip(end_a.weights, before.weights)],
             [w - b for w, b in zip(end_b.weights, before.weights)])
    step_ratio = proportionality(*steps)
    alone_differs = bool(run.differing(end_a.weights, end_b.weights))
    lines = [f"gradients on this batch ({len(xb)} samples): "
             + ("agree" if grads_agree else f"a ≈ r·b with r = {ratio:.6g}" if ratio else "differ"),
             "one step on this batch alone: " + ("differs" if alone_differs else "agrees")
             + (f"; a's step ≈ {step_ratio:.6g} × b's" if step_ratio is not None else "")]
    return _BatchEvidence(grads_agree, ratio, steps, (end_a, end_b), step_ratio, alone_differs, lines)


def _batch_cause(run: Run, epoch: int, start: Snapshot, xe: Array, ye: Array, batch: int, layers: list[str]
                 ) -> Localisation:
    """Why batch ``batch`` of ``epoch`` breaks the agreement."""
    lo, hi = _batch_bounds(run, batch, len(xe))
    size, partial = hi - lo, hi - lo < run.batch_size
    loc = Localisation(Cause.UNKNOWN, "", epoch=epoch, batch=batch, samples=(lo, hi), layer=layers[0], layers=layers)
    before = replay(run, 0, start, xe[:lo], ye[:lo])[0] if lo > 0 else start
    seen = _examine_batch(run, before, xe[lo:hi], ye[lo:hi])
    loc.evidence += seen.lines
    factors = [] if seen.grads_agree else match_factor(seen.ratio, run.num_outputs, size)
    if factors:
        loc.cause, loc.hint = factors[0].cause, run.factor_hint("gradients", seen.ratio, factors, size)
    elif partial and (hint := _partial_hint(run, size, *seen.steps)):
        loc.cause, loc.hint = Cause.PARTIAL_LAST_BATCH, hint
    elif partial and not (seen.alone_differs and seen.grads_agree):
        loc.cause, loc.hint = Cause.PARTIAL_LAST_BATCH, _partial_head(run, size) + PARTIAL_GENERIC
    elif not seen.alone_differs and seen.grads_agree and (hint := _batch_size_hint(run, start, xe[:hi], ye[:hi])):
        loc.cause, loc.hint = Cause.BATCH_SIZE, hint
    elif not seen.alone_differs and seen.grads_agree:
        loc.cause = Cause.SHUFFLING
        loc.hint = ("this batch alone gives the same step on both sides, but not after the batches before it: "
                    "the sides do not feed the batches in the given order (b shuffles or reorders the samples)")
    elif seen.grads_agree and (step_factors := match_factor(seen.step_ratio, run.num_outputs, size)):
        loc.cause, loc.hint = step_factors[0].cause, run.factor_hint("steps", seen.step_ratio, step_factors, size)
    elif seen.grads_agree:
        found = _update_step_cause(run, before, xe[lo:hi], ye[lo:hi], seen, loc.evidence)
        generic = ((Cause.PARTIAL_LAST_BATCH, _partial_head(run, size) + PARTIAL_GENERIC) if partial else
                   (Cause.UPDATE_STEP, "the gradients agree but the update does not: learning rate, update sign or "
                    "the optimizer's rule differ"))
        loc.cause, loc.hint = found or generic
    else:
        loc.cause, loc.hint = Cause.BACKWARD_PASS, "the gradients on this batch differ with no known factor"
    return loc


def _update_step_cause(run: Run, before: Snapshot, xb: Array, yb: Array, seen: _BatchEvidence,
                       evidence: list[str]) -> tuple[Cause, str] | None:
    """Same gradients, different step: the update rule, or the optimizer state carried into it? Replayed.

    From the same weights with a *fresh* optimizer state (no step taken, zero
    slots): if the step then agrees, the sides keep or read the carried state
    differently; if not, the rule differs, and the slots after that first step
    say whether in how the slots are updated or in how the step is made from them.
    ``None`` when there is no slot to learn from.
    """
    state = before.optimizer_state
    if state is None or set(state) <= {"iterations"}:  # no slots: nothing carried but a step count
        return None
    ends = seen.ends
    if not optimizer_state.is_fresh(state):
        ends = replay_both(run, Snapshot(before.weights, optimizer_state.fresh(state)), xb, yb)
        agrees = not run.differing(ends[0].weights, ends[1].weights)
        evidence.append("one step on this batch from a fresh optimizer state (iterations 0, zero slots): "
                        + ("agrees" if agrees else "differs too"))
        if agrees:
            readings, named = _slot_readings(run, ends)
            decays, rounded = optimizer_state.decay_readings(
                state, tuple(e.optimizer_state or {} for e in seen.ends), tuple(e.optimizer_state or {} for e in ends),
                run.names)
            evidence += readings + decays
            if rounded:  # the same state, decayed by another factor: a coefficient of the rule differs
                return Cause.UPDATE_STEP, rounded
            hint = ("the same gradients give the same step from a fresh optimizer state but not from the carried "
                    "one: the sides keep or read the optimizer's state differently, so it matters once it is "
                    "carried (across train calls, or copied from one side to the other)")
            return Cause.OPTIMIZER_STATE, named or hint
    else:
        evidence.append("this is the optimizer's first step (iterations 0, zero slots)")
    slots = [entry for entry in states_differ(run, *ends) if entry != "iterations"]
    if slots:
        evidence.append(f"the optimizer slots after that first step differ: {', '.join(slots)}")
        readings, named = _slot_readings(run, ends)
        evidence += readings
        return Cause.UPDATE_STEP, named or ("the update rule differs from the first step on: the sides update the "
                                            "optimizer's slots differently")
    evidence.append("the optimizer slots after that first step agree")
    return Cause.UPDATE_STEP, ("the update rule differs from the first step on: the slots agree, the step made from "
                               "them does not (e.g. where ε enters, or a bias correction)")


def _batch_size_hint(run: Run, start: Snapshot, x: Array, y: Array) -> str | None:
    """Does one side train these samples as if with another batch size? Replayed, not guessed."""
    reached = [replay(run, side, start, x, y)[0] for side in (0, 1)]
    for side, other in ((1, 0), (0, 1)):
        for size in (*OTHER_BATCH_SIZES, len(x)):
            if size == run.batch_size:
                continue
            other_end = replay(run, other, start, x, y, batch_size=size)[0]
            if not run.differing(reached[side].weights, other_end.weights):
                return (f"{run.names[side]} trains in batches of {size}, not batch_size={run.batch_size}: "
                        f"its weights after these {len(x)} samples equal {run.names[other]}'s trained at "
                        f"batch_size={size}" + (" (Keras fit's default when batch_size is not passed)"
                                                 if size == 32 else ""))
    return None


PARTIAL_GENERIC = ": the sides treat the partial last batch differently (Keras trains on it as a batch of its own size)"


def _partial_head(run: Run, size: int) -> str:
    return f"the first disagreement is the epoch's last, partial batch ({size} of {run.batch_size} samples)"


def _partial_hint(run: Run, size: int, step_a: Weights, step_b: Weights) -> str | None:
    """What one side does differently with the partial last batch, from each side's step on it alone (or ``None``)."""
    head = _partial_head(run, size)
    for side, step, other in ((0, step_a, step_b), (1, step_b, step_a)):
        name = run.names[side]
        if not any(np.any(s) for s in step) and any(np.any(s) for s in other):
            return head + f": {name} makes no update on it (it drops the partial last batch); Keras trains on it"
        ratio = proportionality(step, other)
        if ratio is not None and math.isclose(ratio, size / run.batch_size, rel_tol=FACTOR_RTOL):
            return head + (f": {name}'s step on it is {size}/{run.batch_size} of the other's (it divides by "
                           "batch_size, not by the batch's own size)")
    return None


def _order_cause(run: Run, replayed: EpochReplay) -> Localisation:
    """The epoch-by-epoch replay agrees although the one-call run did not."""
    assert run.finals is not None and run.losses is not None
    evidence = ["the replay, one epoch per train call in the documented orders, agrees at every epoch"]
    deviants = []
    for side in (0, 1):
        if run.differing(run.finals[side].weights, replayed.finals[side].weights):
            deviants.append(side)
            epoch = _first_loss_difference(run.losses[side], replayed.losses[side], run.tolerance)
            evidence.append(f"{run.names[side]}: its own {run.epochs}-epoch run departs from its "
                            f"replay" + (f" from epoch {epoch}" if epoch else ""))
    side = " and ".join(run.names[s] for s in deviants) or "neither side"
    first = min((_first_loss_difference(run.losses[s], replayed.losses[s], run.tolerance) or 1 for s in deviants),
                default=None)
    if run.shuffle is not None:
        hint = (f"{side} does not shuffle in the documented order: with shuffle={run.shuffle} each epoch must use "
                "np.random.default_rng(shuffle).permutation(n), one permutation per epoch from one generator")
        return Localisation(Cause.SHUFFLING, hint, epoch=first, batch=1 if first else None, evidence=evidence)
    hint = (f"{side} trains differently in one call of {run.epochs} epochs than in one call per epoch: "
            "it reorders samples or carries state (a schedule, momentum) across epochs")
    return Localisation(Cause.SHUFFLING if deviants else Cause.UNKNOWN, hint, epoch=first, evidence=evidence)


def _first_loss_difference(losses: list[float], other: list[float], tolerance: Tolerance) -> int | None:
    for epoch, (la, lb) in enumerate(zip(losses, other), start=1):
        if not allclose(np.array(la), np.array(lb), tolerance):
            return epoch
    return None


def _optimizer_state_cause(run: Run, report: Report) -> Localisation:
    """Weights and losses agree after training; only the optimizer state does not. Where it first differs, replayed."""
    failed = [c for c in report.checks if c.name.startswith("optimizer") and not c.passed]
    evidence = [f"{c.name}: {c.note or f'max rel error {c.max_rel_error:.3g}'}" for c in failed]
    hint = ("the weights and losses agree but the optimizer state after training does not: the step count or a slot "
            "(momentum, moments) is kept differently; it would change the next steps")
    loc = Localisation(Cause.OPTIMIZER_STATE if failed else Cause.UNKNOWN, hint, evidence=evidence)
    replayed = replay_epochs(run, states_differ)
    if not failed or replayed.first_bad is None or replayed.start is None:
        return loc
    xe, ye = run.epoch_data()[replayed.first_bad - 1]
    found = first_bad_batch(run, replayed.start, xe, ye, states_differ)
    if found is None:
        return loc
    batch, entries = found
    loc.epoch, loc.batch, loc.samples = replayed.first_bad, batch, _batch_bounds(run, batch, len(xe))
    loc.layers = [entry.split()[-1] for entry in entries if " " in entry]
    loc.layer = loc.layers[0] if loc.layers else None
    stop = loc.samples[1]
    ends = replay_both(run, replayed.start, xe[:stop], ye[:stop])
    loc.evidence = [f"the optimizer state first differs after this batch: {', '.join(entries)}", *loc.evidence]
    readings, named = _slot_readings(run, ends)
    loc.evidence += readings
    loc.hint = named or loc.hint
    return loc


def _slot_readings(run: Run, ends: tuple[Snapshot, Snapshot]) -> tuple[list[str], str | None]:
    """:func:`compare.optimizer_state.slot_readings` of two end snapshots."""
    return optimizer_state.slot_readings(ends[0].optimizer_state or {}, ends[1].optimizer_state or {},
                                         run.learning_rate, run.names)


def _loss_reporting_cause(run: Run, report: Report) -> Localisation:
    """The weights agree after training but the epoch losses do not."""
    assert run.losses is not None
    losses_a, losses_b = run.losses
    if len(losses_a) != len(losses_b):
        return Localisation(Cause.UNKNOWN, f"a reports {len(losses_a)} epoch losses, b {len(losses_b)}: "
                            "train must return one loss per epoch")
    epoch = _first_loss_difference(losses_a, losses_b, run.tolerance) or 1
    evidence = ["the final weights agree: both sides made the same updates"]
    ratio = proportionality([np.array(losses_a)], [np.array(losses_b)])
    factors = [f for f in match_factor(ratio, run.num_outputs, 1) if not f.samples]
    if factors:
        return Localisation(Cause.LOSS_CONVENTION, run.factor_hint("reported losses", ratio, factors, 1),
                            epoch=epoch, evidence=evidence)
    means = _epoch_batch_means(run, epoch)
    if means is None:
        return Localisation(Cause.UNKNOWN, "the epoch losses differ while the weights agree: the loss is computed or "
                            "reported differently", epoch=epoch, evidence=evidence)
    plain, weighted = means
    evidence.append(f"epoch {epoch}: plain mean of batch losses {plain:.10g}, sample-weighted mean {weighted:.10g}; "
                    f"a reports {losses_a[epoch - 1]:.10g}, b reports {losses_b[epoch - 1]:.10g}")
    reads = [_which_mean(value, plain, weighted, run.tolerance) for value in (losses_a[epoch - 1], losses_b[epoch - 1])]
    if "plain" in reads and "weighted" in reads:
        side = run.names[reads.index("plain")]
        hint = (f"{side} reports the plain mean of its batch losses; Keras weights each batch by its number of "
                f"samples (they differ because the last batch is partial)")
        return Localisation(Cause.EPOCH_LOSS_AVERAGING, hint, epoch=epoch, evidence=evidence)
    return Localisation(Cause.UNKNOWN, "the epoch losses differ while the weights agree, and neither is explained by "
                        "how the batch losses are averaged (pre- vs post-update loss?)", epoch=epoch, evidence=evidence)


def _which_mean(value: float, plain: float, weighted: float, tolerance: Tolerance) -> str:
    if allclose(np.array(value), np.array(weighted), tolerance):
        return "weighted"
    return "plain" if allclose(np.array(value), np.array(plain), tolerance) else "neither"


def _epoch_batch_means(run: Run, epoch: int) -> tuple[float, float] | None:
    """Replay ``a`` up to ``epoch`` and return (plain, weighted) means of that epoch's batch losses."""
    if _num_batches(run.num_samples, run.batch_size) > MAX_BATCH_REPLAYS:
        return None
    data = run.epoch_data()
    state = run.initial
    for xe, ye in data[: epoch - 1]:
        state = replay(run, 0, state, xe, ye)[0]
    xe, ye = data[epoch - 1]
    losses, sizes = [], []
    for lo in range(0, len(xe), run.batch_size):
        hi = min(lo + run.batch_size, len(xe))
        state, batch_losses = replay(run, 0, state, xe[lo:hi], ye[lo:hi])
        losses.append(batch_losses[0])
        sizes.append(hi - lo)
    return float(np.mean(losses)), float(np.dot(losses, sizes) / sum(sizes))
