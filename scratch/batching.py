"""Which samples go into which batch, epoch after epoch.

Both implementations draw their sample order from here, so a shuffled run
feeds exactly the same batches to NumPy and to Keras.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def epoch_orders(num_samples: int, epochs: int, shuffle: int | None) -> Iterator[np.ndarray | None]:
    """Yield each epoch's sample order.

    ``shuffle=None`` yields ``None`` (keep the order). An int ``s`` makes one
    generator ``rng = np.random.default_rng(s)`` and yields
    ``rng.permutation(num_samples)`` once per epoch.
    """
    rng = None if shuffle is None else np.random.default_rng(shuffle)
    for _ in range(epochs):
        yield None if rng is None else rng.permutation(num_samples)


def batch_slices(num_samples: int, batch_size: int) -> Iterator[slice]:
    """Consecutive slices of ``batch_size`` samples; the last one may be partial."""
    for start in range(0, num_samples, batch_size):
        yield slice(start, min(start + batch_size, num_samples))
