"""Rendering and reporting: the tables (text and Markdown), the JSON, CSV and plot files.

The "% of peak" and "GEMM %" columns are shown only when the GEMM peak held
still during the sweep and no row is above it or slower than its own matrix
products (:func:`~compare.bench.sweep.peak_reliable`); a note says why otherwise.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..outputs import Output
from ..report import figure_bytes, frame_table, json_text
from . import cases, machine
from .measuring import MIN_REPEATS, ROW_BUDGET_S, disturbed
from .sweep import CaseResult, peak_reliable


def _fmt(value: float | None, spec: str = ".3g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def _count(value: float) -> str:
    """Large numbers with thousands separators, small ones with 3 significant digits."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def rows_frame(result: CaseResult, show_percent: bool = True) -> pd.DataFrame:
    """The table of one case, as display strings ("—" for the % of peak and the GEMM % unless ``show_percent``)."""
    dtype = "f32" if result.case.dtype == "float32" else "f64"
    records = []
    for row in result.rows:
        records.append({
            "implementation": row.implementation,
            "phase": row.phase,
            "median ms": _fmt(row.median_s * 1e3, ".4g"),
            "min–max ms": f"{min(row.seconds) * 1e3:.4g}–{max(row.seconds) * 1e3:.4g}",
            "n": f"{len(row.seconds)}{'!' if disturbed(row) else ''}",
            "samples/s": _count(row.samples_per_s),
            "GFLOP/s": _fmt(row.gflops),
            f"% {dtype} peak": _fmt(row.percent_of_peak if show_percent else None,
                                    ".2g" if row.percent_of_peak < 1 else ".0f"),
            "GEMM %": _fmt(None if row.gemm_share is None or not show_percent else 100 * row.gemm_share, ".0f"),
            "× Keras": _fmt(row.ratio),
            "tracemalloc MB": _fmt(row.traced_peak_mb),
            "RSS +MB": _fmt(row.rss_delta_mb),
        })
    return pd.DataFrame(records)


def footer_lines(result: CaseResult, info: dict[str, Any], peaks: dict[str, float]) -> list[str]:
    """What every table says under it: the machine, the peaks, the ratio's anchors and fit's set-up."""
    lines = [
        f"machine: {machine_description(info)}",
        f"peak = NumPy {machine.PEAK_GEMM_SIZE}³ GEMM measured at the start of this run: "
        f"float32 {peaks['float32']:.1f} GFLOP/s, float64 {peaks['float64']:.1f} GFLOP/s",
        f"× Keras = speed relative to {cases.KERAS_FIT} for training, {cases.KERAS_PREDICT} for forward, "
        f"{cases.KERAS_TAPE} for gradients (above 1: faster)",
        "GEMM % = the time NumPy takes for the phase's matrix products alone (same shapes, batches and dtype) "
        "÷ the row's time; the rest is element-wise work (activations, loss, update) and per-call overhead",
    ]
    overheads = [f"{row.call_overhead_s * 1e3:.0f} ms ({row.implementation})"
                 for row in result.rows if row.call_overhead_s is not None]
    if overheads:
        lines.append("fit rows: epochs timed inside one fit(epochs=n) call by a callback; each call's own set-up, "
                     f"not in them: {', '.join(overheads)}")
    return lines


def machine_description(info: dict[str, Any]) -> str:
    """The machine line plus TensorFlow's thread pools."""
    line = machine.machine_line(info)
    threads = info.get("tensorflow_threads")
    return line if not threads else f"{line}; TF threads intra-op {threads['intra_op']}, inter-op {threads['inter_op']}"


def render_case(result: CaseResult, info: dict[str, Any], peaks: dict[str, float], markdown: bool = False,
                show_percent: bool = True) -> str:
    """One case as a titled table with its machine footer (text or Markdown)."""
    table = frame_table(rows_frame(result, show_percent), markdown=markdown)
    footer = footer_lines(result, info, peaks)
    if markdown:
        return "\n".join([f"### {result.case.title()}", "", table, "", *(f"- {line}" for line in footer)])
    return "\n".join([result.case.title(), table, *footer])


def render_text(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                notes: Sequence[str]) -> str:
    """The whole terminal report: one table per case and the notes."""
    show_percent = peak_reliable(info, peaks, results)
    blocks = [render_case(result, info, peaks, show_percent=show_percent) for result in results]
    if notes:
        blocks.append("\n".join(f"note: {note}" for note in notes))
    return "\n\n".join(blocks) + "\n"


def render_markdown(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                    notes: Sequence[str], command: str) -> str:
    """The same report as Markdown, with the command that produced it."""
    parts = ["## mlp-compare bench", "", f"`{command}`", ""]
    show_percent = peak_reliable(info, peaks, results)
    for result in results:
        parts += [render_case(result, info, peaks, markdown=True, show_percent=show_percent), ""]
    parts += [f"- note: {note}" for note in notes]
    return "\n".join(parts).rstrip() + "\n"


def flat_records(results: Sequence[CaseResult]) -> list[dict[str, Any]]:
    """One record per row with its case, full precision (for CSV and JSON)."""
    records = []
    for result in results:
        case = result.case
        for row in result.rows:
            records.append({
                "network": case.name, "dtype": case.dtype, "batch_size": case.batch_size,
                "samples": case.samples, "weights": case.weights,
                "implementation": row.implementation, "phase": row.phase,
                "median_ms": row.median_s * 1e3, "min_ms": min(row.seconds) * 1e3,
                "max_ms": max(row.seconds) * 1e3, "repeats": len(row.seconds),
                "samples_per_s": row.samples_per_s, "gflops": row.gflops,
                "percent_of_peak": row.percent_of_peak, "peak_gflops": row.peak_gflops,
                "gemm_ms": None if row.gemm_s is None else row.gemm_s * 1e3, "gemm_share": row.gemm_share,
                "ratio_vs_keras": row.ratio, "anchor": cases.ANCHORS[row.phase],
                "tracemalloc_peak_mb": row.traced_peak_mb, "rss_delta_mb": row.rss_delta_mb,
                "rss_peak_mb": row.rss_peak_mb,
                "fit_call_overhead_ms": None if row.call_overhead_s is None else row.call_overhead_s * 1e3,
                "foreign_cpu_fraction": row.foreign_cpu,
            })
    return records


def report_dict(results: Sequence[CaseResult], info: dict[str, Any], peaks: dict[str, float],
                notes: Sequence[str], settings: dict[str, Any]) -> dict[str, Any]:
    """The JSON document: machine, peaks (and whether % of them is reliable), settings, cases with rows, notes."""
    records = flat_records(results)
    cases = []
    for result in results:
        case = result.case
        cases.append({"network": case.name, "layers": list(case.layers), "dtype": case.dtype,
                      "batch_size": case.batch_size, "samples": case.samples, "steps": case.steps,
                      "weights": case.weights, "task": case.task,
                      "rows": [r for r in records if (r["network"], r["dtype"], r["batch_size"])
                               == (case.name, case.dtype, case.batch_size)]})
    return {"machine": info, "gemm_peak_gflops": peaks, "percent_of_peak_reliable": peak_reliable(info, peaks, results),
            "settings": settings, "cases": cases, "notes": list(notes)}


#: One colour per training implementation in the plot (scratch's loop and mini-batch are one implementation).
PLOT_COLOURS = {cases.SCRATCH_LOOP: "tab:blue", cases.SCRATCH_BATCHED: "tab:blue", cases.SEED_ORIGINAL: "tab:cyan",
                cases.KERAS_FIT: "tab:red", cases.KERAS_FIT_SPE: "tab:orange", cases.KERAS_STEP: "tab:green"}
PLOT_MARKERS = "os^Dvp*h"


def plot_image(results: Sequence[CaseResult], image_format: str = "png", show_percent: bool = True) -> bytes:
    """Samples/s and % of peak of each training implementation against network size, log axes, one image.

    Colour: the implementation; marker: the batch size; a line joins one
    implementation's points at one batch size across networks. Without
    ``show_percent`` the lower panel says the percentages are unreliable.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    frame = pd.DataFrame(flat_records(results))
    frame = frame[frame["phase"] == cases.TRAIN].sort_values("weights")
    batches = sorted(frame["batch_size"].unique())
    markers = {batch: PLOT_MARKERS[i % len(PLOT_MARKERS)] for i, batch in enumerate(batches)}
    figure = Figure(figsize=(8, 8), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True)
    for (implementation, batch), group in frame.groupby(["implementation", "batch_size"], sort=False):
        style = dict(color=PLOT_COLOURS.get(implementation, "gray"), marker=markers[batch],
                     linestyle="-" if implementation.startswith(("scratch", "seed")) else "--")
        top.plot(group["weights"], group["samples_per_s"], **style)
        if show_percent:
            bottom.plot(group["weights"], group["percent_of_peak"], **style)
    top.set(xscale="log", yscale="log", ylabel="training samples/s",
            title="one training epoch: scratch (solid) and Keras (dashed)")
    bottom.set(xscale="log", yscale="log", xlabel="network size: Σ n_in·n_out weights",
               ylabel="% of this machine's GEMM peak")
    labels = {"scratch" if name.startswith("scratch") else name: PLOT_COLOURS[name]
              for name in PLOT_COLOURS if name in set(frame["implementation"])}
    handles = [Line2D([], [], color=colour, label=label) for label, colour in labels.items()]
    handles += [Line2D([], [], color="black", marker=markers[b], linestyle="", label=f"batch {b}") for b in batches]
    figure.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=3)
    if not show_percent:
        bottom.text(0.5, 0.5, "not shown: the GEMM peak moved during the run (see the notes)",
                    transform=bottom.transAxes, ha="center")
    return figure_bytes(figure, image_format)


def settings_of(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The run's settings, for the JSON."""
    return {"command": command, "phases": args.phases, "repeats": args.repeats, "max_steps": args.max_steps,
            "quick": args.quick, "learning_rate": cases.LEARNING_RATE, "row_budget_s": ROW_BUDGET_S,
            "min_repeats": MIN_REPEATS, "steps_per_execution": cases.STEPS_PER_EXECUTION}


def render_file(output: Output, args: argparse.Namespace, results: Sequence[CaseResult], info: dict[str, Any],
                peaks: dict[str, float], notes: Sequence[str], command: str) -> str | bytes:
    """The content of one report file (by the output's format)."""
    if output.format == "csv":
        return pd.DataFrame(flat_records(results)).to_csv(index=False, float_format="%.6g")
    if output.format == "markdown":
        return render_markdown(results, info, peaks, notes, command)
    if output.format == "json":
        return json_text(report_dict(results, info, peaks, notes, settings_of(args, command)))
    return plot_image(results, output.image_format, peak_reliable(info, peaks, results))
