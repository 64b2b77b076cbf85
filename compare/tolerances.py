r"""The tolerance policy: when do two arrays count as equal?

This is the one place that decides it; every check of the harness goes through
:func:`tolerance_for` and :func:`measure`.

Policy
------
``rtol`` depends on the dtype the comparison is made in (:data:`DEFAULT_RTOL`):

=========  ========  ==========================================================
dtype      rtol      why
=========  ========  ==========================================================
float64    1e-10     ~1e6 ulps: room for a different summation order in every
                     matmul, yet far below any real bug (a wrong factor is 1e-1)
float32    1e-5      ~100 ulps, for the same reason in single precision
=========  ========  ==========================================================

The comparison dtype is the *more precise* of the two sides' output dtypes, so a
float32 implementation compared with a float64 one fails instead of hiding
behind the float32 tolerance (and the localisation says "dtype mismatch").

Criterion, element by element:

.. math::  |a_i - b_i| \le \mathrm{atol} + \mathrm{rtol} \cdot \max(|a_i|, |b_i|)

with the default ``atol = rtol * scale``, where ``scale = max_j max(|a_j|, |b_j|)``
is the largest magnitude in the pair of arrays (the array's own scale). So an
element whose exact value is zero or tiny because of cancellation (a sum of
terms of size ``scale`` that nearly cancel) is judged against the rounding
error it can really carry, ``rtol * scale``, not against its own tiny size;
and the largest element is held to at most ``2 * rtol`` relative. Both ``rtol``
and ``atol`` can be given explicitly; an explicit ``atol`` is used as is.

Reported errors
---------------
- max absolute error: :math:`\max_i |a_i - b_i|`;
- max relative error: :math:`\max_i |a_i - b_i| / \max(|a_i|, |b_i|, \mathrm{tiny})`
  (``tiny`` the smallest normal number of the dtype, so ``0 vs 0`` is 0);
- the worst element: the one with the largest ratio of its error to its
  allowance ``atol + rtol * max(|a_i|, |b_i|)`` (the one furthest out of, or
  closest to failing, the criterion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Default relative tolerance per dtype name.
DEFAULT_RTOL: dict[str, float] = {"float64": 1e-10, "float32": 1e-5}


@dataclass(frozen=True)
class Tolerance:
    """``rtol`` and an optional fixed ``atol`` (``None``: ``rtol * scale``)."""

    rtol: float
    atol: float | None = None

    def atol_for(self, scale: float) -> float:
        """The absolute tolerance used for a pair of arrays of magnitude ``scale``."""
        return self.rtol * scale if self.atol is None else self.atol


@dataclass(frozen=True)
class Measurement:
    """How far apart two arrays are, and whether that is within tolerance."""

    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    rtol: float
    atol: float
    passed: bool


def comparison_dtype(*dtypes: np.dtype) -> np.dtype:
    """The dtype a comparison is made in: the most precise floating dtype given."""
    result = np.result_type(*dtypes, np.float32)
    return np.dtype(result) if np.dtype(result).name in DEFAULT_RTOL else np.dtype("float64")


def tolerance_for(dtype: np.dtype | str, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """The tolerance for ``dtype``: :data:`DEFAULT_RTOL` unless ``rtol`` is given.

    Raises
    ------
    ValueError
        If ``rtol`` or ``atol`` is negative or not finite.
    """
    name = np.dtype(dtype).name
    chosen = DEFAULT_RTOL.get(name, DEFAULT_RTOL["float64"]) if rtol is None else float(rtol)
    for label, value in (("rtol", chosen), ("atol", atol)):
        if value is not None and not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{label} must be a finite number >= 0, got {value}")
    return Tolerance(chosen, None if atol is None else float(atol))


def relative_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise ``|a - b| / max(|a|, |b|, tiny)`` in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), tiny)


def measure(a: np.ndarray, b: np.ndarray, tolerance: Tolerance) -> Measurement:
    """Measure ``a`` against ``b`` (same shape) under ``tolerance``.

    The arithmetic is done in float64, so the measurement itself adds no error.
    Non-finite values never pass (NaN differs from everything, itself included).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return Measurement(0.0, 0.0, None, tolerance.rtol, tolerance.atol_for(0.0), True)
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.maximum(np.abs(a), np.abs(b))
        scale = float(np.max(magnitude)) if np.all(np.isfinite(magnitude)) else 0.0
        atol = tolerance.atol_for(scale)
        error = np.abs(a - b)
        allowance = atol + tolerance.rtol * magnitude
        finite = np.isfinite(a) & np.isfinite(b)
        error = np.where(finite, error, np.inf)
        badness = error / np.maximum(allowance, np.finfo(np.float64).tiny)
        rel = np.where(finite, relative_error(a, b), np.inf)
    worst = np.unravel_index(int(np.argmax(badness)), a.shape)
    return Measurement(
        max_abs_error=float(np.max(error)),
        max_rel_error=float(np.max(rel)),
        worst_index=tuple(int(i) for i in worst),
        rtol=tolerance.rtol,
        atol=atol,
        passed=bool(np.all(error <= allowance)),
    )


def allclose(a: np.ndarray, b: np.ndarray, tolerance: Tolerance) -> bool:
    """``True`` when ``a`` and ``b`` have the same shape and pass :func:`measure`."""
    return np.shape(a) == np.shape(b) and measure(a, b, tolerance).passed
