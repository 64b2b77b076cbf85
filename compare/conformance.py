"""Calling a side: does it follow the protocol at all, checked before any math, and what it raised.

:func:`problems` calls each method once (``train`` on one sample, then the
weights and optimizer state are put back) and returns every problem found,
each with what was found, what was expected and the one-line fix: a missing
or misspelt method, one that cannot take the harness's arguments, kernels
stored ``(out, in)`` or biases shaped ``(1, n)``/``(n, 1)``, outputs of shape
``(n,)`` or ``(k, n)``, an ``evaluate`` that is not one number, gradients of
another count or shape, ``train`` returning ``None`` or not one loss per epoch.

:func:`call` runs one method; an exception becomes a :class:`SideError`
whose ``details`` is the traceback trimmed to the implementation's own frames.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .localise import restore, snapshot

Array = np.ndarray

#: Each protocol method as the harness calls it: its signature, and example arguments that must bind.
METHODS: dict[str, str] = {
    "forward": "forward(self, x) -> outputs of shape (n, k)",
    "evaluate": "evaluate(self, x, y) -> the loss, one float",
    "gradients": "gradients(self, x, y) -> [dL/dW0, (dL/db0,) ...], the shapes of get_weights()",
    "train": "train(self, x, y, epochs, learning_rate, batch_size=1, shuffle=None, verbose=False) -> [one loss per "
             "epoch]",
    "get_weights": "get_weights(self) -> [W0 of shape (n_in, n_out), (b0 of shape (n_out,),) ...]",
    "set_weights": "set_weights(self, weights) -> None",
}
_BINDS = {"forward": ((0,), {}), "evaluate": ((0, 0), {}), "gradients": ((0, 0), {}), "get_weights": ((), {}),
          "set_weights": (([],), {}), "train": ((0, 0, 1, 0.1), {"batch_size": 1, "shuffle": None, "verbose": False})}
_HERE = Path(__file__).resolve().parents[1]
_PROJECT = tuple(str(_HERE / package) for package in ("scratch", "keras_equiv", "compare"))
_LIBRARIES = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})


class SideError(RuntimeError):
    """One implementation raised while the harness called it; ``details`` is the traceback through its own code."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def call(method: str, side: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``; any exception re-raised as :class:`SideError` naming the side and method."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        raise SideError(f"{side}.{method} raised {type(error).__name__}: {error}", user_traceback(error)) from error


def user_traceback(error: BaseException) -> str:
    """The traceback below :func:`call`, without library frames (and without this project's, if any are left)."""
    frames = traceback.extract_tb(error.__traceback__)[1:]
    own = [f for f in frames if not f.filename.startswith(_LIBRARIES) and not f.filename.startswith("<")]
    mine = [f for f in own if not f.filename.startswith(_PROJECT)] or own or frames
    return "".join(["Traceback (the implementation's own frames, most recent call last):\n",
                    *traceback.format_list(mine), *traceback.format_exception_only(type(error), error)])


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


@dataclass(frozen=True)
class Problem:
    """One way a side does not follow the protocol."""

    side: str
    method: str
    found: str
    expected: str
    fix: str
    parameter: str | None = None

    def text(self) -> str:
        return f"{self.found}; expected {self.expected}. Fix: {self.fix}"


def problems(sides: Sequence[Any], names: Sequence[str], x: Array, y: Array, learning_rate: float
             ) -> list[Problem]:
    """Every protocol problem of the sides, in order (empty when both conform).

    Data that is not 2-D is left to the sides to refuse (their message says how to reshape it).
    """
    found = [p for obj, name in zip(sides, names) for p in _missing(obj, name)]
    if found or np.ndim(x) != 2 or np.ndim(y) != 2:
        return found
    shapes = [[np.shape(w) for w in call("get_weights", name, obj.get_weights)] for obj, name in zip(sides, names)]
    found = _layout_problems(shapes, names, x.shape[1], y.shape[1])
    for obj, name, own in zip(sides, names, shapes):
        found += [] if found else _result_problems(obj, name, own, x, y, learning_rate)
    return found


def _missing(obj: Any, name: str) -> list[Problem]:
    """Methods that are missing (a near name suggested) or cannot take the harness's arguments."""
    found = []
    for method, signature in METHODS.items():
        function = getattr(obj, method, None)
        if not callable(function):
            near = difflib.get_close_matches(method, [a for a in dir(obj) if a != method and a[:2] != "__"], n=1)
            fix = f"rename {near[0]} to {method}" if near else f"add def {signature.split(' ->')[0]}"
            found.append(Problem(name, method, f"{name} has no method {method}" + (f" (it has {near[0]})" if near
                                 else ""), signature, fix))
            continue
        try:
            args, kwargs = _BINDS[method]
            inspect.signature(function).bind(*args, **kwargs)
        except ValueError:  # no signature to read (a builtin): it will be called as it is
            pass
        except TypeError as error:
            found.append(Problem(name, method, f"{name}.{method}{inspect.signature(function)} cannot be called as "
                                 f"the harness calls it ({error})", signature,
                                 "accept every argument of the expected signature (ignore those you do not need)"))
    return found


def _follows(shapes: list[tuple[int, ...]], num_inputs: int, num_outputs: int) -> bool:
    """Kernels ``(n_in, n_out)`` chained from inputs to outputs, each maybe followed by a bias ``(n_out,)``."""
    width, index = num_inputs, 0
    while index < len(shapes):
        if len(shapes[index]) != 2 or shapes[index][0] != width:
            return False
        width, index = shapes[index][1], index + 1
        index += index < len(shapes) and shapes[index] == (width,)
    return bool(shapes) and width == num_outputs


def _layout_problems(shapes: list[list[tuple[int, ...]]], names: Sequence[str], num_inputs: int, num_outputs: int
                     ) -> list[Problem]:
    """A side whose weights are the other's laid out another way: kernels transposed, biases 2-D."""
    follows = [_follows(own, num_inputs, num_outputs) for own in shapes]
    for side in (0, 1):
        reference = shapes[1 - side]
        if follows[side] or not follows[1 - side] or len(shapes[side]) != len(reference):
            continue
        found = []
        for label, mine, theirs in zip(parameter_names([np.empty(s) for s in reference]), shapes[side], reference):
            what = f"{names[side]}.get_weights() gives {label} of shape {mine}"
            if mine == theirs:
                continue
            if len(theirs) == 2 and mine == theirs[::-1]:
                found.append(Problem(names[side], "get_weights", what + ": your kernels are (out, in)",
                                     f"{theirs}, (in, out) like a Keras kernel", "return W.T in get_weights and "
                                     "gradients, and store W.T in set_weights", label))
            elif len(theirs) == 1 and mine in ((1, theirs[0]), (theirs[0], 1)):
                found.append(Problem(names[side], "get_weights", what + ": your biases are 2-D", f"{theirs}",
                                     f"return b.ravel() in get_weights and gradients, and store b.reshape{mine} "
                                     "in set_weights", label))
            else:
                return []  # not a layout convention: the architectures differ (the harness says how)
        return found
    return []


def _result_problems(obj: Any, name: str, shapes: list[tuple[int, ...]], x: Array, y: Array, learning_rate: float
                     ) -> list[Problem]:
    """Call forward, evaluate, gradients and train (on one sample, then put back); check what each returns."""
    (n, k), found = y.shape, []
    out = call("forward", name, obj.forward, x)
    if np.shape(out) != (n, k):
        fix = ("return outputs.reshape(-1, 1)" if np.shape(out) == (n,) and k == 1 else
               "return outputs.T (one row per sample)" if np.shape(out) == (k, n) else
               f"return an array of shape ({n}, {k})")
        found.append(Problem(name, "forward", f"forward(x) returned {_describe(out)} for {n} samples",
                             f"shape ({n}, {k})", fix))
    loss = call("evaluate", name, obj.evaluate, x, y)
    if not _is_number(loss):
        found.append(Problem(name, "evaluate", f"evaluate(x, y) returned {_describe(loss)}", "one number",
                             "return float(loss)"))
    grads = call("gradients", name, obj.gradients, x, y)
    grad_shapes = [np.shape(g) for g in grads] if isinstance(grads, (list, tuple)) else None
    if grad_shapes != shapes:
        fix = ("return dW.T for each kernel (your gradients are (out, in))" if grad_shapes is not None and
               len(grad_shapes) == len(shapes) and all(g in (s, s[::-1]) for g, s in zip(grad_shapes, shapes))
               else "return one gradient per entry of get_weights(), in its order and shapes")
        found.append(Problem(name, "gradients", f"gradients(x, y) returned {_describe(grads)}",
                             f"a list of arrays of shapes {shapes}", fix))
    before = snapshot(obj)
    losses = call("train", name, obj.train, x[:1], y[:1], 1, learning_rate, batch_size=1, shuffle=None)
    restore(obj, before)
    if not (isinstance(losses, (list, tuple, np.ndarray)) and len(losses) == 1 and _is_number(losses[0])):
        found.append(Problem(name, "train", f"train(x, y, epochs=1, ...) returned {_describe(losses)}",
                             "a list of one loss per epoch", "append each epoch's loss to a list and return it "
                             "(history.append(epoch_loss) ... return history)"))
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.shape == ()
                                               and np.issubdtype(value.dtype, np.number))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items" + (
            f" of shapes {[np.shape(v) for v in value]}" if value and not _is_number(value[0]) else "")
    return "None" if value is None else f"a {type(value).__name__}"
