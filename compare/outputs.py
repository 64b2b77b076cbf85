"""The report files a sub-command can write: one way to offer them on the command line.

Every sub-command (``mlp-compare``, ``bench``, ``explain``) takes the same
options, each naming a path: ``--json``, ``--markdown``, ``--csv`` and
``--plot``, those that make sense for it.
"""

from __future__ import annotations

import argparse

#: format -> what its file holds, as a sub-command describes it
OutputHelp = dict[str, str]


def add_output_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, helps: OutputHelp) -> None:
    """``--<format> PATH`` for each format of ``helps`` (``json``, ``markdown``, ``csv``, ``plot``)."""
    for name, help_text in helps.items():
        parser.add_argument(f"--{name}", metavar="PATH", help=help_text)
