"""Rendering: terminal text, Markdown, JSON, CSV and a PNG plot, written atomically.

The building blocks are public so that other subcommands (``bench``,
``explain``) reuse them: :func:`frame_table` (a pandas DataFrame as a text or
Markdown table), :func:`json_ready`, :func:`atomic_write` and
:func:`atomic_writer`. The rest renders a :class:`~compare.results.Report`.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any

import numpy as np
import pandas as pd
from tabulate import tabulate

from scratch.files import atomic_writer

from .outputs import Output, write_output
from .results import Localisation, Report

#: How many epochs the summary shows at each end of the loss curves.
EDGE_EPOCHS = 3
#: Column formats of the loss summary: losses to 10 digits, differences to 3.
LOSS_FORMATS = {"": ".10g", "abs difference": ".3g"}


# ------------------------------------------------------------ reusable pieces
def atomic_write(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` (text or bytes) to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, "wb" if isinstance(data, bytes) else "w") as file:
        file.write(data)


def frame_table(frame: pd.DataFrame, markdown: bool = False, floatfmt: str | dict[str, str] = ".3g") -> str:
    """``frame`` as an aligned text table (or a GitHub Markdown table), without the index.

    ``floatfmt`` formats the float cells: one format spec, or one per column
    name, where the key ``""`` is the default for columns not named (else ``".3g"``).
    """
    cells = frame.astype(object).copy()
    for column in cells.columns:
        spec = floatfmt.get(column, floatfmt.get("", ".3g")) if isinstance(floatfmt, dict) else floatfmt
        cells[column] = [format(v, spec) if isinstance(v, float) else str(v) for v in cells[column]]
    return tabulate(cells, headers="keys", tablefmt="github" if markdown else "simple", showindex=False,
                    disable_numparse=True)


def json_ready(value: Any) -> Any:
    """``value`` with NumPy scalars/arrays as Python numbers/lists and inf/NaN as ``None`` (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike, value: Any) -> None:
    """``value`` as indented strict JSON, written atomically."""
    atomic_write(path, json_text(value))


def _number(value: float) -> str:
    return "—" if value is None else f"{value:.3g}" if math.isfinite(value) else str(value)


# ------------------------------------------------------------- the frames
def checks_frame(report: Report) -> pd.DataFrame:
    """One row per check: name, max abs error, max rel error, tolerance, PASS/FAIL."""
    rows = []
    for check in report.checks:
        rows.append({
            "check": check.name,
            "max abs error": _number(check.max_abs_error),
            "max rel error": _number(check.max_rel_error),
            "tolerance": "exact" if check.rtol == check.atol == 0 else f"rtol {check.rtol:.0e}, atol {check.atol:.1e}",
            "result": "PASS" if check.passed else "FAIL",
            "worst at": "" if check.worst_index is None else str(check.worst_index),
            "note": check.note,
        })
    frame = pd.DataFrame(rows)
    return frame.drop(columns=["note"]) if not frame.empty and not frame["note"].any() else frame


def loss_epochs(report: Report, edge: int = EDGE_EPOCHS) -> list[int]:
    """0-based epochs worth showing: the first and last ``edge`` and the worst difference."""
    count = min(len(report.losses_a), len(report.losses_b))
    if count == 0:
        return []
    diff = np.abs(np.array(report.losses_a[:count]) - np.array(report.losses_b[:count]))
    worst = int(np.nanargmax(diff)) if np.any(np.isfinite(diff)) else 0
    chosen = set(range(min(edge, count))) | set(range(max(count - edge, 0), count)) | {worst}
    return sorted(chosen)


def losses_frame(report: Report, epochs: list[int] | None = None) -> pd.DataFrame:
    """Per-epoch losses of both sides and their difference (all epochs, or ``epochs``, 0-based)."""
    count = min(len(report.losses_a), len(report.losses_b))
    chosen = range(count) if epochs is None else epochs
    name_a, name_b = report.names
    rows = []
    for e in chosen:
        la, lb = report.losses_a[e], report.losses_b[e]
        rows.append({"epoch": e + 1, f"loss {name_a}": la, f"loss {name_b}": lb, "abs difference": abs(la - lb)})
    return pd.DataFrame(rows, columns=["epoch", f"loss {name_a}", f"loss {name_b}", "abs difference"])


def timings_frame(report: Report) -> pd.DataFrame:
    """Median ms per operation for both sides, the ratio b/a, and what the median is of."""
    name_a, name_b = report.names
    rows = [{"operation": t.operation, f"{name_a} ms": f"{t.ms_a:.3f}", f"{name_b} ms": f"{t.ms_b:.3f}",
             "ratio b/a": f"{t.ratio:.2f}", "median of": getattr(t, "measured", "")} for t in report.timings or []]
    return pd.DataFrame(rows)


# ------------------------------------------------------------ text blocks
def header_lines(report: Report, width: int = 100) -> list[str]:
    """``a vs b`` and the configuration's ``key value`` pairs, as many to a line as fit; no pair is split."""
    lines = [f"{report.names[0]} vs {report.names[1]} (compared in {report.dtype})"]
    pairs = [f"{key} {value}" for key, value in report.config.items()]
    current = ""
    for number, pair in enumerate(pairs):
        pair += "," if number < len(pairs) - 1 else ""
        if current and len(current) + 1 + len(pair) > width:
            lines.append(current)
            current = pair
        else:
            current = f"{current} {pair}" if current else pair
    return lines + ([current] if current else [])


def header_frame(report: Report) -> pd.DataFrame:
    """The header as a table of settings: what is compared, then one row per configuration key."""
    rows = [("compared", f"{report.names[0]} vs {report.names[1]} (in {report.dtype})"),
            *((str(key), str(value)) for key, value in report.config.items())]
    return pd.DataFrame(rows, columns=["setting", "value"])


def verdict_lines(report: Report) -> list[str]:
    """``PASS: all 8 checks agree`` or the failing checks and the localisation."""
    if report.passed:
        return [f"PASS: all {len(report.checks)} checks agree within tolerance"]
    failed = ", ".join(c.name for c in report.failed_checks)
    lines = [f"EQUIVALENT up to: {', '.join(report.accepted)} (replayed; differing checks: {failed})"
             if report.accepted else f"FAIL: {failed}"]
    for number, loc in enumerate(report.localisation.causes if report.localisation else []):
        where = loc.where()
        lines.append(f"{'also' if number else 'cause'}: {loc.cause}" + (f" — at {where}" if where else "")
                     + (f" — in {loc.side}" if loc.side else ""))
        lines.append(f"hint: {loc.hint}")
        lines += [f"  evidence: {line}" for line in loc.evidence]
    return lines


def render_text(report: Report, losses: bool = True, timings: bool = True) -> str:
    """The terminal report: header, equivalence table, losses summary, timings, verdict."""
    blocks = ["\n".join(header_lines(report)), frame_table(checks_frame(report))]
    if losses and report.losses_a:
        frame = losses_frame(report, loss_epochs(report))
        blocks.append(f"per-epoch losses ({len(report.losses_a)} epochs: first, last, largest difference)\n"
                      + frame_table(frame, floatfmt=LOSS_FORMATS))
    if timings and report.timings:
        blocks.append("timing (median ms)\n" + frame_table(timings_frame(report)))
    blocks.append("\n".join(verdict_lines(report)))
    return "\n\n".join(blocks) + "\n"


def table(report: Report) -> str:
    """The equivalence table, the verdict and the localisation, as text (no losses, no timings)."""
    return render_text(report, losses=False, timings=False)


def render_markdown(report: Report) -> str:
    """The same report as Markdown (fit for a CI job summary)."""
    verdict = verdict_lines(report)
    mark = "✅" if report.equivalent else "❌"
    parts = [f"## {mark} {verdict[0]}", "", frame_table(header_frame(report), markdown=True),
             "", "### Equivalence", "", frame_table(checks_frame(report), markdown=True)]
    if len(verdict) > 1:
        parts += ["", "### Localisation", "", *(f"- {line.strip()}" for line in verdict[1:])]
    if report.losses_a:
        summary = losses_frame(report, loss_epochs(report))
        parts += ["", "### Per-epoch losses", "", frame_table(summary, markdown=True, floatfmt=LOSS_FORMATS)]
    if report.timings:
        parts += ["", "### Timing (median ms)", "", frame_table(timings_frame(report), markdown=True)]
    return "\n".join(parts) + "\n"


def report_dict(report: Report) -> dict[str, Any]:
    """The JSON document: ``passed``, ``config``, ``checks``, ``losses``, ``timings``, ``localisation``."""
    loc = report.localisation
    return json_ready({
        "passed": report.passed,
        "config": report.config,
        "names": list(report.names),
        "dtype": report.dtype,
        "checks": [
            {"name": c.name, "max_abs_error": c.max_abs_error, "max_rel_error": c.max_rel_error,
             "rtol": c.rtol, "atol": c.atol, "passed": c.passed,
             "worst_index": None if c.worst_index is None else list(c.worst_index), "note": c.note}
            for c in report.checks
        ],
        "losses": {"a": report.losses_a, "b": report.losses_b},
        "timings": None if report.timings is None else [
            {"operation": t.operation, "ms_a": t.ms_a, "ms_b": t.ms_b, "ratio": t.ratio,
             "median_of": getattr(t, "measured", "")} for t in report.timings
        ],
        "accepted": report.accepted,
        "equivalent": report.equivalent,
        "localisation": None if loc is None else {
            **localisation_dict(loc), "causes": [localisation_dict(cause) for cause in loc.causes]},
    })


def localisation_dict(loc: Localisation) -> dict[str, Any]:
    """One cause as JSON: ``cause``, ``hint``, ``epoch``, ``batch``, ``samples``, ``layer``, ``layers``, ..."""
    return {"cause": str(loc.cause), "hint": loc.hint, "epoch": loc.epoch, "batch": loc.batch,
            "samples": None if loc.samples is None else list(loc.samples), "layer": loc.layer,
            "layers": loc.layers, "evidence": loc.evidence, "side": loc.side, "convention": loc.convention}


# ------------------------------------------------------------------ files
def json_text(value: Any) -> str:
    """``value`` as indented strict JSON text."""
    return json.dumps(json_ready(value), indent=2, allow_nan=False) + "\n"


def losses_csv(report: Report) -> str:
    """Every epoch's loss on both sides and their absolute difference, as CSV at full precision."""
    return losses_frame(report).to_csv(index=False, float_format="%.17g")


def render_file(output: Output, report: Report) -> str | bytes:
    """The content of one report file of ``mlp-compare`` (by the output's format)."""
    if output.format == "json":
        return json_text(report_dict(report))
    if output.format == "markdown":
        return render_markdown(report)
    if output.format == "csv":
        return losses_csv(report)
    return plot_image(report, output.image_format)


def write_markdown(path: str | os.PathLike, report: Report) -> None:
    write_output(Output("markdown", str(path)), render_markdown(report))


def write_report_json(path: str | os.PathLike, report: Report) -> None:
    write_output(Output("json", str(path)), json_text(report_dict(report)))


def write_losses_csv(path: str | os.PathLike, report: Report) -> None:
    """Every epoch's loss on both sides and their absolute difference."""
    write_output(Output("csv", str(path)), losses_csv(report))


def write_plot(path: str | os.PathLike, report: Report) -> None:
    """:func:`plot_image` written to ``path``, as PNG, SVG or PDF after the file name's ending."""
    output = Output("plot", str(path))
    write_output(output, plot_image(report, output.image_format))


def figure_bytes(figure: Any, image_format: str) -> bytes:
    """A matplotlib figure saved as ``png``, ``svg`` or ``pdf``."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=100)
    return buffer.getvalue()


def plot_image(report: Report, image_format: str = "png") -> bytes:
    """Both loss curves overlaid (top) and their absolute difference on a log axis (bottom), one image.

    Needs matplotlib (the ``plot`` extra); draws without a display (a bare
    ``Figure``, no ``pyplot``).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    frame = losses_frame(report)
    name_a, name_b = report.names
    figure = Figure(figsize=(7, 6), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.plot(frame["epoch"], frame[f"loss {name_a}"], label=name_a, linewidth=2.5)
    top.plot(frame["epoch"], frame[f"loss {name_b}"], label=name_b, linestyle="--")
    top.set_ylabel("training loss")
    top.set_title(f"{name_a} vs {name_b}: {'PASS' if report.passed else 'FAIL'}")
    top.legend()
    diff = frame["abs difference"].to_numpy(dtype=float)
    shown = np.where(diff > 0, diff, np.nan)
    bottom.plot(frame["epoch"], shown, marker=".", color="tab:red")
    bottom.set_yscale("log")
    bottom.set_xlabel("epoch")
    bottom.set_ylabel("|loss difference|")
    if not np.any(diff > 0):
        bottom.text(0.5, 0.5, "identical losses (difference 0)", transform=bottom.transAxes, ha="center")
    elif np.any(diff == 0):
        bottom.text(0.99, 0.97, f"gaps: {int(np.sum(diff == 0))} epochs with bit-identical losses",
                    transform=bottom.transAxes, ha="right", va="top", fontsize="small")
    return figure_bytes(figure, image_format)
