"""The causes a localisation can name, each with what it means.

A :class:`Cause` is a string (``Cause.SHUFFLING == "shuffling"``), so reports
and JSON carry the plain key; :attr:`Cause.meaning` is the general sentence
behind it, and each :class:`~compare.results.Localisation` adds a hint about
the case at hand.
"""

from __future__ import annotations

from enum import Enum


class Cause(str, Enum):
    """Why two implementations disagree; the value is the key shown to users."""

    MISSING_BIAS = "missing bias"
    ARCHITECTURE = "architecture"
    DTYPE_MISMATCH = "dtype mismatch"
    INITIAL_WEIGHTS = "different initial weights"
    FORWARD_PASS = "forward pass"
    LOSS_FUNCTION = "loss function"
    LOSS_CONVENTION = "loss convention"
    BATCH_AVERAGING = "batch averaging"
    BACKWARD_PASS = "backward pass"
    PARTIAL_LAST_BATCH = "partial last batch"
    BATCH_SIZE = "batch size"
    SHUFFLING = "shuffling"
    UPDATE_STEP = "update step"
    OPTIMIZER_STATE = "optimizer state"
    ROUNDING_DRIFT = "rounding drift"
    EPOCH_LOSS_AVERAGING = "epoch-loss averaging"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def meaning(self) -> str:
        """What this cause says, in one sentence."""
        return MEANINGS[self]


MEANINGS: dict[Cause, str] = {
    Cause.MISSING_BIAS: "one side has bias vectors and the other has none",
    Cause.ARCHITECTURE: "the weight shapes or counts differ: the layers differ",
    Cause.DTYPE_MISMATCH: "the sides compute in different dtypes",
    Cause.INITIAL_WEIGHTS: "set_weights did not take: the sides do not start from the same weights",
    Cause.FORWARD_PASS: "the outputs differ from identical weights",
    Cause.LOSS_FUNCTION: "evaluate gives different losses on identical weights and outputs",
    Cause.LOSS_CONVENTION: "the loss gradient differs by a factor 2 or k: ½·Σ vs mean, or a dropped factor",
    Cause.BATCH_AVERAGING: "the gradient differs by a factor B: sum vs mean over the batch",
    Cause.BACKWARD_PASS: "the gradients differ from identical weights by no known factor",
    Cause.PARTIAL_LAST_BATCH: "the epoch's last, partial batch is treated differently",
    Cause.BATCH_SIZE: "one side trains in batches of another size",
    Cause.SHUFFLING: "one side feeds the samples in another order",
    Cause.UPDATE_STEP: "the gradients agree but the update from them does not",
    Cause.OPTIMIZER_STATE: "the optimizer's step count or slots differ after training",
    Cause.ROUNDING_DRIFT: "every step agrees, only accumulated rounding differs",
    Cause.EPOCH_LOSS_AVERAGING: "the reported epoch loss averages the batch losses differently",
    Cause.UNKNOWN: "the replays do not explain the disagreement",
}
