"""The harness: prove that two implementations of the comparison protocol agree.

:func:`compare` copies ``a``'s weights into ``b`` and then checks, in order:
the copy itself, the forward outputs, the gradients of every parameter, the
per-epoch training losses and the final weights, each under the tolerance
policy of :mod:`compare.tolerances`. When anything fails it asks
:mod:`compare.localise` where and why.

>>> from scratch import MLP, sum_dataset
>>> x, y = sum_dataset(40)
>>> a, b = MLP(2, [5], 1, seed=0), MLP(2, [5], 1, seed=1)
>>> compare(a, b, x, y, epochs=2, learning_rate=0.1).passed
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import localise
from .results import Check, Report
from .tolerances import Tolerance, comparison_dtype, measure, tolerance_for

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
    """``package.Class`` for an implementation, e.g. ``scratch.MLP``."""
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
    checks = []
    for name, array_a, array_b in zip(names, list_a, list_b):
        label = f"{prefix} {name}"
        if np.shape(array_a) != np.shape(array_b):
            note = f"shapes differ: a {np.shape(array_a)}, b {np.shape(array_b)}"
            checks.append(Check.failed(label, tolerance.rtol, note))
        else:
            checks.append(Check.from_measurement(label, measure(array_a, array_b, tolerance)))
    return checks


def combined_check(name: str, list_a: Sequence[Array], list_b: Sequence[Array], tolerance: Tolerance) -> Check:
    """One check over several arrays: the worst of the per-array checks, naming the array."""
    checks = measure_lists(name, list_a, list_b, parameter_names(list_a), tolerance)
    worst = max(checks, key=lambda c: (not c.passed, c.max_rel_error))
    note = worst.note or ("" if worst.passed else f"worst in {worst.name.removeprefix(name).strip()}")
    return Check(name, worst.max_abs_error, worst.max_rel_error, worst.worst_index, worst.rtol,
                 worst.atol, all(c.passed for c in checks), note)


def _call(name: str, side: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function``; re-raise any error as :class:`SideError` naming the side and the call."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        raise SideError(f"{side}.{name} raised {type(error).__name__}: {error}") from error


class SideError(RuntimeError):
    """One implementation raised while the harness called it."""


def compare(
    a: Any,
    b: Any,
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
) -> Report:
    """Check that ``a`` and ``b`` compute the same thing from the same weights.

    Parameters
    ----------
    a, b : ComparableMLP
        Two implementations of :class:`scratch.protocol.ComparableMLP`. ``a``'s
        weights are copied into ``b`` first; both are trained (their weights
        change).
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

    Returns
    -------
    Report
        Every check in order: ``initial weights``, ``forward``, ``gradient W0``
        ..., ``epoch losses``, ``final W0`` ...; both loss curves; the
        localisation when something failed.

    Raises
    ------
    SideError
        When one side raises (the message names the side and the call).
    """
    names = side_names(a, b)
    weights = _call("get_weights", names[0], a.get_weights)
    report = Report(names=names, dtype="float64")
    problem = layout_problem(weights, _call("get_weights", names[1], b.get_weights))
    run = localise.Run(a, b, np.asarray(x), np.asarray(y), epochs, learning_rate, batch_size, shuffle,
                       tolerance_for("float64", rtol, atol), weights, names, parameter_names(weights))
    if problem is not None:
        run.layouts = ([np.shape(w) for w in weights], [np.shape(w) for w in b.get_weights()])
        report.checks.append(Check.failed("initial weights", run.tolerance.rtol, problem))
        report.localisation = localise.diagnose(run, report) if localise_failures else None
        return report

    _call("set_weights", names[1], b.set_weights, [w.copy() for w in weights])
    out_a = np.asarray(_call("forward", names[0], a.forward, x))
    out_b = np.asarray(_call("forward", names[1], b.forward, x))
    dtype = comparison_dtype(out_a.dtype, out_b.dtype)
    run.tolerance = tolerance_for(dtype, rtol, atol)
    run.dtypes = (out_a.dtype.name, out_b.dtype.name)
    report.dtype = dtype.name

    report.checks.append(combined_check("initial weights", weights, b.get_weights(), run.tolerance))
    report.checks += measure_lists("forward", [out_a], [out_b], ["outputs"], run.tolerance)
    report.checks[-1].name = "forward"
    grads_a = _call("gradients", names[0], a.gradients, x, y)
    grads_b = _call("gradients", names[1], b.gradients, x, y)
    report.checks += measure_lists("gradient", grads_a, grads_b, run.parameter_names, run.tolerance)
    _train_both(run, report, verbose)
    if not report.passed and localise_failures:
        report.localisation = localise.diagnose(run, report)
        _restore(run)
    return report


def _train_both(run: localise.Run, report: Report, verbose: bool) -> None:
    """Train both sides from the copied weights; add the loss and final-weight checks."""
    kwargs = dict(batch_size=run.batch_size, shuffle=run.shuffle, verbose=verbose)
    train_args = (run.x, run.y, run.epochs, run.learning_rate)
    report.losses_a = [float(v) for v in _call("train", run.names[0], run.a.train, *train_args, **kwargs)]
    report.losses_b = [float(v) for v in _call("train", run.names[1], run.b.train, *train_args, **kwargs)]
    run.losses = (report.losses_a, report.losses_b)
    if len(report.losses_a) != len(report.losses_b):
        note = f"a returned {len(report.losses_a)} epoch losses, b {len(report.losses_b)}"
        report.checks.append(Check.failed("epoch losses", run.tolerance.rtol, note))
    else:
        measured = measure(np.array(report.losses_a), np.array(report.losses_b), run.tolerance)
        report.checks.append(Check.from_measurement("epoch losses", measured))
    run.finals = (run.a.get_weights(), run.b.get_weights())
    report.checks += measure_lists("final", run.finals[0], run.finals[1], run.parameter_names, run.tolerance)


def _restore(run: localise.Run) -> None:
    """Put back the weights the main training run ended with (the replays moved them)."""
    if run.finals is not None:
        run.a.set_weights(run.finals[0])
        run.b.set_weights(run.finals[1])


def assert_equivalent(a: Any, b: Any, x: Array, y: Array, **kwargs: Any) -> Report:
    """:func:`compare` for test suites: raise ``AssertionError`` with the report's table.

    Takes the keyword arguments of :func:`compare` (``epochs`` defaults to 1,
    ``learning_rate`` to 0.1). Returns the report when every check passes.
    """
    kwargs.setdefault("epochs", 1)
    kwargs.setdefault("learning_rate", 0.1)
    report = compare(a, b, x, y, **kwargs)
    if not report.passed:
        raise AssertionError("the two implementations disagree\n" + report.table())
    return report
