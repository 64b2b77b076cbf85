"""Factor arithmetic: is one side's gradient (or step, or loss) a known multiple of the other's?

Two conventions that are both "correct" differ by a constant factor: ½·Σ vs
mean over the ``k`` outputs gives ``k/2``, a dropped 2 gives 2, a sum vs a
mean over the ``B`` samples gives ``B``, gradients of ``−L`` (from ``t − o``)
give ``−1``. :func:`proportionality` measures the signed factor ``r`` with
``a ≈ r·b`` by least squares; :func:`match_factor` names its size among the
products ``2^i k^j B^l`` (``i, j, l`` in ``{-1, 0, 1}``), and
:func:`named_conventions` among the conventions of :data:`CONVENTIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .causes import Cause

Array = np.ndarray

#: A gradient (or step, or loss curve) counts as "a constant multiple" of the
#: other when the residual of the least-squares fit is below this, relative.
PROPORTIONAL_RTOL = 1e-4
#: A measured factor matches a known one within this relative distance.
FACTOR_RTOL = 1e-3


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
    def cause(self) -> Cause:
        return Cause.BATCH_AVERAGING if self.samples else Cause.LOSS_CONVENTION

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


#: The conventions a submission may be graded "equivalent up to" (``--accept``), and what each means.
CONVENTIONS: dict[str, str] = {
    "sign": "gradients of −L (from t − o) added to the weights: the same steps as subtracting those of L",
    "half-sum": "½·Σ over the k outputs instead of their mean: loss and gradients × k/2, the steps of lr·k/2",
    "output-sum": "Σ over the k outputs instead of their mean: loss and gradients × k, the steps of lr·k",
    "batch-sum": "summed over the B samples of a batch instead of averaged: gradients × B, the steps of lr·B",
    "per-sample": "one step per sample whatever batch_size (the seed's training: batch size 1)",
    "full-batch": "one step per epoch on the whole data set whatever batch_size",
}
#: The factor conventions (size of the factor from k outputs and B samples), tried singly and in pairs.
_FACTOR_CONVENTIONS = {"half-sum": lambda k, b: k / 2, "output-sum": lambda k, b: k, "batch-sum": lambda k, b: b}
_COMBINATIONS = [("half-sum",), ("output-sum",), ("batch-sum",), ("half-sum", "batch-sum"), ("output-sum", "batch-sum")]


def named_conventions(size: float, num_outputs: int, batch: int) -> tuple[str, ...] | None:
    """The factor conventions whose product is ``size`` (``> 0``), e.g. ``("half-sum",)`` for ``k/2``.

    ``()`` when ``size`` is 1, ``None`` when no combination gives it.

    >>> named_conventions(1.5, 3, 10), named_conventions(5.0, 1, 10), named_conventions(7.0, 3, 10)
    (('half-sum',), ('half-sum', 'batch-sum'), None)
    """
    if math.isclose(size, 1.0, rel_tol=FACTOR_RTOL):
        return ()
    for names in _COMBINATIONS:
        value = math.prod(_FACTOR_CONVENTIONS[name](num_outputs, batch) for name in names)
        if not math.isclose(value, 1.0) and math.isclose(size, value, rel_tol=FACTOR_RTOL):
            return names
    return None


def factor_hint(what: str, ratio: float, factors: list[Factor], names: tuple[str, str], num_outputs: int,
                batch: int) -> str:
    """``scratch.MLP's gradients are 0.5 × keras_equiv.KerasMLP's (k=1 outputs, B=32 samples) = 1/2: ...``"""
    readings = [f"{f.formula()}: {f.meaning()}" for f in factors]
    head = f"{names[0]}'s {what} are {ratio:.6g} × {names[1]}'s (k={num_outputs} outputs, B={batch} samples) = "
    return head + " — or ".join(readings)
