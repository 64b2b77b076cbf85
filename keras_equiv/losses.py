r"""The seed's loss as a Keras loss.

``loss="seed"`` is written as its own loss rather than as ``"mse"`` with the
learning rate scaled by ``k/2``: then ``gradients()`` returns the gradient of
the very loss being descended, ``evaluate()`` and the epoch losses report that
loss, and every protocol method means the same on both sides. The equivalence
``L_seed = k/2 * L_mse`` is proved by a test instead of being built in.

.. math:: L_{seed} = \frac{1}{B}\sum_b \frac12 \sum_j (y_{bj} - \hat y_{bj})^2
"""

from __future__ import annotations

from ._tf import keras


class SeedLoss(keras.losses.Loss):
    """``1/2 * sum((y - y_hat)^2)`` over the outputs of a sample; Keras then
    averages it over the batch (reduction ``"sum_over_batch_size"``)."""

    def __init__(self, dtype: str | None = None, name: str = "seed_loss") -> None:
        super().__init__(name=name, reduction="sum_over_batch_size", dtype=dtype)

    def call(self, y_true, y_pred):
        ops = keras.ops
        return 0.5 * ops.sum(ops.square(y_true - y_pred), axis=-1)

