"""One side of a comparison run in a forked process, while the other side loads.

The default ``mlp-compare`` spends its first seconds importing TensorFlow for
the Keras side. Python's GIL lets no thread train scratch meanwhile (measured:
a thread importing TensorFlow beside a thread training made the whole run
slower, not faster), but a child process can. Forked before TensorFlow is
imported, the child inherits side ``a`` as it was built, answers everything
the harness asks of it (:func:`compare.harness.run_side`: forward, evaluate,
gradients, the training run) and sends the answers back through a pipe, while
the parent imports TensorFlow and builds side ``b`` on another core. The
answers are the numbers the parent would have computed: the same code, the
same data, the same starting state.

A Ctrl-C reaches both processes (a terminal signals the whole process
group). The child then answers that it was interrupted, and :meth:`Background.result`
raises :class:`KeyboardInterrupt` in the parent: the parent cannot count on
its own one, since Python drops a ``KeyboardInterrupt`` raised while a garbage
collection callback or a ``__del__`` runs (JAX, which Keras imports, registers
such a callback), and a parent that missed the Ctrl-C would take the silent
child for one killed for memory and train side ``a`` itself.

It is used only where that is safe and pays (:func:`can_fork`): on Linux
(``fork`` is missing on Windows and unsafe with macOS's system libraries),
with at least two cores for this process, and before TensorFlow is imported
(its threads do not survive a fork).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a forked child can work beside this process now (see the module doc)."""
    return sys.platform.startswith("linux") and usable_cores() >= 2 and "tensorflow" not in sys.modules


class NoAnswer(RuntimeError):
    """The child ended without sending an answer (killed, say, for want of memory)."""


class Background:
    """``function(*args, **kwargs)`` running in a forked child; :meth:`result` waits for what it returns."""

    def __init__(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._answers, sender = context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # or the child would write the parent's pending output again
            stream.flush()
        self._process = context.Process(target=_answer, args=(sender, function, args, kwargs), daemon=True)
        self._process.start()
        sender.close()

    def result(self) -> Any:
        """The function's return value, once it is there; what it raised is raised here.

        Raises :class:`KeyboardInterrupt` when Ctrl-C stopped the child, and
        :class:`NoAnswer` when the child ended without answering.
        """
        try:
            kind, value = self._answers.recv()
        except EOFError:
            self._process.join()
            raise NoAnswer(f"the background process ended without an answer (exit status "
                           f"{self._process.exitcode})") from None
        self._process.join()
        if kind == "interrupted":
            raise KeyboardInterrupt
        if kind == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop the child if it still runs (after Ctrl-C or an error in the parent) and free the pipe."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._answers.close()


def _answer(sender: Connection, function: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """The child: run ``function`` and send ``("result", value)``, ``("error", exception)`` or, after Ctrl-C,
    ``("interrupted", None)``."""
    try:
        answer = ("result", function(*args, **kwargs))
    except KeyboardInterrupt:  # the parent may have missed its own Ctrl-C (see the module doc): say so
        answer = ("interrupted", None)
    except Exception as error:  # raised again in the parent
        answer = ("error", error)
    try:
        sender.send(answer)
    except Exception as error:  # an answer that cannot be pickled
        sender.send(("error", RuntimeError(f"the background process could not send its answer: {error}")))
    finally:
        sender.close()


@contextlib.contextmanager
def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[Background]:
    """:class:`Background` as a context: the child is stopped on the way out if nothing waited for it."""
    background = Background(function, *args, **kwargs)
    try:
        yield background
    finally:
        background.close()
