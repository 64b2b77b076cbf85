"""The project's own wiring: CI runs the README's test command; NumPy-only code and tests import no TensorFlow."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quickstart)


def test_quickstart_has_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert "mlp-compare" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


#: Code that must run without importing TensorFlow or Keras (they are imported lazily, where Keras is used).
NUMPY_ONLY_CODE = [
    "import scratch; scratch.MLP(2, [3], 1).forward([0.1, 0.2])",
    "import compare, scratch; x, y = scratch.sum_dataset(10); "
    "compare.compare(scratch.MLP(2, [3], 1), scratch.MLP(2, [3], 1), x, y, epochs=1, learning_rate=0.1)",
    "import compare.bench, compare.bench.command, compare.bench.cases, compare.bench.measuring, "
    "compare.bench.machine, compare.bench.timing, compare.bench.render, compare.bench.runners, "
    "compare.bench.scratch_bench, compare.bench.keras_bench, compare.bench.seed_original, compare.bench.sweep, "
    "compare.bench.gemm_time, compare.bench.before_after, compare.background",
    "import compare.cli, compare.gallery, compare.gallery.explain, compare.gallery.wrong",
]


def test_numpy_only_code_does_not_import_tensorflow():
    """One fresh interpreter runs each piece in turn and says, after each, whether TensorFlow or Keras came in:
    the piece that brought one in is named (one interpreter start, not one per piece)."""
    check = "import sys\n" + "".join(
        f"{code}\nprint({code.split(';')[0]!r}, sorted({{'tensorflow', 'keras'}} & set(sys.modules)))\n"
        for code in NUMPY_ONLY_CODE)
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.splitlines()[-len(NUMPY_ONLY_CODE):] == [
        f"{code.split(';')[0]} []" for code in NUMPY_ONLY_CODE]


# ------------------------------------------------------- the tiers in conftest.py
NUMPY_ONLY_TEST = """
import sys
import types

from hypothesis import settings


def test_derandomized_under_ci():
    assert settings.default.derandomize


def test_numpy_only_yet_imports_tensorflow():
    sys.modules["tensorflow"] = types.ModuleType("tensorflow")
"""
KERAS_ONLY_TEST = """
import pytest

pytestmark = pytest.mark.keras

raise RuntimeError("collecting -m 'not keras' imported a Keras-only module")
"""


def test_numpy_only_tier_guard_and_ci_profile(tmp_path):
    """conftest.py, copied into a throwaway project whose NumPy-only test imports (a stand-in for) TensorFlow.

    The suite's own ``pytest -m "not keras"`` run shows the other side: a clean run passes.
    """
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    keras\n    slow\n")
    (tmp_path / "test_keras_only.py").write_text(KERAS_ONLY_TEST)
    (tmp_path / "test_numpy_only.py").write_text(NUMPY_ONLY_TEST)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--strict-markers", "-m", "not keras"]
    # In one process, and on a pytest-xdist worker (as the suite runs, addopts): both at once, on two cores.
    one_process, on_a_worker = (
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                         env={**os.environ, "CI": "true"}) for args in (command, [*command, "-n", "1"]))
    output = one_process.communicate(timeout=120)[0]
    assert "2 passed" in output and "error" not in output.lower(), output  # the Keras-only module was not imported
    assert "TensorFlow was imported by tests not marked keras" in output, output
    assert one_process.returncode == pytest.ExitCode.TESTS_FAILED, output
    output = on_a_worker.communicate(timeout=120)[0]  # a worker's own status never reaches the final one
    assert "TensorFlow was imported by tests not marked keras" in output, output
    assert "2 passed, 1 error" in output and on_a_worker.returncode == pytest.ExitCode.TESTS_FAILED, output
