"""The sigmoid is stable and right in its tails, in float32 and float64."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from scratch import MLP
from scratch import activations as act

EXTREMES = [-1e4, -1000.0, -745.0, -710.0, -104.0, -89.0, 0.0, 89.0, 710.0, 1000.0, 1e4]


def sigmoid_by_hand(z: float) -> float:
    """Python floats: 1 / (1 + e^-z) for z >= 0, e^z / (1 + e^z) below (math.exp underflows to 0, never overflows)."""
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_raises_no_warning_at_extremes(dtype):
    z = np.array(EXTREMES, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is right here
            s = act.sigmoid(z)
            act.sigmoid_derivative(s)
    assert s.dtype == dtype
    assert np.all((s >= 0) & (s <= 1))
    assert s[0] == 0 and s[-1] == 1 and s[EXTREMES.index(0.0)] == 0.5


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_forward_and_train_raise_no_warning_at_extremes(dtype):
    net = MLP(1, [len(EXTREMES)], 1, dtype=dtype, seed=0)
    net.set_weights([np.array([EXTREMES], dtype=dtype), np.full((len(EXTREMES), 1), 1e-4, dtype=dtype)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.forward(np.array([[1.0], [-1.0]]))
        net.train(np.array([[1.0], [-1.0]]), np.array([[0.2], [0.7]]), epochs=2, learning_rate=0.1)


@pytest.mark.parametrize(
    ("dtype", "normal_tail"),
    [("float64", -708.0), ("float32", -87.0)],
)
def test_sigmoid_is_correct_into_the_tails(dtype, normal_tail):
    """Within 4 ulp (exp, add and divide each round once) wherever sigmoid(z) is a normal number."""
    rtol = 4 * np.finfo(dtype).eps
    z = np.concatenate([np.linspace(normal_tail, 40, 4001), [-50.5, -20.25, -1e-8, 1e-8]]).astype(dtype)
    expected = np.array([sigmoid_by_hand(float(v)) for v in z])
    got = act.sigmoid(z)
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=rtol, atol=0)
    # far tail by its asymptote: sigmoid(z) = e^z (1 - e^z + ...) -> e^z, and 1 for z >= 40
    assert float(act.sigmoid(np.array([-600.0], dtype=dtype))[0]) == pytest.approx(
        math.exp(-600) if dtype == "float64" else 0.0, rel=1e-15, abs=0)
    assert float(act.sigmoid(np.array([50.0], dtype=dtype))[0]) == 1.0


@pytest.mark.parametrize(
    ("name", "z", "value", "derivative"),
    [
        ("sigmoid", 0.0, 0.5, 0.25),
        ("tanh", 0.5, math.tanh(0.5), 1 - math.tanh(0.5) ** 2),
        ("relu", -2.0, 0.0, 0.0),
        ("relu", 0.0, 0.0, 0.0),
        ("relu", 3.0, 3.0, 1.0),
        ("linear", -1.5, -1.5, 1.0),
    ],
)
def test_each_activation_and_its_vector_jacobian_product(name, z, value, derivative):
    activation = act.ACTIVATIONS[name]
    z = np.array([[z]])
    a = activation.forward(z)
    assert a[0, 0] == pytest.approx(value, rel=1e-15, abs=0)
    upstream = np.array([[3.0]])  # dL/da; dL/dz = 3 f'(z) for an element-wise f
    assert activation.backward(upstream, z, a)[0, 0] == pytest.approx(3 * derivative, rel=1e-15, abs=0)
