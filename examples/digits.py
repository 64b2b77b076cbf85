"""Handwritten digits on both sides: 64-32-10 sigmoid, one-hot targets, MSE.

scikit-learn's bundled 8×8 digits (1797 images, no download): pixels scaled
to [0, 1], the digit as a one-hot vector of 10. Both networks start from the
same glorot_uniform weights (with biases) and train by SGD on the MSE, batch
size 32, with the same per-epoch shuffling. Reported: each side's test
accuracy, the harness's verdict, and how often the two sides predict the same
digit (all of them, as they are the same network).

Run ``python examples/digits.py`` (``SVK_QUICK=1``: 300 images, 3 epochs).
Needs scikit-learn (``pip install 'scratch-vs-keras[digits]'``); without it
the example says so and exits 0.
"""

from __future__ import annotations

import os

import numpy as np

import compare
from scratch import MLP

QUICK = os.environ.get("SVK_QUICK") == "1"
SAMPLES, EPOCHS = (300, 3) if QUICK else (1797, 30)
LEARNING_RATE, BATCH_SIZE, SHUFFLE_SEED, TEST_FRACTION = 2.0, 32, 0, 0.25


def load(samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Train and test split of the digits, or ``None`` when scikit-learn is missing."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))[:samples]
    x = digits.data[order] / 16.0
    y = np.eye(10)[digits.target[order]]  # one-hot: digit 3 -> [0, 0, 0, 1, 0, ...]
    cut = round(samples * (1 - TEST_FRACTION))
    return x[:cut], x[cut:], y[:cut], y[cut:]


def accuracy(outputs: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose largest output is the true digit."""
    return float(np.mean(outputs.argmax(axis=1) == y.argmax(axis=1)))


def main() -> int:
    data = load(SAMPLES)
    if data is None:
        print("skipped: the digits example needs scikit-learn: pip install 'scratch-vs-keras[digits]'")
        return 0
    x_train, x_test, y_train, y_test = data
    from keras_equiv import KerasMLP  # imports TensorFlow

    mlp = MLP(64, [32], 10, activation="sigmoid", use_bias=True, init="glorot_uniform", seed=0)
    keras_mlp = KerasMLP.from_scratch(mlp)
    report = compare.compare(mlp, keras_mlp, x_train, y_train, epochs=EPOCHS, learning_rate=LEARNING_RATE,
                             batch_size=BATCH_SIZE, shuffle=SHUFFLE_SEED)
    print(compare.table(report))

    out_s, out_k = mlp.predict(x_test), keras_mlp.predict(x_test)
    print(f"{len(x_train)} training and {len(x_test)} test images, {EPOCHS} epochs")
    print(f"test accuracy: scratch {accuracy(out_s, y_test):.3f}, keras {accuracy(out_k, y_test):.3f}")
    same = np.mean(out_s.argmax(axis=1) == out_k.argmax(axis=1))
    print(f"same predicted digit on {same:.1%} of the test images; "
          f"largest output difference {np.max(np.abs(out_s - out_k)):.1e}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
