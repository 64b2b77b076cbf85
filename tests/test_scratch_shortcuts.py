"""scratch.MLP.train's shortcuts (one flat array of parameters, the loss's value and gradient at once) change no bit.

``train`` takes shortcuts to keep a batch-1 step short (one optimizer call on
the flat array of every parameter, the loss's value and gradient from one
error, ...). The witness here is the training written out without them:
each batch's loss from ``evaluate``, its gradients from ``gradients``, and
the optimizer's general path, one update per parameter on separate arrays
(checked against the formulas by hand in ``test_optimizers.py``). The two
must agree exactly, not to a tolerance, over every activation, loss,
optimizer, dtype, batch size (partial last batches included) and shuffle.
"""

from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest

from scratch import ACTIVATIONS, LOSSES, MLP, epoch_orders
from scratch.layers import Dense
from scratch.optimizers import make_optimizer

OPTIMIZERS = ["sgd", {"name": "sgd", "momentum": 0.9}, {"name": "sgd", "momentum": 0.5, "nesterov": True},
              "adam", {"name": "adam", "amsgrad": True}, "rmsprop",
              {"name": "rmsprop", "centered": True, "momentum": 0.5}]
#: Every loss with every optimizer, the other settings cycled through so that each value of each comes up.
CASES = [(loss, optimizer, *settings) for (loss, optimizer), settings in zip(
    itertools.product(LOSSES, OPTIMIZERS),
    zip(itertools.cycle(ACTIVATIONS), itertools.cycle(["float32", "float64", "float64"]),
        itertools.cycle([1, 3, 7, 2]), itertools.cycle([None, 5, None]), itertools.cycle([True, False]),
        itertools.cycle([True, True, False])))]
SAMPLES, OUTPUTS = 7, 3


def network_and_data(loss, optimizer, activation, dtype, use_bias, from_logits):
    """A 4-5-3 network for ``loss`` (a softmax or sigmoid output for the cross-entropies) and data to fit."""
    output = {"binary_crossentropy": "sigmoid"}.get(loss, "softmax" if "categorical" in loss else activation)
    mlp = MLP(4, [5], OUTPUTS, activation=[activation, output], use_bias=use_bias, dtype=dtype,
              init="glorot_uniform", seed=3, loss=loss, optimizer=optimizer, crossentropy_from_logits=from_logits)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (SAMPLES, 4)).astype(dtype)
    if LOSSES[loss].targets == "labels":
        y = rng.integers(0, OUTPUTS, SAMPLES)
    elif LOSSES[loss].targets == "probabilities":
        y = np.eye(OUTPUTS, dtype=dtype)[rng.integers(0, OUTPUTS, SAMPLES)]
    else:
        y = rng.uniform(0, 1, (SAMPLES, OUTPUTS)).astype(dtype)
    return mlp, x, y


def train_written_out(mlp, x, y, epochs, learning_rate, batch_size, shuffle):
    """Keras fit's loop by hand: per batch the pre-update loss, the gradients, then one update per parameter.

    The weights live in separate arrays here, updated by the optimizer's
    general path (``apply``, one ``update`` per parameter); ``mlp`` only
    computes the loss and the gradients at those weights.
    """
    optimizer, weights = make_optimizer(mlp.config.optimizer), mlp.get_weights()
    optimizer.build(weights)
    history = []
    for order in epoch_orders(len(x), epochs, shuffle):
        epoch_x, epoch_y = (x, y) if order is None else (x[order], y[order])
        loss_sum = 0.0
        for start in range(0, len(x), batch_size):
            batch_x, batch_y = epoch_x[start:start + batch_size], epoch_y[start:start + batch_size]
            mlp.set_weights(weights)
            loss_sum += mlp.evaluate(batch_x, batch_y) * len(batch_x)
            optimizer.apply(weights, mlp.gradients(batch_x, batch_y), learning_rate)
        history.append(loss_sum / len(x))
    return history, weights, optimizer.get_state()


@pytest.mark.parametrize(("loss", "optimizer", "activation", "dtype", "batch_size", "shuffle", "use_bias",
                          "from_logits"), CASES)
def test_training_is_the_per_parameter_algorithm_bit_for_bit(loss, optimizer, activation, dtype, batch_size,
                                                             shuffle, use_bias, from_logits):
    mlp, x, y = network_and_data(loss, optimizer, activation, dtype, use_bias, from_logits)
    witness, _, _ = network_and_data(loss, optimizer, activation, dtype, use_bias, from_logits)
    history = mlp.train(x, y, 3, 0.05, batch_size=batch_size, shuffle=shuffle)
    expected_history, expected_weights, expected_state = train_written_out(witness, x, y, 3, 0.05, batch_size,
                                                                           shuffle)
    assert history == expected_history
    for got, expected in zip(mlp.get_weights(), expected_weights, strict=True):
        np.testing.assert_array_equal(got, expected)
    state = mlp.get_optimizer_state()
    assert state.keys() == expected_state.keys()
    assert state["iterations"] == expected_state["iterations"] == 3 * -(-SAMPLES // batch_size)
    for slot in set(state) - {"iterations"}:
        for got, expected in zip(state[slot], expected_state[slot], strict=True):
            np.testing.assert_array_equal(got, expected, err_msg=slot)


def test_the_cases_cover_every_setting():
    assert {case[2] for case in CASES} == set(ACTIVATIONS)
    assert {(case[3], case[4], case[5], case[6], case[7]) for case in CASES} >= {
        ("float32", 1, None, True, True), ("float64", 3, 5, False, True), ("float64", 2, None, False, False)}
    assert len(CASES) == len(LOSSES) * len(OPTIMIZERS)


# ------------------------------------------------------------ the flat arrays
def test_parameters_and_gradients_are_views_of_one_flat_array_each():
    mlp = MLP(3, [4], 2, use_bias=True, seed=0)
    assert mlp.flat_parameters.size == 3 * 4 + 4 + 4 * 2 + 2
    for views, flat in ((mlp.parameters, mlp.flat_parameters), (mlp.parameter_gradients, mlp.flat_gradients)):
        assert [v.shape for v in views] == [(3, 4), (4,), (4, 2), (2,)]
        assert all(np.shares_memory(v, flat) for v in views)
        assert np.array_equal(np.concatenate([v.ravel() for v in views]), flat)
    mlp.flat_parameters[12] = 7.0  # the first bias element
    assert mlp.layers[0].bias[0] == mlp.biases[0][0] == mlp.get_weights()[1][0] == 7.0


def test_set_weights_and_training_keep_writing_into_the_flat_array():
    mlp = MLP(2, [3], 1, use_bias=True, seed=0)
    flat, kernel = mlp.flat_parameters, mlp.layers[0].kernel
    weights = [np.full(shape, 0.5) for shape in mlp.weight_shapes()]
    mlp.set_weights(weights)
    assert mlp.flat_parameters is flat and mlp.layers[0].kernel is kernel
    assert np.all(flat == 0.5)
    mlp.train(np.array([[0.1, 0.2]]), np.array([[0.3]]), 1, 0.1)
    assert not np.all(flat == 0.5)
    assert np.array_equal(np.concatenate([w.ravel() for w in mlp.get_weights()]), flat)


@pytest.mark.parametrize("make_copy", [copy.deepcopy, lambda mlp: pickle.loads(pickle.dumps(mlp))],
                         ids=["deepcopy", "pickle"])
def test_a_copy_trains_like_the_original_and_apart_from_it(make_copy):
    """A copy copies every array on its own: it must make its parameters views of its flat arrays again."""
    x, y = np.random.default_rng(0).uniform(0, 1, (6, 2)), np.random.default_rng(1).uniform(0, 1, (6, 1))
    mlp = MLP(2, [3], 1, use_bias=True, seed=0, optimizer="adam")
    mlp.train(x, y, 1, 0.1, batch_size=2)
    twin = make_copy(mlp)
    history = twin.train(x, y, 2, 0.1, batch_size=2)
    assert twin.get_optimizer_state()["iterations"] == 9 and mlp.get_optimizer_state()["iterations"] == 3
    assert mlp.train(x, y, 2, 0.1, batch_size=2) == history
    for got, expected in zip(twin.get_weights(), mlp.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert all(np.shares_memory(p, twin.flat_parameters) for p in twin.weights + twin.biases)
    assert not np.shares_memory(twin.flat_parameters, mlp.flat_parameters)


def test_assigning_a_kernel_or_bias_copies_into_it():
    mlp = MLP(2, [3], 1, use_bias=True, seed=0)
    layer = mlp.layers[0]
    kernel = layer.kernel
    layer.kernel = np.ones((2, 3))
    layer.bias = [1.0, 2.0, 3.0]
    assert layer.kernel is kernel and np.all(kernel == 1)
    assert mlp.flat_parameters[:9].tolist() == [1.0] * 6 + [1.0, 2.0, 3.0]


@pytest.mark.parametrize(("attribute", "value", "message"), [
    ("kernel", np.ones((3, 2)), r"kernel must have shape \(2, 3\), got \(3, 2\)"),
    ("kernel", 1.0, r"kernel must have shape \(2, 3\), got \(\)"),
    ("bias", np.ones(4), r"bias must have shape \(3,\), got \(4,\)"),
])
def test_assigning_a_wrong_shape_raises_and_changes_nothing(attribute, value, message):
    mlp = MLP(2, [3], 1, use_bias=True, seed=0)
    before = mlp.flat_parameters.copy()
    with pytest.raises(ValueError, match=message):
        setattr(mlp.layers[0], attribute, value)
    assert np.array_equal(mlp.flat_parameters, before)


def test_a_layer_without_bias_refuses_one():
    mlp = MLP(2, [3], 1, seed=0)
    with pytest.raises(ValueError, match="bias cannot be set: this layer has no bias"):
        mlp.layers[0].bias = np.zeros(3)
    assert mlp.layers[0].bias is None


def test_a_dense_layer_alone_owns_its_gradients():
    layer = Dense(np.ones((2, 3)), ACTIVATIONS["linear"], np.zeros(3))
    layer.forward(np.array([[1.0, 2.0]]))
    layer.backward(np.array([[1.0, 0.0, -1.0]]))
    np.testing.assert_array_equal(layer.kernel_gradient, [[1.0, 0.0, -1.0], [2.0, 0.0, -2.0]])
    np.testing.assert_array_equal(layer.bias_gradient, [1.0, 0.0, -1.0])


# ------------------------------------------------- the loss's two in one
#: Every loss, and the from-logits form of those that have one.
EVERY_LOSS = {**LOSSES, **{f"{name} from logits": loss.from_logits
                           for name, loss in LOSSES.items() if loss.from_logits}}


@pytest.mark.parametrize("name", EVERY_LOSS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_value_and_gradient_are_the_value_and_the_gradient_bit_for_bit(name, dtype):
    """The witnesses are the two functions, each checked against Keras and finite differences elsewhere."""
    loss = EVERY_LOSS[name]
    rng = np.random.default_rng(2)
    outputs = rng.uniform(0.05, 0.95, (6, OUTPUTS)).astype(dtype)
    if loss.targets == "labels":
        targets = rng.integers(0, OUTPUTS, 6)
    else:
        targets = rng.uniform(0, 1, (6, OUTPUTS)).astype(dtype)
    value, gradient = loss.value_and_gradient(targets, outputs)
    assert value == loss.value(targets, outputs)
    assert gradient.dtype == outputs.dtype
    np.testing.assert_array_equal(gradient, loss.gradient(targets, outputs))
