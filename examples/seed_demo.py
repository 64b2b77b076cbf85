"""The seed's demo, from scratch: a 2-5-1 sigmoid network learns to add two numbers.

This is the seed's own algorithm: no biases, the seed's ``U[0, 1)`` initial
weights, and per-sample gradient descent on ½·Σ(t−o)² (``loss="seed"``), on
1000 pairs drawn from [0, 0.5) for 50 epochs at learning rate 0.1. The first
step is spelled out with the seed's three methods, ``forward_propagate``,
``back_propagate`` and ``gradient_descent``; ``train`` then does the rest.

Run ``python examples/seed_demo.py`` (``SVK_QUICK=1``: 100 samples, 5 epochs).
"""

from __future__ import annotations

import os

import numpy as np

from scratch import MLP, sum_dataset

QUICK = os.environ.get("SVK_QUICK") == "1"
SAMPLES, EPOCHS, LEARNING_RATE = (100, 5, 0.1) if QUICK else (1000, 50, 0.1)


def one_step_by_hand(mlp: MLP, x: np.ndarray, y: np.ndarray, learning_rate: float) -> None:
    """One sample, one step, with the seed's methods.

    For the seed's loss ½·Σ(t−o)² the error at the output is ``o − t``; the
    seed passed ``t − o`` and added its derivatives, this project passes the
    true gradient and ``gradient_descent`` subtracts it: the same step.
    """
    output = mlp.forward_propagate(x)  # a_0 = x, a_{l+1} = sigmoid(a_l W_l)
    mlp.back_propagate(output - y)  # fills mlp.derivatives = dL/dW_l
    mlp.gradient_descent(learning_rate)  # W_l -= lr * dL/dW_l


def main() -> int:
    x, y = sum_dataset(SAMPLES, seed=0)
    mlp = MLP(2, [5], 1, loss="seed", seed=0)
    twin = MLP(2, [5], 1, loss="seed", seed=0)

    one_step_by_hand(mlp, x[0], y[0], LEARNING_RATE)
    twin.train(x[:1], y[:1], epochs=1, learning_rate=LEARNING_RATE)
    gap = max(np.max(np.abs(a - b)) for a, b in zip(mlp.get_weights(), twin.get_weights()))
    print(f"one step by hand vs train() on the same sample: largest weight difference {gap:.1e}")

    mlp.set_weights(MLP(2, [5], 1, loss="seed", seed=0).get_weights())  # start again from the seed's weights
    losses = mlp.train(x, y, epochs=EPOCHS, learning_rate=LEARNING_RATE)
    for epoch, loss in enumerate(losses, start=1):
        print(f"Error: {loss:.6f} at epoch {epoch}")
    print("Training complete!")

    a, b = 0.1, 0.3
    print(f"Our network believes that {a} + {b} is equal to {mlp.forward_propagate([a, b])[0]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
