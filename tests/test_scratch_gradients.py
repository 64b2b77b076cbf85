"""scratch.MLP's gradients against witnesses that do not use its backpropagation.

The witness for every gradient is a central finite difference of the loss,
computed here from ``evaluate`` (a forward pass only), in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from scratch import MLP

ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear"]
ARCHITECTURES = [(3, [], 2), (2, [5], 1), (3, [7, 4, 6], 2)]
STEP = 1e-3  # finite-difference step h
TOLERANCE = 1e-7
FLOOR = 1e-3  # relative errors are taken against at least FLOOR * (largest |gradient| of the array)


def make_net(sizes, activation="sigmoid", use_bias=False, loss="mse", seed=16):
    num_inputs, hidden, num_outputs = sizes
    return MLP(num_inputs, hidden, num_outputs, activation=activation, use_bias=use_bias,
               init="glorot_uniform", seed=seed, loss=loss)


def make_data(net, n=5, seed=34):
    """Seeds 16 and 34 keep every relu pre-activation at least 0.04 from its kink."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, net.num_inputs)), rng.uniform(0, 1, (n, net.num_outputs))


def central_difference(loss_of, values: np.ndarray, h: float = STEP) -> np.ndarray:
    """dL/dv for each element of ``values`` by the fourth-order central stencil.

    ``(-L(v+2h) + 8 L(v+h) - 8 L(v-h) + L(v-2h)) / 12h``: truncation error
    O(h^4) ~ 1e-12 and rounding error ~ eps * L / h ~ 1e-13 at h = 1e-3, so it
    can witness a 1e-7 relative agreement (the two-point stencil, O(h^2),
    could not at any h in float64).
    """
    numeric = np.zeros_like(values)
    for index in np.ndindex(values.shape):
        def at(offset, index=index):
            shifted = values.copy()
            shifted[index] += offset
            return loss_of(shifted)
        numeric[index] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return numeric


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """max |a - n| / max(|a|, |n|, floor), floor = FLOOR * max |n| over the array.

    The floor is there for elements where both are ~0 (a dead relu unit, a
    weight whose gradient cancels): there the quotient of two rounding errors
    says nothing, and the absolute error is held to TOLERANCE * FLOOR * scale.
    """
    floor = FLOOR * float(np.max(np.abs(numeric)))
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    if floor == 0:
        return float(np.max(np.abs(analytic - numeric)))
    return float(np.max(np.abs(analytic - numeric) / scale))


def preactivations(net: MLP) -> list[np.ndarray]:
    """z_l = a_l W_l + b_l of the last forward pass, from the cached activations."""
    zs = []
    for layer, weights in enumerate(net.weights):
        z = net.activations[layer] @ weights
        zs.append(z + net.biases[layer] if net.use_bias else z)
    return zs


@pytest.mark.parametrize("use_bias", [False, True], ids=["no_bias", "bias"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", ARCHITECTURES, ids=["no_hidden", "seed_2_5_1", "3_7_4_6_2"])
def test_gradients_match_finite_differences(sizes, activation, use_bias):
    net = make_net(sizes, activation, use_bias)
    x, y = make_data(net)
    analytic = net.gradients(x, y)
    if activation == "relu":  # a stencil of +-2h must not carry a unit across its kink at z = 0
        kink_distance = min(float(np.min(np.abs(z))) for z in preactivations(net))
        assert kink_distance > 20 * STEP, "choose other seeds: a relu pre-activation is near 0"
    params = net.get_weights()
    for i, param in enumerate(params):
        def loss_of(value, i=i):
            net.set_weights([*params[:i], value, *params[i + 1:]])
            return net.evaluate(x, y)
        numeric = central_difference(loss_of, param)
        assert analytic[i].shape == param.shape
        assert relative_error(analytic[i], numeric) <= TOLERANCE, f"parameter {i}"


def test_back_propagate_returns_the_input_gradient():
    """back_propagate(dL/dy) returns dL/dx, checked by finite differences on x."""
    net = make_net((3, [7, 4, 6], 2), "tanh", use_bias=True)
    x, y = make_data(net)
    output = net.forward_propagate(x)
    input_error = net.back_propagate(2 / output.size * (output - y))
    numeric = central_difference(lambda inputs: net.evaluate(inputs, y), x)
    assert relative_error(input_error, numeric) <= TOLERANCE


@pytest.mark.parametrize("loss", ["mse", "seed"])
def test_batch_gradient_is_mean_of_sample_gradients(loss):
    net = make_net((3, [7, 4], 2), "sigmoid", use_bias=True, loss=loss)
    x, y = make_data(net, n=6)
    batch = net.gradients(x, y)
    one_d = [net.gradients(x[i], y[i]) for i in range(len(x))]
    two_d = [net.gradients(x[i:i + 1], y[i:i + 1]) for i in range(len(x))]
    for j, gradient in enumerate(batch):
        per_sample = np.array([g[j] for g in one_d])
        np.testing.assert_allclose(gradient, per_sample.mean(axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(per_sample, np.array([g[j] for g in two_d]))


def test_one_and_two_dimensional_inputs_agree():
    net = make_net((3, [4], 2), "tanh", use_bias=True)
    x, y = make_data(net, n=1)
    one = net.forward_propagate(x[0])
    assert one.shape == (2,)
    np.testing.assert_array_equal(one, net.forward_propagate(x)[0])
    error = np.array([0.3, -0.2])
    input_error_1d = net.back_propagate(error)
    derivatives_1d = [d.copy() for d in net.derivatives]
    net.forward_propagate(x)
    input_error_2d = net.back_propagate(error[np.newaxis])
    assert input_error_1d.shape == (3,) and input_error_2d.shape == (1, 3)
    np.testing.assert_array_equal(input_error_1d, input_error_2d[0])
    for d1, d2 in zip(derivatives_1d, net.derivatives):
        np.testing.assert_array_equal(d1, d2)
    assert net.evaluate(x[0], y[0]) == net.evaluate(x, y)


def seed_original_weights(weights, x, y, epochs, learning_rate):
    """The seed's per-sample loop, written out here (1-D vectors, sigmoid, no bias):
    ``error = t - o``, ``dW = a^T (error * a(1-a))``, ``W += lr * dW``."""
    weights = [w.copy() for w in weights]
    for _ in range(epochs):
        for inputs, target in zip(x, y):
            activations = [inputs]
            for w in weights:
                activations.append(1 / (1 + np.exp(-(activations[-1] @ w))))
            error = target - activations[-1]
            derivatives = []
            for layer in reversed(range(len(weights))):
                delta = error * activations[layer + 1] * (1 - activations[layer + 1])
                derivatives.insert(0, np.outer(activations[layer], delta))
                error = delta @ weights[layer].T
            for w, d in zip(weights, derivatives):
                w += learning_rate * d
    return weights


def test_seed_rule_is_mse_at_scaled_learning_rate():
    """loss="seed" at lr equals loss="mse" at lr*k/2 at batch 1, and is the seed's own loop."""
    k, lr, epochs = 3, 0.5, 4
    seed_net = MLP(2, [4], k, seed=3, loss="seed")
    mse_net = MLP(2, [4], k, seed=3, loss="mse")
    start = seed_net.get_weights()
    x, y = make_data(seed_net, n=20)
    seed_net.train(x, y, epochs, lr)
    mse_net.train(x, y, epochs, lr * k / 2)
    original = seed_original_weights(start, x, y, epochs, lr)
    for w_seed, w_mse, w_original, w_start in zip(seed_net.get_weights(), mse_net.get_weights(), original, start):
        assert np.max(np.abs(w_seed - w_start)) > 1e-3  # they did move
        np.testing.assert_allclose(w_seed, w_mse, rtol=0, atol=1e-12)
        np.testing.assert_allclose(w_seed, w_original, rtol=0, atol=1e-12)
