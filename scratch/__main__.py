"""The seed's demo: an MLP learns to add two numbers.

Run ``python -m scratch``: the seed's own algorithm, as ``examples/seed_demo.py``
runs it — a 2-5-1 sigmoid network without biases, the seed's ``U[0, 1)``
weights, per-sample gradient descent on the seed's rule ½·Σ(t−o)², 1000 pairs
from [0, 0.5), 50 epochs at learning rate 0.1, so both print the same losses.
``--loss mse`` trains on Keras's mean squared error instead (the loss
``mlp-compare`` checks against Keras).

Exit status: 0 done, 2 invalid option, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn

from .data import sum_dataset
from .losses import LOSSES
from .mlp import MLP

PROG = "python -m scratch"


class _Parser(argparse.ArgumentParser):
    """Errors in one line (``python -m scratch: error: ...``), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0],
                     epilog="Exit status: 0 done, 2 invalid option, 130 interrupted (Ctrl-C).")
    parser.add_argument("--epochs", type=_int_at_least(0), default=50)
    parser.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--samples", type=_int_at_least(1), default=1000)
    parser.add_argument("--loss", choices=sorted(LOSSES), default="seed",
                        help="the seed's ½·Σ(t−o)² rule (default) or Keras's mse")
    parser.add_argument("--seed", type=_int_at_least(0), default=0, help="seed of the weights and the data")
    return parser


def demo(args: argparse.Namespace) -> int:
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return demo(args)
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
