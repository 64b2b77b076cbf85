"""The seed's TensorFlow script, run on both sides from the same weights.

The seed's Keras version of the a+b task: 5000 pairs in [0, 0.5) (70 % to
train, 30 % to test), a 2-5-1 network with a relu hidden layer and a linear
output (Keras's ``Dense`` defaults: biases, glorot_uniform kernels), SGD at
learning rate 0.1 on ``mse``, batch size 32, 100 epochs. The seed's ``fit``
shuffled with Keras's own generator; here both sides shuffle with the same
per-epoch permutations (``shuffle=0``), so they can be compared step for step.

The harness then proves the two are the same network: forward outputs,
gradients, all 100 epoch losses and the final weights agree in float64.

Run ``python examples/seed_keras_demo.py`` (``SVK_QUICK=1``: 500 samples, 5 epochs).
"""

from __future__ import annotations

import os

import numpy as np

import compare
from scratch import MLP, sum_dataset

QUICK = os.environ.get("SVK_QUICK") == "1"
SAMPLES, EPOCHS = (500, 5) if QUICK else (5000, 100)
LEARNING_RATE, BATCH_SIZE, SHUFFLE_SEED = 0.1, 32, 0


def split(x: np.ndarray, y: np.ndarray, test_fraction: float = 0.3) -> tuple[np.ndarray, ...]:
    """The first 70 % to train, the rest to test (the samples are already random)."""
    cut = round(len(x) * (1 - test_fraction))
    return x[:cut], x[cut:], y[:cut], y[cut:]


def main() -> int:
    from keras_equiv import KerasMLP  # imports TensorFlow

    x_train, x_test, y_train, y_test = split(*sum_dataset(SAMPLES, seed=0))
    mlp = MLP(2, [5], 1, activation=["relu", "linear"], use_bias=True, init="glorot_uniform", seed=0)
    keras_mlp = KerasMLP.from_scratch(mlp)  # the same Sequential a learner writes, with mlp's weights
    print(f"Keras side: {keras_mlp!r}, layers {[layer.name for layer in keras_mlp.model.layers]}")

    report = compare.compare(mlp, keras_mlp, x_train, y_train, epochs=EPOCHS, learning_rate=LEARNING_RATE,
                             batch_size=BATCH_SIZE, shuffle=SHUFFLE_SEED)
    print(compare.table(report))

    for name, model in (("scratch", mlp), ("keras", keras_mlp)):
        print(f"{name:>7} test mse: {model.evaluate(x_test, y_test):.12e}")
    data = np.array([[0.1, 0.2], [0.2, 0.2]])
    for (a, b), out_s, out_k in zip(data, mlp.predict(data)[:, 0], keras_mlp.predict(data)[:, 0]):
        print(f"{a} + {b}: scratch says {out_s:.6f}, keras says {out_k:.6f}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
