"""What a comparison produces: the checks, the localisation, the report.

Plain dataclasses, no computation and no rendering: :mod:`compare.harness`
fills them, :mod:`compare.localise` adds the diagnosis, :mod:`compare.report`
renders them (``compare.table(report)``, ``compare.report.report_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .causes import Cause
from .tolerances import Measurement


@dataclass(frozen=True, kw_only=True)
class Check(Measurement):
    """One named comparison (``forward``, ``gradient W0``, ``epoch losses``, ...): a measurement with a name.

    ``worst_index`` is the index of the worst element in the compared array
    (see :mod:`compare.tolerances`); ``note`` explains a check that could not
    be measured (different shapes, a side that raised...).
    """

    name: str
    note: str = ""

    @classmethod
    def from_measurement(cls, name: str, measurement: Measurement, note: str = "") -> Check:
        """A check named ``name`` holding ``measurement``."""
        return cls(**asdict(measurement), name=name, note=note)

    @classmethod
    def failed(cls, name: str, rtol: float, note: str) -> Check:
        """A check that could not be measured at all, with the reason."""
        inf = float("inf")
        return cls(inf, inf, None, rtol, 0.0, False, name=name, note=note)


@dataclass
class Localisation:
    """Where and why two implementations stop agreeing.

    Attributes
    ----------
    cause : Cause
        The known cause (:class:`compare.causes.Cause`, a string such as
        ``"loss convention"``; its ``meaning`` says what it stands for).
    hint : str
        One or two sentences for a human, naming the likely fix.
    epoch, batch : int or None
        1-based epoch and batch of the first disagreement (``None`` when it is
        not a training-time disagreement).
    samples : tuple of int or None
        ``(start, stop)`` positions of that batch within the epoch's order.
    layer : str or None
        The parameter where it first goes wrong in backpropagation order
        (the one nearest the output: ``W1`` before ``b1`` before ``W0``).
    layers : list of str
        Every parameter that differs at that point, in backpropagation order.
    evidence : list of str
        The measurements the diagnosis rests on, one line each.
    side : str or None
        The implementation the cause lies in (its name), when a replay or a
        measurement says which.
    convention : str or None
        The named convention this cause is (``"half-sum"``, ``"sign"``...; see
        :mod:`compare.conventions`), ``None`` when it is a mistake.
    others : list of Localisation
        The further causes found, in order (each without ``others`` of its own).
    """

    cause: Cause
    hint: str
    epoch: int | None = None
    batch: int | None = None
    samples: tuple[int, int] | None = None
    layer: str | None = None
    layers: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    side: str | None = None
    convention: str | None = None
    others: list[Localisation] = field(default_factory=list)

    @property
    def causes(self) -> list[Localisation]:
        """Every cause found, in order: this one, then :attr:`others`."""
        return [self, *self.others]

    def where(self) -> str:
        """``epoch 3, batch 7 (samples 192-223), parameter W1`` or ``""``."""
        parts = []
        if self.epoch is not None:
            parts.append(f"epoch {self.epoch}")
        if self.batch is not None:
            text = f"batch {self.batch}"
            if self.samples is not None:
                first, last = self.samples[0], self.samples[1] - 1
                text += f" (sample {first})" if first == last else f" (samples {first}-{last})"
            parts.append(text)
        if self.layer is not None:
            parts.append(f"parameter {self.layer}")
        return ", ".join(parts)


@dataclass
class Report:
    """Everything one comparison found.

    ``names`` are the two sides' labels (``a`` first: the one whose weights are
    copied into ``b``); ``losses_a``/``losses_b`` their per-epoch training
    losses; ``epoch_seconds`` the wall time of each of their training epochs
    (``None`` for a side that reports no progress, or whose epochs ran beside other work); ``timings`` is filled by
    :mod:`compare.bench.timing` when asked for; ``accepted`` lists the
    conventions (:mod:`compare.conventions`) under which a failing pair was
    replayed and found equivalent.
    """

    names: tuple[str, str]
    dtype: str
    checks: list[Check] = field(default_factory=list)
    losses_a: list[float] = field(default_factory=list)
    losses_b: list[float] = field(default_factory=list)
    localisation: Localisation | None = None
    config: dict[str, Any] = field(default_factory=dict)
    epoch_seconds: tuple[list[float] | None, list[float] | None] | None = None
    timings: Any = None
    accepted: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """``True`` when there is at least one check and every check passed."""
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def equivalent(self) -> bool:
        """Every check passed, or the pair differs only by the :attr:`accepted` conventions."""
        return self.passed or bool(self.accepted)

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def check(self, name: str) -> Check:
        """The check called ``name``."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check named {name!r}; checks are {[c.name for c in self.checks]}")
