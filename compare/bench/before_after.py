"""Before and after: this tree's ``scratch`` against another version of it, side by side in one process.

Run ``python -m compare.bench.before_after --baseline DIR``, where ``DIR``
holds the other version's ``scratch`` folder, e.g.::

    git archive 672eb3d scratch | tar -x -C /tmp/before
    python -m compare.bench.before_after --baseline /tmp/before

Both versions are imported in the same process (the other one as
``scratch_baseline``: its imports are relative) and timed in turns, round
after round, the order rotating each round, next to the seed's original
algorithm, plain Keras ``fit`` (compiled with Keras's defaults) and this
machine's float32 GEMM. Each ratio is the median of the per-round ratios: a
neighbour's load hits what one round times alike, and cancels out as far as
it can. The figures:

* the seed's task (2-5-1 sigmoid, float64, 1,000 samples of a+b, batch 1, one
  epoch at lr 0.1, from the same weights): samples/s of scratch with
  ``loss="seed"`` (the seed's own update rule, so the same arithmetic as the
  seed's code), of the seed's original code, and of Keras ``fit`` (mean
  squared error, the default run's);
* 784-512-512-10 sigmoid, float32, batch 128: a training epoch's GFLOP/s
  (``6·B·Σ n_in·n_out`` per step) and the forward pass's (``2·B·Σ``) as a
  share of NumPy's 1024³ float32 GEMM timed in the same rounds (five calls
  back to back each round, their median), and how many times faster than
  Keras ``fit``'s epoch.

``--wall TREE`` also times the default ``mlp-compare`` (a subprocess,
TensorFlow's start included) with this tree and with ``TREE``, a whole
checkout of the other version, in turns. Wall-clock figures: nothing here is
a test, and a busy machine says so in its load average, printed before and after.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

import scratch

from .cases import FORWARD, TRAIN, flops_per_sample
from .machine import blas_libraries, blas_summary, cpu_model, load_average, performance_environment
from .seed_original import seed_original_train
from .timing import median_ms

ROOT = Path(__file__).resolve().parents[2]
BIG_LAYERS = (784, 512, 512, 10)
BIG_BATCH = 128
BIG_STEPS = 40
SEED_SAMPLES = 1000
PEAK = 1024
#: The names of the two versions in the tables.
AFTER, BEFORE = "scratch", "scratch before"

Seconds = dict[str, list[float]]


def load_baseline(folder: str | os.PathLike) -> ModuleType:
    """The ``scratch`` package found in ``folder``, imported as ``scratch_baseline`` beside this one."""
    init = Path(folder) / "scratch" / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{folder} has no scratch/__init__.py (make one with: git archive COMMIT scratch "
                                f"| tar -x -C {folder})")
    spec = importlib.util.spec_from_file_location("scratch_baseline", init,
                                                  submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["scratch_baseline"] = module
    spec.loader.exec_module(module)
    return module


def interleaved(runs: dict[str, Callable[[], object]], rounds: int) -> Seconds:
    """Seconds of each run, ``rounds`` times: one of each per round, the order rotating; one warm-up each first.

    A run that returns a float reports its own seconds (Keras ``fit``'s epoch, without ``fit``'s set-up per call).
    """
    for run in runs.values():
        run()
    names, seconds = list(runs), {name: [] for name in runs}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            reported = runs[name]()
            elapsed = time.perf_counter() - start
            seconds[name].append(reported if isinstance(reported, float) else elapsed)
    return seconds


def per_round(numerator: list[float], denominator: list[float]) -> float:
    """The median of the per-round ratios ``numerator / denominator``."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def keras_fit_epoch(mlp: scratch.MLP, x: np.ndarray, y: np.ndarray, batch: int,
                    learning_rate: float) -> Callable[[], float]:
    """Plain Keras ``fit`` (compile defaults) on ``mlp``'s twin for two epochs, returning the second's seconds.

    The second: the first epoch of each ``fit`` call also pays for its start (the data iterator's first
    batches), which a user's many-epoch ``fit`` pays once.
    """
    from keras_equiv import KerasMLP
    from keras_equiv.floatx import keras_floatx

    from .epoch_timer import EpochTimer

    twin = KerasMLP.from_scratch(mlp, steps_per_execution=1)
    twin.model.optimizer.learning_rate = learning_rate

    def run() -> float:
        timer = EpochTimer()
        with keras_floatx(mlp.config.dtype):
            twin.model.fit(x, y, batch_size=batch, epochs=2, shuffle=False, verbose=0, callbacks=[timer])
        return timer.seconds[-1]

    return run


def seed_task(baseline: ModuleType, rounds: int, keras: bool) -> Seconds:
    """Seconds of one batch-1 epoch of the seed's task, per implementation."""
    x, y = scratch.sum_dataset(SEED_SAMPLES, seed=0)
    start = scratch.MLP(2, [5], 1, seed=0, loss="seed").get_weights()

    def scratch_epoch(package: ModuleType) -> Callable[[], None]:
        def run() -> None:
            mlp = package.MLP(2, [5], 1, loss="seed")
            mlp.set_weights(start)
            mlp.train(x, y, 1, 0.1)
        return run

    runs = {"seed original": lambda: seed_original_train(x, y, start, 1, 0.1),
            AFTER: scratch_epoch(scratch), BEFORE: scratch_epoch(baseline)}
    if keras:
        runs["Keras fit"] = keras_fit_epoch(scratch.MLP(2, [5], 1, seed=0), x, y, 1, 0.1)
    return interleaved(runs, rounds)


def big_network(baseline: ModuleType, rounds: int, keras: bool, steps: int = BIG_STEPS) -> Seconds:
    """Seconds of a training epoch and a forward pass of each version on 784-512-512-10, the GEMM's, Keras's."""
    rng = np.random.default_rng(0)
    layers, batch = BIG_LAYERS, BIG_BATCH
    x = rng.random((steps * batch, layers[0])).astype("float32")
    y = np.eye(layers[-1], dtype="float32")[rng.integers(layers[-1], size=steps * batch)]
    runs: dict[str, Callable[[], object]] = {"GEMM": gemm_peak_seconds()}
    for name, package in ((AFTER, scratch), (BEFORE, baseline)):
        mlp = package.MLP(layers[0], list(layers[1:-1]), layers[-1], init="glorot_uniform", dtype="float32", seed=0)
        runs[f"{name} train"] = lambda mlp=mlp: mlp.train(x, y, 1, 0.01, batch_size=batch)
        runs[f"{name} forward"] = lambda mlp=mlp: [mlp.forward(x[i:i + batch]) for i in range(0, len(x), batch)]
    if keras:
        mlp = scratch.MLP(layers[0], list(layers[1:-1]), layers[-1], init="glorot_uniform", dtype="float32", seed=0)
        runs["Keras fit"] = keras_fit_epoch(mlp, x, y, batch, 0.01)
    return interleaved(runs, rounds)


def gemm_peak_seconds(calls: int = 5, warmup: int = 2) -> Callable[[], float]:
    """A run timing NumPy's 1024³ float32 GEMM at its best: the median of ``calls`` back-to-back calls.

    One call alone, after other work, finds the BLAS threads asleep and its
    operands out of cache: it would understate the peak (by a quarter, here).
    """
    rng = np.random.default_rng(0)
    a, b = (rng.random((PEAK, PEAK)).astype("float32") for _ in range(2))
    out = np.empty_like(a)

    def run() -> float:
        return median_ms(lambda: np.matmul(a, b, out=out), calls, warmup) / 1000

    return run


def default_run_seconds(tree: Path, rounds: int) -> Seconds:
    """Wall seconds of the default ``python -m compare --quiet`` with this tree and with ``tree``, in turns."""
    def command(path: Path) -> Callable[[], None]:
        # run from the tree itself: python -m puts the current folder before PYTHONPATH
        environment = dict(os.environ, PYTHONPATH=str(path))
        return lambda: subprocess.run([sys.executable, "-m", "compare", "--quiet"], env=environment, cwd=path,
                                      check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    runs = {AFTER: command(ROOT), BEFORE: command(tree)}
    names, seconds = list(runs), {name: [] for name in runs}
    for round_number in range(rounds):  # no warm-up: a user's run starts cold too
        for name in names if round_number % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def seed_lines(seconds: Seconds) -> list[str]:
    """The seed task's figures: samples/s of each, and the ratios the docs quote."""
    lines = [f"  {name:16s} {SEED_SAMPLES / statistics.median(s):>10,.0f} samples/s" for name, s in seconds.items()]
    for name in (AFTER, BEFORE):
        lines.append(f"  {name} vs the seed's original: {per_round(seconds['seed original'], seconds[name]):.2f}×")
        if "Keras fit" in seconds:
            lines.append(f"  {name} vs Keras fit: {per_round(seconds['Keras fit'], seconds[name]):.1f}×")
    return lines


def big_lines(seconds: Seconds) -> list[str]:
    """The big network's figures: GFLOP/s, % of the GEMM timed in the same rounds, ratio to Keras fit."""
    samples = BIG_STEPS * BIG_BATCH
    peak = [2 * PEAK**3 / s / 1e9 for s in seconds["GEMM"]]
    lines = [f"  float32 {PEAK}³ GEMM: {statistics.median(peak):.0f} GFLOP/s"]
    for name in (AFTER, BEFORE):
        for phase, label in ((TRAIN, "train"), (FORWARD, "forward")):
            runs = seconds[f"{name} {label}"]
            rates = [flops_per_sample(BIG_LAYERS, phase) * samples / s / 1e9 for s in runs]
            share = statistics.median(rate / gemm for rate, gemm in zip(rates, peak))
            lines.append(f"  {name} {label:7s} {statistics.median(runs) * 1e3:8.1f} ms  "
                         f"{statistics.median(rates):6.1f} GFLOP/s  {share:6.1%} of the GEMM")
        if "Keras fit" in seconds:
            times_faster = per_round(seconds["Keras fit"], seconds[f"{name} train"])
            lines.append(f"  {name} train vs Keras fit: {times_faster:.2f}×")
    return lines


def wall_lines(seconds: Seconds) -> list[str]:
    return [f"  {name:16s} median {statistics.median(s):5.1f} s  (runs: {', '.join(f'{v:.1f}' for v in s)})"
            for name, s in seconds.items()]


def machine_lines() -> list[str]:
    load = load_average()
    return [f"{cpu_model()}, {os.cpu_count()} cores; BLAS: {blas_summary(blas_libraries())}; numpy {np.__version__}",
            f"environment: {performance_environment() or 'no BLAS or thread variables set'}",
            f"load average (1/5/15 min): {' / '.join(f'{v:.2f}' for v in load) if load else 'unknown'}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, metavar="DIR", help="a folder holding the other scratch/")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per figure (default 15)")
    parser.add_argument("--no-keras", dest="keras", action="store_false", help="leave Keras fit out (no TensorFlow)")
    parser.add_argument("--wall", metavar="TREE", type=Path, help="also time the default mlp-compare with this tree "
                        "and with TREE (a whole checkout of the other version)")
    parser.add_argument("--wall-rounds", type=int, default=3, help="runs of each for --wall (default 3)")
    parser.add_argument("--figures", default="seed,big", help="which of seed,big to measure (default: both)")
    args = parser.parse_args(argv)
    figures = {part.strip() for part in args.figures.split(",") if part.strip()}
    baseline = load_baseline(args.baseline)
    print("\n".join(machine_lines()), flush=True)
    print(f"this tree: {ROOT}; before: {args.baseline}; {args.rounds} rounds, medians of per-round ratios", flush=True)
    if "seed" in figures:
        print("seed task, 2-5-1 f64, batch 1:", *seed_lines(seed_task(baseline, args.rounds, args.keras)),
              sep="\n", flush=True)
    if "big" in figures:
        print(f"784-512-512-10 f32, batch {BIG_BATCH}, {BIG_STEPS} steps:",
              *big_lines(big_network(baseline, args.rounds, args.keras)), sep="\n", flush=True)
    if args.wall:
        print(f"default mlp-compare, wall time ({args.wall_rounds} runs each):",
              *wall_lines(default_run_seconds(args.wall, args.wall_rounds)), sep="\n", flush=True)
    print(machine_lines()[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
