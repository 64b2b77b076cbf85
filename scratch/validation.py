"""Argument checks shared by every implementation of the comparison protocol.

Each check raises a ``TypeError`` or ``ValueError`` whose message starts with
the argument's name and says what is wrong, *before* the caller changes any
state. ``keras_equiv`` imports these same functions, so both sides refuse the
same bad input with the same words.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np


def check_layer_size(name: str, value: object) -> int:
    """Return ``value`` as an int if it is a positive integer (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r} of type {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def check_architecture(num_inputs: object, hidden_layers: object, num_outputs: object) -> list[int]:
    """Return the layer sizes ``[num_inputs, *hidden_layers, num_outputs]``."""
    sizes = [check_layer_size("num_inputs", num_inputs)]
    if isinstance(hidden_layers, (str, bytes)) or not isinstance(hidden_layers, Sequence):
        raise TypeError(f"hidden_layers must be a list of positive ints, got {hidden_layers!r}")
    sizes += [check_layer_size(f"hidden_layers[{i}]", h) for i, h in enumerate(hidden_layers)]
    sizes.append(check_layer_size("num_outputs", num_outputs))
    return sizes


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_activations(activation: object, num_layers: int, names: Sequence[str]) -> list[str]:
    """One activation name per Dense layer, from one name or a list of them (each one of ``names``)."""
    if isinstance(activation, str):
        return [check_choice("activation", activation, names)] * num_layers
    if not isinstance(activation, Sequence) or len(activation) != num_layers:
        raise ValueError(
            f"activation must be one name or a list of {num_layers} names "
            f"(one per Dense layer), got {activation!r}"
        )
    return [check_choice(f"activation[{i}]", a, names) for i, a in enumerate(activation)]


def check_dtype(dtype: object, names: Sequence[str]) -> np.dtype:
    """Return the NumPy dtype named ``dtype`` (a name or a dtype) if it is one of ``names``."""
    try:
        name = np.dtype(dtype).name  # type: ignore[arg-type]
    except TypeError:
        name = None
    if name not in names:
        raise ValueError(f"dtype must be one of {', '.join(names)}; got {dtype!r}")
    return np.dtype(name)


def _as_finite_array(name: str, value: object, dtype: np.dtype) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(dtype, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf")
    return array


def check_inputs(x: object, num_inputs: int, dtype: np.dtype) -> np.ndarray:
    """Return ``x`` as a finite array of ``dtype``, shape ``(num_inputs,)`` or ``(n, num_inputs)``.

    A 1-D ``x`` is one sample, a 2-D ``x`` a batch of samples (one per row).
    """
    inputs = _as_finite_array("x", x, dtype)
    if inputs.ndim not in (1, 2) or inputs.shape[-1] != num_inputs:
        raise ValueError(
            f"x must have shape ({num_inputs},) or (n, {num_inputs}) for this "
            f"network's {num_inputs} inputs, got shape {inputs.shape}"
        )
    if inputs.ndim == 2 and inputs.shape[0] == 0:
        raise ValueError("x has zero samples")
    return inputs


def check_targets(y: object, inputs: np.ndarray, num_outputs: int, dtype: np.dtype, kind: str = "values") -> np.ndarray:
    """Return ``y`` as a finite array the loss can use with these inputs.

    ``kind`` is the loss's target kind (:data:`scratch.losses.TARGET_KINDS`):

    - ``"values"``: exactly the outputs' shape, never broadcast: for a
      1-output network, ``y`` of shape ``(n,)`` would broadcast against
      outputs ``(n, 1)`` into an ``(n, n)`` loss, so it is refused with the
      reshape that fixes it;
    - ``"probabilities"``: the same, with every value in ``[0, 1]``;
    - ``"labels"``: integer class labels in ``[0, num_outputs)``, shape
      ``(n,)`` or ``(n, 1)`` (one label for one sample), returned as int64 of shape ``(n,)``.
    """
    if kind == "labels":
        return _check_labels(y, inputs, num_outputs)
    targets = _as_finite_array("y", y, dtype)
    expected = (num_outputs,) if inputs.ndim == 1 else (inputs.shape[0], num_outputs)
    if targets.shape != expected:
        hint = ""
        if inputs.ndim == 2 and targets.shape == (inputs.shape[0],) and num_outputs == 1:
            hint = (
                "; a 1-D y would broadcast silently against (n, 1) outputs, "
                "pass y.reshape(-1, 1) instead"
            )
        raise ValueError(f"y must have shape {expected} to match x and the outputs, got {targets.shape}{hint}")
    if kind == "probabilities" and not ((targets >= 0).all() and (targets <= 1).all()):
        raise ValueError("y must hold probabilities in [0, 1] for a cross-entropy loss (one-hot rows for "
                         f"categorical_crossentropy), got values from {targets.min()} to {targets.max()}")
    return targets


def _check_labels(y: object, inputs: np.ndarray, num_outputs: int) -> np.ndarray:
    """Integer class labels for ``sparse_categorical_crossentropy``, as int64 of shape ``(n,)``."""
    labels = _as_finite_array("y", y, np.dtype("float64"))
    count = 1 if inputs.ndim == 1 else inputs.shape[0]
    if labels.shape not in ((count,), (count, 1)) and not (inputs.ndim == 1 and labels.shape == ()):
        raise ValueError(f"y must hold one integer class label per sample, shape ({count},) or ({count}, 1), "
                         f"got shape {labels.shape}")
    if not (labels == np.round(labels)).all():
        raise ValueError("y must hold integer class labels for sparse_categorical_crossentropy, got non-integers")
    if labels.min() < 0 or labels.max() >= num_outputs:
        raise ValueError(f"y's class labels must be in [0, {num_outputs - 1}] for {num_outputs} outputs, "
                         f"got labels from {labels.min():g} to {labels.max():g}")
    return labels.astype(np.int64).reshape(count)


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_epochs(epochs: object) -> int:
    return check_int("epochs", epochs, 0)


def check_learning_rate(learning_rate: object) -> float:
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(f"learning_rate must be a real number, got {learning_rate!r}")
    if not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate}")
    return float(learning_rate)


def check_batch_size(batch_size: object) -> int:
    return check_int("batch_size", batch_size, 1)


def check_optional_seed(name: str, value: object) -> int | None:
    """``None``, or a seed: an int ``>= 0`` (``shuffle``: ``None`` keeps the sample order)."""
    return None if value is None else check_int(name, value, 0)


def check_weights(weights: object, shapes: Sequence[tuple[int, ...]], dtype: np.dtype,
                  name: str = "weights") -> list[np.ndarray]:
    """Return new weights as fresh arrays of ``dtype`` if count, shapes and values are right.

    ``name`` is what error messages call the list (``state['momentum']`` for an optimizer slot).
    """
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
        raise TypeError(f"{name} must be a list of {len(shapes)} arrays, got {type(weights).__name__}")
    if len(weights) != len(shapes):
        raise ValueError(f"{name} must be a list of {len(shapes)} arrays, got {len(weights)}")
    checked = []
    for i, (array, shape) in enumerate(zip(weights, shapes)):
        array = _as_finite_array(f"{name}[{i}]", array, dtype)
        if array.shape != tuple(shape):
            raise ValueError(f"{name}[{i}] must have shape {tuple(shape)}, got {array.shape}")
        checked.append(np.array(array, dtype=dtype, copy=True))
    return checked


def check_optimizer_state(state: object, slots: Sequence[str], shapes: Sequence[tuple[int, ...]], dtype: np.dtype,
                          owner: str) -> tuple[int, dict[str, list[np.ndarray]]]:
    """Return ``(iterations, {slot: fresh arrays})`` from an optimizer state, checked whole.

    ``state`` must be ``{"iterations": int >= 0, "<slot>": [one array per
    parameter], ...}`` with exactly the ``slots`` that ``owner`` (the
    optimizer, as named in messages) keeps, each array of its parameter's shape.
    """
    if not isinstance(state, Mapping) or "iterations" not in state:
        raise TypeError(f"state must be a dict with 'iterations' and the slots {list(slots)}, got {state!r}")
    iterations = check_int("state['iterations']", state["iterations"], 0)
    unknown = sorted(set(state) - {"iterations", *slots})
    if unknown:
        raise ValueError(f"state has entries {unknown} that {owner} does not keep (it keeps {list(slots)})")
    missing = [slot for slot in slots if slot not in state]
    if missing:
        raise ValueError(f"state lacks the slots {missing} that {owner} keeps")
    return iterations, {slot: check_weights(state[slot], shapes, dtype, f"state[{slot!r}]") for slot in slots}
