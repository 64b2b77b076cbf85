"""Arrays of several shapes laid end to end in one flat array, so that one NumPy call can reach them all.

``MLP`` keeps every parameter this way (and every gradient, and an
optimizer every slot): each kernel and bias is a view of its part of one
1-D array. Layers, ``get_weights`` and the optimizer state see the views,
of the parameters' own shapes; an element-wise optimizer rule runs once on
the flat arrays instead of once per parameter. At batch size 1 a step is
its count of NumPy calls (``docs/performance.md``), and this saves two calls
per parameter beyond the first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

Array = np.ndarray


def flat_views(shapes: Sequence[tuple[int, ...]], dtype: np.dtype) -> tuple[Array, list[Array]]:
    """One zeroed 1-D array of ``dtype`` and views of it with the given ``shapes``, one after the other.

    >>> flat, (kernel, bias) = flat_views([(2, 3), (3,)], np.dtype("float64"))
    >>> kernel[0, 0] = 5.0
    >>> flat[:4].tolist(), bias.shape
    ([5.0, 0.0, 0.0, 0.0], (3,))
    """
    flat = np.zeros(sum(math.prod(shape) for shape in shapes), dtype=dtype)
    return flat, shaped_views(flat, shapes)


def shaped_views(flat: Array, shapes: Sequence[tuple[int, ...]]) -> list[Array]:
    """Views of consecutive parts of the 1-D array ``flat``, with the given ``shapes``."""
    ends = [0, *itertools.accumulate(math.prod(shape) for shape in shapes)]
    return [flat[start:end].reshape(shape) for start, end, shape in zip(ends[:-1], ends[1:], shapes)]
