"""What runs in each grading process: ``scratch.MLP``'s run, one submission against it, or the proof against Keras.

``scratch.MLP``'s run (:func:`reference_run`) is the same for every
submission that starts from its initial weights, so it is made once and
handed to every job in its payload (``"reference_run"``): a submission then
costs its own training, not two (see ``b_run`` of
:func:`compare.harness.compare`, which uses it only when the starting state
matches bit for bit), and the proof against Keras is about that very run.

Each takes a plain dict (picklable) and returns one plain dict (a row), and
never raises: whatever the submission does is turned into the row.
"""

from __future__ import annotations

import traceback
from typing import Any

from scratch import MLP, MLPConfig

from ..causes import Cause
from ..conformance import SideError
from ..factors import CONVENTIONS
from ..harness import SideRun, compare, run_side
from ..loading import LoadError, build, load_class
from ..report import localisation_dict
from ..results import Report

Row = dict[str, Any]
#: Every key a row has, with its value when nothing fills it.
EMPTY_ROW: Row = {"verdict": "", "conventions": [], "cause": "", "where": "", "side": "", "hint": "", "causes": [],
                  "failed_checks": [], "details": ""}


def task(config: MLPConfig, arguments: dict, x: Any, y: Any, training: dict, accept: list[str]) -> dict:
    """The part of a payload every job shares: the network, the data, the training, the conventions accepted."""
    return {"config": config.to_dict(), "arguments": arguments, "x": x, "y": y, "training": training,
            "accept": accept}


def _compare(a: Any, b: Any, payload: dict, accept: list[str], **run: SideRun | None) -> Report:
    return compare(a, b, payload["x"], payload["y"], accept=accept, **payload["training"], **run)


def reference_run(payload: dict) -> Row:
    """``scratch.MLP``'s answers and training run from its own initial weights, as ``{"run": SideRun}``."""
    try:
        run = run_side(MLP(MLPConfig.from_dict(payload["config"])), payload["x"], payload["y"], name="scratch.MLP",
                       **payload["training"])
    except Exception as error:  # the submissions and the proof then run scratch.MLP themselves, and say why
        return {"verdict": "error", "hint": f"{type(error).__name__}: {error}"}
    return {"run": run}


def grade(payload: dict) -> Row:
    """Grade ``payload["spec"]`` (``path.py:Class`` or ``module:Class``) against ``scratch.MLP``."""
    row = dict(EMPTY_ROW)
    try:
        config = MLPConfig.from_dict(payload["config"])
        submission = build(load_class(payload["spec"], "submission"), config, "submission", **payload["arguments"])
        report = _compare(submission, MLP(config), payload, payload["accept"], b_run=payload.get("reference_run"))
        accepted = [*payload["accept"], *(CONVENTIONS if "any" in payload["accept"] else ())]
    except LoadError as error:
        return row | {"verdict": "cannot load", "cause": "load", "hint": str(error), "details": error.details}
    except SideError as error:
        memory = isinstance(error.__cause__, MemoryError)
        return row | {"verdict": "memory limit" if memory else "error", "cause": "exception", "hint": str(error),
                      "where": _last_frame(error.details), "details": error.details}
    except Exception as error:  # the grader itself failed on this submission: say so on its row
        return row | {"verdict": "error", "cause": "grader", "hint": f"{type(error).__name__}: {error}",
                      "details": traceback.format_exc()}
    return row | _from_report(report, accepted)


def _from_report(report: Report, accepted: list[str]) -> Row:
    """The row of a report; its cause is the first one not among the ``accepted`` conventions."""
    loc = report.localisation
    verdict = ("equivalent" if report.passed else "equivalent up to" if report.accepted else
               "not conforming" if loc is not None and loc.cause is Cause.CONFORMANCE else "not equivalent")
    row: Row = {"verdict": verdict, "conventions": report.accepted,
                "failed_checks": [c.name for c in report.failed_checks]}
    if loc is not None:
        first = next((c for c in loc.causes if report.accepted or c.convention not in accepted), loc)
        row |= {"cause": str(first.cause), "where": first.where(), "side": first.side or "", "hint": first.hint,
                "causes": [localisation_dict(cause) for cause in loc.causes]}
    return row


def _last_frame(details: str) -> str:
    """``file.py:42 in train`` from a formatted traceback (its last frame), or ``""``."""
    for line in reversed(details.splitlines()):
        line = line.strip()
        if line.startswith('File "'):
            path, _, rest = line[len('File "'):].partition('", line ')
            number, _, function = rest.partition(", in ")
            return f"{path.rsplit('/', 1)[-1]}:{number} in {function}"
    return ""


def prove_reference(payload: dict) -> Row:
    """``scratch.MLP`` ≡ ``keras_equiv.KerasMLP`` on this configuration, data and training (imports TensorFlow)."""
    try:
        from keras_equiv import KerasMLP
    except ImportError as error:
        return {"verdict": "skipped", "hint": f"the Keras side is not available ({error}); install tensorflow"}
    a = MLP(MLPConfig.from_dict(payload["config"]))
    report = _compare(a, KerasMLP.from_scratch(a), payload, [], a_run=payload.get("reference_run"))
    row = _from_report(report, [])
    return row | {"checks": len(report.checks), "names": list(report.names)}
