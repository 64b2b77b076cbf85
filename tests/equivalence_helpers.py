"""Shared by the equivalence tests: network cases, data, and one closeness check."""

from __future__ import annotations

import numpy as np

import scratch

#: name -> (num_inputs, hidden_layers, num_outputs)
ARCHITECTURES = {
    "no-hidden": (3, [], 2),
    "2-5-1": (2, [5], 1),
    "3-[7,4]-2": (3, [7, 4], 2),
}
ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear", "mix"]
MIX = ["tanh", "relu", "sigmoid"]  # one per layer, the last layer's last
RTOL = {"float64": 1e-12, "float32": 1e-5}
TRAIN_RTOL = {"float64": 1e-10, "float32": 1e-5}
EPOCHS = {"float64": 50, "float32": 20}


def activation_list(activation: str, num_layers: int) -> list[str]:
    """One name per Dense layer; ``"mix"`` ends with sigmoid and differs per layer."""
    if activation != "mix":
        return [activation] * num_layers
    return MIX[-num_layers:] if num_layers <= len(MIX) else (MIX * num_layers)[-num_layers:]


def make_mlp(arch: str, activation: str, use_bias: bool, dtype: str = "float64", loss: str = "mse") -> scratch.MLP:
    """A scratch MLP with Keras's glorot init and, with biases, non-zero random biases."""
    num_inputs, hidden, num_outputs = ARCHITECTURES[arch]
    mlp = scratch.MLP(
        num_inputs,
        hidden,
        num_outputs,
        activation=activation_list(activation, len(hidden) + 1),
        use_bias=use_bias,
        dtype=dtype,
        init="glorot_uniform",
        seed=7,
        loss=loss,
    )
    if use_bias:
        rng = np.random.default_rng(8)
        mlp.set_weights([w if w.ndim == 2 else rng.uniform(-0.5, 0.5, w.shape) for w in mlp.get_weights()])
    return mlp


def make_data(mlp: scratch.MLP, num_samples: int = 45, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [-1, 1) and targets in [0, 1) of the network's widths and dtype.

    45 samples leave a partial last batch of 13 at batch size 32.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (num_samples, mlp.num_inputs)).astype(mlp.dtype)
    y = rng.random((num_samples, mlp.num_outputs)).astype(mlp.dtype)
    return x, y


def assert_close(mine: np.ndarray, theirs: np.ndarray, rtol: float, what: str) -> None:
    """Elementwise ``|a - b| <= rtol * max(|a|, |b|) + floor``, shape and dtype first.

    ``floor`` is 64 ulps of the array's largest magnitude: an element that is
    tiny because its terms cancelled carries rounding noise of the size of
    those terms, not of itself, and is judged against that instead.
    """
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape} (scratch) != {theirs.shape} (keras)"
    assert mine.dtype == theirs.dtype, f"{what}: dtype {mine.dtype} (scratch) != {theirs.dtype} (keras)"
    scale = float(np.max(np.abs(theirs), initial=0.0))
    floor = 64 * np.finfo(theirs.dtype).eps * scale
    excess = np.abs(mine - theirs) - (rtol * np.maximum(np.abs(mine), np.abs(theirs)) + floor)
    if np.any(excess > 0):
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
        raise AssertionError(
            f"{what}: scratch {float(mine[worst])!r} vs keras {float(theirs[worst])!r} at index {worst} "
            f"differ by {abs(mine[worst] - theirs[worst]):.3e} > rtol {rtol:g} (+ floor {floor:.1e})"
        )


def assert_all_close(mine: list, theirs: list, rtol: float, what: str) -> None:
    """``assert_close`` on each pair of a list (weights, gradients), named W0, b0, W1, ..."""
    assert len(mine) == len(theirs), f"{what}: {len(mine)} arrays (scratch) != {len(theirs)} (keras)"
    with_bias = len(mine) > 0 and any(np.ndim(a) == 1 for a in mine)
    for i, (a, b) in enumerate(zip(mine, theirs)):
        name = (f"{'W' if i % 2 == 0 else 'b'}{i // 2}") if with_bias else f"W{i}"
        assert_close(a, b, rtol, f"{what} {name}")
