"""Each job in a fresh process of its own, limited in time and memory, up to ``workers`` at a time.

On Linux each process is forked from a fork server (:mod:`multiprocessing`'s
``forkserver``) that has imported the jobs' modules once, so a job starts in
milliseconds instead of the 0.6 CPU-seconds (measured) that a new
interpreter spends importing NumPy, pandas and the harness; the server itself never runs a job, so every
job still starts from the same clean state, and no thread of this process
(progress bars, BLAS) is forked. Elsewhere each job gets a spawned interpreter.
A child works in the folder and with the ``sys.path`` this process has when
the job starts (:mod:`multiprocessing` sends both); it is also given this
process's environment then (the server's own dates from its start).

The child sets its own limits before it runs the job (``resource.setrlimit``:
its CPU time, and its address space to what it already holds plus the job's
allowance), says it is ready, sends one result dict back through a pipe and
exits; the parent kills it at its wall-clock deadline, counted from ready (so
a slow start on a busy machine is not held against the job; the start itself
gets :data:`STARTUP_SECONDS`). A job that raises, crashes, exceeds a
limit or never ends gives a result that says so and never stops the others.
Children run single-threaded BLAS (one worker per core) with their output
sent to ``/dev/null``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

Result = dict[str, Any]
#: Thread counts of the BLAS libraries NumPy may use, set to 1 in every child.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
#: How long a fresh process may take to import what the job needs and say it is ready.
STARTUP_SECONDS = 120.0
READY = "ready"


@dataclass(frozen=True)
class Job:
    """One call ``function(payload)`` to make in a fresh process.

    ``function`` must be importable by name (a module-level function);
    ``seconds`` is the wall-clock (and CPU) limit; ``memory_mb`` the address
    space the job may add to what the fresh process holds (``None``: no limit).
    """

    key: str
    function: Callable[[dict], Result]
    payload: dict = field(repr=False)
    seconds: float
    memory_mb: int | None


@dataclass
class _Running:
    job: Job
    process: Any
    connection: Connection
    started: float
    ready: float | None = None

    @property
    def deadline(self) -> float:
        return self.started + STARTUP_SECONDS if self.ready is None else self.ready + self.job.seconds


def run_isolated(jobs: Sequence[Job], workers: int, on_result: Callable[[str, Result], None] | None = None
                 ) -> dict[str, Result]:
    """Run every job, at most ``workers`` at a time, in job order; each result gets ``seconds`` (wall time)."""
    waiting, running, results = list(jobs), {}, {}
    with _single_threaded_children():
        context = _context(sorted({job.function.__module__ for job in jobs}))
        while waiting or running:
            while waiting and len(running) < workers:
                job = waiting.pop(0)
                running[job.key] = _start(context, job)
            soonest = min(child.deadline for child in running.values())
            wait([c.connection for c in running.values()] + [c.process.sentinel for c in running.values()],
                 timeout=max(0.0, soonest - time.perf_counter()))
            for key, child in list(running.items()):
                result = _outcome(child)
                if result is not None:
                    results[key] = result | {"seconds": time.perf_counter() - child.started}
                    del running[key]
                    if on_result is not None:
                        on_result(key, results[key])
    return results


def _context(modules: Sequence[str]) -> Any:
    """The fork server, made to import ``modules`` when it starts (Linux), or ``spawn`` (elsewhere).

    The server starts with the first process and inherits this process's
    environment then: call this inside :func:`_single_threaded_children`.
    """
    if not sys.platform.startswith("linux"):
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(modules))
    return context


def _start(context: Any, job: Job) -> _Running:
    reader, writer = context.Pipe(duplex=False)
    environment = dict(os.environ)
    process = context.Process(target=_child, args=(job.function, job.payload, writer, job.seconds, job.memory_mb,
                                                   environment), daemon=True, name=f"grade {job.key}")
    process.start()
    writer.close()
    return _Running(job, process, reader, time.perf_counter())


def _outcome(child: _Running) -> Result | None:
    """The child's result, or what became of it; ``None`` while it is still working within its time."""
    while child.connection.poll():
        try:
            result = child.connection.recv()
        except (EOFError, OSError):  # it died without a word
            break
        if result == READY:
            child.ready = time.perf_counter()
            continue
        child.process.join(5)
        return result
    if child.process.is_alive() and time.perf_counter() < child.deadline:
        return None
    if child.process.is_alive():
        child.process.kill()
        child.process.join()
        return {"verdict": "timeout", "cause": "time limit",
                "hint": f"no result within {child.job.seconds:g} s: an endless loop, or too slow for the limit"}
    child.process.join()
    return _ended(child.process.exitcode, child.job)


def _ended(code: int | None, job: Job) -> Result:
    """A child that exited without a result: by which signal, and what that says."""
    if code is not None and code < 0 and -code == getattr(signal, "SIGXCPU", None):
        return {"verdict": "timeout", "cause": "time limit", "hint": f"used more than {job.seconds:g} s of CPU time"}
    name = signal.Signals(-code).name if code is not None and code < 0 else f"exit status {code}"
    memory = " (the memory limit, or the system running out of memory)" if name == "SIGKILL" else ""
    return {"verdict": "crashed", "cause": "crash", "hint": f"the process ended with {name}{memory} and no result"}


def _child(function: Callable[[dict], Result], payload: dict, connection: Connection, seconds: float,
           memory_mb: int | None, environment: dict[str, str]) -> None:
    """In the fresh process: the parent's environment, output silenced, limits; the job, its result."""
    os.environ.clear()
    os.environ.update(environment)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    _limit(seconds, memory_mb)
    connection.send(READY)
    try:
        result = function(payload)
    except BaseException as error:  # the job's own guard failed: still one line back, never a hang
        result = {"verdict": "error", "cause": "grader", "hint": f"{type(error).__name__}: {error}"}
    connection.send(result)
    connection.close()


def _limit(seconds: float, memory_mb: int | None) -> None:
    """CPU time and address space limits for this process (where the platform has them)."""
    try:
        import resource
    except ImportError:  # not on this platform: the wall-clock deadline still holds
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    if memory_mb is not None and os.path.exists("/proc/self/statm"):
        with open("/proc/self/statm") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = held + memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Children inherit the environment at spawn: one BLAS thread each (put back afterwards)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
