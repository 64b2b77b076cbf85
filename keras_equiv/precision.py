"""What a backend computes, as measured: its conventions and the precision of each stage of a float64 model.

Plain data, no Keras: a worker process measures (:mod:`keras_equiv.probe`)
and sends these back; the harness reads them to mirror the backend on the
scratch side (:func:`mirrored`) and to choose its tolerance.

A stage counts as float32 when its result, on a probe batch of 3 samples,
is further from scratch's float64 result than float64 arithmetic can explain:
a relative error above :data:`FLOAT32_EVIDENCE` (float64 rounding leaves
~1e-16, one float32 rounding anywhere ~1e-8), or when its output dtype is
float32. The batch of 3 matters: dividing by a batch of 2, 4 or 8 is exact in
float32 too, dividing by 3 is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scratch import LOSSES, MLPConfig
from scratch.losses import LOGIT_OUTPUTS
from scratch.optimizers import HYPERPARAMETER_DTYPE, OPTIMIZERS

#: A relative error above this, against scratch's float64, is evidence of float32 arithmetic.
FLOAT32_EVIDENCE = 1e-12
#: The stages measured, in the order a training step runs them.
STAGES = ("matmul", "forward", "loss", "gradients", "epoch loss", "update")


@dataclass(frozen=True)
class Conventions:
    """How a backend computes where Keras's backends differ by design (not by precision).

    Attributes
    ----------
    crossentropy_from_logits : bool
        After a sigmoid or softmax output, a cross-entropy is computed from the
        logits (TensorFlow) rather than from the clipped probabilities (JAX,
        PyTorch). Measured: the binary cross-entropy of ``sigmoid(40)`` against
        0 is 40 from the logits, ``-log(1e-7) ≈ 16.1`` clipped.
    hyperparameter_dtype : str or None
        ``"float32"`` when ``ops.cast(0.9, "float64")`` gives 0.8999999761581421
        (TensorFlow, tensorflow#35938), ``None`` when it gives 0.9 exactly.
    """

    crossentropy_from_logits: bool
    hyperparameter_dtype: str | None

    def describe(self) -> str:
        entropy = "from the logits" if self.crossentropy_from_logits else "from clipped probabilities"
        rounding = "rounded through float32" if self.hyperparameter_dtype else "exact"
        return f"cross-entropy after sigmoid/softmax {entropy}; β/μ hyperparameters {rounding}"


@dataclass(frozen=True)
class Stage:
    """One stage of the probe: its output dtype and its relative error against scratch's float64."""

    name: str
    dtype: str
    rel_error: float

    @property
    def float32(self) -> bool:
        return self.dtype == "float32" or not self.rel_error <= FLOAT32_EVIDENCE


@dataclass(frozen=True)
class Precision:
    """A backend's measured precision for one configuration (see the module docstring)."""

    backend: str
    requested: str
    stages: tuple[Stage, ...]
    conventions: Conventions
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def float32_stages(self) -> list[str]:
        return [stage.name for stage in self.stages if stage.float32]

    @property
    def effective_dtype(self) -> str:
        """``"float64"`` only when every stage is float64; else ``"float32"``."""
        return "float32" if self.requested == "float32" or self.float32_stages else "float64"

    @property
    def verdict(self) -> str:
        """``float64 end to end``, ``float64 requested, float32 measured in: loss, gradients``, or ``float32``."""
        if self.requested == "float32":
            return "float32 (as requested)"
        if not self.float32_stages:
            return "float64 end to end"
        return f"float64 requested, float32 measured in: {', '.join(self.float32_stages)}"

    def evidence(self) -> str:
        """Each stage's dtype and error, in one line."""
        return "; ".join(f"{s.name} {s.dtype + ' ' if s.dtype else ''}{s.rel_error:.1e}" for s in self.stages)


def differences(config: MLPConfig, first: Conventions, second: Conventions) -> list[str]:
    """What two backends' conventions make them compute differently for ``config`` (``[]``: nothing)."""
    found = []
    if first.crossentropy_from_logits != second.crossentropy_from_logits and \
            LOSSES[config.loss].from_logits is not None and config.activation[-1] in LOGIT_OUTPUTS:
        found.append("the cross-entropy after the output (logits vs clipped probabilities)")
    optimizer = OPTIMIZERS[config.optimizer["name"]]
    rounded = [name for name in optimizer.rounded_hyperparameters if config.optimizer[name] != 0]
    if first.hyperparameter_dtype != second.hyperparameter_dtype and rounded and config.dtype == "float64":
        found.append(f"{', '.join(rounded)} (rounded through float32 or exact)")
    return found


def mirrored(config: MLPConfig, conventions: Conventions) -> MLPConfig:
    """``config`` with the conventions of a backend, so that scratch computes what that backend computes.

    Only what matters is changed: the cross-entropy convention when the loss
    has a logits form and the output is a sigmoid or softmax, the
    hyperparameter rounding when the optimizer has one.
    """
    changes: dict[str, Any] = {}
    if LOSSES[config.loss].from_logits is not None and config.activation[-1] in LOGIT_OUTPUTS:
        changes["crossentropy_from_logits"] = conventions.crossentropy_from_logits
    optimizer = dict(config.optimizer)
    if OPTIMIZERS[optimizer["name"]].rounded_hyperparameters:
        changes["optimizer"] = optimizer | {HYPERPARAMETER_DTYPE: conventions.hyperparameter_dtype}
    return config.replace(**changes)
