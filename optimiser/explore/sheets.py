"""Sweeps and comparisons written for planners: ``.xlsx`` with charts, or ``.csv``.

Every cell goes through :class:`~optimiser.report.cells.SheetWriter` (text from the
workbook, such as mission names, is never written as a formula) and every file
through :func:`~optimiser.report.atomic.atomic_write` (whole or not at all).

A sweep's workbook: *Curve* (what was swept, the marginal value of money, and line
charts of value and of coverage by tier against the first lever), *Points* (the
sweep's table), *Drop-outs* (missions that drop out or are reduced as the lever
falls), *Coverage* (every mission's coverage at every point) and *About*.
A comparison's workbook: *Summary* (headline figures), *Missions* (per mission,
largest change first) and *Resources* (units that moved).

A ``.csv`` holds the main table only (a sweep's points, a comparison's missions);
text cells that a spreadsheet would read as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.explore.compare import Comparison
from optimiser.explore.sweep import MILLION, PLANNED, SweepResult, setting_text
from optimiser.report.atomic import atomic_write
from optimiser.report.cells import (
    BOLD,
    FORMULA_PREFIXES,
    MONEY,
    PERCENT,
    PERCENT_FINE,
    SECONDS,
    TITLE_FONT,
    UNITS,
    UNITS_FRACTION,
    VALUE,
    SheetWriter,
)
from optimiser.report.derived import TIERS, run_time, tool_version
from optimiser.report.workbook import save_in_memory
from optimiser.wording import lever_label, lever_noun

logger = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".csv")
MAX_SERIES = 12  # curves drawn in one chart; more would be unreadable
LEVER_FORMAT = "0.00##"


def check_suffix(path: str | os.PathLike[str]) -> Path:
    """``path`` if it ends in .xlsx or .csv.

    Raises
    ------
    ValueError
        naming the suffixes accepted.
    """
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise ValueError(f"write to an .xlsx or .csv file, not {target.name!r}")
    return target


# -- sweeps -------------------------------------------------------------------------------------


def write_sweep(result: SweepResult, path: str | os.PathLike[str]) -> Path:
    """Write a sweep as a workbook (``.xlsx``, with charts) or its table (``.csv``).

    Parameters
    ----------
    result : the sweep.
    path : where to write; the suffix picks the form. Missing folders are created and
        an existing file is replaced whole or not at all.

    Raises
    ------
    ValueError
        when ``path`` ends in neither .xlsx nor .csv.
    OSError
        when the file cannot be written.
    """
    return _write(path, result.table, lambda: sweep_workbook(result), "sweep")


def sweep_workbook(result: SweepResult) -> Workbook:
    """The sweep's workbook (see the module), not yet saved."""
    workbook = Workbook()
    curve = workbook.active
    assert curve is not None
    curve.title = "Curve"
    points = workbook.create_sheet("Points")
    header_row, columns = _points_sheet(SheetWriter(points), result)
    _curve_sheet(SheetWriter(curve), result, points, header_row, columns)
    _dropouts_sheet(SheetWriter(workbook.create_sheet("Drop-outs")), result)
    _coverage_sheet(SheetWriter(workbook.create_sheet("Coverage")), result)
    _about_sheet(SheetWriter(workbook.create_sheet("About")), result)
    return workbook


def _lever_title(key: str) -> str:
    return lever_label(key)


def _points_sheet(out: SheetWriter, result: SweepResult) -> tuple[int, dict[str, int]]:
    """The sweep's table; returns its header row and the column of each field."""
    table, currency, lever = result.table, result.currency, lever_noun(result.lever)
    fields: list[tuple[str, str, str | None]] = [("point", "Point", UNITS)]
    fields += [(axis.key, _lever_title(axis.key), LEVER_FORMAT if axis.numeric else None)
               for axis in result.axes]
    fields += [
        ("status", "Status", None),
        ("value", "Value", VALUE),
        ("value_share", "Share of the most value possible", PERCENT),
        ("total_cost", f"Money spent ({currency})", MONEY),
        ("money_available", f"Money available ({currency})", MONEY),
        ("gap", "Proven within (of the best possible)", PERCENT_FINE),
        *((f"coverage_p{t}", f"Mean coverage, priority {t}", PERCENT) for t in TIERS),
        ("missions_covered", "Missions covered", UNITS),
        ("dropped_out", f"Dropped out (vs next higher {lever})", None),
        ("reduced", f"Reduced (vs next higher {lever})", None),
        ("seconds", "Solve time (s)", SECONDS),
        ("message", "Message", None),
    ]
    rows = ([row[name] for name, _, _ in fields] for _, row in table.iterrows())
    out.table([title for _, title, _ in fields], rows, [code for _, _, code in fields])
    out.ws.freeze_panes = out.ws.cell(row=2, column=2 + len(result.axes))
    fixed = {i: 40.0 for i, (name, _, _) in enumerate(fields, start=1) if name in ("dropped_out", "reduced")}
    fixed[len(fields)] = 60.0
    out.fit_columns(maximum=40, fixed=fixed)
    return 1, {name: i for i, (name, _, _) in enumerate(fields, start=1)}


def _curve_sheet(out: SheetWriter, result: SweepResult, points: Worksheet, header_row: int,
                 columns: dict[str, int]) -> None:
    """What was swept, the marginal value of money, and the charts (data on Points)."""
    axis, currency = result.axes[0], result.currency
    out.note(1, 1, f"Trade-off: value against {lever_noun(axis.key)}", font=TITLE_FONT)
    varied = "; ".join(f"{lever_label(a.key)} = {', '.join(_text(v) for v in a.values)}" for a in result.axes)
    facts: list[tuple[str, object, str | None]] = [
        ("Workbook", result.source.path or "(in memory)", None),
        ("Varied", varied, None),
        ("Points", len(result.table), UNITS),
        ("Points with a plan", int(result.table["status"].isin(PLANNED).sum()), UNITS),
        ("Infeasible points", int((result.table["status"] == "infeasible").sum()), UNITS),
        ("Failed points", result.failed, UNITS),
    ]
    marginal = result.marginal_value()
    if marginal is not None:
        facts.append((f"Value per extra {MILLION:,.0f} {currency}", marginal, VALUE))
    row = 3
    for label, value, code in facts:
        out.put(row, 1, label, font=BOLD)
        out.put(row, 2, value, code, measure=False)
        row += 1
    if marginal is not None:
        out.note(row - 1, 3, f"at {lever_label(axis.key)} = {_text(_own_value(result))}, from the adjacent "
                             "sweep points")
    row += 1
    tolerance = result.tolerance_note()
    if tolerance:  # the curve moves against the lever somewhere, within the searches' gap
        out.note(row, 1, tolerance)
        row += 1
    out.note(row, 1, f"Drop-outs: each point against the next higher {lever_noun(axis.key)}, other levers "
                     "equal; "
                     "details on the Drop-outs sheet, every mission's coverage on the Coverage sheet.")
    out.ws.column_dimensions["A"].width = 30
    out.ws.column_dimensions["B"].width = 18

    curves = list(result.curves())[:MAX_SERIES]
    labels: list[str] = []
    if len(curves) > 1:  # the curves' names, in cells that the chart's legend reads
        row = out.section(row + 2, "Curves")
        for others, _ in curves:
            curve = ", ".join(f"{lever_label(k)} {_text(v)}" for k, v in others.items())
            out.put(row, 1, curve, measure=False)
            labels.append(f"'{out.ws.title}'!$A${row}")
            row += 1
    x_column = columns[axis.key]
    value_series = []
    for position, (_, rows) in enumerate(curves):
        first, last = _rows_of(rows, header_row)
        value_series.append((labels[position] if labels else _header_ref(points, columns["value"]),
                             Reference(points, min_col=columns["value"], min_row=first, max_row=last),
                             Reference(points, min_col=x_column, min_row=first, max_row=last)))
    chart_row = row + 2
    value_chart = _line_chart(axis.numeric, f"Value against {lever_noun(axis.key)}", lever_label(axis.key),
                              "Value", "#,##0",
                              value_series)
    if len(curves) == 1:
        value_chart.legend = None
    out.ws.add_chart(value_chart, f"A{chart_row}")

    first, last = _rows_of(curves[0][1], header_row)
    tier_series = [
        (_header_ref(points, columns[f"coverage_p{tier}"]),
         Reference(points, min_col=columns[f"coverage_p{tier}"], min_row=first, max_row=last),
         Reference(points, min_col=x_column, min_row=first, max_row=last))
        for tier in TIERS if result.table[f"coverage_p{tier}"].notna().any()
    ]
    which = ", ".join(f"{lever_label(k)} {_text(v)}" for k, v in curves[0][0].items())
    tier_chart = _line_chart(axis.numeric, f"Mean coverage by priority tier against {lever_noun(axis.key)}"
                             + (f" ({which})" if which else ""), lever_label(axis.key), "Mean coverage", "0%",
                             tier_series)
    tier_chart.y_axis.scaling.min, tier_chart.y_axis.scaling.max = 0, 1
    out.ws.add_chart(tier_chart, f"A{chart_row + 21}")


def _header_ref(sheet: Worksheet, column: int) -> str:
    return f"'{sheet.title}'!${get_column_letter(column)}$1"


def _rows_of(rows: pd.DataFrame, header_row: int) -> tuple[int, int]:
    """Sheet rows of a block of table rows (blocks are contiguous, in table order)."""
    positions = rows.index.to_numpy()
    return header_row + 1 + int(positions.min()), header_row + 1 + int(positions.max())


def _line_chart(numeric: bool, title: str, x_title: str, y_title: str, y_format: str,
                series: Sequence[tuple[str, Reference, Reference]]) -> ScatterChart | LineChart:
    """Lines with markers: a scatter chart over a numeric lever, a line chart over a text
    one. ``series``: (cell holding its name, y values, x values)."""
    chart: ScatterChart | LineChart = ScatterChart() if numeric else LineChart()
    chart.title = title
    chart.x_axis.title = x_title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = y_format
    chart.dispBlanksAs = "gap"  # a point without a plan leaves a gap in its curve
    for name, values, x_values in series:
        line = Series(values, x_values if numeric else None)
        line.tx = SeriesLabel(strRef=StrRef(name))
        line.marker.symbol = "circle"
        line.smooth = False
        chart.series.append(line)
        if not numeric:
            chart.set_categories(x_values)
    chart.x_axis.delete = False  # openpyxl hides axes by default in recent Excel versions
    chart.y_axis.delete = False
    if numeric:
        chart.x_axis.number_format = "0.00"
    chart.width, chart.height = 22, 10
    return chart


def _dropouts_sheet(out: SheetWriter, result: SweepResult) -> None:
    drops = result.dropouts()
    lever = lever_noun(result.lever)
    header = ["Point", *(_lever_title(a.key) for a in result.axes), "Mission ID", "Mission", "Priority",
              "Coverage here", f"Coverage at next higher {lever}", "Change", "What happens"]
    formats = [UNITS, *(LEVER_FORMAT if a.numeric else None for a in result.axes), None, None, UNITS,
               PERCENT, PERCENT, PERCENT, None]
    rows = ([r["point"], *(r[a.key] for a in result.axes), r["mission_id"], r["name"], r["priority"],
             r["coverage"], r["coverage_next"], r["change"], r["drop"]] for _, r in drops.iterrows())
    last = out.table(header, rows, formats)
    if drops.empty:
        out.note(last + 2, 1, f"No mission drops out or is reduced as {lever} falls.")
    out.ws.freeze_panes = out.ws.cell(row=2, column=2 + len(result.axes))
    out.fit_columns(maximum=40)


def _coverage_sheet(out: SheetWriter, result: SweepResult) -> None:
    matrix = result.coverage_matrix()
    points = list(matrix.columns[3:])
    last = out.table(["Mission ID", "Mission", "Priority", *points],
                     (list(row) for row in matrix.itertuples(index=False)),
                     [None, None, UNITS, *([PERCENT] * len(points))])
    if points and len(matrix):
        cells = f"D2:{get_column_letter(3 + len(points))}{last}"
        out.ws.conditional_formatting.add(
            cells, ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                                  mid_type="num", mid_value=0.5, mid_color="FFEB84",
                                  end_type="num", end_value=1, end_color="63BE7B"))
    out.ws.freeze_panes = "D2"
    out.fit_columns(maximum=40, fixed={3 + i: 14.0 for i in range(1, len(points) + 1)})


def _about_sheet(out: SheetWriter, result: SweepResult) -> None:
    varied = set(result.keys)
    held = {k: v for k, v in result.levers.as_settings().items() if k not in varied}
    rows: list[tuple[str, object]] = [
        ("Workbook", result.source.path or "(in memory)"),
        ("Workbook format", result.source.format),
        ("Workbook SHA-256", result.source.sha256),
        *((f"Varied: {lever_label(a.key)}", ", ".join(_text(v) for v in a.values)) for a in result.axes),
        *((f"Held: {lever_label(k)}", v) for k, v in held.items()),
        ("Points", len(result.table)),
        ("Planned on", result.runner),
        ("Sweep time (s)", round(result.seconds, 2)),
        ("Tool", f"mission-optimiser {tool_version()}"),
        ("Written at", run_time().isoformat()),
    ]
    out.table(["Item", "Value"], rows, [None, None], autofilter=False)
    out.ws.freeze_panes = "A2"
    out.fit_columns(maximum=80)


def _own_value(result: SweepResult) -> object:
    axis = result.axes[0]
    prefix, _, item = axis.key.partition(".")
    return getattr(result.levers, prefix).get(item) if item else getattr(result.levers, axis.key)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "blank"
    return setting_text(value)


# -- comparisons --------------------------------------------------------------------------------


def write_comparison(comparison: Comparison, path: str | os.PathLike[str]) -> Path:
    """Write a comparison as a workbook (``.xlsx``) or its missions table (``.csv``).

    Raises
    ------
    ValueError
        when ``path`` ends in neither .xlsx nor .csv.
    OSError
        when the file cannot be written.
    """
    return _write(path, comparison.missions, lambda: comparison_workbook(comparison), "comparison")


def _write(path: str | os.PathLike[str], table, workbook: Callable[[], Workbook], what: str) -> Path:
    """``table`` as CSV or the workbook ``workbook()`` as .xlsx, by the path's suffix, atomically."""
    target = check_suffix(path)
    if target.suffix.lower() == ".csv":
        atomic_write(target, lambda handle: handle.write(csv_bytes(table)))
    else:
        book = workbook()
        atomic_write(target, lambda handle: save_in_memory(book, handle))
    logger.info("%s written to %s", what, target)
    return target


def comparison_workbook(comparison: Comparison) -> Workbook:
    """The comparison's workbook (see the module), not yet saved."""
    a, b = comparison.labels
    currency = comparison.currency
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = "Summary"
    out = SheetWriter(summary)
    out.note(1, 1, f"{b} against {a}", font=TITLE_FONT)
    figures = {
        "status": ("Status", None),
        "value": ("Value", VALUE),
        "value_share": ("Share of the most value possible", PERCENT),
        "total_cost": (f"Money spent ({currency})", MONEY),
        "money_available": (f"Money available ({currency})", MONEY),
        "missions_covered": ("Missions covered", UNITS),
        "missions_fully_covered": ("Missions fully covered", UNITS),
        **{f"value_p{tier}": (f"Value from priority {tier}", VALUE) for tier in TIERS},
    }
    headline = comparison.headline.to_dict("records")
    rows = ([figures[str(f["figure"])][0], f["a"], f["b"], f["change"]] for f in headline)
    codes = [figures[str(f["figure"])][1] for f in headline]
    header_row = 3
    out.header(header_row, 1, ["Figure", f"A: {a}", f"B: {b}", "Change (B - A)"])
    for offset, (values, code) in enumerate(zip(rows, codes, strict=True), start=1):
        for column, value in enumerate(values, start=1):
            out.put(header_row + offset, column, value, code)
    counts = comparison.missions["change"].value_counts()
    row = header_row + len(codes) + 2
    if comparison.tolerance:
        out.note(row, 1, comparison.tolerance)
        row += 2
    out.section(row, "Missions by what changed")
    out.table(["What changed", "Missions"], ([what, int(n)] for what, n in counts.items()), [None, UNITS],
              top=row + 1, autofilter=False)
    out.fit_columns(maximum=50)

    missions = SheetWriter(workbook.create_sheet("Missions"))
    table = comparison.missions
    missions.table(
        ["Mission ID", "Mission", "Priority", "Coverage A", "Coverage B", "Coverage change",
         f"Cost A ({currency})", f"Cost B ({currency})", f"Cost change ({currency})",
         "Resources change (units per period)", "What changed"],
        (list(r) for r in table[["mission_id", "name", "priority", "coverage_a", "coverage_b",
                                 "coverage_change", "cost_a", "cost_b", "cost_change", "resources_change",
                                 "change"]].itertuples(index=False)),
        [None, None, UNITS, PERCENT, PERCENT, PERCENT, MONEY, MONEY, MONEY, None, None],
    )
    missions.ws.freeze_panes = "C2"
    missions.fit_columns(maximum=50)

    resources = SheetWriter(workbook.create_sheet("Resources"))
    moved = comparison.resources
    unit_format = UNITS_FRACTION if not all(float(v).is_integer() for v in
                                            [*moved["units_a"], *moved["units_b"]]) else UNITS
    resources.table(["Mission ID", "Resource", "Units A (per period)", "Units B (per period)", "Change"],
                    (list(r) for r in moved.itertuples(index=False)),
                    [None, None, unit_format, unit_format, unit_format])
    resources.ws.freeze_panes = "B2"
    resources.fit_columns(maximum=40)
    return workbook


# -- csv ---------------------------------------------------------------------------------------


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV (with a byte-order mark, so Excel reads accents right);
    text that a spreadsheet would run as a formula is prefixed with ``'``."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_csv_text)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8-sig")


def _csv_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value

