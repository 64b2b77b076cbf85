"""A multi-layer perceptron from scratch, with NumPy alone.

>>> from scratch import MLP
>>> mlp = MLP(2, [5], 1, seed=0)
>>> mlp.forward([0.1, 0.3]).shape
(1,)
"""

from .batching import batch_slices, epoch_orders
from .data import sum_dataset
from .mlp import MLP, TrainingDivergedError
from .protocol import ComparableMLP

__all__ = [
    "MLP",
    "ComparableMLP",
    "TrainingDivergedError",
    "batch_slices",
    "epoch_orders",
    "sum_dataset",
]
