"""Every loss, the softmax and the logits path against witnesses written here: finite differences,
closed forms computed by hand, and the explicit Jacobian."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_scratch_gradients import TOLERANCE, central_difference, relative_error

from scratch import LOSSES, MLP
from scratch.activations import ACTIVATIONS, softmax
from scratch.losses import EPSILON

RNG = np.random.default_rng(11)
B, K = 6, 3


def targets_for(loss: str, rng: np.random.Generator, n: int = B, k: int = K) -> np.ndarray:
    """Targets of the kind each loss expects."""
    kind = LOSSES[loss].targets
    if kind == "labels":
        return rng.integers(0, k, n).astype(float)
    if loss == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "probabilities":
        return (rng.random((n, k)) > 0.5).astype(float)
    return rng.normal(size=(n, k)) * 1.5  # huber: errors on both sides of delta = 1


# ------------------------------------------------- each loss on its own
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradient_matches_finite_differences_of_its_value(name):
    """dL/dŷ (the probability path) against the 4th-order stencil on ŷ in (0.05, 0.95)."""
    loss = LOSSES[name]
    y = targets_for(name, RNG)
    outputs = RNG.uniform(0.05, 0.95, (B, K))
    if name == "huber":
        outputs = RNG.normal(size=(B, K)) * 2
    numeric = central_difference(lambda o: loss.value(y.astype(np.int64) if loss.targets == "labels" else y, o),
                                 outputs, h=1e-4)
    analytic = loss.gradient(y.astype(np.int64) if loss.targets == "labels" else y, outputs)
    assert relative_error(analytic, numeric) <= TOLERANCE


@pytest.mark.parametrize("name", [n for n in sorted(LOSSES) if LOSSES[n].from_logits is not None])
def test_logits_form_gradient_matches_finite_differences(name):
    loss = LOSSES[name].from_logits
    y = targets_for(name, RNG)
    y = y.astype(np.int64) if loss.targets == "labels" else y
    z = RNG.normal(size=(B, K)) * 3
    numeric = central_difference(lambda v: loss.value(y, v), z, h=1e-3)
    assert relative_error(loss.gradient(y, z), numeric) <= TOLERANCE


def test_values_by_hand():
    y, o = np.array([[1.0, 0.0]]), np.array([[0.8, 0.4]])
    assert LOSSES["mae"].value(y, o) == pytest.approx((0.2 + 0.4) / 2, rel=1e-15)
    assert LOSSES["huber"].value(np.array([[0.0, 0.0]]), np.array([[0.5, 3.0]])) == pytest.approx(
        (0.5 * 0.25 + (3.0 - 0.5)) / 2, rel=1e-15)
    bce = -(math.log(0.8) + math.log(1 - 0.4)) / 2
    assert LOSSES["binary_crossentropy"].value(y, o) == pytest.approx(bce, rel=1e-14)
    # Keras normalises categorical outputs first: 0.8 / (0.8 + 0.4)
    assert LOSSES["categorical_crossentropy"].value(y, o) == pytest.approx(-math.log(0.8 / 1.2), rel=1e-14)
    # sparse: softmax of log p, i.e. log(sum p) - log p_label, without the normalisation step
    assert LOSSES["sparse_categorical_crossentropy"].value(np.array([1]), o) == pytest.approx(
        math.log(1.2) - math.log(0.4), rel=1e-14)


def test_mae_gradient_at_zero_error_is_zero_like_tensorflows_sign():
    assert LOSSES["mae"].gradient(np.array([[0.5, 0.5]]), np.array([[0.5, 0.7]])).tolist() == [[0.0, 0.5]]


def test_probabilities_are_clipped_and_the_clip_stops_the_gradient():
    y, o = np.array([[1.0, 0.0]]), np.array([[0.0, 0.5]])
    value = LOSSES["binary_crossentropy"].value(y, o)
    assert value == pytest.approx(-(math.log(EPSILON) + math.log(0.5)) / 2, rel=1e-12)
    gradient = LOSSES["binary_crossentropy"].gradient(y, o)
    assert gradient[0, 0] == 0 and gradient[0, 1] == pytest.approx(1 / 0.5 / 2, rel=1e-14)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
def test_logits_form_equals_the_probability_form_away_from_the_clip(name):
    """The two forms are the same function of z when nothing is clipped (sigmoid or softmax in between)."""
    loss = LOSSES[name]
    y = targets_for(name, RNG)
    y = y.astype(np.int64) if loss.targets == "labels" else y
    z = RNG.normal(size=(B, K))
    squash = ACTIVATIONS["sigmoid" if name == "binary_crossentropy" else "softmax"].forward
    assert loss.from_logits.value(y, z) == pytest.approx(loss.value(y, squash(z)), rel=1e-13)


def test_saturated_sigmoid_the_logits_path_and_the_clipped_path_differ_hugely():
    """z = 30: the probability rounds to 1 - 1e-13, the clip holds it at 1 - 1e-7; the logits path does not clip."""
    y, z = np.array([[0.0]]), np.array([[30.0]])
    from_logits = LOSSES["binary_crossentropy"].from_logits.value(y, z)
    clipped = LOSSES["binary_crossentropy"].value(y, ACTIVATIONS["sigmoid"].forward(z))
    assert from_logits == pytest.approx(30 + math.log1p(math.exp(-30)), rel=1e-15)
    assert clipped == pytest.approx(-math.log(EPSILON), rel=1e-9)
    assert from_logits / clipped > 1.8


# ----------------------------------------------------------- the softmax
def test_softmax_backward_is_the_jacobian_transposed_times_g():
    z, g = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
    a = softmax(z)
    for row in range(4):
        jacobian = np.diag(a[row]) - np.outer(a[row], a[row])  # da_i/dz_j, by hand
        np.testing.assert_allclose(ACTIVATIONS["softmax"].backward(g, z, a)[row], jacobian.T @ g[row], rtol=1e-13,
                                   atol=1e-16)


def test_softmax_rows_sum_to_one_and_large_logits_do_not_overflow():
    a = softmax(np.array([[1000.0, 1000.0, -1000.0], [0.0, math.log(3), 0.0]]))
    np.testing.assert_allclose(a, [[0.5, 0.5, 0.0], [0.2, 0.6, 0.2]], rtol=1e-15, atol=0)


# ------------------------------------------------- whole networks, both paths
NETWORKS = [
    # (loss, output activation): the fused logits path, the unfused path through the softmax VJP, and the clipped one
    ("categorical_crossentropy", "softmax"),
    ("sparse_categorical_crossentropy", "softmax"),
    ("binary_crossentropy", "sigmoid"),
    ("mse", "softmax"),
    ("categorical_crossentropy", "relu"),
    ("mae", "tanh"),
    ("huber", "linear"),
]


@pytest.mark.parametrize(("loss", "output"), NETWORKS)
def test_network_gradients_match_finite_differences(loss, output):
    net = MLP(4, [5], K, activation=["tanh", output], use_bias=True, init="glorot_uniform", seed=3, loss=loss)
    x = RNG.uniform(-1, 1, (B, 4))
    y = targets_for(loss, np.random.default_rng(5))
    if output == "relu":
        net.set_weights([np.abs(w) + 0.1 for w in net.get_weights()])  # positive outputs, away from the kink
        x = np.abs(x)
    assert net.from_logits == (loss.endswith("crossentropy") and output in ("sigmoid", "softmax"))
    analytic = net.gradients(x, y)
    params = net.get_weights()
    for i, param in enumerate(params):
        def loss_of(value, i=i):
            net.set_weights([*params[:i], value, *params[i + 1:]])
            return net.evaluate(x, y)
        assert relative_error(analytic[i], central_difference(loss_of, param)) <= TOLERANCE, f"parameter {i}"


# ----------------------------------------------------------------- targets
@pytest.mark.parametrize(("loss", "y", "message"), [
    ("binary_crossentropy", [[0.0], [1.5]], r"probabilities in \[0, 1\]"),
    ("categorical_crossentropy", [[-0.1, 1.1], [0.0, 1.0]], r"probabilities in \[0, 1\]"),
    ("sparse_categorical_crossentropy", [0.5, 1.0], "integer class labels"),
    ("sparse_categorical_crossentropy", [0, 2], r"labels must be in \[0, 1\]"),
    ("sparse_categorical_crossentropy", [[0, 1], [1, 0]], "one integer class label per sample"),
])
def test_bad_classification_targets_are_refused_before_anything_changes(loss, y, message):
    k = 1 if loss == "binary_crossentropy" else 2
    net = MLP(2, [3], k, loss=loss, activation=["relu", "softmax" if k > 1 else "sigmoid"], seed=0)
    before = net.get_weights()
    with pytest.raises(ValueError, match=message):
        net.train(np.zeros((2, 2)), np.array(y), epochs=1, learning_rate=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
    assert net.get_optimizer_state()["iterations"] == 0


def test_labels_as_n_or_n_by_1_train_identically():
    x = RNG.random((9, 3))
    labels = RNG.integers(0, 4, 9)
    runs = []
    for y in (labels, labels.reshape(-1, 1), labels.astype(float)):
        net = MLP(3, [5], 4, activation=["relu", "softmax"], loss="sparse_categorical_crossentropy", seed=2)
        runs.append((net.train(x, y, epochs=2, learning_rate=0.1, batch_size=4), net.get_weights()))
    for losses, weights in runs[1:]:
        assert losses == runs[0][0] and all(np.array_equal(a, b) for a, b in zip(weights, runs[0][1]))


def test_sparse_labels_and_one_hot_targets_give_the_same_training():
    x, labels = RNG.random((10, 3)), RNG.integers(0, 3, 10)
    sparse = MLP(3, [4], 3, activation=["tanh", "softmax"], loss="sparse_categorical_crossentropy", seed=1)
    dense = MLP(3, [4], 3, activation=["tanh", "softmax"], loss="categorical_crossentropy", seed=1)
    np.testing.assert_allclose(sparse.train(x, labels, 3, 0.5, batch_size=3),
                               dense.train(x, np.eye(3)[labels], 3, 0.5, batch_size=3), rtol=1e-14)


def test_accuracy_by_hand():
    net = MLP(2, [], 3, activation="softmax", loss="sparse_categorical_crossentropy", seed=0)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.2]])
    predicted = net.forward(x).argmax(axis=1)
    labels = predicted.copy()
    labels[[0, 3]] = (labels[[0, 3]] + 1) % 3  # two of four wrong, by construction
    assert net.accuracy(x, labels) == 0.5
    assert MLP(2, [3], 1, loss="mse").accuracy(x, np.zeros((4, 1))) is None
    binary = MLP(2, [3], 2, activation=["tanh", "sigmoid"], loss="binary_crossentropy", seed=0)
    out = binary.forward(x)
    y = (out > 0.5).astype(float)
    y[0, 0] = 1 - y[0, 0]  # one of eight outputs wrong
    assert binary.accuracy(x, y) == 7 / 8
