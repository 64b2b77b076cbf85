"""Check your own MLP against Keras: the pattern a course puts in its CI.

``MyMLP`` below is what a learner writes from scratch, with NumPy alone and
nothing from this project: a sigmoid network without biases, trained by
mini-batch SGD on the mean squared error. To be checked it only has to speak
the comparison protocol (``forward``, ``evaluate``, ``gradients``,
``train``, ``get_weights``, ``set_weights``; see ``scratch/protocol.py``). Then one call does the checking::

    compare.assert_equivalent(MyMLP(2, [5], 1), KerasMLP(2, [5], 1), x, y, epochs=3, batch_size=8)

It copies the learner's weights into Keras, checks forward outputs, gradients,
every epoch's loss and the final weights, and raises an ``AssertionError``
with the table and the likely cause when anything disagrees. Put
``test_my_mlp_matches_keras`` in the course's test suite and run ``pytest``.

Run ``python examples/check_your_own_mlp.py``; it also shows what a classic
bug (the factor 2 of the MSE gradient forgotten) looks like when checked.
``SVK_QUICK=1`` uses fewer samples and epochs.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

import compare

QUICK = os.environ.get("SVK_QUICK") == "1"
SAMPLES, EPOCHS = (40, 2) if QUICK else (200, 5)


class MyMLP:
    """A learner's MLP: sigmoid layers, no biases, mini-batch SGD on the MSE."""

    def __init__(self, num_inputs: int, hidden_layers: list[int], num_outputs: int, seed: int = 0) -> None:
        sizes = [num_inputs, *hidden_layers, num_outputs]
        rng = np.random.default_rng(seed)
        self.weights = [rng.uniform(-1, 1, (n_in, n_out)) for n_in, n_out in itertools.pairwise(sizes)]

    def _activations(self, x: np.ndarray) -> list[np.ndarray]:
        activations = [np.atleast_2d(x)]
        for w in self.weights:
            activations.append(1 / (1 + np.exp(-activations[-1] @ w)))
        return activations

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._activations(x)[-1]

    predict = forward

    def output_error(self, output: np.ndarray, y: np.ndarray) -> np.ndarray:
        """dL/dŷ of the MSE, mean over the B·k entries: 2/(B·k)·(ŷ − y)."""
        return 2 * (output - y) / output.size

    def gradients(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """dL/dW for every layer, by the chain rule from the output down."""
        activations = self._activations(x)
        error = self.output_error(activations[-1], y)
        grads = []
        for layer in reversed(range(len(self.weights))):
            a = activations[layer + 1]
            delta = error * a * (1 - a)  # sigmoid'(z) written on a = sigmoid(z)
            grads.insert(0, activations[layer].T @ delta)
            error = delta @ self.weights[layer].T
        return grads

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """The MSE on ``(x, y)``."""
        return float(np.mean((self.forward(x) - y) ** 2))

    def train(self, x: np.ndarray, y: np.ndarray, epochs: int, learning_rate: float, batch_size: int = 1,
              shuffle: int | None = None, verbose: bool = False) -> list[float]:
        """Mini-batch SGD in order (this class ignores ``shuffle``); returns each epoch's loss."""
        history = []
        for _ in range(epochs):
            total = 0.0
            for start in range(0, len(x), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                total += self.evaluate(xb, yb) * len(xb)  # the pre-update loss, weighted by batch size
                for w, g in zip(self.weights, self.gradients(xb, yb)):
                    w -= learning_rate * g
            history.append(total / len(x))
        return history

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w, dtype=float) for w in weights]


class ForgotTheTwo(MyMLP):
    """The classic bug: the MSE gradient without its factor 2."""

    def output_error(self, output: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (output - y) / output.size


def data(samples: int = SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The seed's a+b task: pairs in [0, 0.5) and their sums."""
    x = np.random.default_rng(1).random((samples, 2)) / 2
    return x, x.sum(axis=1, keepdims=True)


def test_my_mlp_matches_keras() -> None:
    """What goes in the course's CI: fails, with the table and the cause, if MyMLP is wrong."""
    from keras_equiv import KerasMLP  # imports TensorFlow

    x, y = data()
    compare.assert_equivalent(MyMLP(2, [5], 1), KerasMLP(2, [5], 1, activation="sigmoid"), x, y,
                              epochs=EPOCHS, learning_rate=0.5, batch_size=8)


def main() -> int:
    from keras_equiv import KerasMLP

    test_my_mlp_matches_keras()
    print("MyMLP agrees with Keras: forward, gradients, epoch losses and final weights.\n")
    x, y = data()
    try:
        compare.assert_equivalent(ForgotTheTwo(2, [5], 1), KerasMLP(2, [5], 1), x, y,
                                  epochs=EPOCHS, learning_rate=0.5, batch_size=8)
    except AssertionError as failure:
        print("And what the check says about ForgotTheTwo, whose MSE gradient lacks the factor 2:\n")
        print(failure)
        return 0
    print("ForgotTheTwo was not caught: that should not happen")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
