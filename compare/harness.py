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
from .localise import Run, Snapshot
from .progress import Phases, no_progress
from .report import table
from .results import Check, Report
from .tolerances import Measurement, Tolerance, comparison_dtype, measure, tolerance_for

Array = np.ndarray


def parameter_names(weights: Sequence[Array]) -> list[str]:
    """Names in ``get_weights()`` order: each 2-D kernel ``W<l>``, each 1-D bias ``b<l>``.

    >>> parameter_names([np.zeros((2, 5)), np.zeros(5), np.zeros((5, 1)), np.zeros(1)])
    ['W0', 'b0', 'W1', 'b1']
    """
    names, layer = [], -1
    for array in weights:
        if np.ndim(array) == 1 and layer >= 0:
            names.append(f"b{layer}")
        else:
            layer += 1
            names.append(f"W{layer}")
    return names


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


def _call(name: str, side: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function``; re-raise any error as :class:`SideError` naming the side and the call."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        raise SideError(f"{side}.{name} raised {type(error).__name__}: {error}") from error


class SideError(RuntimeError):
    """One implementation raised while the harness called it."""


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
    names = side_names(a, b)
    x, y = np.asarray(x), np.asarray(y)
    initial = Snapshot(_call("get_weights", names[0], a.get_weights), _optimizer_state(a, names[0]))
    run = Run((a, b), names, x, y, epochs, learning_rate, batch_size, shuffle, tolerance_for("float64", rtol, atol),
              initial, parameter_names(initial.weights))
    report = Report(names=names, dtype="float64")
    weights_b = _call("get_weights", names[1], b.get_weights)
    problem = layout_problem(initial.weights, weights_b)
    if problem is not None:
        report.checks.append(Check.failed("initial weights", run.tolerance.rtol, problem))
        layouts = ([np.shape(w) for w in initial.weights], [np.shape(w) for w in weights_b])
        if localise_failures:
            report.localisation = localise.diagnose(dataclasses.replace(run, layouts=layouts), report)
        return report

    _call("set_weights", names[1], b.set_weights, [w.copy() for w in initial.weights])
    if initial.optimizer_state is not None and isinstance(b, HasOptimizerState):
        _call("set_optimizer_state", names[1], b.set_optimizer_state, initial.optimizer_state)
    out_a = np.asarray(_call("forward", names[0], a.forward, x))
    out_b = np.asarray(_call("forward", names[1], b.forward, x))
    dtype = comparison_dtype(out_a.dtype, out_b.dtype)
    run = dataclasses.replace(run, tolerance=tolerance_for(dtype, rtol, atol), dtypes=(out_a.dtype.name,
                                                                                       out_b.dtype.name))
    report.dtype = dtype.name

    report.checks.append(combined_check("initial weights", initial.weights, b.get_weights(), run.tolerance))
    report.checks.append(measure_pair("forward", out_a, out_b, run.tolerance))
    report.checks.append(_evaluate_check(run))
    report.checks += _accuracy_check(run)
    grads_a = _call("gradients", names[0], a.gradients, x, y)
    grads_b = _call("gradients", names[1], b.gradients, x, y)
    report.checks += measure_lists("gradient", grads_a, grads_b, run.parameter_names, run.tolerance)
    run = _train_both(run, report, verbose, progress)
    if not report.passed and localise_failures:
        with progress("localising the first disagreement"):
            report.localisation = localise.diagnose(run, report)
            _restore(run)
    return report


def _optimizer_state(side: object, name: str) -> dict | None:
    """The side's optimizer state, or ``None`` for a side without one."""
    if not isinstance(side, HasOptimizerState):
        return None
    return _call("get_optimizer_state", name, side.get_optimizer_state)


def _evaluate_check(run: Run) -> Check:
    """``evaluate(x, y)`` on both sides from the same weights: the loss function itself."""
    values = [np.asarray(_call("evaluate", name, side.evaluate, run.x, run.y), dtype=np.float64)
              for name, side in zip(run.names, run.sides)]
    if any(v.shape != () for v in values):
        note = f"evaluate must return one number; got shapes {values[0].shape} and {values[1].shape}"
        return Check.failed("evaluate", run.tolerance.rtol, note)
    return Check.from_measurement("evaluate", measure(values[0], values[1], run.tolerance))


def _accuracy_check(run: Run) -> list[Check]:
    """``accuracy(x, y)`` on both sides from the same weights, where both have it and the loss classifies."""
    if not all(callable(getattr(side, "accuracy", None)) for side in run.sides):
        return []
    values = [_call("accuracy", name, side.accuracy, run.x, run.y) for name, side in zip(run.names, run.sides)]
    if any(v is None for v in values):
        return []
    return [Check.from_measurement("accuracy", measure(np.float64(values[0]), np.float64(values[1]), run.tolerance))]


def _train_both(run: Run, report: Report, verbose: bool, progress: Phases = no_progress) -> Run:
    """Train both sides from the copied state; add the loss, final-weight and optimizer-state checks."""
    report.losses_a, report.losses_b = (_train(run, index, verbose, progress) for index in (0, 1))
    if len(report.losses_a) != len(report.losses_b):
        note = f"a returned {len(report.losses_a)} epoch losses, b {len(report.losses_b)}"
        report.checks.append(Check.failed("epoch losses", run.tolerance.rtol, note))
    else:
        measured = measure(np.array(report.losses_a), np.array(report.losses_b), run.tolerance)
        report.checks.append(Check.from_measurement("epoch losses", measured))
    finals = tuple(Snapshot(side.get_weights(), _optimizer_state(side, name))
                   for name, side in zip(run.names, run.sides))
    report.checks += measure_lists("final", finals[0].weights, finals[1].weights, run.parameter_names, run.tolerance)
    if finals[0].optimizer_state is not None and finals[1].optimizer_state is not None:
        report.checks += optimizer_checks(finals[0].optimizer_state, finals[1].optimizer_state, run)
    return dataclasses.replace(run, losses=(report.losses_a, report.losses_b), finals=finals)


def _train(run: Run, index: int, verbose: bool, progress: Phases) -> list[float]:
    """One side's training run, shown as a phase; its per-epoch losses."""
    side, name = run.sides[index], run.names[index]
    counted = takes_progress(side.train)
    total = run.epochs * len(run.x) if counted else None
    with progress(f"training {name}", total=total, unit="sample") as advance:
        kwargs = dict(batch_size=run.batch_size, shuffle=run.shuffle, verbose=verbose)
        if counted:
            kwargs["progress"] = advance
        losses = _call("train", name, side.train, run.x, run.y, run.epochs, run.learning_rate, **kwargs)
    return [float(v) for v in losses]


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
