"""How long a phase's matrix products take on their own: the GEMM share of a scratch row.

A scratch phase is matrix products (GEMMs: BLAS, multi-threaded) plus
everything else: the activations, their derivatives, the loss, the update
(element-wise NumPy passes, one thread) and the Python and NumPy calls around
them. :func:`gemm_seconds` times the products alone, with the shapes, dtype
and batches scratch uses, so that ``gemm_seconds / row time`` says how much
of the row is matrix arithmetic, and the rest is where a faster step has to
come from.

For each Dense layer ``(n_in, n_out)`` and a batch of ``B`` samples,
scratch's products are (see :class:`scratch.layers.Dense`): forward ``x W``,
``(B, n_in) @ (n_in, n_out)``; for gradients and training also the kernel
gradient ``xᵀ δ``, ``(n_in, B) @ (B, n_out)``, and, above the first layer,
the error ``δ Wᵀ``, ``(B, n_out) @ (n_out, n_in)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from scratch.batching import batch_slices

from .cases import FORWARD, Case
from .timing import median_ms


class Product(NamedTuple):
    """One product ``(m, k) @ (k, n)``; an operand marked transposed is the ``.T`` of a C-ordered array."""

    m: int
    k: int
    n: int
    left_transposed: bool = False
    right_transposed: bool = False


def phase_products(layers: Sequence[int], batch: int, phase: str) -> list[Product]:
    """The products of one batch of ``phase`` (see the module doc), in the order scratch does them."""
    forward = [Product(batch, n_in, n_out) for n_in, n_out in itertools.pairwise(layers)]
    if phase == FORWARD:
        return forward
    backward = []
    for index, (n_in, n_out) in reversed(list(enumerate(itertools.pairwise(layers)))):
        backward.append(Product(n_in, batch, n_out, left_transposed=True))  # xᵀ δ
        if index > 0:
            backward.append(Product(batch, n_out, n_in, right_transposed=True))  # δ Wᵀ
    return forward + backward


def product_runner(products: Sequence[Product], dtype: str) -> Callable[[], None]:
    """A function doing ``products`` on arrays made once, each into its own output array."""
    rng = np.random.default_rng(0)

    def operand(rows: int, columns: int, transposed: bool) -> np.ndarray:
        return rng.random((columns, rows)).astype(dtype).T if transposed else rng.random((rows, columns)).astype(dtype)

    calls = [(operand(p.m, p.k, p.left_transposed), operand(p.k, p.n, p.right_transposed),
              np.empty((p.m, p.n), dtype=dtype)) for p in products]

    def run() -> None:
        for left, right, out in calls:
            left.dot(right, out=out)

    return run


def gemm_seconds(case: Case, phase: str, repeats: int = 3) -> float:
    """Median seconds of the matrix products of one pass of ``phase`` over ``case``'s samples, NumPy alone."""
    sizes = [s.stop - s.start for s in batch_slices(case.samples, case.batch_size)]
    runners = {size: product_runner(phase_products(case.layers, size, phase), case.dtype) for size in set(sizes)}

    def one_pass() -> None:
        for size in sizes:
            runners[size]()

    return median_ms(one_pass, repeats) / 1000
