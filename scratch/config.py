"""One frozen, validated description of a network: :class:`MLPConfig`.

``scratch.MLP`` and ``keras_equiv.KerasMLP`` are both built from it, so the
same configuration gives the same network on both sides. Saving, loading,
``repr``, the command line's choices and the report's header all read its
fields: adding a field is a change in this file alone (and in whatever
implements what the field means).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import validation as check
from .activations import ACTIVATIONS
from .losses import LOSSES
from .optimizers import OPTIMIZERS, optimizer_config, optimizer_spec

INITS = ("uniform", "glorot_uniform")
DTYPES = ("float32", "float64")


def _field(default: Any, flag: str, kind: str, help: str, choices: Callable[[], Sequence[str]] | None = None,
           optional: bool = False) -> Any:
    """A config field that the command line offers as ``flag``.

    ``kind`` says how the option is read: ``"int"``, ``"ints"`` (``5,3``),
    ``"names"`` (``relu,sigmoid``), ``"flag"`` (``--x/--no-x``) or
    ``"choice"``; ``choices`` gives the allowed names from a registry. An
    ``optional`` field is passed to other implementations' constructors only
    when it differs from its default, so a class written before it existed
    still builds.
    """
    metadata = {"flag": flag, "kind": kind, "help": help, "choices": choices, "optional": optional}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    """The architecture and training set-up of a fully connected network.

    Parameters
    ----------
    num_inputs : int
        Width of each input sample.
    hidden_layers : sequence of int
        Width of each hidden layer; ``()`` for none.
    num_outputs : int
        Width of each output.
    activation : str or sequence of str
        A name of :data:`scratch.activations.ACTIVATIONS` for every Dense
        layer, or one name per Dense layer. Stored as one name per layer.
    use_bias : bool
        Give each Dense layer a bias vector (starts at zero). The seed had none.
    dtype : {"float64", "float32"}
        The dtype of weights, activations and all arithmetic.
    init : {"uniform", "glorot_uniform"}
        ``"uniform"`` is the seed's ``U[0, 1)``; ``"glorot_uniform"`` is Keras's
        default ``U(-r, r)`` with ``r = sqrt(6 / (n_in + n_out))``.
    seed : int or None
        Seed of the initial weights (``np.random.default_rng(seed)``).
    loss : str
        A name of :data:`scratch.losses.LOSSES`: ``"mse"`` is Keras's mean
        squared error, ``"seed"`` the seed's ``1/2 sum (t - o)^2`` per sample.
    optimizer : str or dict
        A name of :data:`scratch.optimizers.OPTIMIZERS` or a dict ``{"name":
        ..., **Keras's arguments}`` (``{"name": "adam", "beta_1": 0.8}``), plus
        the scratch-only ``hyperparameter_dtype`` of ``sgd`` and ``adam``.
        Stored with every argument filled in; ``repr`` shows only those that
        differ from the defaults.
    crossentropy_from_logits : bool
        After a sigmoid or softmax output, compute the cross-entropies from
        the output layer's ``z``, as Keras on TensorFlow does (see
        :mod:`scratch.losses`); ``False``: from the clipped probabilities.
    """

    num_inputs: int = 3
    hidden_layers: tuple[int, ...] = _field((3, 3), "--hidden", "ints", "hidden layer sizes, e.g. 5,3; '' for none")
    num_outputs: int = 2
    activation: tuple[str, ...] | str = _field("sigmoid", "--activation", "names", "one for all Dense layers or one "
                                               "per layer", choices=lambda: sorted(ACTIVATIONS))
    use_bias: bool = _field(False, "--bias", "flag", "give each Dense layer a bias vector")
    dtype: str = _field("float64", "--dtype", "choice", "dtype of weights and arithmetic", choices=lambda: DTYPES)
    init: str = _field("uniform", "--init", "choice", "initial weights: the seed's U[0,1) or Keras's glorot_uniform",
                       choices=lambda: INITS)
    seed: int | None = _field(None, "--seed", "int", "seed of the initial weights (and of generated data)")
    loss: str = _field("mse", "--loss", "choice", "Keras's mse, or the seed's ½·Σ(t−o)² per sample",
                       choices=lambda: sorted(LOSSES))
    optimizer: Mapping[str, Any] | str = _field("sgd", "--optimizer", "choice", "the optimizer, with Keras's "
                                                "defaults", choices=lambda: sorted(OPTIMIZERS), optional=True)
    crossentropy_from_logits: bool = _field(True, "--crossentropy-from-logits", "flag", "after a sigmoid or softmax "
                                            "output, compute cross-entropies from the logits z as Keras on "
                                            "TensorFlow does (--no-...: from clipped probabilities, as on JAX and "
                                            "PyTorch)", optional=True)

    def __post_init__(self) -> None:
        sizes = check.check_architecture(self.num_inputs, self.hidden_layers, self.num_outputs)
        for name in ("use_bias", "crossentropy_from_logits"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        normalised = dict(
            num_inputs=sizes[0],
            hidden_layers=tuple(sizes[1:-1]),
            num_outputs=sizes[-1],
            activation=tuple(check.check_activations(self.activation, len(sizes) - 1, sorted(ACTIVATIONS))),
            dtype=check.check_dtype(self.dtype, DTYPES).name,
            init=check.check_choice("init", self.init, INITS),
            seed=check.check_optional_seed("seed", self.seed),
            loss=check.check_choice("loss", self.loss, sorted(LOSSES)),
            optimizer=optimizer_config(self.optimizer),
        )
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> MLPConfig:
        """An ``MLPConfig`` given as one, or from the constructor's arguments (``MLP(2, [5], 1, seed=0)``)."""
        if len(args) == 1 and not kwargs and isinstance(args[0], MLPConfig):
            return args[0]
        try:
            return cls(*args, **kwargs)
        except TypeError as error:
            if "argument" in str(error) and "__init__" in str(error):  # an unknown or repeated keyword
                raise TypeError(f"{str(error).replace('MLPConfig.__init__()', 'MLP')}; "
                                f"the arguments are {', '.join(cls.field_names())}") from None
            raise

    @classmethod
    def field_names(cls) -> list[str]:
        """The fields, in order."""
        return [field.name for field in dataclasses.fields(cls)]

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        """The fields a command line offers (those with a ``flag`` in their metadata)."""
        return [field for field in dataclasses.fields(cls) if "flag" in field.metadata]

    @property
    def layer_sizes(self) -> list[int]:
        """``[num_inputs, *hidden_layers, num_outputs]``."""
        return [self.num_inputs, *self.hidden_layers, self.num_outputs]

    @property
    def np_dtype(self) -> np.dtype:
        """:attr:`dtype` as a NumPy dtype."""
        return np.dtype(self.dtype)

    def replace(self, **changes: Any) -> MLPConfig:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-ready values (lists for tuples)."""
        values = {name: getattr(self, name) for name in self.field_names()}
        return values | {"hidden_layers": list(self.hidden_layers), "activation": list(self.activation),
                         "optimizer": dict(self.optimizer)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MLPConfig:
        """The inverse of :meth:`to_dict`; unknown keys are refused."""
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"unknown MLPConfig fields {unknown}; the fields are {cls.field_names()}")
        return cls(**values)

    def arguments(self) -> str:
        """The constructor call's arguments, as ``repr`` shows them: ``2, [5], 1, activation=...``.

        Optional fields (see :func:`_field`) are shown only when they differ from their default.
        """
        head = f"{self.num_inputs}, {list(self.hidden_layers)}, {self.num_outputs}"
        default = MLPConfig(self.num_inputs, self.hidden_layers, self.num_outputs).to_dict()
        shown = {}
        for field in self.options()[1:]:  # after hidden_layers
            value = self.to_dict()[field.name]
            if not (field.metadata["optional"] and value == default[field.name]):
                shown[field.name] = value
        if len(set(shown["activation"])) == 1:
            shown["activation"] = shown["activation"][0]
        if "optimizer" in shown:
            shown["optimizer"] = optimizer_spec(shown["optimizer"])
        return head + "".join(f", {name}={value!r}" for name, value in shown.items())


class Configured:
    """Gives an object holding ``self.config`` the config's fields as read-only attributes.

    ``mlp.num_inputs`` is ``mlp.config.num_inputs``, and so on for every field
    and ``layer_sizes``, so both implementations expose the same names.
    """

    config: MLPConfig

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails, i.e. for the config's fields
        if name in _FORWARDED and "config" in self.__dict__:
            return getattr(self.__dict__["config"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.arguments()})"


_FORWARDED = frozenset([*MLPConfig.field_names(), "layer_sizes"]) - {"dtype"}

