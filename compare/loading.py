"""The class a command line names: ``path/to/file.py:Class`` or ``module:Class``.

A file is imported from its path (its folder put first on the import path,
so its own imports of neighbouring files work); a module is imported with the
current directory on the import path, as ``python -m`` would. Whatever goes
wrong is a :class:`LoadError` of one line, naming the file and line for a
syntax error; an exception raised while the file runs carries the traceback
through the file in ``details``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from pathlib import Path

from scratch.config import MLPConfig

from .conformance import call

#: How ``--impl`` and ``grade`` name a class.
SPEC_FORMS = "PATH.py:CLASS or MODULE:CLASS"


class LoadError(Exception):
    """The class cannot be loaded; the message says why in one line, ``details`` holds a traceback if any."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def constructor_help() -> str:
    """What a class must accept to be built like ``scratch.MLP``, for ``--help``."""
    fields = [f.name for f in MLPConfig.options() if f.name != "hidden_layers"]
    return (f"Class(num_inputs, hidden_layers, num_outputs, {'=..., '.join(fields)}=...): accept every keyword "
            "(**kwargs for those it ignores)")


def split_spec(spec: str, option: str) -> tuple[str, str]:
    """``"a/b.py:Cls"`` → ``("a/b.py", "Cls")`` (raises :class:`LoadError` when it is not of that form)."""
    where, _, class_name = spec.rpartition(":")
    if not where or not class_name.isidentifier():
        raise LoadError(f"{option} must look like {SPEC_FORMS}, got {spec!r}")
    return where, class_name


def is_path(where: str) -> bool:
    """Whether ``where`` names a file rather than a module."""
    return where.endswith(".py") or os.sep in where or "/" in where


def load_class(spec: str, option: str = "--impl") -> type:
    """The class ``spec`` names (raises :class:`LoadError`)."""
    where, class_name = split_spec(spec, option)
    module = _import_file(Path(where), option) if is_path(where) else _import_module(where, option)
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        classes = sorted(name for name, value in vars(module).items()
                         if isinstance(value, type) and value.__module__.startswith(module.__name__))
        raise LoadError(f"{option} {spec}: {'file' if is_path(where) else 'module'} {where!r} has no class "
                        f"{class_name!r}" + (f"; it has {', '.join(classes)}" if classes else ""))
    return cls


def _import_module(name: str, option: str) -> object:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            raise LoadError(f"{option}: cannot import {name!r}: no module {error.name!r} in {os.getcwd()} or on the "
                            "import path") from None
        raise _failed(error, option, name) from None
    except Exception as error:
        raise _failed(error, option, name) from None


def _import_file(path: Path, option: str) -> object:
    if not path.is_file():
        raise LoadError(f"{option}: no such file {str(path)!r}")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    taken = sys.modules.get(path.stem)  # a module of that name not loaded from a path by us keeps its name
    free = taken is None or getattr(taken, "_loaded_from_path", False)
    name = path.stem if path.stem.isidentifier() and free else f"_impl_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    module._loaded_from_path = True  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise _failed(error, option, str(path)) from None
    return module


def _failed(error: Exception, option: str, what: str) -> LoadError:
    """A one-line error for a file or module that raised while importing, with its traceback in ``details``."""
    if isinstance(error, SyntaxError):
        return LoadError(f"{option}: {error.filename}, line {error.lineno}: SyntaxError: {error.msg}")
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not f.filename.startswith("<frozen")]
    last = frames[-1] if frames else None
    place = f" ({last.filename}, line {last.lineno})" if last else ""
    details = "".join([*traceback.format_list(frames[1:]), *traceback.format_exception_only(type(error), error)])
    return LoadError(f"{option}: importing {what} raised {type(error).__name__}: {error}{place}", details)


def build(cls: type, config: MLPConfig, option: str = "--impl", **arguments: object) -> object:
    """``cls(num_inputs, hidden_layers, num_outputs, **arguments)``.

    Raises :class:`LoadError` when the class cannot take these arguments,
    :class:`~compare.conformance.SideError` when its constructor raises.
    """
    try:
        inspect.signature(cls).bind(config.num_inputs, list(config.hidden_layers), config.num_outputs, **arguments)
    except TypeError as error:
        raise LoadError(f"cannot build {cls.__module__}.{cls.__qualname__}: {error}; {option} classes are built "
                        f"as {constructor_help()}") from None
    except ValueError:  # no signature to read
        pass
    name = f"{cls.__module__}.{cls.__qualname__}"
    return call("__init__", name, cls, config.num_inputs, list(config.hidden_layers), config.num_outputs, **arguments)
