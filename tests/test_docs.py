"""The documentation cannot rot: its Python blocks run, and its method map stays complete.

Every ```python block of README.md and of docs/*.md is executed, the blocks of
one file in order in one namespace (like a notebook), so a change that breaks
an example on the page breaks this test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scratch import MLP

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[str]:
    return PYTHON_BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.keras  # README.md's and the walkthrough's blocks run Keras beside scratch
@pytest.mark.parametrize("path", [p for p in DOCUMENTS if python_blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {"__name__": f"doc_{path.stem}"}
    for number, block in enumerate(python_blocks(path), start=1):
        try:
            exec(compile(block, f"{path.name} block {number}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{path.name}, python block {number} raised {type(error).__name__}: {error}\n{block}")


def test_walkthrough_has_its_python_blocks() -> None:
    assert len(python_blocks(ROOT / "docs" / "walkthrough.md")) >= 8


def mapped_methods() -> set[str]:
    """The ``MLP.name`` entries of the walkthrough's method-map table (first column)."""
    text = (ROOT / "docs" / "walkthrough.md").read_text(encoding="utf-8")
    table = text.split("## The method map", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"MLP\.(\w+)", cell)}


def test_method_map_names_real_methods() -> None:
    missing = sorted(name for name in mapped_methods() if not hasattr(MLP, name))
    assert not missing, f"the walkthrough maps methods scratch.MLP does not have: {missing}"


def test_method_map_covers_every_public_method_and_the_seeds_helpers() -> None:
    public = {name for name in vars(MLP) if not name.startswith("_") and callable(getattr(MLP, name))}
    seed_helpers = {"_sigmoid", "_sigmoid_derivative", "_mse"}
    unmapped = sorted((public | seed_helpers) - mapped_methods())
    assert not unmapped, f"add these scratch.MLP methods to the walkthrough's method map: {unmapped}"


def test_walkthrough_quotes_methods_that_exist() -> None:
    """Steps quote scratch code by method (``MLP._forward``...): each named method exists."""
    text = (ROOT / "docs" / "walkthrough.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`MLP\.(\w+)`", text))
    assert {"_forward", "_backward", "train", "gradient_descent"} <= named
    assert all(hasattr(MLP, name) for name in named), sorted(n for n in named if not hasattr(MLP, n))
