"""Write files so that a reader never sees half of one, and nothing but the file is touched.

What ``path`` is decides how it is written:

- a regular file, or nothing yet: a temporary file next to it is renamed onto
  it, so a reader sees the old file or the whole new one, never half;
- a symbolic link: the same, for the file it points to; the link stays a link;
- a FIFO or a character device (``/dev/stdout``, ``/dev/null``, a named pipe):
  written directly, never replaced by a regular file;
- anything else (a folder, a socket, a block device): refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _open_options(mode: str) -> dict[str, Any]:
    return {} if "b" in mode else {"encoding": "utf-8", "newline": ""}


def is_stream(path: str | os.PathLike) -> bool:
    """Whether ``path`` (after its links) is a FIFO or a character device: written to, never replaced."""
    try:
        kind = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(kind) or stat.S_ISCHR(kind)


def writable_problem(path: str | os.PathLike) -> str | None:
    """Why :func:`atomic_writer` could not write ``path``, found without writing it; ``None`` if it can.

    A FIFO or character device must be writable; a regular file's (or a new
    file's) folder must exist and take a new file: a temporary file is made
    there and removed at once, which is the one test that is also true for
    root (root may write into a ``chmod 555`` folder, but not into ``/sys`` or
    a read-only mount).
    """
    target = Path(os.path.realpath(path))
    if target.is_dir():
        return "it is a folder"
    if is_stream(target):
        return None if os.access(target, os.W_OK) else "permission denied"
    if target.exists() and not target.is_file():
        return "it is neither a regular file, a FIFO nor a character device"
    folder = target.parent
    if not folder.exists():
        return f"the folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".probe")
    except OSError as error:
        return f"cannot create a file in {folder}: {error.strerror or error}"
    os.close(fd)
    os.unlink(probe)
    return None


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "w") -> Iterator[IO[Any]]:
    """Open ``path`` for writing as the module docstring says; text is UTF-8 without newline translation.

    For a regular file: an interrupted or failed write leaves ``path`` as it
    was (absent or the old file) and removes the temporary file. A new file
    gets the permissions a plain ``open(path, "w")`` would give it (``0o666``
    less the umask), a replaced one keeps its own.
    """
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    if is_stream(target):
        with open(target, mode, **_open_options(mode)) as file:
            yield file
        return
    if target.exists() and not target.is_file():
        raise OSError(f"{path} is neither a regular file, a FIFO nor a character device")
    permissions = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_current_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **_open_options(mode)) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, permissions)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
