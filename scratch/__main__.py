"""The seed's demo: an MLP learns to add two numbers.

Run ``python -m scratch`` (``--loss seed`` for the seed's original update rule).
"""

from __future__ import annotations

import argparse

from .data import sum_dataset
from .losses import LOSSES
from .mlp import MLP


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scratch", description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--loss", choices=sorted(LOSSES), default="mse")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, y = sum_dataset(args.samples, seed=args.seed)
    mlp = MLP(2, [5], 1, loss=args.loss, seed=args.seed)
    losses = mlp.train(x, y, epochs=args.epochs, learning_rate=args.lr)
    for epoch, loss in enumerate(losses, start=1):
        print(f"Error: {loss:.6f} at epoch {epoch}")
    print("Training complete!")
    print()
    a, b = 0.1, 0.3
    output = mlp.forward([a, b])
    print(f"Our network believes that {a} + {b} is equal to {output[0]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
