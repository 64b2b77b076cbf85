"""Localisation: where two implementations stop agreeing, and every cause found, in order.

Every cause comes from a replay or a measurement. ``b`` is the reference: a
computed value that differs is put on ``a``; what replaying one side alone
shows (its shuffling, its batch size, state it keeps) is put on that side.

1. **Set-up**: weight counts or shapes, dtypes, the weight copy, the forward
   pass from identical weights. Any of these ends the diagnosis.
2. **The loss**: ``evaluate`` on identical weights; a known factor is a ``loss
   convention``, anything else a ``loss function`` (which ends it too).
3. **Gradients, parameter by parameter in backpropagation order** (``W1, b1,
   W0, b0``): each signed ratio ``a ≈ r·b`` is set against the ratio the error
   reaching that parameter carries (the loss's, then the kernel's above); a
   new one is a cause there: a ``sign convention``, a named factor
   (:mod:`compare.factors`), or the ``backward pass``.
4. **Training**: first the same ``train`` call twice from one :class:`Snapshot`
   (else ``train keeps state``: no replay could be trusted). Every replay is
   :func:`replay`: restore a side (weights, optimizer state), ``train``,
   snapshot. What is known (a gradient factor, a batch size: :class:`Known`)
   is undone in the replays, so the next cause can show. Both sides are
   replayed epoch by epoch in the documented orders; bisection finds the first
   batch that breaks the agreement, which is examined: gradients, one step
   alone (the same gradients but another step: that step again from a fresh
   optimizer state tells the rule, ``update step``, from a state kept or read
   differently, ``optimizer state``), its size (``partial last batch``, on
   its own evidence only), batch sizes 1, ``n``, 32 and the
   divisors of ``n`` over the whole epoch (``batch size``), and each side's one
   call against its calls per batch (``shuffling``, or ``train keeps state``
   when a repeated sample shows it too). A replay that agrees at every epoch
   points at the side whose own run departs from it.
5. **Weights agree**: a constant ratio of the epoch losses, or the plain vs the
   sample-weighted mean of the batch losses (``epoch-loss averaging``); else
   the ``optimizer state``, placed by replays that compare the states. Slot
   ratios and decay factors are measured (:mod:`compare.optimizer_state`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scratch.batching import batch_slices, epoch_orders
from scratch.protocol import ComparableMLP, HasOptimizerState

from . import optimizer_state
from .causes import Cause
from .factors import CONVENTIONS, FACTOR_RTOL, factor_hint, match_factor, named_conventions, proportionality
from .results import Localisation, Report
from .tolerances import Tolerance, allclose

Array = np.ndarray
Weights = list[Array]

#: Do not replay more single batches than this to explain an epoch loss.
MAX_BATCH_REPLAYS = 5000
#: Keras ``fit``'s batch size when none is passed.
KERAS_DEFAULT_BATCH = 32
#: Batch sizes tried (besides 1, n and 32) when one side seems to train in other batches.
MAX_BATCH_HYPOTHESES = 12
#: Training causes looked for one after the other (each known one undone before the next).
MAX_TRAINING_CAUSES = 3


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
class Known:
    """What is already known to differ, undone in every replay so that the next cause can show.

    ``a``'s gradients on a batch of ``s`` samples are ``ratio(s) = factor·s**power``
    times ``b``'s, so ``b`` replays at ``|ratio(s)|`` times the learning rate
    (one call per batch when ``power`` is not 0); ``batch_sizes`` are the batch
    sizes each side is replayed at instead of the one asked for.
    """

    factor: float = 1.0
    power: int = 0
    batch_sizes: tuple[int | None, int | None] = (None, None)

    def ratio(self, size: int) -> float:
        return self.factor * size**self.power

    def undone(self, side: int) -> bool:
        """Whether ``side``'s replays differ from its own calls on purpose."""
        return self.batch_sizes[side] is not None or (side == 1 and (self.factor != 1.0 or self.power != 0))


@dataclass(frozen=True)
class Run:
    """One comparison, as the harness ran it: what every replay starts from and what it is compared with.

    ``initial`` is the state both sides started from; ``dtypes`` the output
    dtypes of the two forward passes; ``layouts`` the two lists of weight
    shapes when they differ; ``losses`` and ``finals`` the main training run's
    epoch losses and end states (``None`` where that stage was not reached);
    ``known`` what the replays undo.
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
    known: Known = Known()

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
        """Names of the parameters that differ beyond tolerance, in backpropagation order."""
        return backprop_order([name for name, wa, wb in zip(self.parameter_names, weights_a, weights_b)
                               if not allclose(wa, wb, self.tolerance)])


def backprop_order(names: Sequence[str]) -> list[str]:
    """Parameter names from the output layer back, kernel before bias: ``W1, b1, W0, b0``."""
    return sorted(names, key=lambda name: (-int(name[1:]), name[0] != "W"))


# --------------------------------------------------------------- replays
def replay(run: Run, side: int, start: Snapshot, x: Array, y: Array, *, epochs: int = 1,
           batch_size: int | None = None, shuffle: int | None = None) -> tuple[Snapshot, list[float]]:
    """The one replay primitive: side ``side`` (0 is a, 1 is b) from ``start``, ``train`` on ``(x, y)``.

    ``batch_size`` defaults to what :class:`Known` says for the side, else the
    run's. Returns the side's snapshot after the call and the epoch losses it reported.
    """
    obj, known = run.sides[side], run.known if side == 1 else Known(batch_sizes=run.known.batch_sizes)
    restore(obj, start)
    size = batch_size or known.batch_sizes[side] or run.batch_size
    if known.power == 0:
        losses = obj.train(x, y, epochs, run.learning_rate * abs(known.factor), batch_size=size, shuffle=shuffle)
        return snapshot(obj), [float(v) for v in losses]
    total = 0.0  # a factor that grows with the batch: one call per batch, each at its own rate
    for batch in batch_slices(len(x), size):
        count = batch.stop - batch.start
        rate = run.learning_rate * abs(known.ratio(count))
        total += count * float(obj.train(x[batch], y[batch], 1, rate, batch_size=count)[0])
    return snapshot(obj), [total / len(x)]


Pair = tuple[Snapshot, Snapshot]


def replay_both(run: Run, starts: Pair, x: Array, y: Array) -> Pair:
    """Each side from its own start, one epoch on ``(x, y)``."""
    return replay(run, 0, starts[0], x, y)[0], replay(run, 1, starts[1], x, y)[0]


def gradients_at(run: Run, starts: Pair, x: Array, y: Array) -> tuple[Weights, Weights]:
    """Both sides' gradients on ``(x, y)``, each from its start."""
    for side, start in zip(run.sides, starts):
        restore(side, start)
    return run.sides[0].gradients(x, y), run.sides[1].gradients(x, y)


def _num_batches(num_samples: int, batch_size: int) -> int:
    return -(-num_samples // batch_size)


@dataclass
class EpochReplay:
    """Both sides replayed epoch by epoch in the documented orders, up to the first disagreement."""

    first_bad: int | None  # 1-based epoch of the first disagreement, None if none
    starts: Pair | None  # each side's state before that epoch (they agreed there)
    losses: tuple[list[float], list[float]]
    finals: Pair
    data: tuple[Array, Array] | None = None  # that epoch's (x, y), in its order
    batch: tuple[int, list[str]] | None = None  # its first batch to break the agreement, what differs after it


def weights_differ(run: Run, end_a: Snapshot, end_b: Snapshot) -> list[str]:
    """The parameters whose weights differ, in backpropagation order."""
    return run.differing(end_a.weights, end_b.weights)


def states_differ(run: Run, end_a: Snapshot, end_b: Snapshot) -> list[str]:
    """The optimizer-state entries that differ (``iterations``, ``momentum W0``...); none without states."""
    if end_a.optimizer_state is None or end_b.optimizer_state is None:
        return []
    return optimizer_state.differing_entries(end_a.optimizer_state, end_b.optimizer_state, run.parameter_names,
                                             run.tolerance)


#: What a replay compares between the sides' end snapshots: :func:`weights_differ` or :func:`states_differ`.
Differs = Callable[[Run, Snapshot, Snapshot], list[str]]


def replay_epochs(run: Run, differs: Differs = weights_differ) -> EpochReplay:
    """Train both from the initial state, one epoch per ``train`` call; stop at the first disagreement.

    That epoch's first batch to break the agreement is found by :func:`first_bad_batch`.
    """
    states = (run.initial, run.initial)
    losses: tuple[list[float], list[float]] = ([], [])
    for epoch, (xe, ye) in enumerate(run.epoch_data(), start=1):
        starts, ends = states, []
        for side in (0, 1):
            end, epoch_losses = replay(run, side, states[side], xe, ye)
            ends.append(end)
            losses[side].extend(epoch_losses)
        states = (ends[0], ends[1])
        if differs(run, *states):
            return EpochReplay(epoch, starts, losses, states, (xe, ye), first_bad_batch(run, starts, xe, ye, differs))
    return EpochReplay(None, None, losses, states)


def _prefix_differs(run: Run, starts: Pair, xe: Array, ye: Array, batches: int, differs: Differs) -> list[str]:
    """From ``starts``, train both on the epoch's first ``batches`` batches; what differs."""
    stop = min(batches * run.batch_size, len(xe))
    return differs(run, *replay_both(run, starts, xe[:stop], ye[:stop]))


def first_bad_batch(run: Run, starts: Pair, xe: Array, ye: Array, differs: Differs = weights_differ
                    ) -> tuple[int, list[str]] | None:
    """The first batch ``k`` (1-based) such that ``k-1`` batches agree and ``k`` do not.

    Batch 1 is tried first (most bugs show there), then the whole epoch, then
    bisection between the last prefix known to agree and the first known not to.
    Returns ``None`` when the whole epoch agrees from ``starts``.
    """
    total = _num_batches(len(xe), run.batch_size)
    first = _prefix_differs(run, starts, xe, ye, 1, differs)
    if first:
        return 1, first
    good, bad = 1, total
    bad_differs = _prefix_differs(run, starts, xe, ye, total, differs) if total > 1 else []
    if not bad_differs:
        return None
    while bad - good > 1:
        middle = (good + bad) // 2
        found = _prefix_differs(run, starts, xe, ye, middle, differs)
        if found:
            bad, bad_differs = middle, found
        else:
            good = middle
    return bad, bad_differs


# ------------------------------------------------------------- diagnosis
def diagnose(run: Run, report: Report) -> Localisation:
    """Every cause of a report's failed checks, in order: the first, with the rest in ``others``."""
    causes: list[Localisation] = []
    try:
        causes += _setup_causes(run, report)
        if not causes:
            loss_causes, carried = _loss_causes(run, report)
            causes += loss_causes
            if carried is not None:
                gradient_causes, ratio = _gradient_causes(run, report, carried)
                causes += gradient_causes
                if _training_failed(report):
                    causes += _training_causes(run, report, causes, ratio)
    except Exception as error:  # a side raised during a replay: say so rather than crash
        causes.append(Localisation(Cause.UNKNOWN, f"the localisation replay stopped: {type(error).__name__}: "
                                   f"{error}"))
    unique: dict[tuple, Localisation] = {}
    for loc in causes:
        unique.setdefault((loc.cause, loc.side, loc.convention, loc.layer), loc)
    first, *others = (list(unique.values())
                      or [Localisation(Cause.UNKNOWN, "the failed checks have no cause the replays find")])
    first.others = others
    return first


def _setup_causes(run: Run, report: Report) -> list[Localisation]:
    """Layout, dtypes, the weight copy and the forward pass."""
    if run.layouts is not None:
        count_a, count_b = len(run.layouts[0]), len(run.layouts[1])
        evidence = [f"a's weight shapes: {run.layouts[0]}", f"b's weight shapes: {run.layouts[1]}"]
        if count_a != count_b and max(count_a, count_b) == 2 * min(count_a, count_b):
            fewer = run.names[1] if count_b < count_a else run.names[0]
            return [Localisation(Cause.MISSING_BIAS, f"{fewer} has no bias vectors: build both with the same "
                                 "use_bias", evidence=evidence, side=fewer)]
        hint = ("the weight counts differ: the layer structure differs" if count_a != count_b
                else "the weight shapes differ: build both with the same layer sizes")
        return [Localisation(Cause.ARCHITECTURE, hint, evidence=evidence)]
    if run.dtypes is not None and run.dtypes[0] != run.dtypes[1]:
        hint = f"a computes in {run.dtypes[0]}, b in {run.dtypes[1]}: build both with the same dtype"
        return [Localisation(Cause.DTYPE_MISMATCH, hint, evidence=[f"forward output dtypes: {run.dtypes}"])]
    initial = report.check("initial weights")
    if not initial.passed:
        hint = (f"{run.names[1]}.get_weights() after set_weights({run.names[0]}'s weights) does not return them: "
                "its set_weights does not take (or get_weights reorders)")
        return [Localisation(Cause.INITIAL_WEIGHTS, hint, evidence=[f"initial weights: {initial.note}"],
                             side=run.names[1])]
    forward = report.check("forward")
    if not forward.passed:
        hint = ("the outputs differ from identical weights: the forward pass differs "
                "(activation, layer order, kernel layout)")
        evidence = [f"forward: max rel error {forward.max_rel_error:.3g} at {forward.worst_index} {forward.note}"]
        return [Localisation(Cause.FORWARD_PASS, hint, evidence=evidence, side=run.names[0])]
    return []


def _loss_causes(run: Run, report: Report) -> tuple[list[Localisation], float | None]:
    """``evaluate`` on identical weights: the causes, and the ratio the gradients should then carry.

    The ratio is ``None`` for a different loss function (nothing below it can be told apart from it).
    """
    if report.check("evaluate").passed:
        return [], 1.0
    for side in run.sides:
        restore(side, run.initial)
    losses = [float(side.evaluate(run.x, run.y)) for side in run.sides]
    evidence = [f"evaluate on all {run.num_samples} samples: a {losses[0]:.10g}, b {losses[1]:.10g}"]
    ratio = losses[0] / losses[1] if losses[1] else math.inf
    causes = ratio_causes(run, "losses", ratio, 1.0, run.num_samples, Cause.LOSS_FUNCTION, evidence=evidence)
    if causes[0].cause is Cause.LOSS_FUNCTION:
        causes[0].hint = (f"{run.names[0]} and {run.names[1]} give different losses for the same outputs, and not by "
                          "a known factor: they compute different loss functions (e.g. MAE vs MSE)")
        return causes, None
    return causes, ratio


def ratio_causes(run: Run, what: str, ratio: float | None, carried: float, count: int, unexplained: Cause,
                 **place: object) -> list[Localisation]:
    """The causes of ``a ≈ ratio·b`` where ``carried`` was expected: a sign, named factors, or ``unexplained``."""
    name_a = run.names[0]
    if ratio is None or not math.isfinite(ratio) or carried == 0:
        return [Localisation(unexplained, f"{name_a}'s {what} are not a constant multiple of {run.names[1]}'s",
                             side=name_a, **place)]
    relative = ratio / carried
    head = (f"{name_a}'s {what} are {ratio:.6g} × {run.names[1]}'s"
            + (f", {relative:.6g} × what the error reaching them carries" if carried != 1 else ""))
    causes = []
    if relative < 0:
        causes.append(Localisation(Cause.SIGN_CONVENTION, head + ": the opposite sign, " + CONVENTIONS["sign"],
                                   side=name_a, convention="sign", **place))
    size, k = abs(relative), run.num_outputs
    named = named_conventions(size, k, count)
    for convention in named or ():
        cause = Cause.BATCH_AVERAGING if convention == "batch-sum" else Cause.LOSS_CONVENTION
        hint = f"{head} (k={k} outputs, B={count} samples): {convention}, {CONVENTIONS[convention]}"
        causes.append(Localisation(cause, hint, side=name_a, convention=convention, **place))
    factors = match_factor(size, k, count) if named is None else []
    if factors:
        hint = factor_hint(what, ratio, factors, run.names, k, count)
        causes.append(Localisation(factors[0].cause, hint, side=name_a, **place))
    elif named is None:
        causes.append(Localisation(unexplained, f"{head}: no known factor", side=name_a, **place))
    return causes


def _gradient_causes(run: Run, report: Report, carried: float) -> tuple[list[Localisation], float | None]:
    """Each parameter's gradient on all samples, in backpropagation order: the causes, and the ratio ``a/b`` of
    all gradients together (1 when they agree, ``None`` when not a constant)."""
    if all(c.passed for c in report.checks if c.name.startswith("gradient")):
        return [], 1.0
    grads_a, grads_b = gradients_at(run, (run.initial, run.initial), run.x, run.y)
    position = {name: index for index, name in enumerate(run.parameter_names)}
    causes: list[Localisation] = []
    names = backprop_order(run.parameter_names)
    for name in names:
        ga, gb = grads_a[position[name]], grads_b[position[name]]
        ratio = 1.0 if allclose(ga, gb, run.tolerance) else proportionality([ga], [gb])
        explained = ratio is not None and math.isclose(ratio, carried, rel_tol=FACTOR_RTOL)
        if not explained and not math.isnan(carried):
            evidence = [f"gradient {name} on all {run.num_samples} samples: "
                        + (f"a ≈ r·b with r = {ratio:.6g}" if ratio is not None else "not a multiple of b's")]
            causes += ratio_causes(run, f"{name} gradients", ratio, carried, run.num_samples, Cause.BACKWARD_PASS,
                                   layer=name, layers=names, evidence=evidence)
            if name == names[0] and causes[-1].cause is Cause.BACKWARD_PASS:
                causes[-1].hint += ": at the output layer, the loss gradient dL/dŷ or the output activation differs"
        if name.startswith("W"):  # the error passed down is scaled as this kernel's gradient is
            carried = math.nan if ratio is None else ratio
    return causes, proportionality(grads_a, grads_b)


def _training_failed(report: Report) -> bool:
    return any(not c.passed for c in report.checks
               if c.name == "epoch losses" or c.name.startswith(("final", "optimizer")))


def _training_causes(run: Run, report: Report, found: list[Localisation], ratio: float | None
                     ) -> list[Localisation]:
    """Training disagrees: place the causes ``found`` so far, undo them, then find what else differs, in turn.

    ``ratio`` is the gradients' ``a/b`` (``None`` when not a constant: then
    nothing can be undone and the causes found explain the training too).
    """
    if not any(not c.passed for c in report.checks if c.name.startswith("final")):
        return [_loss_reporting_cause(run, report) if not report.check("epoch losses").passed
                else _optimizer_state_cause(run, report)]
    stateful = [cause for side in (0, 1) if (cause := _train_state_cause(run, side)) is not None]
    if stateful:
        return stateful
    if found:
        _place(run, found)
        known = _undo(run, ratio, found)
        if known is None:
            return []
        run = dataclasses.replace(run, known=known)
    causes: list[Localisation] = []
    for _ in range(MAX_TRAINING_CAUSES):
        found, run = _next_training_cause(run)
        causes += found
        if run is None:
            break
    return causes


def _place(run: Run, causes: list[Localisation]) -> None:
    """Put the gradient causes where training first disagrees (nothing undone)."""
    replayed = replay_epochs(run)
    batch = replayed.batch[0] if replayed.batch is not None else None
    for loc in causes:
        loc.epoch, loc.batch = replayed.first_bad, batch
        loc.samples = _batch_bounds(run, batch) if batch is not None else None


def _undo(run: Run, ratio: float | None, causes: list[Localisation]) -> Known | None:
    """The gradient factor as :class:`Known`, if one step on one sample agrees once it is undone (else ``None``)."""
    if ratio is not None and math.isclose(ratio, 1.0, rel_tol=FACTOR_RTOL):
        return Known()
    if ratio is None:
        return None
    sums = any(loc.cause is Cause.BATCH_AVERAGING for loc in causes)
    known = Known(ratio / run.num_samples, 1) if sums else Known(ratio)
    one = dataclasses.replace(run, known=known)
    ends = replay_both(one, (run.initial, run.initial), run.x[:1], run.y[:1])
    return None if one.differing(ends[0].weights, ends[1].weights) else known


def _next_training_cause(run: Run) -> tuple[list[Localisation], Run | None]:
    """The next cause along the replay, and the run with it undone (``None`` when it cannot be)."""
    replayed = replay_epochs(run)
    if replayed.first_bad is None or replayed.starts is None or replayed.data is None:
        return _order_causes(run, replayed), None
    if replayed.batch is None:
        hint = ("every batch of the epoch agrees from identical weights, only the accumulated trajectories drift "
                "apart (rounding amplified by the dynamics): loosen --rtol or train fewer epochs")
        return [Localisation(Cause.ROUNDING_DRIFT, hint, epoch=replayed.first_bad,
                             evidence=[f"replay of epoch {replayed.first_bad} from the agreeing weights agrees"])], None
    return _batch_causes(run, replayed.first_bad, replayed.starts, *replayed.data, *replayed.batch)


def _batch_bounds(run: Run, batch: int) -> tuple[int, int]:
    return (batch - 1) * run.batch_size, min(batch * run.batch_size, run.num_samples)


def _train_state_cause(run: Run, side: int) -> Localisation | None:
    """Does the same ``train`` call on one sample, twice from the same snapshot, take the same step?

    The steps are compared, not the weights: a decayed rate deep in training
    changes a step far more than the weights' tolerance shows.
    """
    start = run.initial.weights
    first, again = ([w - w0 for w, w0 in zip(replay(run, side, run.initial, run.x[:1], run.y[:1])[0].weights, start)]
                    for _ in range(2))
    differing = run.differing(first, again)
    if not differing:
        return None
    name = run.names[side]
    hint = (f"{name}.train gives other weights from the same weights and optimizer state: it keeps state of its "
            "own between calls (a learning-rate decay, a step counter, a random generator); keep it in the "
            "optimizer state (get/set_optimizer_state) or derive it from the arguments")
    return Localisation(Cause.TRAIN_STATE, hint, layer=differing[0], layers=differing, side=name,
                        evidence=["train(x[:1], y[:1], 1, lr) twice from the same snapshot: the steps of "
                                  f"{', '.join(differing)} differ"])


def _batch_causes(run: Run, epoch: int, starts: Pair, xe: Array, ye: Array, batch: int, layers: list[str]
                  ) -> tuple[list[Localisation], Run | None]:
    """Why batch ``batch`` of ``epoch`` breaks the agreement; the run with it undone, if it can be."""
    lo, hi = _batch_bounds(run, batch)
    size = hi - lo
    place = dict(epoch=epoch, batch=batch, samples=(lo, hi), layer=layers[0], layers=layers)
    befores = (replay(run, 0, starts[0], xe[:lo], ye[:lo])[0], replay(run, 1, starts[1], xe[:lo], ye[:lo])[0]
               ) if lo > 0 else starts
    grads_a, grads_b = gradients_at(run, befores, xe[lo:hi], ye[lo:hi])
    expected = run.known.ratio(size)
    grads_agree = not run.differing(grads_a, [expected * g for g in grads_b])
    ends = replay_both(run, befores, xe[lo:hi], ye[lo:hi])
    steps = tuple([w - b for w, b in zip(end.weights, before.weights)] for end, before in zip(ends, befores))
    alone_differs = bool(run.differing(ends[0].weights, ends[1].weights))
    ratio, step_ratio = proportionality(grads_a, grads_b), proportionality(*steps)
    evidence = [f"gradients on this batch ({size} samples): "
                + ("agree" if grads_agree else f"a ≈ r·b with r = {ratio:.6g}" if ratio else "differ"),
                "one step on this batch alone: " + ("differs" if alone_differs else "agrees")
                + (f"; a's step ≈ {step_ratio:.6g} × b's" if step_ratio is not None else "")]
    if not grads_agree:
        return ratio_causes(run, "gradients on this batch", ratio, expected, size, Cause.BACKWARD_PASS,
                            evidence=evidence, **place), None
    partial, partial_side = _partial_hint(run, size, *steps) if size < run.batch_size else (None, None)
    if partial_side is not None and alone_differs:  # named on its own evidence only
        return [Localisation(Cause.PARTIAL_LAST_BATCH, partial, evidence=evidence, side=partial_side, **place)], None
    found = _batch_size_cause(run, starts, xe, ye, hi, evidence, place)
    if found is not None:
        return [found[0]], found[1]
    if not alone_differs:
        return [_within_call_cause(run, starts, xe[:hi], ye[:hi], evidence, place)], None
    causes = ratio_causes(run, "steps", step_ratio, 1.0, size, Cause.UPDATE_STEP, evidence=evidence, **place)
    if any(loc.cause is not Cause.UPDATE_STEP for loc in causes):
        return causes, None  # a sign or a named factor of the step
    cause, hint = (_update_step_cause(run, befores, ends, xe[lo:hi], ye[lo:hi], evidence)
                   or ((Cause.PARTIAL_LAST_BATCH, partial) if partial else (Cause.UPDATE_STEP, UPDATE_GENERIC)))
    side = None if cause is Cause.PARTIAL_LAST_BATCH else run.names[0]
    return [Localisation(cause, hint, evidence=evidence, side=side, **place)], None


UPDATE_GENERIC = ("the gradients agree but the update does not: learning rate, update sign or the optimizer's rule "
                  "differ")


def _update_step_cause(run: Run, befores: Pair, ends: Pair, xb: Array, yb: Array, evidence: list[str]
                       ) -> tuple[Cause, str] | None:
    """Same gradients, another step from ``befores``: the update rule, or the optimizer state carried? Replayed.

    The step again from the same weights with a *fresh* optimizer state (no
    step taken, zero slots) tells them apart; what each outcome shows is read
    by :mod:`compare.optimizer_state`. ``None`` when there is no slot to learn from.
    """
    states = _states(befores)
    if not all(map(optimizer_state.has_slots, states)):
        return None  # nothing carried but a step count
    if all(map(optimizer_state.is_fresh, states)):
        evidence.append("this is the optimizer's first step (iterations 0, zero slots)")
    else:
        carried_ends = ends
        ends = replay_both(run, (Snapshot(befores[0].weights, optimizer_state.fresh(states[0])),
                                 Snapshot(befores[1].weights, optimizer_state.fresh(states[1]))), xb, yb)
        agrees = not weights_differ(run, *ends)
        evidence.append("one step on this batch from a fresh optimizer state (iterations 0, zero slots): "
                        + ("agrees" if agrees else "differs too"))
        if agrees:
            cause, hint, lines = optimizer_state.carried_cause(states, _states(carried_ends), _states(ends),
                                                               run.learning_rate, run.names)
            evidence += lines
            return cause, hint
    slots = [entry for entry in states_differ(run, *ends) if entry != "iterations"]
    cause, hint, lines = optimizer_state.rule_cause(_states(ends), slots, run.learning_rate, run.names)
    evidence += lines
    return cause, hint


def _states(pair: Pair) -> tuple[dict, dict]:
    return pair[0].optimizer_state or {}, pair[1].optimizer_state or {}


def batch_size_candidates(num_samples: int, asked: int) -> list[int]:
    """1, ``n``, 32, then the divisors of ``n`` and the powers of two below it: each size once, not ``asked``.

    >>> batch_size_candidates(12, 1)
    [12, 2, 3, 4, 6, 8]
    """
    divisors = [d for d in range(2, num_samples) if num_samples % d == 0]
    powers = [2**i for i in range(1, num_samples.bit_length()) if 2**i < num_samples]
    sizes, seen = [], {min(asked, num_samples)}
    for size in [1, num_samples, KERAS_DEFAULT_BATCH, *sorted(set(divisors) | set(powers))]:
        if min(size, num_samples) not in seen:
            seen.add(min(size, num_samples))
            sizes.append(size)
    return sizes[:3 + MAX_BATCH_HYPOTHESES]


def _batch_size_cause(run: Run, starts: Pair, xe: Array, ye: Array, hi: int, evidence: list[str], place: dict
                      ) -> tuple[Localisation, Run] | None:
    """Does one side's whole epoch equal the other's at another batch size? Replayed, not guessed.

    A size must first hold on the epoch's first ``hi`` samples (where the
    disagreement showed; sizes from ``hi`` up all train them as one batch),
    then over the whole epoch.
    """
    prefix = [replay(run, side, starts[side], xe[:hi], ye[:hi])[0] for side in (0, 1)]
    ends: dict[int, Snapshot] = {}
    held: dict[tuple[int, int], bool] = {}
    for size in batch_size_candidates(len(xe), run.batch_size):
        for side, other in ((0, 1), (1, 0)):
            if run.known.undone(side):
                continue
            key = (other, min(size, hi))
            if key not in held:
                trial = replay(run, other, starts[other], xe[:hi], ye[:hi], batch_size=size)[0]
                held[key] = not run.differing(prefix[side].weights, trial.weights)
            if not held[key]:
                continue
            ends[side] = ends.get(side) or replay(run, side, starts[side], xe, ye)[0]
            trial = replay(run, other, starts[other], xe, ye, batch_size=size)[0]
            if not run.differing(ends[side].weights, trial.weights):
                return _batch_size_found(run, side, other, size, len(xe), evidence, place)
    return None


def _batch_size_found(run: Run, side: int, other: int, size: int, n: int, evidence: list[str], place: dict
                      ) -> tuple[Localisation, Run]:
    """The cause ``side`` trains in batches of ``size``, and the run with ``other`` replayed at that size."""
    name = run.names[side]
    what = ("one step per sample" if size == 1 else "the whole data set as one batch" if size >= n
            else f"batches of {size}")
    hint = (f"{name} trains in {what}, not batch_size={run.batch_size}: its weights after epoch {place['epoch']} "
            f"equal {run.names[other]}'s trained at batch_size={size}"
            + (" (Keras fit's default when batch_size is not passed)" if size == KERAS_DEFAULT_BATCH else ""))
    convention = "per-sample" if size == 1 else "full-batch" if size >= n else None
    sizes = list(run.known.batch_sizes)
    sizes[other] = size
    undone = dataclasses.replace(run, known=dataclasses.replace(run.known, batch_sizes=(sizes[0], sizes[1])))
    return Localisation(Cause.BATCH_SIZE, hint, evidence=evidence, side=name, convention=convention, **place), undone


def _carries(run: Run, side: int, start: Snapshot, x: Array, y: Array, **together: int) -> bool:
    """Does one call on ``(x, y)`` (``together``: ``epochs=E`` or one epoch) differ from the calls it splits into?

    Split by epochs when ``epochs`` is given (with the run's shuffle), else by batches.
    """
    whole = replay(run, side, start, x, y, **together)[0]
    state, size = start, run.known.batch_sizes[side] or run.batch_size
    pieces = ([(x, y)] * together["epochs"] if together else
              [(x[s], y[s]) for s in batch_slices(len(x), size)])
    for xp, yp in pieces:
        state = replay(run, side, state, xp, yp)[0]
    return bool(run.differing(whole.weights, state.weights))


def _repeated(x: Array, y: Array) -> tuple[Array, Array]:
    """The first sample ``len(x)`` times: data whose order cannot matter."""
    return np.repeat(x[:1], len(x), axis=0), np.repeat(y[:1], len(y), axis=0)


def _within_call_cause(run: Run, starts: Pair, x: Array, y: Array, evidence: list[str], place: dict
                       ) -> Localisation:
    """The batch alone agrees, not after the batches before it: which side's one call differs from per-batch calls."""
    for side in (0, 1):
        if not run.known.undone(side) and _carries(run, side, starts[side], x, y):
            note = f"{run.names[side]}: one train call on these {len(x)} samples differs from one call per batch"
            return _reorders_or_keeps(run, side, starts[side], x, y, [*evidence, note], place)
    return Localisation(Cause.UNKNOWN, "this batch alone gives the same step on both sides, but not after the batches "
                        "before it, and neither side's one call differs from its calls per batch",
                        evidence=evidence, **place)


def _reorders_or_keeps(run: Run, side: int, start: Snapshot, x: Array, y: Array, evidence: list[str], place: dict,
                       **together: int | None) -> Localisation:
    """One call differs from the calls it splits into: shuffling, or state carried (a repeated sample tells)."""
    name, between = run.names[side], "epochs" if together else "batches"
    if _carries(run, side, start, *_repeated(x, y), **together):
        hint = (f"{name} changes its step between the {between} of one train call, even on one sample repeated "
                "(a learning-rate schedule, a counter): train must take the same step rule throughout")
        return Localisation(Cause.TRAIN_STATE, hint, evidence=evidence, side=name, **place)
    hint = (f"{name} does not feed the epochs in the documented order: with shuffle={run.shuffle} each epoch must "
            f"use np.random.default_rng({run.shuffle}).permutation(n), one permutation per epoch from one generator"
            if run.shuffle is not None and together else f"{name} reorders the samples inside train (its own "
            "shuffling): with shuffle=None it must keep the given order, with shuffle=s use "
            "np.random.default_rng(s).permutation(n) once per epoch")
    return Localisation(Cause.SHUFFLING, hint, evidence=evidence, side=name, **place)


def _partial_hint(run: Run, size: int, step_a: Weights, step_b: Weights) -> tuple[str, str | None]:
    """What one side does differently with the partial last batch, and which (``None`` when the steps do not say)."""
    head = f"the first disagreement is the epoch's last, partial batch ({size} of {run.batch_size} samples)"
    for side, step, other in ((0, step_a, step_b), (1, step_b, step_a)):
        name = run.names[side]
        if not any(np.any(s) for s in step) and any(np.any(s) for s in other):
            return head + f": {name} makes no update on it (it drops the partial last batch); Keras trains on it", name
        ratio = proportionality(step, other)
        if ratio is not None and math.isclose(ratio, size / run.batch_size, rel_tol=FACTOR_RTOL):
            return head + (f": {name}'s step on it is {size}/{run.batch_size} of the other's (it divides by "
                           "batch_size, not by the batch's own size)"), name
    return head + ": the sides treat it differently (Keras trains on it as a batch of its own size)", None


def _order_causes(run: Run, replayed: EpochReplay) -> list[Localisation]:
    """The epoch-by-epoch replay agrees although the one-call run did not: which side's own run departs."""
    assert run.finals is not None and run.losses is not None
    causes = []
    for side in (0, 1):
        if run.known.undone(side) or not run.differing(run.finals[side].weights, replayed.finals[side].weights):
            continue
        epoch = _first_loss_difference(run.losses[side], replayed.losses[side], run.tolerance) or 1
        evidence = ["the replay, one epoch per train call in the documented orders, agrees at every epoch",
                    f"{run.names[side]}: its own {run.epochs}-epoch run departs from its replay from epoch {epoch}"]
        causes.append(_reorders_or_keeps(run, side, run.initial, run.x, run.y, evidence, {"epoch": epoch, "batch": 1},
                                         epochs=run.epochs, shuffle=run.shuffle))
    if causes or run.known != Known():
        return causes  # nothing left once the known causes are undone
    return [Localisation(Cause.UNKNOWN, "the replay agrees at every epoch and so does each side's own run: the "
                         "disagreement does not repeat (is a side non-deterministic?)")]


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
    replayed = replay_epochs(run, states_differ) if failed else None
    if replayed is None or replayed.batch is None or replayed.starts is None or replayed.data is None:
        return loc
    (batch, entries), (xe, ye) = replayed.batch, replayed.data
    loc.epoch, loc.batch, loc.samples = replayed.first_bad, batch, _batch_bounds(run, batch)
    loc.layers = backprop_order(list(dict.fromkeys(entry.split()[-1] for entry in entries if " " in entry)))
    loc.layer, loc.side = (loc.layers or [None])[0], run.names[0]
    ends = replay_both(run, replayed.starts, xe[:loc.samples[1]], ye[:loc.samples[1]])
    readings, named = optimizer_state.slot_readings(*_states(ends), run.learning_rate, run.names)
    loc.evidence = [f"the optimizer state first differs after this batch: {', '.join(entries)}", *evidence, *readings]
    loc.hint = named or hint
    return loc


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
    if ratio is not None and (found := ratio_causes(run, "reported losses", ratio, 1.0, 1, Cause.UNKNOWN,
                                                    epoch=epoch, evidence=evidence))[-1].cause is not Cause.UNKNOWN:
        return found[0]
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
        return Localisation(Cause.EPOCH_LOSS_AVERAGING, hint, epoch=epoch, evidence=evidence, side=side)
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
    for batch in batch_slices(len(xe), run.batch_size):
        state, batch_losses = replay(run, 0, state, xe[batch], ye[batch])
        losses.append(batch_losses[0])
        sizes.append(batch.stop - batch.start)
    return float(np.mean(losses)), float(np.dot(losses, sizes) / sum(sizes))


# ------------------------------------------------------------ conventions
def equivalent_up_to(run: Run, causes: list[Localisation], accepted: Sequence[str]) -> list[str]:
    """The conventions the causes name, if each is accepted and replaying ``b`` with them gives ``a``'s own run.

    ``b`` is trained epoch by epoch in the documented orders at the learning
    rate the factor conventions scale and the batch size ``per-sample`` or
    ``full-batch`` say; its final weights must equal ``a``'s from the
    one-call run, and its epoch losses ``a``'s up to a constant (``a`` may
    report its own loss). Returns ``[]`` when that is not so.
    """
    names = list(dict.fromkeys(loc.convention for loc in causes))
    if not causes or run.finals is None or run.losses is None or any(n not in accepted for n in names):
        return []
    k, n = run.num_outputs, run.num_samples
    factor = math.prod({"half-sum": k / 2, "output-sum": k}.get(name, 1.0) for name in names)
    size = 1 if "per-sample" in names else n if "full-batch" in names else None
    known = Known(factor, 1 if "batch-sum" in names else 0, (None, size))
    state, losses, replaying = run.initial, [], dataclasses.replace(run, known=known)
    try:
        for xe, ye in run.epoch_data():
            state, epoch_losses = replay(replaying, 1, state, xe, ye)
            losses += epoch_losses
    except Exception:  # the reference cannot be replayed so: nothing is confirmed
        return []
    scale = proportionality([np.array(run.losses[0])], [np.array(losses)])
    agree = not run.differing(run.finals[0].weights, state.weights) and scale is not None
    return names if agree and (named_conventions(abs(scale), k, n) is not None) else []  # type: ignore[return-value]
