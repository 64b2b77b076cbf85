"""Optimizer states as evidence: which entries differ, a fresh state to replay from, and slot ratios read.

An optimizer state is the protocol's dict ``{"iterations": int, "<slot>": [one
array per parameter], ...}`` (:class:`scratch.protocol.HasOptimizerState`).
:mod:`compare.localise` uses these functions to tell an update *rule* that
differs from a *state* that the two sides keep or read differently, and to
name a slot kept with or without the learning rate folded in (Keras's
momentum ``m = μm − ηg`` against PyTorch's ``v = μv + g``, ``m = −ηv``) from
the measured ratio of the slots, or a carried slot decayed by factors that
differ (a momentum rounded through float32 on one side only) from the
measured factors, never from the symptoms alone: it replays, and
:func:`carried_cause` and :func:`rule_cause` say what the replays show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .causes import Cause
from .factors import FACTOR_RTOL, proportionality
from .tolerances import Tolerance, allclose

State = dict


def fresh(state: State) -> State:
    """The state of an optimizer that has taken no step: ``iterations`` 0, every slot zero."""
    return {key: 0 if key == "iterations" else [np.zeros_like(np.asarray(a)) for a in value]
            for key, value in state.items()}


def has_slots(state: State) -> bool:
    """Whether ``state`` keeps a slot, not only a step count."""
    return bool(set(state) - {"iterations"})


def is_fresh(state: State) -> bool:
    """Whether ``state`` is that of an optimizer that has taken no step."""
    return int(state.get("iterations", 0)) == 0 and all(
        not np.any(a) for key, value in state.items() if key != "iterations" for a in value)


def differing_entries(state_a: State, state_b: State, parameter_names: Sequence[str],
                      tolerance: Tolerance) -> list[str]:
    """The entries of two states that differ: ``iterations``, ``momentum W0``, ... (a slot only one side keeps)."""
    found = [] if int(state_a.get("iterations", -1)) == int(state_b.get("iterations", -1)) else ["iterations"]
    for slot in sorted((set(state_a) | set(state_b)) - {"iterations"}):
        if slot not in state_a or slot not in state_b:
            found.append(slot)
            continue
        found += [f"{slot} {name}" for name, a, b in zip(parameter_names, state_a[slot], state_b[slot])
                  if not allclose(a, b, tolerance)]
    return found


def slot_readings(state_a: State, state_b: State, learning_rate: float, names: tuple[str, str]
                  ) -> tuple[list[str], str | None]:
    """Evidence lines for the slots both keep that differ by a constant factor, and a hint if a factor is known.

    A factor ``−1/η`` (or ``−η``) says that one side keeps the slot without
    the learning rate (``v ← μv + g``, step ``ηv``) and the other with it
    (``m ← μm − ηg``, step ``m``): the hint says which.
    """
    lines, hint = [], None
    for slot in sorted((set(state_a) & set(state_b)) - {"iterations"}):
        ratio = proportionality(state_a[slot], state_b[slot])
        if ratio is None or math.isclose(ratio, 1.0, rel_tol=FACTOR_RTOL):
            continue
        line = f"optimizer slot {slot!r}: {names[0]}'s ≈ r × {names[1]}'s with r = {ratio:.6g}"
        without = _side_without_learning_rate(ratio, learning_rate, names)
        if without is not None:
            line += f" = {'−1/η' if without == names[0] else '−η'} (η = {learning_rate:g})"
            hint = (f"{without} keeps its {slot} without the learning rate (v ← μv + g, w ← w − η·v: PyTorch's "
                    "form), the other side with it (m ← μm − η·g, w ← w + m: Keras's): the steps agree while η "
                    "stays the same and differ once it changes or the state passes from one form to the other")
        lines.append(line)
    return lines, hint


def _side_without_learning_rate(ratio: float, learning_rate: float, names: tuple[str, str]) -> str | None:
    """The side whose slot is ``−1/η`` times the other's, if one is."""
    if math.isclose(ratio, -1.0 / learning_rate, rel_tol=FACTOR_RTOL):
        return names[0]
    if math.isclose(ratio, -learning_rate, rel_tol=FACTOR_RTOL):
        return names[1]
    return None


def decay_readings(carried: tuple[State, State], ends: tuple[State, State], fresh_ends: tuple[State, State],
                   names: tuple[str, str]) -> tuple[list[str], str | None]:
    """Evidence lines for the slots whose carried value the sides multiply by different factors, and a hint.

    A step from the carried state minus the same step from a fresh state
    leaves what the carried value contributes: ``μ·c`` for a slot updated as
    ``μ·c + (terms of the new gradient)``, each side from its own ``carried``
    state ``c``. The factor ``μ`` of each side is
    measured by least squares; a factor that is the other's rounded to float32
    is what TensorFlow's ``ops.cast`` of a Python float gives in a float64
    model, and the hint says so.
    """
    lines, hint = [], None
    for slot in sorted((set(ends[0]) & set(ends[1]) & set(carried[0]) & set(carried[1])) - {"iterations"}):
        factors = [proportionality([np.asarray(e) - np.asarray(f) for e, f in zip(end[slot], fresh[slot])],
                                   start[slot]) for start, end, fresh in zip(carried, ends, fresh_ends)]
        if None in factors or math.isclose(factors[0], factors[1], rel_tol=1e-13, abs_tol=1e-15):
            continue
        lines.append(f"optimizer slot {slot!r}: the carried value is multiplied by {factors[0]:.10g} on "
                     f"{names[0]}, by {factors[1]:.10g} on {names[1]}")
        for side, other in ((0, 1), (1, 0)):
            if math.isclose(factors[side], float(np.float32(factors[other])), rel_tol=1e-12):
                hint = (f"{names[side]} multiplies the carried {slot} by {factors[side]:.10g}, which is "
                        f"{names[other]}'s factor rounded to float32 ({names[other]} keeps {factors[other]:.10g} "
                        "exact): TensorFlow's ops.cast of a Python float goes through float32 even in a float64 "
                        "model (tensorflow#35938); round it the same way on both sides (scratch: "
                        "hyperparameter_dtype='float32', the default, rounds as TensorFlow does; None keeps it "
                        "exact)")
    return lines, hint


def carried_cause(carried: tuple[State, State], ends: tuple[State, State], fresh_ends: tuple[State, State],
                  learning_rate: float, names: tuple[str, str]) -> tuple[Cause, str, list[str]]:
    """A step agrees from fresh states but not from the ``carried`` ones: the cause, its hint, the evidence lines.

    A carried slot decayed by a factor rounded to float32 on one side is a
    coefficient of the rule (``update step``); else the state is kept or read
    differently (``optimizer state``), by a known slot ratio where it is one.
    """
    readings, named = slot_readings(*fresh_ends, learning_rate, names)
    decays, rounded = decay_readings(carried, ends, fresh_ends, names)
    if rounded:
        return Cause.UPDATE_STEP, rounded, readings + decays
    return Cause.OPTIMIZER_STATE, named or CARRIED_HINT, readings + decays


def rule_cause(ends: tuple[State, State], slots: list[str], learning_rate: float, names: tuple[str, str]
               ) -> tuple[Cause, str, list[str]]:
    """A first step from fresh states differs (``slots``: the slot entries that differ after it): the rule differs.

    Either in how the slots are updated (read by their ratio where it is a
    known one) or, the slots agreeing, in the step made from them.
    """
    if not slots:
        return Cause.UPDATE_STEP, RULE_STEP_HINT, ["the optimizer slots after that first step agree"]
    readings, named = slot_readings(*ends, learning_rate, names)
    return (Cause.UPDATE_STEP, named or RULE_SLOTS_HINT,
            [f"the optimizer slots after that first step differ: {', '.join(slots)}", *readings])


CARRIED_HINT = ("the same gradients give the same step from a fresh optimizer state but not from the carried one: "
                "the sides keep or read the optimizer's state differently, so it matters once it is carried (across "
                "train calls, or copied from one side to the other)")
RULE_SLOTS_HINT = "the update rule differs from the first step on: the sides update the optimizer's slots differently"
RULE_STEP_HINT = ("the update rule differs from the first step on: the slots agree, the step made from them does not "
                  "(e.g. where ε enters, or a bias correction)")
