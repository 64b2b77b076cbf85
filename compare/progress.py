"""Progress on standard error: one updating line per phase, drawn by ``tqdm``; standard output keeps the report.

On a terminal every phase of a sub-command (training one side, timing, one
benchmark row...) shows one line that updates in place — count, rate, ETA —
and disappears when the phase ends. Off a terminal (a pipe, a CI log) nothing
is shown unless ``--verbose``; then each phase is redrawn at most every
:data:`LOG_INTERVAL_S` seconds and its last state is kept.

A sub-command offers the options with :func:`add_progress_options` and gets
its phase maker with ``progress = phases_for(args)``; then::

    with progress("training scratch.MLP", total=epochs * samples, unit="sample") as advance:
        ...
        advance(batch_size)  # after each batch

``progress`` is a :data:`Phases`; :func:`no_progress` is the silent one (the
harness's default). ``scratch`` and ``keras_equiv`` never import this module:
their ``train`` takes a plain ``progress`` callable, which ``advance`` is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

#: ``advance(n)``: ``n`` more units of the phase are done.
Advance = Callable[[int], None]
#: ``phases(label, total=None, unit="it")``: a context giving the phase's ``advance``.
Phases = Callable[..., contextlib.AbstractContextManager[Advance]]
#: Off a terminal (with ``--verbose``), at most one redraw per this many seconds.
LOG_INTERVAL_S = 10.0


def add_progress_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--verbose`` (progress even off a terminal) and ``--quiet`` (none even on one)."""
    parser.add_argument("--verbose", action="store_true",
                        help="show progress on standard error even when it is not a terminal")
    parser.add_argument("--quiet", action="store_true", help="no progress, not even on a terminal")


def progress_wanted(verbose: bool = False, quiet: bool = False, stream: TextIO | None = None) -> bool:
    """On a terminal unless ``quiet``; elsewhere only if ``verbose``."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    return verbose or _is_terminal(stream)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


def _ignore(count: int) -> None:
    """The ``advance`` of a phase nobody watches."""


@contextlib.contextmanager
def no_progress(label: str = "", total: int | None = None, unit: str = "it") -> Iterator[Advance]:
    """A phase that shows nothing."""
    yield _ignore


def terminal_progress(stream: TextIO | None = None) -> Phases:
    """Phases drawn by ``tqdm`` on ``stream`` (standard error by default)."""
    stream = sys.stderr if stream is None else stream
    terminal = _is_terminal(stream)

    @contextlib.contextmanager
    def phase(label: str, total: int | None = None, unit: str = "it") -> Iterator[Advance]:
        from tqdm import tqdm

        sized = terminal and _width(stream) > 0  # a terminal that has not said its size (0×0) gets 80×24
        bar = tqdm(total=total, desc=label, unit=unit, unit_scale=True, file=stream, leave=not terminal,
                   dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 24,
                   mininterval=0.2 if terminal else LOG_INTERVAL_S, ascii=not terminal,
                   bar_format=None if total else "{desc}: {elapsed}")
        stop = threading.Event()
        if terminal:  # the elapsed time and the ETA keep moving between updates (e.g. while TensorFlow starts)
            threading.Thread(target=_refresh_until, args=(bar, stop), daemon=True).start()
        try:
            yield bar.update
        finally:
            stop.set()
            bar.close()

    return phase


def _refresh_until(bar: Any, stop: threading.Event, interval_s: float = 0.5) -> None:
    while not stop.wait(interval_s):
        bar.refresh()


def phases_for(args: argparse.Namespace, stream: TextIO | None = None) -> Phases:
    """The phases the command line asks for (see :func:`progress_wanted`)."""
    wanted = progress_wanted(getattr(args, "verbose", False), getattr(args, "quiet", False), stream)
    return terminal_progress(stream) if wanted else no_progress
