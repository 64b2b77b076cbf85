"""The machine a benchmark ran on, and its own matrix-multiply throughput.

Timings mean little without the machine: :func:`describe_machine` names the
CPU, its cores, the BLAS NumPy calls (and its thread count, from
threadpoolctl) and the library versions. :func:`gemm_gflops` measures what
this machine's BLAS does on one large matrix product, the yardstick of the
benchmark's "% of peak" column.

Nothing here imports TensorFlow unless asked (``describe_machine(tensorflow=True)``).
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import numpy as np

from .timing import median_ms

#: The square GEMM whose throughput is the "peak" of each dtype: large enough
#: for the BLAS to reach its best speed, small enough to time in well under a second.
PEAK_GEMM_SIZE = 1024


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def physical_cores() -> int | None:
    """Physical cores via psutil when it is installed, else ``None``."""
    try:
        import psutil
    except ImportError:
        return None
    return psutil.cpu_count(logical=False)


def blas_libraries() -> list[dict[str, Any]]:
    """NumPy's BLAS libraries as threadpoolctl sees them: name, version, architecture, threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [
        {key: info.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]


def blas_summary(libraries: list[dict[str, Any]]) -> str:
    """``"openblas 0.3.31 (Haswell kernels, 2 threads)"``; a hint when threadpoolctl is missing."""
    if not libraries:
        return "unknown BLAS (install threadpoolctl to see it)"
    return "; ".join(
        f"{lib['internal_api']} {lib['version']} ({lib['architecture']} kernels, {lib['num_threads']} threads)"
        for lib in libraries
    )


#: Environment variables that change which BLAS kernels or how many threads run.
PERFORMANCE_VARIABLES = (
    "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "MKL_ENABLE_INSTRUCTIONS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS",
)


def performance_environment() -> dict[str, str]:
    """Those of :data:`PERFORMANCE_VARIABLES` that are set, e.g. ``{"OPENBLAS_CORETYPE": "Haswell"}``."""
    return {name: os.environ[name] for name in PERFORMANCE_VARIABLES if name in os.environ}


def describe_machine(tensorflow: bool = False) -> dict[str, Any]:
    """CPU model, cores, BLAS and versions; TensorFlow/Keras versions when ``tensorflow``."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": physical_cores(),
        "blas": blas_libraries(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(terse=True),
        "environment": performance_environment(),
    }
    if tensorflow:
        from keras_equiv._tf import keras, tf

        info["tensorflow"] = tf.__version__
        info["keras"] = keras.__version__
        info["tensorflow_threads"] = {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads() or "default (one per core)",
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads() or "default",
        }
    return info


def machine_line(info: dict[str, Any]) -> str:
    """The machine in one line, for the foot of every table."""
    cores = f"{info['logical_cores']} cores"
    if info.get("physical_cores") and info["physical_cores"] != info["logical_cores"]:
        cores = f"{info['physical_cores']} cores / {info['logical_cores']} threads"
    versions = f"Python {info['python']}, numpy {info['numpy']}"
    if "tensorflow" in info:
        versions += f", TensorFlow {info['tensorflow']}, Keras {info['keras']}"
    for key, worker in info.items():
        if key.startswith("keras_"):  # a backend timed in its own worker process
            backend = worker["backend"]
            versions += f", Keras {worker['keras']} on {backend} {worker[backend]} (own process)"
    line = f"{info['cpu']}, {cores}; BLAS: {blas_summary(info['blas'])}; {versions}"
    if info.get("environment"):
        line += "; set in the environment: " + ", ".join(f"{k}={v}" for k, v in info["environment"].items())
    return line


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15-minute load averages (``None`` where the OS has none)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


class ForeignCpu:
    """How much CPU other processes (and the hypervisor, as steal time) took while we measured.

    ``ForeignCpu()`` takes a snapshot; :meth:`fraction` is then the share of
    the machine's cores, over the wall time since, that was busy with
    anything but this process: ``(busy_all - busy_self) / (wall * cores)``.
    ``None`` when psutil is missing. Resolution is the kernel's clock tick
    (10 ms), so it only means something over a few hundred milliseconds.
    """

    def __init__(self) -> None:
        try:
            import psutil
        except ImportError:
            self._psutil = None
            return
        self._psutil = psutil
        self._process = psutil.Process()
        self._start = self._snapshot()

    def _snapshot(self) -> tuple[float, float, float]:
        times = self._psutil.cpu_times()
        busy = times.user + times.nice + times.system + getattr(times, "irq", 0.0) \
            + getattr(times, "softirq", 0.0) + getattr(times, "steal", 0.0)
        own = self._process.cpu_times()
        return time.perf_counter(), busy, own.user + own.system

    def fraction(self) -> float | None:
        """The foreign share of the cores since the snapshot, in [0, 1]."""
        if self._psutil is None:
            return None
        wall0, busy0, own0 = self._start
        wall1, busy1, own1 = self._snapshot()
        capacity = (wall1 - wall0) * (self._psutil.cpu_count() or 1)
        return min(1.0, max(0.0, ((busy1 - busy0) - (own1 - own0)) / capacity)) if capacity > 0 else None


def gemm_gflops(dtype: str, m: int = PEAK_GEMM_SIZE, k: int | None = None, n: int | None = None,
                repeats: int = 10, warmup: int = 3) -> float:
    """GFLOP/s of NumPy's ``(m, k) @ (k, n)`` in ``dtype`` (median of ``repeats``; square by default).

    Counts ``2 m k n`` FLOPs (a multiply and an add per term) and writes into a
    preallocated output, so only the BLAS kernel is timed.
    """
    k = m if k is None else k
    n = m if n is None else n
    rng = np.random.default_rng(0)
    a = rng.random((m, k)).astype(dtype)
    b = rng.random((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)
    milliseconds = median_ms(lambda: np.matmul(a, b, out=out), repeats, warmup)
    return 2 * m * k * n / milliseconds / 1e6
