"""The causes a localisation can name, each with what it means.

A :class:`Cause` is a string (``Cause.SHUFFLING == "shuffling"``), so reports
and JSON carry the plain key; :attr:`Cause.meaning` is the general sentence
behind it, and each :class:`~compare.results.Localisation` adds a hint about
the case at hand.
"""

from __future__ import annotations

from enum import Enum


class Cause(str, Enum):
    """Why two implementations disagree: the value is the key shown to users, :attr:`meaning` what it says."""

    meaning: str

    def __new__(cls, key: str, meaning: str) -> Cause:
        member = str.__new__(cls, key)
        member._value_ = key
        member.meaning = meaning
        return member

    CONFORMANCE = (
        "conformance",
        "a method is missing, cannot take the harness's arguments, or returns the wrong type or shape",
    )
    MISSING_BIAS = ("missing bias", "one side has bias vectors and the other has none")
    ARCHITECTURE = ("architecture", "the weight shapes or counts differ: the layers differ")
    DTYPE_MISMATCH = ("dtype mismatch", "the sides compute in different dtypes")
    INITIAL_WEIGHTS = (
        "different initial weights",
        "set_weights did not take: the sides do not start from the same weights",
    )
    FORWARD_PASS = ("forward pass", "the outputs differ from identical weights")
    LOSS_FUNCTION = ("loss function", "evaluate gives different losses on identical weights and outputs")
    LOSS_CONVENTION = (
        "loss convention",
        "the loss or its gradient differs by a factor 2 or k: ½·Σ vs mean over the outputs, or a dropped factor",
    )
    SIGN_CONVENTION = (
        "sign convention",
        "the gradients have the opposite sign: computed from t − o (−dL/dŷ) and added to the weights",
    )
    BATCH_AVERAGING = ("batch averaging", "the gradient differs by a factor B: sum vs mean over the batch")
    BACKWARD_PASS = ("backward pass", "the gradients differ from identical weights by no known factor")
    PARTIAL_LAST_BATCH = ("partial last batch", "the epoch's last, partial batch is treated differently")
    BATCH_SIZE = ("batch size", "one side trains in batches of another size")
    SHUFFLING = ("shuffling", "one side feeds the samples in another order")
    TRAIN_STATE = (
        "train keeps state",
        "train does not repeat from the same weights and optimizer state: it keeps state of its own between calls "
        "or batches (a learning-rate schedule, a counter)",
    )
    UPDATE_STEP = ("update step", "the gradients agree but the update from them does not")
    OPTIMIZER_STATE = ("optimizer state", "the optimizer's step count or slots differ after training")
    ROUNDING_DRIFT = ("rounding drift", "every step agrees, only accumulated rounding differs")
    EPOCH_LOSS_AVERAGING = ("epoch-loss averaging", "the reported epoch loss averages the batch losses differently")
    UNKNOWN = ("unknown", "the replays do not explain the disagreement")

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)
