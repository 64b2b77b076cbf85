r"""Optimizers: objects that turn gradients into weight updates, with explicit state.

An optimizer updates the parameters in place, in ``get_weights()`` order
(``[W0, (b0,) W1, (b1,) ...]``), and counts its steps in ``iterations``, as a
Keras optimizer does. Its *state* is everything besides the weights that the
next step depends on: the step count and, for optimizers that have them, one
slot array per parameter (a momentum, a velocity). :meth:`Optimizer.get_state`
returns it as a plain dict, ``{"iterations": int, "<slot>": [array per
parameter], ...}``, named as Keras names it, so that a replay can restart an
implementation exactly where it was.

The update of each parameter ``w`` with gradient ``g`` and learning rate
:math:`\eta` (an argument of each step: ``train`` takes it), exactly as Keras 3
computes it (``keras/src/optimizers/{sgd,adam,rmsprop}.py``, ``update_step``):

==========================  =========================================================  ==========================
optimizer                   update                                                     slots
==========================  =========================================================  ==========================
``sgd``                     :math:`w \leftarrow w - \eta g`                            none
``sgd``, momentum μ > 0     :math:`m \leftarrow \mu m - \eta g`;                       ``momentum``
                            :math:`w \leftarrow w + m`
``sgd``, ``nesterov``       :math:`m \leftarrow \mu m - \eta g`;                       ``momentum``
                            :math:`w \leftarrow w + \mu m - \eta g` (the new ``m``)
``adam``                    :math:`t = \text{iterations} + 1`,                         ``momentum``, ``velocity``
                            :math:`\alpha = \eta \sqrt{1-\beta_2^t} / (1-\beta_1^t)`;
                            :math:`m \leftarrow m + (g - m)(1 - \beta_1)`;
                            :math:`v \leftarrow v + (g^2 - v)(1 - \beta_2)`;
                            :math:`w \leftarrow w - \alpha m / (\sqrt{v} + \epsilon)`
``adam``, ``amsgrad``       as above with :math:`\hat v \leftarrow \max(\hat v, v)`    ``+ velocity_hat``
                            in place of ``v`` in the last line
``rmsprop``                 :math:`v \leftarrow \rho v + (1-\rho) g^2`;                ``velocity``
                            :math:`\Delta = \eta g / \sqrt{v + \epsilon}`;
                            :math:`w \leftarrow w - \Delta`
``rmsprop``, ``centered``   :math:`\bar g \leftarrow \rho \bar g + (1-\rho) g`;          ``+ average_gradient``
                            :math:`\Delta = \eta g / \sqrt{v - \bar g^2 + \epsilon}`
``rmsprop``, momentum μ>0   :math:`m \leftarrow \mu m + \Delta`;                       ``+ momentum``
                            :math:`w \leftarrow w - m`
==========================  =========================================================  ==========================

Keras's Adam is not the paper's Algorithm 1: it folds both bias corrections
into :math:`\alpha` and adds :math:`\epsilon` to :math:`\sqrt v`, not to
:math:`\sqrt{\hat v}` (its :math:`\epsilon` is the paper's
:math:`\hat\epsilon`). Keras keeps a slot only when the arguments need it
(SGD's ``momentum`` only for μ ≠ 0, ...); so does :meth:`Optimizer.kept_slots`.

Hyperparameters rounded through float32
---------------------------------------
On the TensorFlow backend, ``ops.cast(0.9, "float64")`` first turns the
Python float into a float32 tensor, then widens it: 0.8999999761581421
(tensorflow#35938). Keras's SGD casts ``momentum`` that way, and Adam casts
``beta_1`` and ``beta_2`` before raising them to the power ``t``; the rest
(Adam's :math:`1-\beta`, every ``epsilon``, all of RMSprop's arguments) is
converted straight to the variable's dtype. So a float64 Keras model trains
with a momentum of 0.8999999761581421. The scratch optimizers do the same by
default, where Keras does it, so that float64 runs agree to the last digits.
The scratch-only argument ``hyperparameter_dtype`` of ``sgd`` and ``adam``
says how: ``"float32"`` (the default, as TensorFlow) or ``None`` (the exact
Python value, as the formulas above read). In a float32 model the two are the
same. ``keras_equiv`` does not pass it to Keras, which always rounds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .flat import flat_views, shaped_views
from .validation import check_optimizer_state

Array = np.ndarray
#: ``{"iterations": int, "<slot>": [one array per parameter], ...}``
OptimizerState = dict[str, Any]

#: The scratch-only argument saying whether hyperparameters are rounded through float32 (see the module doc).
HYPERPARAMETER_DTYPE = "hyperparameter_dtype"
HYPERPARAMETER_DTYPES = ("float32", None)
#: Arguments that only the scratch optimizers know: Keras must not be given them.
SCRATCH_ONLY_ARGUMENTS = (HYPERPARAMETER_DTYPE,)


@dataclass(frozen=True)
class Interval:
    """The allowed values of a float argument: ``[low, high]``, or ``[low, high)`` without ``high``."""

    low: float
    high: float
    high_included: bool = True

    def __contains__(self, value: float) -> bool:
        return self.low <= value and (value <= self.high if self.high_included else value < self.high)

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}{']' if self.high_included else ')'}"


UNIT = Interval(0.0, 1.0)
BELOW_ONE = Interval(0.0, 1.0, high_included=False)
NON_NEGATIVE = Interval(0.0, math.inf, high_included=False)


class Optimizer:
    """The base of every optimizer: its arguments, the step count and the state's plumbing.

    Subclasses set :attr:`name`, :attr:`slots`, :attr:`defaults` and
    :attr:`bounds`, and write the rule: :meth:`step`, element by element on
    any arrays (every optimizer here), or else :meth:`update`, for one
    parameter at a time.

    The slots of all the parameters lie end to end in one flat array per slot
    (:mod:`scratch.flat`); :attr:`slot_arrays` holds the views of it, one per
    parameter, of its shape. So :meth:`apply_flat` can run an element-wise
    rule once on every parameter laid end to end (``scratch.MLP``'s flat
    arrays): the same numbers, bit for bit, as one :meth:`update` per
    parameter, in two NumPy calls fewer per parameter.
    """

    name: ClassVar[str]
    #: Names of every per-parameter state array it may keep (Keras's names).
    slots: ClassVar[tuple[str, ...]] = ()
    #: Keras's constructor arguments that are supported, with Keras's defaults.
    defaults: ClassVar[dict[str, Any]] = {}
    #: The interval each float argument must lie in.
    bounds: ClassVar[dict[str, Interval]] = {}
    #: The arguments that TensorFlow rounds through float32 (see the module doc).
    rounded_hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        self.options = self.checked_options(options)
        self.iterations = 0
        #: The parameters' shapes, once built (:meth:`build`).
        self.shapes: list[tuple[int, ...]] | None = None
        #: Each kept slot: one flat array (all parameters end to end), and its views, one per parameter.
        self.flat_slots: dict[str, Array] = {}
        self.slot_arrays: dict[str, list[Array]] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled or deep-copied: the slots' views per parameter are made views of the flat slots again."""
        self.__dict__.update(state)
        self.slot_arrays = {slot: shaped_views(flat, self.shapes) for slot, flat in self.flat_slots.items()}

    # ------------------------------------------------------------ arguments
    @classmethod
    def arguments(cls) -> dict[str, Any]:
        """Every argument it takes with its default: Keras's, then the scratch-only ones."""
        scratch_only = {HYPERPARAMETER_DTYPE: "float32"} if cls.rounded_hyperparameters else {}
        return {**cls.defaults, **scratch_only}

    @classmethod
    def checked_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Every argument, from ``options`` or its default, checked: floats as floats, flags as bools.

        Raises
        ------
        ValueError
            For an unknown argument (the message lists the known ones) or a value out of its bounds.
        TypeError
            For a value of the wrong type.
        """
        arguments = cls.arguments()
        unknown = sorted(set(options) - set(arguments))
        if unknown:
            known = ", ".join(arguments) or "none"
            raise ValueError(f"optimizer {cls.name!r} has no argument {', '.join(map(repr, unknown))} "
                             f"(known: {known})")
        return {name: cls._checked_value(name, options.get(name, default)) for name, default in arguments.items()}

    @classmethod
    def _checked_value(cls, name: str, value: Any) -> Any:
        label = f"optimizer {cls.name!r} argument {name}"
        if name == HYPERPARAMETER_DTYPE:
            if value not in HYPERPARAMETER_DTYPES:
                raise ValueError(f"{label} must be 'float32' or None, got {value!r}")
            return value
        if isinstance(cls.defaults[name], bool):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{label} must be True or False, got {value!r}")
            return bool(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{label} must be a real number, got {value!r}")
        interval = cls.bounds.get(name, NON_NEGATIVE)
        if not math.isfinite(value) or value not in interval:
            raise ValueError(f"{label} must be a finite number in {interval}, got {value!r}")
        return float(value)

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., **options}``: what rebuilds this optimizer."""
        return {"name": self.name, **self.options}

    def hyperparameter(self, name: str, dtype: np.dtype) -> np.floating:
        """The argument ``name`` as a scalar of ``dtype``, rounded through float32 first where TensorFlow does."""
        value = self.options[name]
        if name in self.rounded_hyperparameters and self.options[HYPERPARAMETER_DTYPE] == "float32":
            value = np.float32(value)
        return dtype.type(value)

    # --------------------------------------------------------------- steps
    def kept_slots(self) -> tuple[str, ...]:
        """The slots this optimizer keeps with its arguments (Keras creates some only when needed)."""
        return self.slots

    def build(self, parameters: Sequence[Array]) -> None:
        """Create every kept slot: zeros of every parameter's shape and dtype, end to end in one flat array."""
        self.shapes = [p.shape for p in parameters]
        dtype = parameters[0].dtype if parameters else np.dtype("float64")
        views = {slot: flat_views(self.shapes, dtype) for slot in self.kept_slots()}
        self.flat_slots = {slot: flat for slot, (flat, _) in views.items()}
        self.slot_arrays = {slot: arrays for slot, (_, arrays) in views.items()}

    def apply(self, parameters: Sequence[Array], gradients: Sequence[Array], learning_rate: float) -> None:
        """One step: update every parameter in place from its gradient, then count the step."""
        if self.kept_slots() and not self.slot_arrays:
            self.build(parameters)
        for index, (parameter, gradient) in enumerate(zip(parameters, gradients)):
            self.update(index, parameter, gradient, learning_rate)
        self.iterations += 1

    def apply_flat(self, parameters: Array, gradients: Array, learning_rate: float) -> None:
        """:meth:`apply` on the parameters and gradients laid end to end (1-D, in :meth:`build`'s order).

        An element-wise rule (:meth:`step`) runs once on the flat arrays; a
        subclass that writes :meth:`update` instead gets one call per
        parameter, on views of its shape.
        """
        if self.shapes is None:
            raise RuntimeError(f"{self.describe()} must be built on the parameters before apply_flat")
        if type(self).update is not Optimizer.update:
            self.apply(shaped_views(parameters, self.shapes), shaped_views(gradients, self.shapes), learning_rate)
            return
        self.step(parameters, gradients, learning_rate, self.flat_slots)
        self.iterations += 1

    def update(self, index: int, parameter: Array, gradient: Array, learning_rate: float) -> None:
        """Update parameter number ``index`` in place, and its slots: :meth:`step` on that parameter alone."""
        self.step(parameter, gradient, learning_rate, {slot: views[index] for slot, views in self.slot_arrays.items()})

    def step(self, parameter: Array, gradient: Array, learning_rate: float, slots: Mapping[str, Array]) -> None:
        """The rule, element by element: update ``parameter`` and its ``slots`` (arrays of its shape) in place.

        Element-wise, so ``parameter`` may be one parameter or all of them end to end.
        """
        raise NotImplementedError

    # --------------------------------------------------------------- state
    def describe(self) -> str:
        """``adam (amsgrad=True)``: the name and the arguments that differ from the defaults, for messages."""
        changed = [f"{k}={v!r}" for k, v in self.options.items() if v != self.arguments()[k]]
        return self.name + (f" ({', '.join(changed)})" if changed else "")

    def get_state(self) -> OptimizerState:
        """Copies of the step count and the slot arrays."""
        return {"iterations": self.iterations} | {
            slot: [array.copy() for array in arrays] for slot, arrays in self.slot_arrays.items()
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`get_state`; checked whole before anything changes.

        The state must hold exactly the kept slots, each a list of one array
        per parameter, of that parameter's shape (an optimizer with slots must
        be built first: :meth:`build`, or one step).
        """
        if self.kept_slots() and not self.slot_arrays:
            raise RuntimeError(f"{self.describe()} keeps slots {list(self.kept_slots())}: build it on the "
                               "parameters before setting its state")
        reference = next(iter(self.slot_arrays.values()), [])
        shapes = [array.shape for array in reference]
        dtype = reference[0].dtype if reference else np.dtype("float64")
        self.iterations, slot_arrays = check_optimizer_state(state, self.kept_slots(), shapes, dtype, self.describe())
        for slot, arrays in slot_arrays.items():
            for view, array in zip(self.slot_arrays[slot], arrays):
                view[...] = array  # in place: the views stay those of the flat slot


class SGD(Optimizer):
    r"""Stochastic gradient descent, with (Nesterov) momentum when ``momentum > 0``.

    .. math::

        \text{momentum} = 0:\quad & w \leftarrow w - \eta g \\
        \text{momentum} = \mu > 0:\quad & m \leftarrow \mu m - \eta g, \quad w \leftarrow w + m \\
        \text{nesterov}:\quad & m \leftarrow \mu m - \eta g, \quad w \leftarrow w + \mu m - \eta g

    The velocity ``m`` already holds the learning rate: changing :math:`\eta`
    between steps scales only the new gradient's share, not the stored
    momentum. (PyTorch keeps :math:`v \leftarrow \mu v + g` and steps
    :math:`w \leftarrow w - \eta v`: the same while :math:`\eta` is constant,
    different when it changes.) μ is rounded through float32 as TensorFlow does
    (module doc).
    """

    name = "sgd"
    slots = ("momentum",)
    defaults: ClassVar[dict[str, Any]] = {"momentum": 0.0, "nesterov": False}
    bounds: ClassVar[dict[str, Interval]] = {"momentum": UNIT}
    rounded_hyperparameters = ("momentum",)

    def kept_slots(self) -> tuple[str, ...]:
        return self.slots if self.options["momentum"] != 0 else ()

    def step(self, parameter: Array, gradient: Array, learning_rate: float, slots: Mapping[str, Array]) -> None:
        lr = parameter.dtype.type(learning_rate)
        if self.options["momentum"] == 0:
            parameter -= gradient * lr
            return
        mu = self.hyperparameter("momentum", parameter.dtype)
        m = slots["momentum"]
        lr_gradient = gradient * lr
        m *= mu
        m -= lr_gradient  # m = μ m - η g, updated in place: one pass less than m[...] = m * mu - η g
        if self.options["nesterov"]:
            parameter += m * mu - lr_gradient
        else:
            parameter += m


class Adam(Optimizer):
    r"""Adam, as Keras writes it (not the paper's Algorithm 1: ε outside the root, no corrected moments).

    .. math::

        t &= \text{iterations} + 1, \qquad
        \alpha = \eta \, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \\
        m &\leftarrow m + (g - m)(1 - \beta_1), \qquad v \leftarrow v + (g^2 - v)(1 - \beta_2) \\
        \hat v &\leftarrow \max(\hat v, v) \text{ and } v := \hat v \quad (\text{amsgrad only}) \\
        w &\leftarrow w - \frac{\alpha \, m}{\sqrt v + \epsilon}

    :math:`\beta_1^t` and :math:`\beta_2^t` use β rounded through float32 as
    TensorFlow does (module doc); :math:`1 - \beta` uses the exact value.
    """

    name = "adam"
    slots = ("momentum", "velocity", "velocity_hat")
    defaults: ClassVar[dict[str, Any]] = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    bounds: ClassVar[dict[str, Interval]] = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE}
    rounded_hyperparameters = ("beta_1", "beta_2")

    def kept_slots(self) -> tuple[str, ...]:
        return self.slots if self.options["amsgrad"] else self.slots[:2]

    def step(self, parameter: Array, gradient: Array, learning_rate: float, slots: Mapping[str, Array]) -> None:
        dtype = parameter.dtype
        t = dtype.type(self.iterations + 1)
        beta_1_power = self.hyperparameter("beta_1", dtype) ** t
        beta_2_power = self.hyperparameter("beta_2", dtype) ** t
        alpha = dtype.type(learning_rate) * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)

        m, v = slots["momentum"], slots["velocity"]
        m += (gradient - m) * dtype.type(1 - self.options["beta_1"])
        v += (gradient * gradient - v) * dtype.type(1 - self.options["beta_2"])
        if self.options["amsgrad"]:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        parameter -= m * alpha / (np.sqrt(v) + dtype.type(self.options["epsilon"]))


class RMSprop(Optimizer):
    r"""RMSprop: each step divided by a running root mean square of the gradients.

    .. math::

        v &\leftarrow \rho v + (1 - \rho) g^2 \\
        \bar g &\leftarrow \rho \bar g + (1 - \rho) g \quad (\text{centered only}) \\
        \Delta &= \frac{\eta g}{\sqrt{v + \epsilon}} \text{, or }
                  \frac{\eta g}{\sqrt{v - \bar g^2 + \epsilon}} \text{ centered} \\
        w &\leftarrow w - \Delta, \text{ or with momentum } \mu > 0:\
            m \leftarrow \mu m + \Delta, \ w \leftarrow w - m

    ε sits inside the root here, unlike Adam's. Nothing is rounded through
    float32: Keras multiplies by ρ and μ as Python floats.
    """

    name = "rmsprop"
    slots = ("velocity", "momentum", "average_gradient")
    defaults: ClassVar[dict[str, Any]] = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}
    bounds: ClassVar[dict[str, Interval]] = {"rho": UNIT, "momentum": UNIT}

    def kept_slots(self) -> tuple[str, ...]:
        kept = {"velocity": True, "momentum": self.options["momentum"] > 0,
                "average_gradient": self.options["centered"]}
        return tuple(slot for slot in self.slots if kept[slot])

    def step(self, parameter: Array, gradient: Array, learning_rate: float, slots: Mapping[str, Array]) -> None:
        dtype = parameter.dtype
        rho, one_minus_rho = dtype.type(self.options["rho"]), dtype.type(1 - self.options["rho"])
        epsilon = dtype.type(self.options["epsilon"])

        # Each slot is updated in place (v *= ρ; v += ...): one pass over it less than v[...] = ρ v + ...
        v = slots["velocity"]
        v *= rho
        v += one_minus_rho * (gradient * gradient)
        if self.options["centered"]:
            g_bar = slots["average_gradient"]
            g_bar *= rho
            g_bar += one_minus_rho * gradient
            denominator = v - g_bar * g_bar + epsilon
        else:
            denominator = v + epsilon
        increment = dtype.type(learning_rate) * gradient / np.sqrt(denominator)
        if self.options["momentum"] > 0:
            m = slots["momentum"]
            m *= dtype.type(self.options["momentum"])
            m += increment
            parameter -= m
        else:
            parameter -= increment


#: Every optimizer, by Keras's name.
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Adam, RMSprop)}


def optimizer_config(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """The full configuration ``{"name": ..., **arguments}`` of an optimizer named or described by ``spec``.

    ``spec`` is a name (``"adam"``) or a dict with ``"name"`` and Keras's
    argument names (``{"name": "sgd", "momentum": 0.9}``); missing arguments
    take Keras's defaults. Other Keras arguments (``weight_decay``,
    ``clipnorm``, ...) are not supported.

    Raises
    ------
    ValueError
        For an unknown name or argument (the message lists the known ones), or a value out of bounds.
    TypeError
        For a spec that is neither a name nor such a dict, or a value of the wrong type.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
        raise TypeError(f"optimizer must be a name or a dict with a 'name', got {spec!r}")
    name = spec["name"]
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(sorted(OPTIMIZERS))}; got {name!r}")
    options = {key: value for key, value in spec.items() if key != "name"}
    return {"name": name, **OPTIMIZERS[name].checked_options(options)}


def optimizer_spec(config: Mapping[str, Any]) -> str | dict[str, Any]:
    """The shortest spec that rebuilds ``config``: the name alone when every argument is the default.

    >>> optimizer_spec(optimizer_config("adam"))
    'adam'
    >>> optimizer_spec(optimizer_config({"name": "sgd", "momentum": 0.9}))
    {'name': 'sgd', 'momentum': 0.9}
    """
    full = optimizer_config(config)
    defaults = OPTIMIZERS[full["name"]].arguments()
    changed = {key: value for key, value in full.items() if key != "name" and value != defaults[key]}
    return {"name": full["name"], **changed} if changed else full["name"]


def make_optimizer(spec: str | Mapping[str, Any]) -> Optimizer:
    """A fresh optimizer (no steps taken) from a name or a config dict (see :func:`optimizer_config`)."""
    config = optimizer_config(spec)
    return OPTIMIZERS[config.pop("name")](**config)
