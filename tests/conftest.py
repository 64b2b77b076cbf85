"""The suite's tiers and its Hypothesis profile.

Tiers (markers registered in pyproject.toml):

- ``keras``: the test needs TensorFlow/Keras. ``pytest -m "not keras"`` is the NumPy-only tier, and it must
  not import TensorFlow at all, collection included. A module that is Keras throughout says so with a line
  ``pytestmark = pytest.mark.keras``; this file reads that line and does not even import such a module when
  the ``-m`` expression deselects every Keras test. When no selected test is marked ``keras``, the session
  fails if TensorFlow was imported anyway.
- ``slow``: a few seconds or more each.

Hypothesis runs derandomized (the same examples on every run) when the environment variable CI is set.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import itertools
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() not in ("", "0", "false"):
    settings.load_profile("ci")

KERAS_MARK = re.compile(r"\bpytest\.mark\.keras\b")
#: An identifier of pytest's ``-m`` expression language, minus its keywords.
MARK_NAME = re.compile(r"[\w:+\-.\[\]\\/]+")
NUMPY_ONLY_RUN = pytest.StashKey[bool]()
TENSORFLOW_REPORTED = pytest.StashKey[bool]()


@functools.cache
def deselects_every_keras_test(markexpr: str) -> bool:
    """True when ``-m markexpr`` is false for every test marked ``keras``, whatever its other marks.

    Tries each combination of the other names in the expression (a handful at most). What it cannot
    decide (a keyword-argument match, many names) counts as False: the module is then imported and
    its tests deselected the ordinary way.
    """
    others = sorted(set(MARK_NAME.findall(markexpr)) - {"and", "or", "not", "keras"})
    if "=" in markexpr or len(others) > 8:
        return False
    try:
        from _pytest.mark.expression import Expression  # pytest's own -m parser

        expression = Expression.compile(markexpr)
        for present in itertools.product((False, True), repeat=len(others)):
            marks = {"keras", *(name for name, is_present in zip(others, present) if is_present)}
            if expression.evaluate(marks.__contains__):
                return False
    except Exception:  # an expression pytest will refuse itself, or a changed private API
        return False
    return True


def is_keras_only(module: Path) -> bool:
    """Whether the module's top level says ``pytestmark = pytest.mark.keras`` (read, not imported)."""
    for statement in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(statement, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in statement.targets):
            return bool(KERAS_MARK.search(ast.unparse(statement.value)))
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip importing a Keras-only module (it would import TensorFlow) when ``-m`` deselects its tests."""
    markexpr = config.getoption("markexpr")
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_") or not markexpr:
        return None
    if deselects_every_keras_test(markexpr) and is_keras_only(collection_path):
        return True
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    session.stash[NUMPY_ONLY_RUN] = not any(item.get_closest_marker("keras") for item in session.items)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("keras") and importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs TensorFlow (pip install tensorflow)")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Under pytest-xdist, fail the first test after which a worker of a NumPy-only run has TensorFlow loaded.

    A worker's own session status does not reach the final exit status, so the
    worker reports it as a test error instead (once: the test that imported it,
    or the first one after a module that did at collection).
    """
    session = item.session
    if (hasattr(item.config, "workerinput") and session.stash.get(NUMPY_ONLY_RUN, False)
            and "tensorflow" in sys.modules and not session.stash.get(TENSORFLOW_REPORTED, False)):
        session.stash[TENSORFLOW_REPORTED] = True
        pytest.fail("TensorFlow was imported by tests not marked keras (by this test, or at collection)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a run of NumPy-only tests that imported TensorFlow: some test or module needs the keras mark."""
    if session.stash.get(NUMPY_ONLY_RUN, False) and "tensorflow" in sys.modules:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "TensorFlow was imported by tests not marked keras", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
