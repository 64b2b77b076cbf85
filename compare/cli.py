"""The ``mlp-compare`` command."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    print("mlp-compare: the harness is not built yet; `python -m scratch` runs the seed's demo.")
    return 0
