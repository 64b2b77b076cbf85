"""How fast is ``scratch.MLP``, next to the seed's original code and the machine's BLAS?

Run ``python -m compare.bench.scratch_bench`` (``--quick`` for fewer repeats).

Everything is measured in the same run, on the same machine:

1. Batch-1 training on the seed's task (2-5-1 sigmoid, 1000 samples of
   ``sum_dataset``, lr 0.1) in samples/s, next to the seed's original
   per-sample algorithm (musikalkemist/DeepLearningForAudioWithPython,
   lesson 08 ``mlp.py``), kept as :class:`.seed_original.SeedOriginalMLP`.
2. float32 mini-batch training of 784-512-512-10 (sigmoid) at batch 128 in
   GFLOP/s, counting ``6 * B * sum(n_in * n_out)`` per step (forward, error
   and weight gradient: three GEMMs per layer), and forward only in GFLOP/s
   (``2 * B * sum(n_in * n_out)``), next to the machine's own float32 and
   float64 GEMM throughput.

Every figure is the median of several timed repeats (``time.perf_counter``)
after a warm-up. The functions are importable so that other commands can reuse
them; this is a benchmark, never a test: nothing here asserts on wall-clock.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scratch import MLP, sum_dataset

from .cases import FORWARD, TRAIN, flops_per_sample
from .machine import blas_libraries, blas_summary, gemm_gflops
from .seed_original import SeedOriginalMLP, seed_original_train
from .timing import median_ms

BIG_LAYERS = (784, 512, 512, 10)
BIG_BATCH = 128
SEED_LAYERS = (2, 5, 1)


# ----------------------------------------------------------------- timing
def median_seconds(run: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``run()`` (:func:`.timing.median_ms`, in seconds)."""
    return median_ms(run, repeats, warmup) / 1000


def warm_up_cpu(seconds: float = 1.0) -> None:
    """Run float32 GEMMs for ``seconds`` so that clocks and BLAS threads are up before timing."""
    a = np.ones((512, 512), dtype=np.float32)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        a @ a


# ------------------------------------------------------------------- GEMM
def gemm_shapes(layers: Sequence[int] = BIG_LAYERS, batch: int = BIG_BATCH) -> list[tuple[int, int, int]]:
    """The GEMMs of one training step of a Dense stack, plus a big square one for the peak.

    Forward ``(B, n_in) @ (n_in, n_out)``, weight gradient ``(n_in, B) @ (B, n_out)``
    and, above the first layer, error ``(B, n_out) @ (n_out, n_in)``.
    """
    shapes = []
    for n_in, n_out in itertools.pairwise(layers):
        if min(n_in, n_out) >= 64:  # the 10-wide output layer's GEMMs are too small to say anything
            shapes += [(batch, n_in, n_out), (n_in, batch, n_out)]
    shapes.append((1024, 1024, 1024))
    return shapes


# ------------------------------------------------------------- the cases
@dataclass
class Figure:
    """One line of the table: a measured ``value`` in ``unit``, and its ``ratio`` to the ``reference``."""

    case: str
    value: float
    unit: str
    reference: str = ""
    ratio: float | None = None


def measure_seed_task(num_samples: int = 1000, repeats: int = 5) -> tuple[list[Figure], float]:
    """Samples/s of batch-1 training on the seed's task: scratch vs the seed's original.

    Both start from the same weights and use the seed's update rule
    (``loss="seed"``), so they do the same arithmetic; the second value returned
    is the largest difference of their weights after one epoch (should be ~1e-15).
    """
    x, y = sum_dataset(num_samples, seed=0)
    start = MLP(*SEED_LAYERS[:1], list(SEED_LAYERS[1:-1]), SEED_LAYERS[-1], seed=0, loss="seed").get_weights()

    def scratch_epoch() -> MLP:
        mlp = MLP(2, [5], 1, loss="seed")
        mlp.set_weights(start)
        mlp.train(x, y, epochs=1, learning_rate=0.1)
        return mlp

    def seed_epoch() -> SeedOriginalMLP:
        return seed_original_train(x, y, start, epochs=1, learning_rate=0.1)

    agreement = max(float(np.max(np.abs(a - b)))
                    for a, b in zip(scratch_epoch().get_weights(), seed_epoch().weights))
    seed_rate = num_samples / median_seconds(seed_epoch, repeats)
    scratch_rate = num_samples / median_seconds(scratch_epoch, repeats)
    return [
        Figure("seed original, batch 1, 2-5-1", seed_rate, "samples/s"),
        Figure("scratch.MLP,   batch 1, 2-5-1", scratch_rate, "samples/s", "seed original", scratch_rate / seed_rate),
    ], agreement


def measure_big_net(dtype: str = "float32", steps: int = 20, repeats: int = 5,
                    layers: Sequence[int] = BIG_LAYERS, batch: int = BIG_BATCH) -> tuple[float, float]:
    """GFLOP/s of ``scratch.MLP`` training (6 B sum n_in n_out per step) and forward (2 B ...)."""
    rng = np.random.default_rng(0)
    x = rng.random((steps * batch, layers[0])).astype(dtype)
    y = rng.random((steps * batch, layers[-1])).astype(dtype)
    mlp = MLP(layers[0], list(layers[1:-1]), layers[-1], init="glorot_uniform", dtype=dtype, seed=0)
    train_seconds = median_seconds(lambda: mlp.train(x, y, 1, 0.01, batch_size=batch), repeats)
    forward_seconds = median_seconds(lambda: [mlp.forward(x[i:i + batch]) for i in range(0, len(x), batch)],
                                     repeats)
    train = flops_per_sample(layers, TRAIN) * batch * steps / train_seconds / 1e9
    forward = flops_per_sample(layers, FORWARD) * batch * steps / forward_seconds / 1e9
    return train, forward


def measure_big_net_against_gemm(rounds: int = 7) -> dict[str, float]:
    """Median GFLOP/s of scratch training, forward, and the same-size float32 GEMM, interleaved.

    Each round times the three back to back, so a neighbour's load hits them
    alike; the ratios are the medians of the per-round ratios.
    """
    m, k, n = BIG_BATCH, BIG_LAYERS[0], BIG_LAYERS[1]
    samples: dict[str, list[float]] = {"train": [], "forward": [], "gemm": []}
    for _ in range(rounds):
        samples["gemm"].append(gemm_gflops("float32", m, k, n, repeats=9, warmup=1))
        train, forward = measure_big_net(repeats=1)
        samples["train"].append(train)
        samples["forward"].append(forward)
    result = {name: statistics.median(values) for name, values in samples.items()}
    for name in ("train", "forward"):
        result[f"{name}/gemm"] = statistics.median(a / b for a, b in zip(samples[name], samples["gemm"]))
    return result


def run_all(quick: bool = False) -> tuple[list[Figure], float]:
    """Every measurement of this benchmark, as table rows (and the seed-task agreement)."""
    repeats = 3 if quick else 7
    warm_up_cpu()
    rows, agreement = measure_seed_task(repeats=repeats)
    gemm = {}
    for dtype in ("float32", "float64"):
        for m, k, n in gemm_shapes():
            gemm[dtype, (m, k, n)] = gemm_gflops(dtype, m, k, n, repeats=repeats * 2)
            rows.append(Figure(f"GEMM {dtype} {m}x{k} @ {k}x{n}", gemm[dtype, (m, k, n)], "GFLOP/s"))
    peak = max(v for (dtype, _), v in gemm.items() if dtype == "float32")
    big = measure_big_net_against_gemm(rounds=repeats)
    net = "-".join(map(str, BIG_LAYERS))
    same_size = f"f32 {BIG_BATCH}x{BIG_LAYERS[0]}@{BIG_LAYERS[0]}x{BIG_LAYERS[1]}"
    rows += [
        Figure("GEMM f32, interleaved with the two below", big["gemm"], "GFLOP/s"),
        Figure(f"scratch.MLP f32 train {net} B={BIG_BATCH}", big["train"], "GFLOP/s", same_size, big["train/gemm"]),
        Figure("    same, against the best f32 GEMM above", big["train"], "GFLOP/s", "best f32 GEMM",
               big["train"] / peak),
        Figure(f"scratch.MLP f32 forward {net} B={BIG_BATCH}", big["forward"], "GFLOP/s", same_size,
               big["forward/gemm"]),
        Figure("    same, against the best f32 GEMM above", big["forward"], "GFLOP/s", "best f32 GEMM",
               big["forward"] / peak),
    ]
    return rows, agreement


def format_table(rows: Sequence[Figure]) -> str:
    """A plain-text table: case, value, unit, reference and ratio."""
    width = max(len(r.case) for r in rows)
    lines = [f"{'case':<{width}}  {'value':>12}  {'unit':<9}  {'vs':<26}  ratio", "-" * (width + 64)]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:6.0%}"
        lines.append(f"{r.case:<{width}}  {r.value:12,.1f}  {r.unit:<9}  {r.reference:<26}  {ratio}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads (threadpoolctl); 1 gives steady figures on a shared, loaded machine")
    args = parser.parse_args(argv)
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"BLAS: {blas_summary(blas_libraries())}")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs "
          "(other processes' load skews every figure; the interleaved ratios least)")
    rows, agreement = run_all(quick=args.quick)
    print(f"seed task: scratch (loss='seed') and the seed's original differ by {agreement:.1e} after one epoch")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
