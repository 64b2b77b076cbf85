"""Saving and loading a network: its configuration, weights and optimizer state in one ``.npz`` file.

The file holds ``config`` (the :class:`~scratch.config.MLPConfig` as JSON),
``param_<i>`` (the weights in ``get_weights()`` order), ``iterations`` and
``slot_<name>_<i>`` (the optimizer state). It is written atomically and read
without pickles.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .config import MLPConfig
from .files import atomic_writer
from .optimizers import OptimizerState


def save(path: str | os.PathLike, config: MLPConfig, weights: list[np.ndarray], state: OptimizerState) -> None:
    """Write ``config``, ``weights`` and the optimizer ``state`` to ``path``."""
    arrays: dict[str, Any] = {f"param_{i}": w for i, w in enumerate(weights)}
    for slot, slot_arrays in state.items():
        if slot != "iterations":
            arrays |= {f"slot_{slot}_{i}": a for i, a in enumerate(slot_arrays)}
    with atomic_writer(path, "wb") as file:
        np.savez(file, config=np.array(json.dumps(config.to_dict())), iterations=np.array(state["iterations"]),
                 **arrays)


def load(path: str | os.PathLike) -> tuple[MLPConfig, list[np.ndarray], OptimizerState]:
    """The configuration, weights and optimizer state written by :func:`save`."""
    with np.load(path, allow_pickle=False) as data:
        config = MLPConfig.from_dict(json.loads(str(data["config"])))
        weights = _numbered(data, "param_")
        state: OptimizerState = {"iterations": int(data["iterations"])}
        for slot in {key.removeprefix("slot_").rsplit("_", 1)[0] for key in data.files if key.startswith("slot_")}:
            state[slot] = _numbered(data, f"slot_{slot}_")
    return config, weights, state


def _numbered(data: Any, prefix: str) -> list[np.ndarray]:
    """The arrays ``<prefix>0``, ``<prefix>1``, ... in order."""
    count = sum(1 for key in data.files if key.startswith(prefix) and key.removeprefix(prefix).isdigit())
    return [data[f"{prefix}{i}"] for i in range(count)]
