"""A multi-layer perceptron from scratch, with NumPy alone.

>>> from scratch import MLP
>>> mlp = MLP(2, [5], 1, seed=0)
>>> mlp.forward([0.1, 0.3]).shape
(1,)

The parts, each in its own module: :mod:`~scratch.config` (one description
of a network), :mod:`~scratch.layers` (``Dense``), the registries
:mod:`~scratch.activations`, :mod:`~scratch.losses` and
:mod:`~scratch.optimizers`, :mod:`~scratch.mlp` (the seed's methods over the
layers) and :mod:`~scratch.protocol` (what the comparison harness needs).
"""

from .activations import ACTIVATIONS
from .batching import batch_slices, epoch_orders
from .config import MLPConfig
from .data import sum_dataset
from .losses import LOSSES
from .mlp import MLP, TrainingDivergedError
from .optimizers import OPTIMIZERS
from .protocol import ComparableMLP, HasOptimizerState

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "OPTIMIZERS",
    "ComparableMLP",
    "HasOptimizerState",
    "MLPConfig",
    "TrainingDivergedError",
    "batch_slices",
    "epoch_orders",
    "sum_dataset",
]
