"""scratch.MLP.train: Keras fit semantics, reproducibility, dtype, divergence, the seed's demo."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import MLP, TrainingDivergedError, sum_dataset


def small_net(dtype="float64", **kwargs):
    return MLP(3, [4], 2, use_bias=True, init="glorot_uniform", seed=5, dtype=dtype, **kwargs)


def small_data(n=7, dtype="float64"):
    rng = np.random.default_rng(6)
    return rng.uniform(-1, 1, (n, 3)).astype(dtype), rng.uniform(0, 1, (n, 2)).astype(dtype)


def replay_by_hand(net, x, y, orders, batch_size, lr):
    """SGD written out in the test: per batch, the pre-update loss, then W -= lr * dL/dW.

    Returns the epoch losses as ``sum_b B_b * L_b / n`` and the plain means of
    the batch losses (what a wrong implementation would report).
    """
    weighted, plain = [], []
    for order in orders:
        losses, sizes = [], []
        for start in range(0, len(x), batch_size):
            rows = order[start:start + batch_size]
            losses.append(net.evaluate(x[rows], y[rows]))
            sizes.append(len(rows))
            step = net.gradients(x[rows], y[rows])
            net.set_weights([w - lr * g for w, g in zip(net.get_weights(), step)])
        weighted.append(float(np.dot(losses, sizes)) / len(x))
        plain.append(float(np.mean(losses)))
    return weighted, plain


def test_epoch_loss_is_sample_weighted_mean_of_pre_update_batch_losses():
    x, y = small_data(n=7)  # batches of 3, 3 and a partial 1
    net, twin = small_net(), small_net()
    history = net.train(x, y, epochs=3, learning_rate=0.2, batch_size=3)
    weighted, plain = replay_by_hand(twin, x, y, [np.arange(7)] * 3, batch_size=3, lr=0.2)
    assert all(isinstance(loss, float) for loss in history)
    np.testing.assert_allclose(history, weighted, rtol=1e-13)
    assert not np.allclose(history, plain, rtol=1e-6)  # the partial batch makes the difference
    for a, b in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_shuffle_int_replays_default_rng_permutations():
    x, y = small_data(n=8)
    net, twin, unshuffled = small_net(), small_net(), small_net()
    history = net.train(x, y, epochs=3, learning_rate=0.3, batch_size=3, shuffle=11)
    rng = np.random.default_rng(11)
    orders = [rng.permutation(8) for _ in range(3)]
    weighted, _ = replay_by_hand(twin, x, y, orders, batch_size=3, lr=0.3)
    np.testing.assert_allclose(history, weighted, rtol=1e-13)
    for a, b in zip(net.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    unshuffled.train(x, y, epochs=3, learning_rate=0.3, batch_size=3)
    assert not np.allclose(unshuffled.get_weights()[0], net.get_weights()[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_gives_bit_identical_runs(dtype):
    x, y = small_data(n=9, dtype=dtype)
    runs = []
    for _ in range(2):
        net = small_net(dtype)
        history = net.train(x, y, epochs=2, learning_rate=0.1, batch_size=4, shuffle=3)
        runs.append((history, net.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_float32_stays_float32_end_to_end():
    net = small_net("float32")
    x, y = small_data(n=5)  # float64 data: converted on the way in, never the other way
    assert all(w.dtype == np.float32 for w in net.get_weights())
    assert net.forward(x).dtype == np.float32 and net.forward(x[0]).dtype == np.float32
    assert all(a.dtype == np.float32 for a in net.activations)
    assert all(g.dtype == np.float32 for g in net.gradients(x, y))
    assert net.back_propagate(np.ones((5, 2))).dtype == np.float32
    net.train(x, y, epochs=2, learning_rate=0.1, batch_size=2)
    params = net.weights + net.biases + net.derivatives + net.bias_derivatives
    assert all(p.dtype == np.float32 for p in params)


def test_get_weights_and_gradients_are_copies():
    net = small_net()
    x, y = small_data()
    weights, gradients = net.get_weights(), net.gradients(x, y)
    saved = [a.copy() for a in weights + gradients]
    for array in weights + gradients:
        array += 1.0
    for a, b in zip(net.get_weights() + net.gradients(x, y), saved):
        np.testing.assert_array_equal(a, b)


def test_training_that_diverges_raises_naming_the_epoch():
    x, y = sum_dataset(50, seed=1)
    net, twin = (MLP(2, [8], 1, activation="linear", init="glorot_uniform", seed=0) for _ in range(2))
    # the witness: full-batch gradient descent by hand until the pre-update loss is not finite
    diverged_at = None
    with np.errstate(all="ignore"):
        for epoch in range(1, 31):
            if not np.isfinite(twin.evaluate(x, y)):
                diverged_at = epoch
                break
            for weights, gradient in zip(twin.weights, twin.gradients(x, y)):
                weights -= 3.0 * gradient
    assert diverged_at is not None and diverged_at > 1
    with pytest.raises(TrainingDivergedError, match=rf"epoch {diverged_at}\b"):
        net.train(x, y, epochs=30, learning_rate=3.0, batch_size=50)


def test_seed_demo_learns_below_1e_3_in_50_epochs():
    """The logic of ``python -m scratch``: 2-5-1 sigmoid, the seed's rule, 1000 samples, lr 0.1, batch 1."""
    x, y = sum_dataset(1000, seed=0)
    net = MLP(2, [5], 1, seed=0, loss="seed")
    history = net.train(x, y, epochs=50, learning_rate=0.1)
    assert history[-1] < 1e-3
    assert history[-1] < history[0] / 10
    assert abs(net.forward([0.1, 0.3])[0] - 0.4) < 0.05


def test_verbose_prints_one_line_per_epoch(capsys):
    x, y = small_data()
    small_net().train(x, y, epochs=3, learning_rate=0.1, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
