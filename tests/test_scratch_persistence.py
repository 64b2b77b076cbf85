"""save / load: a trained network round-trips bit for bit; a failed save writes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from scratch import MLP


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dtype": "float64", "use_bias": False, "loss": "seed", "seed": 1},
        {"dtype": "float32", "use_bias": True, "activation": ["tanh", "relu", "linear"], "init": "glorot_uniform"},
    ],
    ids=["float64_seed_loss", "float32_bias_mixed"],
)
def test_trained_network_round_trips_bit_for_bit(tmp_path, kwargs):
    net = MLP(3, [4, 5], 2, **kwargs)
    rng = np.random.default_rng(0)
    x, y = rng.random((6, 3)), rng.random((6, 2))
    net.train(x, y, epochs=2, learning_rate=0.05, batch_size=4)
    path = tmp_path / "net.npz"
    net.save(path)
    loaded = MLP.load(path)
    architecture = ("layer_sizes", "activation", "use_bias", "dtype", "init", "loss", "seed")
    assert {a: getattr(loaded, a) for a in architecture} == {a: getattr(net, a) for a in architecture}
    assert len(loaded.get_weights()) == len(net.get_weights())
    for a, b in zip(loaded.get_weights(), net.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.forward(x), net.forward(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_failed_save_leaves_no_partial_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    MLP(2, [3], 1, seed=0).save(path)
    old_bytes = path.read_bytes()

    def savez_that_fails_halfway(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", savez_that_fails_halfway)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3], 1, seed=1).save(path)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3], 1, seed=1).save(tmp_path / "new.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]
    assert path.read_bytes() == old_bytes


def test_saved_file_gets_ordinary_permissions_not_the_temporary_files(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        path = tmp_path / "model.npz"
        MLP(2, [3], 1, seed=0).save(path)
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)
