"""The seed course's next lesson, on both sides: a classifier with relu layers, a softmax and Adam.

The course that the seed's MLP comes from follows it with a genre classifier
written in Keras: ``Dense(512, relu)``, ``Dense(256, relu)``, ``Dense(64,
relu)``, ``Dense(10, softmax)``, ``Adam(learning_rate=0.0001)``,
``loss="sparse_categorical_crossentropy"``, ``metrics=["accuracy"]``, batch
32. Here that very network learns scikit-learn's bundled 8×8 digits (64
pixels, 10 classes, integer labels) from scratch with NumPy and with Keras,
from the same glorot_uniform weights, with the same per-epoch shuffling; the
harness checks the loss of every epoch, the accuracy, the weights and Adam's
moments, and the example prints both sides' epoch losses next to each other.

Run ``python examples/seed_course_classifier.py`` (``SVK_QUICK=1``: 400
images, 3 epochs). Needs scikit-learn (``pip install
'scratch-vs-keras[digits]'``); without it the example says so and exits 0.
"""

from __future__ import annotations

import os

import numpy as np

import compare
from scratch import MLP

QUICK = os.environ.get("SVK_QUICK") == "1"
SAMPLES, EPOCHS = (400, 3) if QUICK else (1797, 20)
HIDDEN, LEARNING_RATE, BATCH_SIZE, SHUFFLE_SEED = [512, 256, 64], 1e-4, 32, 0


def load(samples: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Pixels in [0, 1] and integer labels 0-9, or ``None`` when scikit-learn is missing."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))[:samples]
    return digits.data[order] / 16.0, digits.target[order]


def main() -> int:
    data = load(SAMPLES)
    if data is None:
        print("skipped: this example needs scikit-learn: pip install 'scratch-vs-keras[digits]'")
        return 0
    x, labels = data
    from keras_equiv import KerasMLP  # imports TensorFlow

    mlp = MLP(64, HIDDEN, 10, activation=["relu"] * len(HIDDEN) + ["softmax"], use_bias=True,
              init="glorot_uniform", seed=0, loss="sparse_categorical_crossentropy", optimizer="adam")
    keras_mlp = KerasMLP.from_scratch(mlp)
    print(f"scratch: {mlp!r}")
    print(f"Keras:   {[f'{layer.units} {layer.activation.__name__}' for layer in keras_mlp.model.layers]}, "
          f"{type(keras_mlp.model.optimizer).__name__}, {type(keras_mlp.model.loss).__name__}\n")
    report = compare.compare(mlp, keras_mlp, x, labels, epochs=EPOCHS, learning_rate=LEARNING_RATE,
                             batch_size=BATCH_SIZE, shuffle=SHUFFLE_SEED)
    print("epoch  loss scratch          loss Keras")
    for epoch, (loss_a, loss_b) in enumerate(zip(report.losses_a, report.losses_b), start=1):
        print(f"{epoch:<6} {loss_a:<21.15g} {loss_b:.15g}")
    print(f"\naccuracy after training: scratch {mlp.accuracy(x, labels):.4f}, "
          f"Keras {keras_mlp.accuracy(x, labels):.4f}\n")
    print(compare.table(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
