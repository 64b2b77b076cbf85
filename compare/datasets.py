"""The data sets the command can compare on: ``sum``, ``xor``, ``digits``, ``moons``, ``csv:PATH``.

Every loader returns ``(x, y)`` as float arrays of the requested dtype, one
sample per row, and raises :class:`DatasetError` (one clear line) for
anything the user can fix. The classification sets (``digits``, ``moons``)
shape their targets for the loss: one-hot rows (or one 0/1 column for two
classes with ``binary_crossentropy``), or integer labels of shape ``(n,)``
for ``sparse_categorical_crossentropy`` (``targets="labels"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scratch.data import sum_dataset

Array = np.ndarray
NAMES = ("sum", "xor", "digits", "moons", "csv:PATH")
#: The number of classes of each classification set (the outputs a network needs for it).
CLASSES = {"digits": 10, "moons": 2}


class DatasetError(ValueError):
    """A data set that cannot be loaded; the message says why in one line."""


def load(spec: str, *, samples: int | None = None, seed: int = 0, dtype: str = "float64",
         target_columns: Sequence[str] | None = None, targets: str = "values") -> tuple[Array, Array]:
    """Load the data set named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"sum"`` (the seed's a+b task, 1000 samples by default), ``"xor"``
        (the 4 points, cycled to ``samples`` if given), ``"digits"``
        (scikit-learn's bundled 8×8 digits, pixels scaled to [0, 1], one-hot
        targets) or ``"csv:PATH"``.
    samples : int, optional
        Keep the first ``samples`` samples (``sum`` draws exactly that many).
    seed : int
        Seed of the ``sum`` data.
    dtype : str
        dtype of the returned arrays.
    target_columns : list of str, optional
        For CSV: the target columns (default: the last column).
    targets : str
        The loss's target kind (:data:`scratch.losses.TARGET_KINDS`): how
        ``digits`` and ``moons`` give their classes.
    """
    if samples is not None and samples < 1:
        raise DatasetError(f"--samples must be >= 1, got {samples}")
    if spec == "sum":
        return sum_dataset(1000 if samples is None else samples, seed=seed, dtype=dtype)
    if spec == "xor":
        x, y = xor_dataset(dtype)
    elif spec == "digits":
        x, labels = digits_dataset(dtype)
        y = class_targets(labels, 10, targets, dtype)
    elif spec == "moons":
        x, labels = moons_dataset(1000 if samples is None else samples, seed, dtype)
        y = class_targets(labels, 2, targets, dtype)
    elif spec.startswith("csv:"):
        x, y = csv_dataset(spec[4:], target_columns, dtype)
    else:
        raise DatasetError(f"unknown dataset {spec!r}; choose one of {', '.join(NAMES)}")
    if target_columns and not spec.startswith("csv:"):
        raise DatasetError("--target-columns only applies to --dataset csv:PATH")
    return _first(x, y, samples)


def _first(x: Array, y: Array, samples: int | None) -> tuple[Array, Array]:
    """The first ``samples`` rows (cycling when more are asked for than there are)."""
    if samples is None:
        return x, y
    rows = np.arange(samples) % len(x)
    return x[rows], y[rows]


def xor_dataset(dtype: str = "float64") -> tuple[Array, Array]:
    """The four XOR points: ``x`` in ``{0,1}^2``, ``y = x_0 xor x_1``."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array([[0], [1], [1], [0]], dtype=dtype)
    return x, y


def class_targets(labels: Array, num_classes: int, kind: str, dtype: str) -> Array:
    """Integer ``labels`` as the loss wants them: labels ``(n,)``, or one-hot rows (one 0/1 column for 2 classes
    when the loss takes probabilities, i.e. ``binary_crossentropy`` on one sigmoid output)."""
    if kind == "labels":
        return labels.astype(dtype)
    if num_classes == 2 and kind == "probabilities":
        return labels.reshape(-1, 1).astype(dtype)
    return np.eye(num_classes, dtype=dtype)[labels]


def moons_dataset(samples: int, seed: int = 0, dtype: str = "float64") -> tuple[Array, Array]:
    r"""Two interleaving half circles (scikit-learn's ``make_moons``, micrograd's demo data), noise 0.1.

    Class 0: :math:`(\cos t, \sin t)`; class 1: :math:`(1 - \cos t, \frac12 - \sin t)`, ``t`` in
    ``[0, π]``; returns ``x`` of shape ``(samples, 2)`` and the integer labels.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % 2
    t = rng.uniform(0, np.pi, samples)
    x = np.where(labels[:, None] == 0, np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    return (x + rng.normal(0, 0.1, x.shape)).astype(dtype), labels


def digits_dataset(dtype: str = "float64") -> tuple[Array, Array]:
    """scikit-learn's bundled digits: 1797 samples of 64 pixels in [0, 1] and their labels 0-9."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetError(
            "the digits dataset needs scikit-learn: pip install 'scratch-vs-keras[digits]'"
        ) from None
    digits = load_digits()
    return (digits.data / 16.0).astype(dtype), digits.target


def csv_dataset(path: str, target_columns: Sequence[str] | None, dtype: str = "float64") -> tuple[Array, Array]:
    """Read a CSV with a header row; ``target_columns`` (default: the last) are the targets."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise DatasetError(f"cannot read CSV {path!r}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DatasetError(f"cannot read CSV {path!r}: {str(error).splitlines()[0]}") from None
    if frame.shape[1] < 2 or len(frame) == 0:
        raise DatasetError(f"CSV {path!r} needs a header row, at least 2 columns and 1 data row")
    targets = list(target_columns) if target_columns else [str(frame.columns[-1])]
    missing = [c for c in targets if c not in frame.columns]
    if missing:
        raise DatasetError(f"CSV {path!r} has no column {', '.join(map(repr, missing))}; "
                           f"its columns are {', '.join(map(str, frame.columns))}")
    inputs = [c for c in frame.columns if c not in targets]
    if not inputs:
        raise DatasetError(f"CSV {path!r}: every column is a target; no input columns are left")
    _require_numeric(frame, path)
    return frame[inputs].to_numpy(dtype=dtype), frame[targets].to_numpy(dtype=dtype)


def _require_numeric(frame: object, path: str) -> None:
    """Refuse non-numeric columns and missing values, naming them."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DatasetError(f"CSV {path!r}: non-numeric column(s) {', '.join(bad)}; only numbers can be learned")
    empty = [str(c) for c in frame.columns if frame[c].isna().any()]
    if empty:
        raise DatasetError(f"CSV {path!r}: missing values in column(s) {', '.join(empty)}")
    infinite = [str(c) for c in frame.columns if np.isinf(frame[c].to_numpy(dtype=float)).any()]
    if infinite:
        raise DatasetError(f"CSV {path!r}: infinite values in column(s) {', '.join(infinite)}")
