"""The benchmark cases: what is timed (phases, implementations, networks) and on which data and weights."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scratch import MLP, sum_dataset

FORWARD, GRADIENTS, TRAIN = "forward", "gradients", "train epoch"
PHASES = (FORWARD, GRADIENTS, TRAIN)
#: FLOPs per weight and sample: a forward GEMM (2), or forward + error + weight gradient (6).
FLOPS_PER_WEIGHT = {FORWARD: 2, GRADIENTS: 6, TRAIN: 6}
LEARNING_RATE = 0.1
STEPS_PER_EXECUTION = 1000

SCRATCH_LOOP = "scratch batch-1 loop"
SCRATCH_BATCHED = "scratch mini-batch"
SEED_ORIGINAL = "seed original (per sample)"
KERAS_FIT = "Keras fit (compile defaults)"
KERAS_FIT_SPE = f"Keras fit steps_per_execution={STEPS_PER_EXECUTION}"
KERAS_STEP = "Keras custom train step"
KERAS_PREDICT = "Keras predict"
KERAS_CALL = "Keras model(x)"
KERAS_TAPE = "Keras GradientTape (eager)"
#: The rows that run NumPy (the GEMM-share column is theirs).
NUMPY_IMPLEMENTATIONS = (SCRATCH_LOOP, SCRATCH_BATCHED, SEED_ORIGINAL)
#: The Keras row each phase's "× Keras" column is relative to: what users run.
ANCHORS = {TRAIN: KERAS_FIT, FORWARD: KERAS_PREDICT, GRADIENTS: KERAS_TAPE}


def keras_name(name: str, backend: str) -> str:
    """A Keras row's name on ``backend``: as is on TensorFlow, ``Keras/jax fit ...`` on the others."""
    return name if backend == "tensorflow" else name.replace("Keras", f"Keras/{backend}", 1)


@dataclass(frozen=True)
class Case:
    """One network of the sweep: layer sizes, batch size, dtype and sample count."""

    layers: tuple[int, ...]
    batch_size: int
    dtype: str
    samples: int

    @property
    def name(self) -> str:
        return "-".join(map(str, self.layers))

    @property
    def task(self) -> str:
        """``"sum"`` (the seed's a+b task) for 2 inputs and 1 output, else ``"random"`` data."""
        return "sum" if self.layers[0] == 2 and self.layers[-1] == 1 else "random"

    @property
    def weights(self) -> int:
        return weight_count(self.layers)

    @property
    def steps(self) -> int:
        return math.ceil(self.samples / self.batch_size)

    def title(self) -> str:
        data = "the seed's a+b task" if self.task == "sum" else "random data (uniform inputs, one-hot targets)"
        return (f"{self.name} sigmoid, no bias, {self.dtype}, batch {self.batch_size}: "
                f"{self.samples:,} samples of {data}, {self.steps:,} steps per epoch, {self.weights:,} weights")


def weight_count(layers: Sequence[int]) -> int:
    """``Σ n_in·n_out`` over the Dense layers (no biases)."""
    return sum(n_in * n_out for n_in, n_out in itertools.pairwise(layers))


def flops_per_sample(layers: Sequence[int], phase: str) -> int:
    """FLOPs per sample of ``phase``: 2·Σ n_in·n_out forward, 6·Σ n_in·n_out gradients/training."""
    return FLOPS_PER_WEIGHT[phase] * weight_count(layers)


def default_batch_sizes(layers: Sequence[int]) -> list[int]:
    """The seed's task at batch 1 and 32; 128 for networks of 100,000+ weights; 32 otherwise."""
    if layers[0] == 2 and layers[-1] == 1:
        return [1, 32]
    return [128] if weight_count(layers) >= 100_000 else [32]


def default_dtype(layers: Sequence[int]) -> str:
    """float64 on the seed's task (the seed's dtype), float32 for the others (what users train in)."""
    return "float64" if layers[0] == 2 and layers[-1] == 1 else "float32"


def default_samples(layers: Sequence[int]) -> int:
    """1,000 on the seed's task (the seed's size); 20,000 for big networks, 5,000 otherwise."""
    if layers[0] == 2 and layers[-1] == 1:
        return 1000
    return 20_000 if weight_count(layers) >= 100_000 else 5000


DEFAULT_NETWORKS = ((2, 5, 1), (64, 128, 10), (784, 512, 512, 10))


def build_cases(networks: Sequence[tuple[int, ...]] | None, batch_sizes: Sequence[int] | None,
                dtypes: Sequence[str] | None, samples: int | None, max_steps: int,
                scale: float = 1.0) -> tuple[list[Case], list[str]]:
    """The sweep: networks × batch sizes × dtypes, each option falling back to the network's default.

    ``samples`` overrides every network's default sample count; ``scale``
    shrinks the defaults (``--quick``). An epoch is capped at ``max_steps``
    steps; the notes returned say where.
    """
    cases, notes = [], []
    for layers in networks or DEFAULT_NETWORKS:
        wanted = samples or max(1, round(default_samples(layers) * scale))
        for batch in batch_sizes or default_batch_sizes(layers):
            for dtype in dtypes or [default_dtype(layers)]:
                timed = min(wanted, max_steps * batch)
                if timed < wanted:
                    notes.append(f"{'-'.join(map(str, layers))} at batch {batch}: {timed:,} of {wanted:,} samples "
                                 f"timed (at most {max_steps:,} steps per epoch, --max-steps), "
                                 "the same samples for every implementation")
                cases.append(Case(tuple(layers), batch, dtype, timed))
    return cases, notes


def case_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The inputs and targets of ``case``, identical for every implementation."""
    if case.task == "sum":
        return sum_dataset(case.samples, seed=0, dtype=case.dtype)
    rng = np.random.default_rng(0)
    x = rng.random((case.samples, case.layers[0])).astype(case.dtype)
    y = np.eye(case.layers[-1], dtype=case.dtype)[rng.integers(case.layers[-1], size=case.samples)]
    return x, y


def scratch_model(case: Case) -> MLP:
    """The scratch network of ``case``: the seed's U[0,1) weights on its task, Glorot otherwise."""
    init = "uniform" if case.task == "sum" else "glorot_uniform"
    layers = case.layers
    return MLP(layers[0], list(layers[1:-1]), layers[-1], dtype=case.dtype, init=init, seed=0)
