"""keras_equiv's contract beyond the numbers: errors, dtypes, floatx, quiet import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from equivalence_helpers import make_data, make_mlp

import scratch

pytestmark = pytest.mark.keras

keras_equiv = pytest.importorskip("keras_equiv")
KerasMLP = keras_equiv.KerasMLP
keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def pair():
    mlp = make_mlp("2-5-1", "sigmoid", True)
    return mlp, KerasMLP.from_scratch(mlp)


BAD_CALLS = {
    "x width": lambda m, x, y: m.forward(np.ones((4, 3))),
    "x NaN": lambda m, x, y: m.forward(np.full((4, 2), np.nan)),
    "zero samples": lambda m, x, y: m.forward(np.ones((0, 2))),
    "y shape (n,)": lambda m, x, y: m.train(x, y[:, 0], 1, 0.1),
    "y inf": lambda m, x, y: m.gradients(x, np.full_like(y, np.inf)),
    "epochs < 0": lambda m, x, y: m.train(x, y, -1, 0.1),
    "learning rate 0": lambda m, x, y: m.train(x, y, 1, 0.0),
    "learning rate NaN": lambda m, x, y: m.train(x, y, 1, float("nan")),
    "batch size 0": lambda m, x, y: m.train(x, y, 1, 0.1, batch_size=0),
    "shuffle str": lambda m, x, y: m.train(x, y, 1, 0.1, shuffle="yes"),
    "weights count": lambda m, x, y: m.set_weights(m.get_weights()[:-1]),
    "weights shape": lambda m, x, y: m.set_weights([w.T for w in m.get_weights()]),
    "weights NaN": lambda m, x, y: m.set_weights([w * np.nan for w in m.get_weights()]),
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_input_gets_the_same_error_on_both_sides_and_changes_nothing(pair, call):
    mlp, twin = pair
    x, y = make_data(mlp, num_samples=6)
    errors = []
    for model in (mlp, twin):
        before = model.get_weights()
        with pytest.raises((ValueError, TypeError)) as info:
            call(model, x, y)
        errors.append((type(info.value), str(info.value)))
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert errors[0] == errors[1]


@pytest.mark.parametrize("kwargs", [dict(activation="swish"), dict(dtype="float16"), dict(loss="hinge"),
                                    dict(init="zeros"), dict(hidden_layers=[0])])
def test_bad_constructor_arguments_match_scratch(kwargs):
    args = dict(num_inputs=2, hidden_layers=[3], num_outputs=1) | kwargs
    with pytest.raises(ValueError) as mine:
        scratch.MLP(**args)
    with pytest.raises(ValueError) as theirs:
        KerasMLP(**args)
    assert str(mine.value) == str(theirs.value)


def test_from_scratch_says_what_it_expected():
    with pytest.raises(TypeError, match=r"from_scratch expects a scratch\.MLP, got dict"):
        KerasMLP.from_scratch({})


def test_divergence_raises_naming_the_epoch():
    twin = KerasMLP(2, [5], 1, activation="linear", init="glorot_uniform", seed=0)
    x = np.random.default_rng(0).random((50, 2)) * 100
    with pytest.raises(scratch.TrainingDivergedError, match="epoch 1"):
        twin.train(x, x.sum(axis=1, keepdims=True), 5, 1.0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dtype_everywhere_and_floatx_left_alone(dtype):
    before = keras.config.floatx()
    twin = KerasMLP(2, [3], 1, dtype=dtype, seed=0)
    x, y = make_data(twin.to_scratch(), num_samples=5)
    twin.train(x, y, 1, 0.1)
    assert keras.config.floatx() == before
    model = twin.model
    assert model.inputs[0].dtype == dtype
    assert {v.dtype for v in model.weights} == {dtype}
    assert model.optimizer.learning_rate.dtype == dtype
    assert model.loss.dtype == dtype
    assert twin.forward(x).dtype == twin.predict(x).dtype == np.dtype(dtype)
    assert {g.dtype for g in twin.gradients(x, y)} == {np.dtype(dtype)}


def test_model_is_a_plain_sequential_with_sgd(pair):
    model = pair[1].model
    assert type(model) is keras.Sequential
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.momentum == 0.0 and model.optimizer.weight_decay is None
    assert isinstance(model.loss, keras.losses.MeanSquaredError)


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | env)


@pytest.mark.slow  # a fresh interpreter imports TensorFlow
def test_import_is_quiet():
    result = run_python("import keras_equiv; keras_equiv.KerasMLP(2, [3], 1).forward([0.1, 0.2])")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


def test_without_tensorflow_import_says_how_to_install_and_scratch_works():
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
        "import scratch; print(scratch.MLP(2, [3], 1).forward([0.1, 0.2]).shape)\n"
        "try:\n    import keras_equiv\nexcept ImportError as e:\n    print(e)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "(1,)" in result.stdout
    assert "pip install" in result.stdout and "tensorflow" in result.stdout


def test_keras_3_warns_about_nothing_we_do():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twin = KerasMLP(2, [5], 1, use_bias=True, seed=0)
        x, y = make_data(twin.to_scratch(), num_samples=9)
        twin.train(x, y, 2, 0.1, batch_size=4, shuffle=1)
        twin.gradients(x, y), twin.predict(x), twin.evaluate(x, y)


def test_from_scratch_keywords_override_the_copied_configuration():
    mlp = make_mlp("2-5-1", "sigmoid", True)
    twin = KerasMLP.from_scratch(mlp, dtype="float32")
    assert twin.dtype == np.float32 and twin.use_bias
    for a, b in zip(mlp.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a.astype(np.float32), b)


def test_one_model_used_with_every_shape_never_retraces_too_often():
    """TensorFlow's own detector, unfiltered: one KerasMLP predicting, evaluating and training on many sizes.

    ``keras_equiv`` drops the "triggered tf.function retracing" warning only because TensorFlow counts the
    first traces of *different* models together; within one model no call may be traced again and again.
    """
    import logging

    from keras_equiv import _tf

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    twin = KerasMLP(2, [5], 1, use_bias=True, seed=0)
    x, y = make_data(twin.to_scratch(), num_samples=5)
    for _ in range(12):  # one shape, traced once: pushes other tests' models out of TensorFlow's 10-call window
        twin.predict(x), twin.evaluate(x, y)
    logger, collect = _tf.tf.get_logger(), Collect()
    logger.removeFilter(_tf.RETRACING_FILTER)
    logger.addHandler(collect)
    try:
        for samples in (9, 40, 70, 100, 130, 170):  # 1 to 6 of Keras's default 32-sample batches
            x, y = make_data(twin.to_scratch(), num_samples=samples)
            twin.predict(x), twin.evaluate(x, y), twin.forward(x), twin.gradients(x, y)
            twin.train(x, y, 2, 0.1, batch_size=8 if samples % 2 else samples, shuffle=samples)
    finally:
        logger.removeHandler(collect)
        logger.addFilter(_tf.RETRACING_FILTER)
    assert collect.messages == []
