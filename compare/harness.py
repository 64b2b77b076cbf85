"""The harness: prove that two implementations of the comparison protocol agree.

:func:`compare` copies ``a``'s weights (and optimizer state, where both
sides keep one) into ``b`` and then checks, in order: the copy itself, the
forward outputs, the loss (``evaluate``) and, for a classifier, the
accuracy, the gradients of every parameter,
the per-epoch training losses, the final weights and the final optimizer
state, each under the tolerance policy of :mod:`compare.tolerances`. It calls
only the methods of :class:`scratch.protocol.ComparableMLP` (and of
:class:`~scratch.protocol.HasOptimizerState` where a side has them). When
anything fails it asks :mod:`compare.localise` where and why.

>>> from scratch import MLP, sum_dataset
>>> x, y = sum_dataset(40)
>>> a, b = MLP(2, [5], 1, seed=0), MLP(2, [5], 1, seed=1)
>>> compare(a, b, x, y, epochs=2, learning_rate=0.1).passed
True
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from scratch.protocol import ComparableMLP, HasOptimizerState

from . import localise
from .bench.timing import EpochClock
from .causes import Cause
from .conformance import SideError as SideError  # re-exported: callers catch it from here
from .conformance import call, parameter_names, problems
from .factors import CONVENTIONS
from .localise import Run, Snapshot
from .progress import Phases, no_progress
from .report import table
from .results import Check, Localisation, Report
from .tolerances import Measurement, Tolerance, comparison_dtype, measure, tolerance_for

Array = np.ndarray


def side_name(obj: object) -> str:
    """``package.Class`` for an implementation, e.g. ``scratch.MLP``, or its own ``side_label`` if it has one
    (``keras_equiv.KerasMLP[jax]``)."""
    label = getattr(obj, "side_label", None)
    if isinstance(label, str):
        return label
    cls = type(obj)
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def side_names(a: object, b: object) -> tuple[str, str]:
    """Labels for the two sides, made distinct when both are the same class."""
    name_a, name_b = side_name(a), side_name(b)
    return (f"{name_a} (a)", f"{name_b} (b)") if name_a == name_b else (name_a, name_b)


def layout_problem(weights_a: Sequence[Array], weights_b: Sequence[Array]) -> str | None:
    """Why ``a``'s weights cannot be copied into ``b`` (count or shapes), or ``None``."""
    shapes_a = [np.shape(w) for w in weights_a]
    shapes_b = [np.shape(w) for w in weights_b]
    if len(shapes_a) != len(shapes_b):
        return (
            f"a has {len(shapes_a)} weight arrays {shapes_a} but b has {len(shapes_b)} {shapes_b}; "
            "they cannot start from the same weights"
        )
    names = parameter_names(weights_a)
    for name, shape_a, shape_b in zip(names, shapes_a, shapes_b):
        if shape_a != shape_b:
            return f"{name} has shape {shape_a} in a but {shape_b} in b; the architectures differ"
    return None


def measure_lists(
    prefix: str, list_a: Sequence[Array], list_b: Sequence[Array], names: Sequence[str], tolerance: Tolerance
) -> list[Check]:
    """One check per array, named ``f"{prefix} {name}"`` (shape mismatches fail with a note)."""
    if len(list_a) != len(list_b):
        note = f"a gave {len(list_a)} arrays, b gave {len(list_b)}"
        return [Check.failed(f"{prefix} (count)", tolerance.rtol, note)]
    return [measure_pair(f"{prefix} {name}", a, b, tolerance) for name, a, b in zip(names, list_a, list_b)]


def measure_pair(label: str, array_a: Array, array_b: Array, tolerance: Tolerance) -> Check:
    """One check of two arrays (a shape mismatch fails with a note)."""
    if np.shape(array_a) != np.shape(array_b):
        return Check.failed(label, tolerance.rtol, f"shapes differ: a {np.shape(array_a)}, b {np.shape(array_b)}")
    return Check.from_measurement(label, measure(array_a, array_b, tolerance))


def combined_check(name: str, list_a: Sequence[Array], list_b: Sequence[Array], tolerance: Tolerance) -> Check:
    """One check over several arrays: the worst of the per-array checks, naming the array."""
    checks = measure_lists(name, list_a, list_b, parameter_names(list_a), tolerance)
    worst = max(checks, key=lambda c: (not c.passed, c.max_rel_error))
    note = worst.note or ("" if worst.passed else f"worst in {worst.name.removeprefix(name).strip()}")
    measured = Measurement(worst.max_abs_error, worst.max_rel_error, worst.worst_index, worst.rtol, worst.atol,
                           all(c.passed for c in checks))
    return Check.from_measurement(name, measured, note)


def compare(
    a: ComparableMLP,
    b: ComparableMLP,
    x: Array,
    y: Array,
    *,
    epochs: int,
    learning_rate: float,
    batch_size: int = 1,
    shuffle: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    verbose: bool = False,
    localise_failures: bool = True,
    progress: Phases = no_progress,
    a_run: SideRun | None = None,
    accept: Sequence[str] = (),
    b_run: SideRun | None = None,
) -> Report:
    """Check that ``a`` and ``b`` compute the same thing from the same weights.

    Parameters
    ----------
    a, b : ComparableMLP
        Two implementations of :class:`scratch.protocol.ComparableMLP`. ``a``'s
        weights (and optimizer state, if both have one) are copied into ``b``
        first; both are trained (their weights change).
    x, y : ndarray
        Inputs ``(n, num_inputs)`` and targets ``(n, num_outputs)``.
    epochs, learning_rate, batch_size, shuffle
        The training run both sides do (see the protocol's ``train``).
    rtol, atol : float, optional
        Override the tolerance policy of :mod:`compare.tolerances`.
    verbose : bool
        Passed to both ``train`` calls (one line per epoch).
    localise_failures : bool
        When a check fails, replay the training to find where and why.
    progress : Phases
        Shows each side's training (and the localisation) as a phase (see
        :mod:`compare.progress`); a side whose ``train`` has a ``progress``
        parameter reports its samples, for the others the phase shows the time.
    a_run : SideRun, optional
        ``a``'s answers when they were computed already, from the state ``a``
        is in now (by :func:`run_side`, e.g. in another process: see
        :mod:`compare.background`); ``a`` is then put in the state that run
        ended in.
    b_run : SideRun, optional
        ``b``'s answers from some starting state, computed already (e.g. the
        one ``scratch.MLP`` run that ``mlp-compare grade`` compares every
        submission with). Used only when ``b``, once given ``a``'s weights
        (and optimizer state), is in exactly that state (bit for bit); ``b``
        is then put in the state that run ended in. Otherwise ``b`` runs here.
    accept : sequence of str
        Conventions (names of :data:`compare.factors.CONVENTIONS`, or ``"any"``)
        under which a failing pair still counts as equivalent, if the
        localisation names only those and a replay of ``b`` with them gives
        ``a``'s own run (``report.accepted`` lists them).

    Returns
    -------
    Report
        Every check in order: ``initial weights``, ``forward``, ``evaluate``,
        ``gradient W0`` ..., ``epoch losses``, ``final W0`` ..., ``optimizer
        iterations`` ...; both loss curves; the localisation when something failed.

    Raises
    ------
    SideError
        When one side raises (the message names the side and the call).
    """
    accepted = _conventions(accept)
    names = side_names(a, b)
    x, y = np.asarray(x), np.asarray(y)
    found = problems((a, b), names, x, y, learning_rate)
    if found:
        return _nonconforming(names, found, tolerance_for("float64", rtol, atol).rtol)
    initial = a_run.initial if a_run is not None else Snapshot(call("get_weights", names[0], a.get_weights),
                                                               _optimizer_state(a, names[0]))
    run = Run((a, b), names, x, y, epochs, learning_rate, batch_size, shuffle, tolerance_for("float64", rtol, atol),
              initial, parameter_names(initial.weights))
    report = Report(names=names, dtype="float64")
    weights_b = call("get_weights", names[1], b.get_weights)
    problem = layout_problem(initial.weights, weights_b)
    if problem is not None:
        report.checks.append(Check.failed("initial weights", run.tolerance.rtol, problem))
        layouts = ([np.shape(w) for w in initial.weights], [np.shape(w) for w in weights_b])
        if localise_failures:
            report.localisation = localise.diagnose(dataclasses.replace(run, layouts=layouts), report)
        return report

    call("set_weights", names[1], b.set_weights, [w.copy() for w in initial.weights])
    if initial.optimizer_state is not None and isinstance(b, HasOptimizerState):
        call("set_optimizer_state", names[1], b.set_optimizer_state, initial.optimizer_state)
    training = dict(epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, shuffle=shuffle,
                    verbose=verbose, progress=progress)
    if a_run is None:
        a_run = run_side(a, x, y, name=names[0], **training)
    else:  # run elsewhere (see compare.background): a ends in the state that run ended in, as if it had run here
        localise.restore(a, a_run.final)
    if b_run is not None and _same_snapshot(Snapshot(call("get_weights", names[1], b.get_weights),
                                                      _optimizer_state(b, names[1])), b_run.initial):
        localise.restore(b, b_run.final)
    else:
        b_run = run_side(b, x, y, name=names[1], **training)
    dtype = comparison_dtype(a_run.forward.dtype, b_run.forward.dtype)
    run = dataclasses.replace(run, tolerance=tolerance_for(dtype, rtol, atol),
                              dtypes=(a_run.forward.dtype.name, b_run.forward.dtype.name),
                              losses=(a_run.losses, b_run.losses), finals=(a_run.final, b_run.final))
    report.dtype = dtype.name
    report.checks = side_checks(a_run, b_run, run)
    report.losses_a, report.losses_b = a_run.losses, b_run.losses
    report.epoch_seconds = (a_run.epoch_seconds, b_run.epoch_seconds)
    if not report.passed and localise_failures:
        with progress("localising the first disagreement"):
            report.localisation = localise.diagnose(run, report)
            if accepted:
                report.accepted = localise.equivalent_up_to(run, report.localisation.causes, accepted)
            _restore(run)
    return report


def _conventions(accept: Sequence[str]) -> list[str]:
    """The accepted conventions, ``"any"`` standing for all (raises ``ValueError`` for an unknown name)."""
    names = list(CONVENTIONS) if "any" in accept else list(accept)
    unknown = sorted(set(names) - set(CONVENTIONS))
    if unknown:
        raise ValueError(f"accept: unknown convention(s) {', '.join(unknown)}; known: any, {', '.join(CONVENTIONS)}")
    return names


def _nonconforming(names: tuple[str, str], found: list, rtol: float) -> Report:
    """The report of a pair that does not follow the protocol: one failed check and one cause per problem."""
    report = Report(names=names, dtype="float64")
    report.checks = [Check.failed(f"conformance {p.side}.{p.method}", rtol, p.text()) for p in found]
    first, *others = [Localisation(Cause.CONFORMANCE, p.text(), layer=p.parameter, side=p.side) for p in found]
    first.others = others
    report.localisation = first
    return report


@dataclasses.dataclass
class SideRun:
    """Everything one side answered, from one starting state: the checks compare two of these.

    ``initial`` is that state; ``forward``, ``evaluate``, ``accuracy``
    (``None`` for a side without one, or a loss that does not classify) and
    ``gradients`` its answers there on the whole data; ``losses`` the
    per-epoch losses of its training run, ``epoch_seconds`` the wall time of
    each epoch (``None`` unless its ``train`` reports progress) and ``final``
    the state that run ended in.
    """

    initial: Snapshot
    forward: Array
    evaluate: Array
    accuracy: float | None
    gradients: list[Array]
    losses: list[float]
    epoch_seconds: list[float] | None
    final: Snapshot


def run_side(side: ComparableMLP, x: Array, y: Array, *, epochs: int, learning_rate: float, batch_size: int = 1,
             shuffle: int | None = None, verbose: bool = False, name: str | None = None,
             progress: Phases = no_progress) -> SideRun:
    """Ask ``side``, from the state it is in, everything :func:`compare` checks; then train it.

    ``name`` labels it in errors and progress (:func:`side_name` by default).
    Raises :class:`SideError` when it raises.
    """
    name = name or side_name(side)
    initial = Snapshot(call("get_weights", name, side.get_weights), _optimizer_state(side, name))
    forward = np.asarray(call("forward", name, side.forward, x))
    evaluate = np.asarray(call("evaluate", name, side.evaluate, x, y), dtype=np.float64)
    accuracy = call("accuracy", name, side.accuracy, x, y) if callable(getattr(side, "accuracy", None)) else None
    gradients = call("gradients", name, side.gradients, x, y)
    losses, epoch_seconds = _train(side, name, x, y, epochs, learning_rate, batch_size, shuffle, verbose, progress)
    final = Snapshot(side.get_weights(), _optimizer_state(side, name))
    return SideRun(initial, forward, evaluate, accuracy, gradients, losses, epoch_seconds, final)


def side_checks(a_run: SideRun, b_run: SideRun, run: Run) -> list[Check]:
    """Every check, in order: the copy, forward, evaluate, accuracy, gradients, epoch losses, finals, optimizer."""
    checks = [combined_check("initial weights", run.initial.weights, b_run.initial.weights, run.tolerance),
              measure_pair("forward", a_run.forward, b_run.forward, run.tolerance),
              _evaluate_check(a_run.evaluate, b_run.evaluate, run)]
    if a_run.accuracy is not None and b_run.accuracy is not None:
        measured = measure(np.float64(a_run.accuracy), np.float64(b_run.accuracy), run.tolerance)
        checks.append(Check.from_measurement("accuracy", measured))
    checks += measure_lists("gradient", a_run.gradients, b_run.gradients, run.parameter_names, run.tolerance)
    if len(a_run.losses) != len(b_run.losses):
        note = f"a returned {len(a_run.losses)} epoch losses, b {len(b_run.losses)}"
        checks.append(Check.failed("epoch losses", run.tolerance.rtol, note))
    else:
        measured = measure(np.array(a_run.losses), np.array(b_run.losses), run.tolerance)
        checks.append(Check.from_measurement("epoch losses", measured))
    checks += measure_lists("final", a_run.final.weights, b_run.final.weights, run.parameter_names, run.tolerance)
    if a_run.final.optimizer_state is not None and b_run.final.optimizer_state is not None:
        checks += optimizer_checks(a_run.final.optimizer_state, b_run.final.optimizer_state, run)
    return checks


def _same_snapshot(first: Snapshot, second: Snapshot) -> bool:
    """Whether two states are the same bit for bit: every weight array and optimizer state value."""
    return _same_value(first.weights, second.weights) and _same_value(first.optimizer_state, second.optimizer_state)


def _same_value(u: Any, v: Any) -> bool:
    """Bit-for-bit equality of nested dicts, lists and arrays (dtype and shape included)."""
    if u is None or v is None:
        return u is v
    if isinstance(u, dict) or isinstance(v, dict):
        return isinstance(u, dict) and isinstance(v, dict) and u.keys() == v.keys() and all(
            _same_value(u[key], v[key]) for key in u)
    if isinstance(u, (list, tuple)) or isinstance(v, (list, tuple)):
        return type(u) is type(v) and len(u) == len(v) and all(map(_same_value, u, v))
    u, v = np.asarray(u), np.asarray(v)
    return u.dtype == v.dtype and u.shape == v.shape and u.tobytes() == v.tobytes()


def _optimizer_state(side: object, name: str) -> dict | None:
    """The side's optimizer state, or ``None`` for a side without one."""
    if not isinstance(side, HasOptimizerState):
        return None
    return call("get_optimizer_state", name, side.get_optimizer_state)


def _evaluate_check(value_a: Array, value_b: Array, run: Run) -> Check:
    """``evaluate(x, y)`` on both sides from the same weights: the loss function itself."""
    if value_a.shape != () or value_b.shape != ():
        note = f"evaluate must return one number; got shapes {value_a.shape} and {value_b.shape}"
        return Check.failed("evaluate", run.tolerance.rtol, note)
    return Check.from_measurement("evaluate", measure(value_a, value_b, run.tolerance))


def _train(side: ComparableMLP, name: str, x: Array, y: Array, epochs: int, learning_rate: float, batch_size: int,
           shuffle: int | None, verbose: bool, progress: Phases) -> tuple[list[float], list[float] | None]:
    """One side's training run, shown as a phase; its per-epoch losses and, if it reports progress, epoch times.

    The times come from an :class:`~compare.bench.timing.EpochClock` passed as
    ``train``'s ``progress``: the timing table reuses them instead of
    training again.
    """
    counted = takes_progress(side.train)
    total = epochs * len(x) if counted else None
    clock = None
    with progress(f"training {name}", total=total, unit="sample") as advance:
        kwargs = dict(batch_size=batch_size, shuffle=shuffle, verbose=verbose)
        if counted:
            kwargs["progress"] = clock = EpochClock(len(x), then=advance)
        losses = call("train", name, side.train, x, y, epochs, learning_rate, **kwargs)
    return [float(v) for v in losses or ()], None if clock is None else clock.epoch_seconds()


def takes_progress(train: Callable[..., Any]) -> bool:
    """Whether a ``train`` method has a ``progress`` parameter (beyond the protocol: scratch's and Keras's do)."""
    try:
        return "progress" in inspect.signature(train).parameters
    except (TypeError, ValueError):
        return False


def optimizer_checks(state_a: dict, state_b: dict, run: Run) -> list[Check]:
    """The step counts (exactly equal) and each slot array of two optimizer states."""
    iterations = (int(state_a.get("iterations", -1)), int(state_b.get("iterations", -1)))
    gap = float(abs(iterations[0] - iterations[1]))
    note = "" if gap == 0 else f"a counted {iterations[0]}, b {iterations[1]}"
    counted = Measurement(gap, gap / max(*iterations, 1), None, 0.0, 0.0, gap == 0)
    checks = [Check.from_measurement("optimizer iterations", counted, note)]
    for slot in sorted((set(state_a) | set(state_b)) - {"iterations"}):
        if slot not in state_a or slot not in state_b:
            note = f"only {'a' if slot in state_a else 'b'} keeps the slot {slot!r}"
            checks.append(Check.failed(f"optimizer {slot}", run.tolerance.rtol, note))
        else:
            checks += measure_lists(f"optimizer {slot}", state_a[slot], state_b[slot], run.parameter_names,
                                    run.tolerance)
    return checks


def _restore(run: Run) -> None:
    """Put back the state the main training run ended with (the replays moved it)."""
    if run.finals is not None:
        for side, final in zip(run.sides, run.finals):
            localise.restore(side, final)


def assert_equivalent(a: ComparableMLP, b: ComparableMLP, x: Array, y: Array, **kwargs: Any) -> Report:
    """:func:`compare` for test suites: raise ``AssertionError`` with the report's table.

    Takes the keyword arguments of :func:`compare` (``epochs`` defaults to 1,
    ``learning_rate`` to 0.1). Returns the report when every check passes.
    """
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("learning_rate", 0.1)
    report = compare(a, b, x, y, **kwargs)
    if not report.passed:
        raise AssertionError("the two implementations disagree\n" + table(report))
    return report
