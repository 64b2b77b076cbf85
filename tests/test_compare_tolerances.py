"""The tolerance policy of compare.tolerances: what counts as equal."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compare.tolerances import (
    DEFAULT_RTOL,
    Tolerance,
    allclose,
    comparison_dtype,
    measure,
    relative_error,
    tolerance_for,
)


def test_default_rtol_by_dtype_and_override():
    assert tolerance_for("float64").rtol == 1e-10
    assert tolerance_for(np.float32).rtol == 1e-5
    assert DEFAULT_RTOL == {"float64": 1e-10, "float32": 1e-5}
    assert tolerance_for("float64", rtol=1e-3, atol=0.5) == Tolerance(1e-3, 0.5)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_tolerances_are_refused(bad):
    with pytest.raises(ValueError, match="rtol"):
        tolerance_for("float64", rtol=bad)
    with pytest.raises(ValueError, match="atol"):
        tolerance_for("float64", atol=bad)


def test_comparison_dtype_is_the_most_precise():
    assert comparison_dtype(np.dtype("float32"), np.dtype("float64")) == np.float64
    assert comparison_dtype(np.dtype("float32"), np.dtype("float32")) == np.float32


def test_relative_error_definition():
    rel = relative_error(np.array([1.0, 0.0, -2.0, 0.0]), np.array([1.5, 0.0, 2.0, 1e-300]))
    np.testing.assert_array_equal(rel, [0.5 / 1.5, 0.0, 4.0 / 2.0, 1.0])


def test_a_cancelled_element_is_judged_on_the_arrays_scale():
    # 1e-20 vs 3e-20 is 67% apart relatively, but next to an element of size 1 it is
    # far below the rounding error a float64 sum of size-1 terms can carry.
    m = measure(np.array([1.0, 1e-20]), np.array([1.0, 3e-20]), tolerance_for("float64"))
    assert m.passed
    assert m.max_rel_error == pytest.approx(2 / 3)
    assert m.atol == pytest.approx(1e-10)


def test_criterion_is_atol_plus_rtol_times_magnitude():
    tol = Tolerance(rtol=1e-3, atol=0.0)
    assert measure(np.array([1000.0]), np.array([1000.99]), tol).passed
    assert not measure(np.array([1000.0]), np.array([1001.01]), tol).passed
    assert measure(np.array([0.0]), np.array([0.1]), Tolerance(rtol=0.0, atol=0.1)).passed


def test_worst_index_is_the_element_furthest_out_of_tolerance():
    a = np.array([[100.0, 1.0], [1.0, 1.0]])
    b = a.copy()
    b[0, 0] += 1e-6  # larger absolute error but small relative to the element
    b[1, 0] += 5e-7  # smaller error, further out of its allowance
    m = measure(a, b, Tolerance(rtol=1e-12, atol=0.0))
    assert not m.passed
    assert m.worst_index == (1, 0)
    assert m.max_abs_error == pytest.approx(1e-6)


def test_nan_never_passes_and_shapes_must_match():
    assert not measure(np.array([np.nan]), np.array([np.nan]), tolerance_for("float64")).passed
    with pytest.raises(ValueError, match="shapes"):
        measure(np.zeros(2), np.zeros(3), tolerance_for("float64"))
    assert not allclose(np.zeros(2), np.zeros(3), tolerance_for("float64"))


def test_float32_rounding_passes_float64_rtol_does_not():
    x = np.linspace(0.1, 1, 50)
    rounded = x.astype(np.float32).astype(np.float64)
    assert measure(x, rounded, tolerance_for("float32")).passed
    assert not measure(x, rounded, tolerance_for("float64")).passed


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=finite), arrays(np.float64, 20, elements=finite))
def test_measure_is_reflexive_and_symmetric(a, b):
    b = b[: a.size]
    tol = tolerance_for("float64")
    same = measure(a, a.copy(), tol)
    assert same.passed and same.max_abs_error == 0 and same.max_rel_error == 0
    forward, backward = measure(a, b, tol), measure(b, a, tol)
    assert forward.passed == backward.passed
    assert forward.max_abs_error == backward.max_abs_error
