"""scratch.MLP and keras_equiv.KerasMLP are one network: outputs, gradients, training.

Keras is the independent witness here: its Dense layers, GradientTape and
``fit`` compute every number without any code of ours.

Forward and gradient checks run the full product of activations x bias x
architectures x dtypes. Training runs 50 (float64) or 20 (float32) epochs of
``fit``, seconds each, so it covers the factors with a covering design
instead: every activation meets every architecture once, each of dtype, bias,
batch size (1, or 32 with a partial last batch) and shuffle takes both its
values with every activation and every architecture, and every two of those
four take all four pairs of values (``test_training_design_covers_every_pair``).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from equivalence_helpers import (
    ACTIVATIONS,
    ARCHITECTURES,
    EPOCHS,
    RTOL,
    TRAIN_RTOL,
    assert_all_close,
    assert_close,
    make_data,
    make_mlp,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratch

pytestmark = pytest.mark.keras

keras_equiv = pytest.importorskip("keras_equiv")
KerasMLP = keras_equiv.KerasMLP

DTYPES = ["float64", "float32"]
STATIC_CASES = list(itertools.product(DTYPES, ACTIVATIONS, [False, True], ARCHITECTURES))

# (use_bias, batch_size, shuffle): any two columns take all four pairs of values.
ORTHOGONAL_ROWS = [(False, 1, None), (False, 32, 11), (True, 1, 11), (True, 32, None)]
# The dtype alternates along the rows and changes phase from one round of the four to the next: every eight
# cases hold each orthogonal row once in each dtype.
TRAIN_CASES = [
    (activation, arch, *ORTHOGONAL_ROWS[i % 4], DTYPES[(i + i // 4) % 2])
    for i, (activation, arch) in enumerate(itertools.product(ACTIVATIONS, ARCHITECTURES))
]


def case_id(case: tuple) -> str:
    return "-".join("bias" if v is True else "nobias" if v is False else str(v) for v in case)


@pytest.mark.parametrize("dtype, activation, use_bias, arch", STATIC_CASES, ids=map(case_id, STATIC_CASES))
def test_forward_and_gradients_agree(dtype, activation, use_bias, arch):
    mlp = make_mlp(arch, activation, use_bias, dtype)
    twin = KerasMLP.from_scratch(mlp)
    x, y = make_data(mlp)

    assert_close(mlp.forward(x), twin.forward(x), RTOL[dtype], "forward")
    assert_close(mlp.forward(x[0]), twin.forward(x[0]), RTOL[dtype], "forward, one 1-D sample")
    assert_all_close(mlp.gradients(x, y), twin.gradients(x, y), RTOL[dtype], "gradient")
    assert mlp.evaluate(x, y) == pytest.approx(twin.evaluate(x, y), rel=RTOL[dtype])


def test_training_design_covers_every_pair():
    assert sorted((case[0], case[1]) for case in TRAIN_CASES) == sorted(itertools.product(ACTIVATIONS, ARCHITECTURES))
    for position, values in ((0, ACTIVATIONS), (1, ARCHITECTURES)):
        for value in values:
            rows = [case[2:] for case in TRAIN_CASES if case[position] == value]
            assert all(len(set(column)) == 2 for column in zip(*rows)), value  # both values of every factor
    columns = list(zip(*TRAIN_CASES))[2:]
    for one, other in itertools.combinations(columns, 2):
        assert len(set(zip(one, other))) == 4


@pytest.mark.parametrize(
    "activation, arch, use_bias, batch_size, shuffle, dtype",
    [pytest.param(*case, marks=[pytest.mark.slow] if case[-1] == "float64" else []) for case in TRAIN_CASES],
    ids=map(case_id, TRAIN_CASES),
)  # 50 epochs in float64, 20 in float32
def test_training_agrees(activation, arch, use_bias, batch_size, shuffle, dtype):
    mlp = make_mlp(arch, activation, use_bias, dtype)
    twin = KerasMLP.from_scratch(mlp)
    x, y = make_data(mlp)
    kwargs = dict(epochs=EPOCHS[dtype], learning_rate=0.05, batch_size=batch_size, shuffle=shuffle)

    losses, keras_losses = mlp.train(x, y, **kwargs), twin.train(x, y, **kwargs)

    assert len(losses) == len(keras_losses) == EPOCHS[dtype]
    assert_close(np.array(losses), np.array(keras_losses), TRAIN_RTOL[dtype], "per-epoch losses")
    assert_all_close(mlp.get_weights(), twin.get_weights(), TRAIN_RTOL[dtype], "final weights")


@pytest.mark.parametrize("batch_size, shuffle", [(1, None), pytest.param(32, 5, marks=pytest.mark.slow)])
def test_seed_rule_agrees_on_both_sides(batch_size, shuffle):
    """``loss="seed"`` (1/2 sum of squares per sample) with 3 outputs, so it differs from mse."""
    mlp = scratch.MLP(3, [4], 3, use_bias=True, init="glorot_uniform", seed=1, loss="seed")
    twin = KerasMLP.from_scratch(mlp)
    x, y = make_data(mlp)

    assert_all_close(mlp.gradients(x, y), twin.gradients(x, y), RTOL["float64"], "seed-rule gradient")
    losses = mlp.train(x, y, 50, 0.05, batch_size=batch_size, shuffle=shuffle)
    keras_losses = twin.train(x, y, 50, 0.05, batch_size=batch_size, shuffle=shuffle)
    assert_close(np.array(losses), np.array(keras_losses), TRAIN_RTOL["float64"], "seed-rule losses")
    assert_all_close(mlp.get_weights(), twin.get_weights(), TRAIN_RTOL["float64"], "seed-rule weights")


def test_seed_rule_in_keras_is_mse_at_lr_times_k_over_2():
    """The Keras seed loss descends exactly as Keras mse does at lr * k / 2 (k = 3 outputs)."""
    seed_twin = KerasMLP(3, [4], 3, init="glorot_uniform", seed=2, loss="seed")
    mse_twin = KerasMLP(3, [4], 3, init="glorot_uniform", seed=2, loss="mse")
    x, y = make_data(seed_twin.to_scratch())
    seed_twin.train(x, y, 5, 0.1)
    mse_twin.train(x, y, 5, 0.1 * 3 / 2)
    assert_all_close(seed_twin.get_weights(), mse_twin.get_weights(), 1e-12, "seed vs mse at lr*k/2")


@pytest.mark.parametrize("batch_size", [1, 32])
def test_steps_per_execution_changes_no_bit(batch_size):
    """The fast path (``steps_per_execution``) gives bit-identical losses and weights."""
    mlp = make_mlp("3-[7,4]-2", "mix", True)
    x, y = make_data(mlp)
    fast, plain = KerasMLP.from_scratch(mlp), KerasMLP.from_scratch(mlp, steps_per_execution=1)
    assert fast.train(x, y, 3, 0.1, batch_size=batch_size) == plain.train(x, y, 3, 0.1, batch_size=batch_size)
    for a, b in zip(fast.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def fit_on_arrays(twin, x, y, epochs, learning_rate, batch_size, shuffle):
    """The witness: Keras ``fit`` given the arrays themselves, each epoch in scratch's order."""
    from keras_equiv.floatx import keras_floatx

    twin.model.optimizer.learning_rate = learning_rate
    losses = []
    with keras_floatx(twin.dtype.name):
        for epoch, order in enumerate(scratch.batching.epoch_orders(len(x), epochs, shuffle)):
            xs, ys = (x, y) if order is None else (x[order], y[order])
            history = twin.model.fit(xs, ys, batch_size=batch_size, shuffle=False, verbose=0,
                                     initial_epoch=epoch, epochs=epoch + 1)
            losses += history.history["loss"]
    return losses


@pytest.mark.parametrize("case", ["mse-float64-batch1", "sparse-float32-batch7-shuffled"])
def test_the_cached_dataset_trains_as_fit_on_the_arrays_bit_for_bit(case):
    """On TensorFlow ``train`` hands ``fit`` a cached ``tf.data.Dataset``: the same losses and weights as arrays."""
    if case.startswith("mse"):
        mlp, batch_size, shuffle = make_mlp("3-[7,4]-2", "mix", True), 1, None
        x, y = make_data(mlp)
    else:
        mlp = scratch.MLP(4, [5], 3, activation=["relu", "softmax"], use_bias=True, dtype="float32",
                          init="glorot_uniform", seed=2, loss="sparse_categorical_crossentropy", optimizer="adam")
        rng = np.random.default_rng(3)
        x, y = rng.normal(size=(31, 4)).astype(np.float32), rng.integers(0, 3, size=31)
        batch_size, shuffle = 7, 3  # a partial last batch, a new order each epoch
    trained, witness = KerasMLP.from_scratch(mlp), KerasMLP.from_scratch(mlp)
    assert trained.train(x, y, 3, 0.05, batch_size=batch_size, shuffle=shuffle) == fit_on_arrays(
        witness, x, y, 3, 0.05, batch_size, shuffle)
    for a, b in zip(trained.get_weights() + trained.get_optimizer_state().get("momentum", []),
                    witness.get_weights() + witness.get_optimizer_state().get("momentum", []), strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_comparison_twice_is_bit_identical():
    runs = []
    for _ in range(2):
        twin = KerasMLP(3, [7, 4], 2, activation="tanh", use_bias=True, init="glorot_uniform", seed=4)
        x, y = make_data(twin.to_scratch())
        runs.append((twin.train(x, y, 3, 0.1, batch_size=8, shuffle=9), twin.get_weights(), twin.gradients(x, y)))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1] + runs[0][2], runs[1][1] + runs[1][2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weights_round_trip_bit_for_bit(dtype):
    mlp = make_mlp("3-[7,4]-2", "mix", True, dtype)
    back = KerasMLP.from_scratch(mlp).to_scratch()
    assert back.activation == mlp.activation and back.use_bias and back.dtype == mlp.dtype
    for a, b in zip(mlp.get_weights(), back.get_weights()):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_same_constructor_gives_the_same_network():
    kwargs = dict(activation="relu", use_bias=True, init="glorot_uniform", seed=3)
    for a, b in zip(scratch.MLP(3, [7, 4], 2, **kwargs).get_weights(), KerasMLP(3, [7, 4], 2, **kwargs).get_weights()):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    num_inputs=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 6), max_size=2),
    num_outputs=st.integers(1, 3),
    use_bias=st.booleans(),
    num_samples=st.integers(1, 9),
)
def test_random_networks_agree(data, num_inputs, hidden, num_outputs, use_bias, num_samples):
    activation = data.draw(st.lists(st.sampled_from(["sigmoid", "tanh", "relu", "linear"]),
                                    min_size=len(hidden) + 1, max_size=len(hidden) + 1))
    seed = data.draw(st.integers(0, 2**16))
    mlp = scratch.MLP(num_inputs, hidden, num_outputs, activation=activation, use_bias=use_bias,
                      init="glorot_uniform", seed=seed)
    rng = np.random.default_rng(seed)
    mlp.set_weights([rng.uniform(-1, 1, w.shape) for w in mlp.get_weights()])
    x = rng.uniform(-2, 2, (num_samples, num_inputs))
    y = rng.uniform(-1, 1, (num_samples, num_outputs))
    twin = KerasMLP.from_scratch(mlp, steps_per_execution=1)
    assert_close(mlp.forward(x), twin.forward(x), RTOL["float64"], "forward")
    assert_all_close(mlp.gradients(x, y), twin.gradients(x, y), RTOL["float64"], "gradient")
