r"""Optimizers: objects that turn gradients into weight updates, with explicit state.

An optimizer updates the parameters in place, in ``get_weights()`` order
(``[W0, (b0,) W1, (b1,) ...]``), and counts its steps in ``iterations``, as a
Keras optimizer does. Its *state* is everything besides the weights that the
next step depends on: the step count and, for optimizers that have them, one
slot array per parameter (a momentum, a velocity). :meth:`Optimizer.get_state`
returns it as a plain dict, ``{"iterations": int, "<slot>": [array per
parameter], ...}``, named as Keras names it, so that a replay can restart an
implementation exactly where it was.

==========  ====================================================  ========
name        update of each parameter ``w`` with gradient ``g``    slots
==========  ====================================================  ========
sgd         :math:`w \leftarrow w - \eta\, g`                     none
==========  ====================================================  ========

The learning rate :math:`\eta` is an argument of each step (``train`` takes it).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

Array = np.ndarray
#: ``{"iterations": int, "<slot>": [one array per parameter], ...}``
OptimizerState = dict[str, Any]


class Optimizer:
    """The base of every optimizer: the step count and the state's plumbing.

    Subclasses set :attr:`name`, :attr:`slots` and :attr:`defaults` and write
    :meth:`update`, the rule for one parameter.
    """

    name: ClassVar[str]
    #: Names of the per-parameter state arrays (Keras's names).
    slots: ClassVar[tuple[str, ...]] = ()
    #: Keras's constructor arguments and their defaults.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        self.options = {**self.defaults, **options}
        self.iterations = 0
        self.slot_arrays: dict[str, list[Array]] = {}

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., **options}``: what rebuilds this optimizer."""
        return {"name": self.name, **self.options}

    def apply(self, parameters: Sequence[Array], gradients: Sequence[Array], learning_rate: float) -> None:
        """One step: update every parameter in place from its gradient, then count the step."""
        if self.slots and not self.slot_arrays:
            self.slot_arrays = {slot: [np.zeros_like(p) for p in parameters] for slot in self.slots}
        for index, (parameter, gradient) in enumerate(zip(parameters, gradients)):
            self.update(index, parameter, gradient, learning_rate)
        self.iterations += 1

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        """Update parameter number ``index`` in place (and its slots, ``self.slot_arrays[slot][index]``)."""
        raise NotImplementedError

    def get_state(self) -> OptimizerState:
        """Copies of the step count and the slot arrays."""
        return {"iterations": self.iterations} | {
            slot: [array.copy() for array in arrays] for slot, arrays in self.slot_arrays.items()
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state`; checked whole before anything changes."""
        if not isinstance(state, Mapping) or "iterations" not in state:
            raise TypeError(f"state must be a dict with 'iterations' and the slots {list(self.slots)}, got {state!r}")
        iterations = state["iterations"]
        if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 0:
            raise ValueError(f"state['iterations'] must be an int >= 0, got {iterations!r}")
        unknown = set(state) - {"iterations", *self.slots}
        if unknown:
            raise ValueError(f"state has entries {sorted(unknown)} that {self.name} does not keep")
        slot_arrays = {slot: [np.array(a, copy=True) for a in state[slot]] for slot in self.slots if slot in state}
        self.iterations = int(iterations)
        self.slot_arrays = slot_arrays


class SGD(Optimizer):
    r"""Plain stochastic gradient descent: :math:`w \leftarrow w - \eta\, g`."""

    name = "sgd"

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        parameter -= learning_rate * gradient


#: Every optimizer, by Keras's name.
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD,)}


def optimizer_config(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """The full configuration ``{"name": ..., **options}`` of an optimizer named or described by ``spec``.

    ``spec`` is a name (``"sgd"``) or a dict with ``"name"`` and Keras's
    argument names; missing arguments take Keras's defaults.

    Raises
    ------
    ValueError
        For an unknown name or argument (the message lists the known ones).
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise TypeError(f"optimizer must be a name or a dict with a 'name', got {spec!r}")
    name = spec["name"]
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))}; got {name!r}")
    cls = OPTIMIZERS[name]
    options = {key: value for key, value in spec.items() if key != "name"}
    unknown = sorted(set(options) - set(cls.defaults))
    if unknown:
        known = ", ".join(cls.defaults) or "none"
        raise ValueError(f"optimizer {name!r} has no argument {', '.join(map(repr, unknown))} (known: {known})")
    return {"name": name, **cls.defaults, **options}


def make_optimizer(spec: str | Mapping[str, Any]) -> Optimizer:
    """A fresh optimizer (no steps taken) from a name or a config dict (see :func:`optimizer_config`)."""
    config = optimizer_config(spec)
    return OPTIMIZERS[config.pop("name")](**config)
