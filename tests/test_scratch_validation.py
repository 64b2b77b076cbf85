"""Bad input is refused with the right error, a message that names it, and no change of state."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import MLP

X = np.array([[0.1, 0.2], [0.3, 0.4], [0.2, 0.1]])
Y = np.array([[0.3], [0.7], [0.3]])
NAN_X = np.where(X == 0.3, np.nan, X)
INF_Y = np.where(Y == 0.7, np.inf, Y)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((0, [5], 1), {}, ValueError, "num_inputs"),
        ((2.0, [5], 1), {}, TypeError, "num_inputs"),
        ((2, [5, -1], 1), {}, ValueError, r"hidden_layers\[1\]"),
        ((2, [5.5], 1), {}, TypeError, r"hidden_layers\[0\]"),
        ((2, [True], 1), {}, TypeError, r"hidden_layers\[0\]"),
        ((2, 5, 1), {}, TypeError, "hidden_layers"),
        ((2, [5], 0), {}, ValueError, "num_outputs"),
        ((2, [5], "1"), {}, TypeError, "num_outputs"),
        ((2, [5], 1), {"activation": "swish"}, ValueError, "activation.*swish"),
        ((2, [5], 1), {"activation": ["relu"]}, ValueError, "activation.*2 names"),
        ((2, [5], 1), {"activation": ["relu", "swish"]}, ValueError, r"activation\[1\].*swish"),
        ((2, [5], 1), {"init": "he_normal"}, ValueError, "init.*he_normal"),
        ((2, [5], 1), {"loss": "hinge"}, ValueError, "loss.*hinge"),
        ((2, [5], 1), {"dtype": "float16"}, ValueError, "dtype.*float16"),
        ((2, [5], 1), {"dtype": "int32"}, ValueError, "dtype"),
        ((2, [5], 1), {"use_bias": 1}, TypeError, "use_bias"),
        ((2, [5], 1), {"seed": -1}, ValueError, "seed must be >= 0"),
    ],
)
def test_constructor_refuses_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(*args, **kwargs)


def snapshot(net: MLP) -> list[np.ndarray]:
    """Everything a failed call must leave as it was: parameters, derivatives, cached activations."""
    return [a.copy() for a in net.weights + net.biases + net.derivatives + net.bias_derivatives + net.activations]


TRAIN = {"epochs": 2, "learning_rate": 0.1}

CALLS = [
    # (call, error, words the message must contain)
    (lambda n: n.forward(np.ones((3, 3))), ValueError, r"x must have shape .*\(n, 2\).*\(3, 3\)"),
    (lambda n: n.forward(np.ones(3)), ValueError, r"x must have shape \(2,\)"),
    (lambda n: n.forward(np.ones((2, 2, 2))), ValueError, "x must have shape"),
    (lambda n: n.forward(np.ones((0, 2))), ValueError, "x has zero samples"),
    (lambda n: n.forward(NAN_X), ValueError, "x contains NaN or inf"),
    (lambda n: n.forward([["a", "b"]]), TypeError, "x must hold real numbers"),
    (lambda n: n.predict(np.ones((3, 1))), ValueError, "x must have shape"),
    (lambda n: n.gradients(X, Y[:, 0]), ValueError, r"y must have shape \(3, 1\).*\(3,\).*reshape"),
    (lambda n: n.evaluate(X, Y[:, 0]), ValueError, r"y must have shape \(3, 1\).*reshape"),
    (lambda n: n.train(X, Y[:, 0], **TRAIN), ValueError, r"y must have shape \(3, 1\).*reshape\(-1, 1\)"),
    (lambda n: n.train(X, np.ones((3, 2)), **TRAIN), ValueError, r"y must have shape \(3, 1\)"),
    (lambda n: n.train(X, Y[:2], **TRAIN), ValueError, r"y must have shape \(3, 1\).*\(2, 1\)"),
    (lambda n: n.train(X, INF_Y, **TRAIN), ValueError, "y contains NaN or inf"),
    (lambda n: n.train(NAN_X, Y, **TRAIN), ValueError, "x contains NaN or inf"),
    (lambda n: n.train(np.ones((0, 2)), np.ones((0, 1)), **TRAIN), ValueError, "x has zero samples"),
    (lambda n: n.train(X[0], Y[0], **TRAIN), ValueError, "x must be a 2-D batch"),
    (lambda n: n.train(X, Y, epochs=-1, learning_rate=0.1), ValueError, "epochs must be >= 0"),
    (lambda n: n.train(X, Y, epochs=1.5, learning_rate=0.1), TypeError, "epochs must be an int"),
    (lambda n: n.train(X, Y, epochs=1, learning_rate=0), ValueError, "learning_rate must be finite and > 0"),
    (lambda n: n.train(X, Y, epochs=1, learning_rate=-0.1), ValueError, "learning_rate"),
    (lambda n: n.train(X, Y, epochs=1, learning_rate=float("nan")), ValueError, "learning_rate"),
    (lambda n: n.train(X, Y, epochs=1, learning_rate=float("inf")), ValueError, "learning_rate"),
    (lambda n: n.train(X, Y, epochs=1, learning_rate="0.1"), TypeError, "learning_rate"),
    (lambda n: n.train(X, Y, **TRAIN, batch_size=0), ValueError, "batch_size must be >= 1"),
    (lambda n: n.train(X, Y, **TRAIN, batch_size=2.0), TypeError, "batch_size"),
    (lambda n: n.train(X, Y, **TRAIN, shuffle=-3), ValueError, "shuffle must be >= 0"),
    (lambda n: n.set_weights(n.get_weights()[:-1]), ValueError, "weights must be a list of 4 arrays, got 3"),
    (lambda n: n.set_weights([*n.get_weights(), np.ones(1)]), ValueError, "weights must be a list of 4 arrays"),
    (lambda n: n.set_weights(np.ones(4)), TypeError, "weights must be a list"),
    (lambda n: n.set_weights([np.ones((5, 2)), *n.get_weights()[1:]]), ValueError,
     r"weights\[0\] must have shape \(2, 5\), got \(5, 2\)"),
    (lambda n: n.set_weights([*n.get_weights()[:3], np.full(1, np.nan)]), ValueError,
     r"weights\[3\] contains NaN or inf"),
    (lambda n: n.back_propagate(np.ones((3, 2))), ValueError, "error must have the shape of the last output"),
]


@pytest.mark.parametrize(("call", "error", "message"), CALLS)
def test_bad_input_is_refused_before_any_state_changes(call, error, message):
    net = MLP(2, [5], 1, use_bias=True, init="glorot_uniform", seed=0)
    net.forward(X)  # so that there are cached activations to keep
    before = snapshot(net)
    with pytest.raises(error, match=message):
        call(net)
    after = snapshot(net)
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def test_one_dimensional_targets_are_never_broadcast_into_an_n_by_n_loss():
    net = MLP(1, [], 1, activation="linear", seed=0)
    x = np.array([[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="reshape"):
        net.evaluate(x, np.array([1.0, 2.0, 3.0]))
    # the fix the message proposes gives the loss computed by hand
    w = net.get_weights()[0][0, 0]
    by_hand = np.mean([(w * v - v) ** 2 for v in (1.0, 2.0, 3.0)])
    assert net.evaluate(x, np.array([1.0, 2.0, 3.0]).reshape(-1, 1)) == pytest.approx(by_hand, rel=1e-14)


def test_back_propagate_before_any_forward_pass_is_refused():
    with pytest.raises(RuntimeError, match="forward_propagate first"):
        MLP(2, [3], 1).back_propagate(np.ones(1))


def test_zero_epochs_train_nothing():
    net = MLP(2, [5], 1, seed=0)
    before = net.get_weights()
    assert net.train(X, Y, epochs=0, learning_rate=0.1) == []
    for a, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(a, b)
