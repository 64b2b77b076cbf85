"""The report files a sub-command writes: one way to offer them, check them before the run, and write them.

Every sub-command (``mlp-compare``, ``bench``, ``explain``) takes the same
options, each naming a path: ``--json``, ``--markdown``, ``--csv`` and
``--plot``, those that make sense for it. A sub-command uses them in three steps:

1. ``add_output_options(parser, helps)`` offers the options;
2. ``outputs = checked_outputs(args, helps)``, right after parsing and before
   any computation, refuses (:class:`~compare.exits.UsageError`, one line
   naming the option and path) a folder that does not exist or takes no new
   file, a file name whose extension does not match the format, two outputs
   on one path, or ``-`` twice; the human-readable report then goes to
   ``report_stream(outputs)``: standard error when one output is ``-``;
3. after the run, ``written = write_outputs({output: render})`` writes every
   one it can, ``render(output)`` giving its text or bytes; if
   ``written.failed``, ``written.summary()`` is the line to print (and
   :data:`~compare.exits.NOT_WRITTEN` the exit status when the run passed).

Where the bytes go: ``-`` is standard output; a symlink is written through and
stays a link; a FIFO or character device is written directly; a regular file
is replaced atomically (see :func:`scratch.files.atomic_writer`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from scratch.files import atomic_writer, is_stream, writable_problem

from .exits import UsageError

#: format -> what its file holds, as a sub-command describes it
OutputHelp = dict[str, str]
#: the file name endings each format accepts; a plot's ending picks its image format
SUFFIXES = {"json": (".json",), "markdown": (".md", ".markdown"), "csv": (".csv",), "plot": (".png", ".svg", ".pdf")}
STDOUT = "-"
Content = str | bytes


def add_output_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, helps: OutputHelp) -> None:
    """``--<format> PATH`` for each format of ``helps`` (``json``, ``markdown``, ``csv``, ``plot``)."""
    for name, help_text in helps.items():
        endings = ", ".join(SUFFIXES[name])
        parser.add_argument(f"--{name}", metavar="PATH", help=f"{help_text} (file name ending {endings}; "
                            "- for standard output, the report then going to standard error)")


@dataclass(frozen=True)
class Output:
    """One requested report file: its format (the option's name) and the path as given."""

    format: str
    path: str

    def __str__(self) -> str:
        return f"--{self.format} {self.path}"

    @property
    def to_stdout(self) -> bool:
        return self.path == STDOUT

    @property
    def image_format(self) -> str:
        """For a plot: ``png``, ``svg`` or ``pdf`` from the file name (PNG for ``-`` and devices)."""
        suffix = Path(self.path).suffix.lower()
        return suffix[1:] if suffix in SUFFIXES["plot"] else "png"


def requested_outputs(args: argparse.Namespace, formats: Sequence[str]) -> list[Output]:
    """The outputs of ``formats`` given on the command line, in that order."""
    return [Output(name, getattr(args, name)) for name in formats if getattr(args, name, None)]


def output_problem(output: Output) -> str | None:
    """What stops ``output`` from being written (without writing it), or ``None``."""
    if output.to_stdout:
        return None
    problem = writable_problem(output.path)
    endings = SUFFIXES[output.format]
    if problem is None and not is_stream(output.path) and Path(output.path).suffix.lower() not in endings:
        listed = " or ".join([", ".join(endings[:-1]), endings[-1]] if len(endings) > 1 else endings)
        problem = f"the file name must end in {listed}"
    return problem


def check_outputs(outputs: Sequence[Output]) -> None:
    """Raise :class:`UsageError` naming the first output that cannot be written, or two that collide."""
    for output in outputs:
        problem = output_problem(output)
        if problem:
            raise UsageError(f"{output}: {problem}")
    if sum(o.to_stdout for o in outputs) > 1:
        raise UsageError(f"only one report can go to standard output (-), not {' and '.join(map(str, outputs))}")
    seen: dict[str, Output] = {}
    for output in outputs:
        if output.to_stdout or is_stream(output.path):
            continue
        key = os.path.realpath(output.path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {output} name the same file")
        seen[key] = output


def checked_outputs(args: argparse.Namespace, formats: Sequence[str]) -> list[Output]:
    """:func:`requested_outputs`, checked by :func:`check_outputs`."""
    outputs = requested_outputs(args, formats)
    check_outputs(outputs)
    return outputs


def report_stream(outputs: Sequence[Output]) -> TextIO:
    """Where the human-readable report goes: standard error when a report file is standard output."""
    return sys.stderr if any(o.to_stdout for o in outputs) else sys.stdout


def write_output(output: Output, content: Content) -> None:
    """Write ``content`` (text or bytes) where ``output`` says (see the module docstring)."""
    if output.to_stdout:
        sys.stdout.flush()
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(content)
            sys.stdout.flush()
        return
    with atomic_writer(output.path, "wb" if isinstance(content, bytes) else "w") as file:
        file.write(content)


@dataclass
class Written:
    """Which outputs were written and which were not (with the reason)."""

    done: list[Output] = field(default_factory=list)
    failed: list[tuple[Output, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: what could not be written and why, and what was."""
        parts = [f"{output} could not be written: {reason}" for output, reason in self.failed]
        if self.done:
            parts.append(f"written: {', '.join(map(str, self.done))}")
        return "; ".join(parts)


def write_outputs(renders: Mapping[Output, Callable[[Output], Content]]) -> Written:
    """Write each output with its render function; an output that fails does not stop the others."""
    written = Written()
    for output, render in renders.items():
        try:
            write_output(output, render(output))
        except OSError as error:
            written.failed.append((output, error.strerror or str(error)))
        else:
            written.done.append(output)
    return written
