"""The data sets the command can compare on: ``sum``, ``xor``, ``digits``, ``moons``, ``csv:PATH``.

Every loader returns ``(x, y)`` as float arrays of the requested dtype, one
sample per row, and raises :class:`DatasetError` (one clear line) for
anything the user can fix, before any data is made: an option that does not
apply to the data set, a size this machine cannot hold. The classification
sets (``digits``, ``moons``) shape their targets for the loss: one-hot rows
(or one 0/1 column for two classes with ``binary_crossentropy``), or integer
labels of shape ``(n,)`` for ``sparse_categorical_crossentropy``
(``targets="labels"``).

``--samples`` larger than a file's rows (CSV, digits) is not repeated: every
row is used once and ``warn`` is told so. ``xor`` is the exception: its four
points are cycled to ``samples`` by definition.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

import numpy as np

from scratch.data import sum_dataset

Array = np.ndarray
NAMES = ("sum", "xor", "digits", "moons", "csv:PATH")
#: The widths of the generated data sets, known before any is made: name -> (inputs, outputs).
GENERATED = {"sum": (2, 1), "xor": (2, 1), "moons": (2, 2)}
#: The number of classes of each classification set (the outputs a network needs for it).
CLASSES = {"digits": 10, "moons": 2}
#: At or above this many samples the command says up front how big the run is.
LARGE_SAMPLES = 100_000
INTEGER = re.compile(r"[+-]?\d+")


class DatasetError(ValueError):
    """A data set that cannot be loaded; the message says why in one line."""


def load(spec: str, *, samples: int | None = None, seed: int = 0, dtype: str = "float64",
         target_columns: Sequence[str] | None = None, header: bool | None = None,
         warn: Callable[[str], None] | None = None, targets: str = "values") -> tuple[Array, Array]:
    """Load the data set named by ``spec``.

    Parameters
    ----------
    spec : str
        ``"sum"`` (the seed's a+b task, 1000 samples by default), ``"xor"``
        (the 4 points, cycled to ``samples`` if given), ``"digits"``
        (scikit-learn's bundled 8×8 digits, pixels scaled to [0, 1]),
        ``"moons"`` (two interleaving half circles, 1000 samples by default)
        or ``"csv:PATH"``.
    samples : int, optional
        Keep the first ``samples`` samples (``sum`` draws exactly that many).
    seed : int
        Seed of the ``sum`` data.
    dtype : str
        dtype of the returned arrays.
    target_columns : list of str, optional
        For CSV: the target columns, by name or by 0-based index (negative
        from the end); default: the last column.
    header : bool, optional
        For CSV: whether the first row names the columns; ``None`` decides
        from the row itself (a header has a cell that is not a number).
    warn : callable, optional
        Told (one line) when ``samples`` is more than the data set has.
    targets : str
        The loss's target kind (:data:`scratch.losses.TARGET_KINDS`): how
        ``digits`` and ``moons`` give their classes.
    """
    check_options(spec, samples, target_columns, header)
    check_size(spec, samples, dtype)
    if spec == "sum":
        return sum_dataset(1000 if samples is None else samples, seed=seed, dtype=dtype)
    if spec == "xor":
        x, y = xor_dataset(dtype)
        return _cycled(x, y, samples)
    if spec == "moons":
        x, labels = moons_dataset(1000 if samples is None else samples, seed, dtype)
        return x, class_targets(labels, CLASSES[spec], targets, dtype)
    if spec == "digits":
        x, labels = digits_dataset(dtype)
        y = class_targets(labels, CLASSES[spec], targets, dtype)
    else:
        x, y = csv_dataset(spec[4:], target_columns, dtype, header)
    if samples is not None and samples > len(x) and warn is not None:
        warn(f"--samples {samples} is more than the {len(x)} samples of {spec}; using all {len(x)}, once each")
    return x[:samples], y[:samples]


def check_options(spec: str, samples: int | None, target_columns: Sequence[str] | None,
                  header: bool | None) -> None:
    """Refuse an unknown data set, a bad ``samples`` and the CSV options for a data set that is not a CSV."""
    if samples is not None and samples < 1:
        raise DatasetError(f"--samples must be >= 1, got {samples}")
    if spec not in GENERATED and spec != "digits" and not spec.startswith("csv:"):
        raise DatasetError(f"unknown dataset {spec!r}; choose one of {', '.join(NAMES)}")
    if not spec.startswith("csv:"):
        for given, option in ((target_columns, "--target-columns"), (header, "--header/--no-header")):
            if given is not None:
                raise DatasetError(f"{option} only applies to --dataset csv:PATH, not to {spec!r}")


def estimated_bytes(spec: str, samples: int | None, dtype: str) -> int | None:
    """The size of ``x`` and ``y`` of a generated data set (``None`` for the others, known only once read)."""
    if spec not in GENERATED:
        return None
    count = 1000 if samples is None else samples
    return count * sum(GENERATED[spec]) * np.dtype(dtype).itemsize


def check_size(spec: str, samples: int | None, dtype: str) -> None:
    """Refuse a generated data set that would take more than half this machine's memory."""
    size, memory = estimated_bytes(spec, samples, dtype), physical_memory()
    if size is not None and memory is not None and size > memory / 2:
        raise DatasetError(f"--samples {samples}: the data alone would take {size / 1e9:.1f} GB, more than half "
                           f"of this machine's {memory / 1e9:.1f} GB")


def size_note(spec: str, samples: int | None, dtype: str, epochs: int, batch_size: int) -> str | None:
    """What a run on ``samples`` samples costs, said before it starts when ``samples >= LARGE_SAMPLES``."""
    if samples is None or samples < LARGE_SAMPLES:
        return None
    size = estimated_bytes(spec, samples, dtype)
    data = "" if size is None else f" ({size / 1e6:,.0f} MB of data in {dtype})"
    steps = -(-samples // batch_size)
    return (f"--samples {samples:,}{data}: each side trains {epochs} epochs of {steps:,} steps, which takes a "
            "while; progress is shown on a terminal (or with --verbose)")


def physical_memory() -> int | None:
    """Bytes of RAM (``None`` where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _cycled(x: Array, y: Array, samples: int | None) -> tuple[Array, Array]:
    """The rows repeated in order to ``samples`` rows (all of them once if ``None``)."""
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



# ------------------------------------------------------------------- CSV
def csv_dataset(path: str, target_columns: Sequence[str] | None, dtype: str = "float64",
                header: bool | None = None) -> tuple[Array, Array]:
    """Read a CSV of numbers; ``target_columns`` (names or indices; default: the last) are the targets.

    Without a header row (``header=False``, or detected: every cell of the
    first row is a number) the columns are named by their index, ``0, 1, ...``.
    """
    import pandas as pd

    cells = _read_cells(path)
    if cells.shape[1] < 2 or len(cells) < 1 + bool(header):
        raise DatasetError(f"CSV {path!r} needs at least 2 columns and 1 data row")
    has_header = looks_like_header(list(cells.iloc[0])) if header is None else header
    names = [str(c).strip() for c in cells.iloc[0]] if has_header else [str(i) for i in range(cells.shape[1])]
    rows = cells.iloc[1:] if has_header else cells
    if len(rows) == 0:
        raise DatasetError(f"CSV {path!r} has a header row but no data row")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DatasetError(f"CSV {path!r}: the header names column(s) {', '.join(repeated)} more than once")
    frame = pd.DataFrame(rows.to_numpy(), columns=names)
    targets = resolve_columns(path, names, target_columns)
    inputs = [c for c in names if c not in targets]
    if not inputs:
        raise DatasetError(f"CSV {path!r}: every column is a target; no input columns are left")
    numbers = _numeric(frame, path)
    return numbers[inputs].to_numpy(dtype=dtype), numbers[targets].to_numpy(dtype=dtype)


def _read_cells(path: str) -> object:
    """Every cell of the file as text, no row taken as a header yet."""
    import pandas as pd

    try:
        return pd.read_csv(path, header=None, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise DatasetError(f"cannot read CSV {path!r}: no such file") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DatasetError(f"cannot read CSV {path!r}: {str(error).splitlines()[0]}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def looks_like_header(first_row: Sequence[str]) -> bool:
    """A first row is a header when one of its non-empty cells is not a number (``"x1"``, ``"price"``)."""
    return any(cell.strip() and not _is_number(cell) for cell in first_row)


def resolve_columns(path: str, names: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """The target columns' names: each of ``wanted`` is a column name, or else a 0-based index (``-1``: last)."""
    if not wanted:
        return [names[-1]]
    resolved, unknown = [], []
    for item in wanted:
        if item in names:
            resolved.append(item)
        elif INTEGER.fullmatch(item) and -len(names) <= int(item) < len(names):
            resolved.append(names[int(item)])
        else:
            unknown.append(item)
    if unknown:
        listed = ", ".join(f"{i}: {n}" for i, n in enumerate(names))
        raise DatasetError(f"CSV {path!r} has no column {', '.join(map(repr, unknown))}; "
                           f"its columns (index: name) are {listed}")
    if len(set(resolved)) < len(resolved):
        raise DatasetError(f"--target-columns names a column of {path!r} twice: {', '.join(wanted)}")
    return resolved


def _numeric(frame: object, path: str) -> object:
    """The frame as numbers; refuse non-numeric columns, missing and infinite values, naming the columns."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    text = frame.apply(lambda column: column.str.strip())
    empty = [str(c) for c in frame.columns if (text[c] == "").any()]
    if empty:
        raise DatasetError(f"CSV {path!r}: missing values in column(s) {', '.join(empty)}")
    numbers = text.apply(pd.to_numeric, errors="coerce")
    unreadable = numbers.isna() & (text.apply(lambda column: column.str.lower()) != "nan")
    bad = [str(c) for c in frame.columns if unreadable[c].any()]
    if bad:
        raise DatasetError(f"CSV {path!r}: non-numeric column(s) {', '.join(bad)}; only numbers can be learned")
    infinite = [str(c) for c in numbers.columns if np.isinf(numbers[c].to_numpy()).any()]
    if infinite:
        raise DatasetError(f"CSV {path!r}: infinite values in column(s) {', '.join(infinite)}")
    nan = [str(c) for c in numbers.columns if np.isnan(numbers[c].to_numpy()).any()]
    if nan:
        raise DatasetError(f"CSV {path!r}: missing values (NaN) in column(s) {', '.join(nan)}")
    return numbers
