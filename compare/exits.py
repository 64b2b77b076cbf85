"""Exit statuses every sub-command keeps, one-line usage errors, and Ctrl-C without a traceback.

Every sub-command (``mlp-compare``, ``bench``, ``explain``, and any new one)
uses these, so a script can rely on the same numbers everywhere:

- :data:`PASSED` 0, :data:`FAILED` 1 (a check fails), :data:`USAGE` 2 (any
  invalid option or input, found before the run), :data:`NOT_WRITTEN` 3 (the
  run passed but a report file could not be written), :data:`INTERRUPTED` 130
  (Ctrl-C).
- :class:`CommandParser` is an ``argparse.ArgumentParser`` whose errors are
  one line, ``PROG: error: MESSAGE``, exit 2.
- :func:`guarded` runs a sub-command's body and turns Ctrl-C into one line
  and exit 130, and a closed standard output (``| head``) into a quiet exit.

A new sub-command's ``main`` is::

    def main(argv=None):
        return exits.guarded(PROG, lambda: _main(argv))

with ``exits.CommandParser(prog=PROG, ..., epilog=exits.epilog(...))`` as its parser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

PASSED, FAILED, USAGE, NOT_WRITTEN = 0, 1, 2, 3
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def epilog(passes: str = "every check passes", fails: str | None = "a check fails") -> str:
    """The ``--help`` line on exit statuses, in a sub-command's own words for pass and fail (``None``: cannot)."""
    failing = "" if fails is None else f", 1 {fails}"
    return (f"Exit status: 0 {passes}{failing}, 2 usage or input error, 3 the run passed but a report file "
            "could not be written, 130 interrupted (Ctrl-C).")


EPILOG = epilog()


class UsageError(Exception):
    """A mistake in the command line or its input that the user can fix; reported in one line, exit 2."""


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose error is one line (``PROG: error: MESSAGE``), exit 2; ``--help`` has the rest."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(USAGE, f"{self.prog}: error: {one_line} (see {self.prog} --help)\n")


def guarded(prog: str, body: Callable[[], int]) -> int:
    """``body()``'s exit status; Ctrl-C gives one line and :data:`INTERRUPTED`, a closed stdout a quiet exit."""
    try:
        return body()
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr, flush=True)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader of standard output went away (``| head``): say nothing more there
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


def exit_now(status: int) -> NoReturn:
    """End the process with ``status``: standard output and error flushed, then, when TensorFlow is loaded,
    without the interpreter's teardown.

    Tearing TensorFlow down at exit (its thread pools, its objects one by one)
    takes about 1.5 s, a tenth of the default ``mlp-compare``, and every report
    is written and closed by the time a command returns its status: so the
    command-line entry points end with ``os._exit``. Code that calls ``main``
    itself (the tests) keeps the ordinary exit.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    if "tensorflow" in sys.modules:
        os._exit(status)
    sys.exit(status)
