"""The report files a sub-command writes: one way to offer them, check them before the run, and write them.

Every sub-command (``mlp-compare``, ``bench``, ``explain``) takes the same
options, each naming a path: ``--json``, ``--markdown``, ``--csv`` and
``--plot``, those that make sense for it. A sub-command uses them in three steps:

1. ``add_output_options(parser, helps)`` offers the options;
2. ``outputs = checked_outputs(args, helps)``, right after parsing and before
   any computation, refuses (:class:`~compare.exits.UsageError`, one line
   naming the option and path) a folder, a folder that does not exist or
   takes no new file, a file name whose suffix names another format, two
   outputs on one path, or ``-`` twice; the human-readable report then goes
   to ``report_stream(outputs)``: standard error when one output is ``-``;
3. after the run, ``written = write_outputs({output: render})`` writes every
   one it can, ``render(output)`` giving its text or bytes; if
   ``written.failed``, ``written.summary()`` is the line to print (and
   :data:`~compare.exits.NOT_WRITTEN` the exit status when the run passed).

The format: the option says it, whatever the file's name. ``--markdown
PATH`` writes Markdown to ``PATH`` whether it ends in ``.md``, ``.txt`` or
nothing at all (``$GITHUB_STEP_SUMMARY`` is a file named
``step_summary_<id>``). Only a suffix that names *another* format (``--json
report.csv``, ``--plot plot.jpg``: most likely two names swapped or a format
not written) is refused. For ``--plot`` the suffix picks the image format
(``.png``, ``.svg``, ``.pdf``); any other name gets PNG.

Where the bytes go: ``-`` is standard output; one of this process's own open
files named by path (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``) is
written through and appended to, never truncated or replaced (when standard
output is redirected to a file, the report already printed there stays); any
other symlink is written through and stays a link; a FIFO or character device
is written directly; a regular file is replaced atomically (a temporary file
renamed onto it, see :func:`scratch.files.atomic_writer`); a folder, a
socket or a block device is refused.
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
#: the file name endings of each format; a plot's ending picks its image format
SUFFIXES = {"json": (".json",), "markdown": (".md", ".markdown"), "csv": (".csv",), "plot": (".png", ".svg", ".pdf")}
#: what each format is called in messages
FORMAT_NAMES = {"json": "JSON", "markdown": "Markdown", "csv": "CSV", "plot": "an image (PNG, SVG or PDF)"}
#: endings of image formats no option writes: refused for every option (a plot there would not be that format)
OTHER_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp", ".bmp")
STDOUT = "-"
Content = str | bytes


def add_output_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, helps: OutputHelp) -> None:
    """``--<format> PATH`` for each format of ``helps`` (``json``, ``markdown``, ``csv``, ``plot``)."""
    for name, help_text in helps.items():
        ending = ("any file name; .png, .svg or .pdf picks the image format, PNG otherwise" if name == "plot" else
                  f"any file name, usually ending {' or '.join(SUFFIXES[name])}")
        parser.add_argument(f"--{name}", metavar="PATH", help=f"{help_text} ({ending}; "
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
        """For a plot: ``png``, ``svg`` or ``pdf`` from the file name (PNG for any other name, ``-`` and devices)."""
        suffix = Path(self.path).suffix.lower()
        return suffix[1:] if suffix in SUFFIXES["plot"] else "png"


def requested_outputs(args: argparse.Namespace, formats: Sequence[str]) -> list[Output]:
    """The outputs of ``formats`` given on the command line, in that order."""
    return [Output(name, getattr(args, name)) for name in formats if getattr(args, name, None)]


def output_problem(output: Output) -> str | None:
    """What stops ``output`` from being written (without writing it), or ``None``."""
    if output.to_stdout:
        return None
    if names_open_file(output.path):
        return None if os.access(output.path, os.W_OK) else "permission denied"
    return writable_problem(output.path) or suffix_problem(output)


def suffix_problem(output: Output) -> str | None:
    """Why the file name contradicts the option's format (its suffix names another one), or ``None``.

    The option decides the format (see the module docstring); a suffix of none
    of the known formats (``.txt``, ``.log``, none) is the user's choice.
    """
    suffix = Path(output.path).suffix.lower()
    endings = SUFFIXES[output.format]
    if suffix in endings or is_stream(output.path):
        return None
    named = next((name for name, known in SUFFIXES.items() if suffix in known), None)
    if named is None and suffix not in OTHER_IMAGE_SUFFIXES:
        return None
    listed = " or ".join([", ".join(endings[:-1]), endings[-1]] if len(endings) > 1 else endings)
    what = FORMAT_NAMES[named] if named else "an image format no option writes"
    return (f"the file name must end in {listed}, not {suffix}, which names {what}; --{output.format} writes "
            f"{FORMAT_NAMES[output.format]} (to a name with any other suffix, or none, too)")


def names_open_file(path: str) -> bool:
    """Whether ``path`` or a link on the way to its target is one of this process's open files (``/dev/stdout``)."""
    # the folders that list this process's open files (``/dev/stdout`` links to ``/proc/self/fd/1``); the pid is
    # read now, not at import: a forked process has its own
    folders = ("/dev/fd", "/proc/self/fd", f"/proc/{os.getpid()}/fd")
    current = Path(os.path.abspath(path))
    for _ in range(40):  # the kernel's own limit on links followed
        if str(current.parent) in folders:
            return True
        if not current.is_symlink():
            return False
        current = Path(os.path.abspath(current.parent / os.readlink(current)))
    return False


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
        if output.to_stdout or is_stream(output.path) or names_open_file(output.path):
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
    if names_open_file(output.path):  # never truncated: what this process wrote there already stays
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        with open(output.path, "ab" if isinstance(content, bytes) else "a",
                  **({} if isinstance(content, bytes) else {"encoding": "utf-8", "newline": ""})) as file:
            file.write(content)
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
