"""The report's Summary sheet: result, coverage by tier and money by zone (with charts),
diagnosis, scenario levers, input file and run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.formats import EXCEL, Kind, value_meaning
from optimiser.plan import Plan, Status
from optimiser.report.cells import (
    BOLD,
    DATETIME,
    PERCENT_FINE,
    SECONDS,
    TITLE_FONT,
    WRAP,
    SheetWriter,
)
from optimiser.report.derived import (
    MISSION_COLUMNS,
    Names,
    columns,
    number,
    ranked_sensitivity,
    share,
    tier_coverage,
    tool_version,
    zone_spending,
)
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS
from optimiser.wording import lever_label

STATUS_MEANING = {
    Status.OPTIMAL: "the best plan, proven within the accepted gap",
    Status.FEASIBLE: "a good plan; the time limit stopped the search before it was proven best",
    Status.INFEASIBLE: "no plan can keep every commitment; see below for what clashes",
    Status.RELAXED: "no plan can keep every commitment; this plan keeps them relaxed by the least "
    "needed, listed below",
}
MAX_LISTED_WARNINGS = 5
ZONES_SHOWN = 8  # the Summary is one printed page; the Zones sheet has them all
BINDING_SHOWN = 3
LEFT = Alignment(horizontal="left")
LAST_COLUMN = 8  # A..H: the Summary prints one page wide
WIDTHS = {"A": 46, "B": 20, "C": 12, "D": 12, "E": 12, "F": 13, "G": 12, "H": 16}


def summary_sheet(ws: Worksheet, plan: Plan, names: Names, written_at: datetime) -> None:
    """Fill the Summary sheet, a one-page brief, top to bottom: title and headline, result
    figures and what one point of value is, the diagnosis (when there is one), coverage by
    tier, what limits the plan most and money by zone (when there is a plan), scenario
    levers, input file with its SHA-256, and the run. Charts go on the Charts sheet
    (:func:`charts_sheet`), so that the Summary prints on one page."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    out.note(1, 1, "Mission allocation plan", font=TITLE_FONT)
    row = _wrapped(out, 2, plan.message or f"Status: {plan.status}")

    row = out.section(row + 1, "Result")
    out.put(row, 1, "Status")
    out.put(row, 2, str(plan.status), font=BOLD)
    out.note(row, 3, STATUS_MEANING.get(plan.status, ""))
    row += 1
    figures: list[tuple[str, object, str]] = []
    if plan.has_plan:
        figures += [
            ("Value", plan.value, EXCEL[Kind.VALUE]),
            ("Most possible value (every mission fully covered)", plan.max_value, EXCEL[Kind.VALUE]),
            ("Share of the most possible value", share(plan.value, plan.max_value), EXCEL[Kind.SHARE]),
            ("Proven within (of the best possible)", plan.gap, PERCENT_FINE),
            (f"Money spent ({currency})", plan.total_cost, EXCEL[Kind.MONEY]),
        ]
    figures.append((f"Money available ({currency})", plan.money_available, EXCEL[Kind.MONEY]))
    if plan.has_plan:
        figures.append(("Share of the money spent", share(plan.total_cost, plan.money_available),
                        EXCEL[Kind.SHARE]))
    row = _pairs(out, row, figures)
    if plan.has_plan:
        row = _wrapped(out, row, value_meaning({t: plan.levers.tier_weight(t) for t in range(1, 6)}),
                       italic=True)

    if plan.diagnosis or not plan.has_plan:
        title = (
            "Why no plan is possible" if not plan.has_plan
            else "Commitments relaxed" if plan.status is Status.RELAXED
            else "Diagnosis"
        )
        row = out.section(row + 1, title)
        for sentence in plan.diagnosis:
            row = _wrapped(out, row, f"• {sentence}")

    if plan.has_plan:
        row = _tier_table(out, row + 1, plan)
        row = _binding(out, row + 1, plan)
        row = _zone_table(out, row + 1, plan, names)

    row = out.section(row + 1, "Scenario levers")
    levers = plan.levers.as_settings()
    first = row + 1
    row = out.table(
        ["Lever", "Value", "Meaning (its key in Settings)"],
        ([lever_label(key), setting_value(value), f"{_lever_meaning(key)} ({key})"]
         for key, value in levers.items()),
        [None, None, None],
        top=row,
        autofilter=False,
    )
    _span_meaning(out.ws, first - 1)  # the header
    for line in range(first, row + 1):
        out.ws.cell(row=line, column=2).alignment = LEFT
        _span_meaning(out.ws, line)
    row += 1

    source = plan.portfolio.source if plan.portfolio is not None else None
    warnings = plan.portfolio.warnings if plan.portfolio is not None else ()
    row = out.section(row + 1, "Input")
    row = _pairs(out, row, [
        ("Input file", source.path if source and source.path else "(not from a file)", None),
        ("SHA-256 of the input file", source.sha256 if source else "", None),
        ("Warnings while reading", len(warnings), EXCEL[Kind.COUNT]),
    ])
    for problem in warnings[:MAX_LISTED_WARNINGS]:
        row = _wrapped(out, row, f"• {problem}")
    if len(warnings) > MAX_LISTED_WARNINGS:
        more = len(warnings) - MAX_LISTED_WARNINGS
        out.note(row, 1, f"… and {more} more (optimiser validate lists them all)")
        row += 1

    solver = plan.solver
    offset = written_at.utcoffset() if written_at.tzinfo else None
    row = out.section(row + 1, "Run")
    last = _pairs(out, row, [
        ("Tool", f"mission-optimiser {tool_version()}", None),
        ("Solver", f"{solver.name} {solver.version}".strip(), None),
        ("Total time (s)", solver.total_s, SECONDS),
        ("Report written", written_at, DATETIME),
        ("Time zone", _utc_offset(offset.total_seconds()) if offset is not None else "local", None),
    ])
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.print_area = f"A1:{get_column_letter(LAST_COLUMN)}{last}"


def setting_value(text: str) -> object:
    """A lever's value as a cell: a number where it is one (``"0.8"`` -> 0.8), else text."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _wrapped(out: SheetWriter, row: int, text: str, italic: bool = False) -> int:
    """A sentence across the page's width (A..H merged, wrapped, tall enough); returns the
    next row."""
    cell = out.note(row, 1, text, font=Font(italic=True, color="404040") if italic else None)
    cell.alignment = WRAP
    out.ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=LAST_COLUMN)
    characters = sum(WIDTHS.values())
    lines = max(1, -(-len(text) // characters))
    out.ws.row_dimensions[row].height = 15 * lines + 1
    return row + 1


def _pairs(out: SheetWriter, row: int, pairs: Sequence[tuple[str, object, str | None]]) -> int:
    for label, value, number_format in pairs:
        out.put(row, 1, label)
        out.put(row, 2, value, number_format)
        row += 1
    return row


MEANING_CHARACTERS = 78  # about what columns C..H hold on one printed line


def _span_meaning(ws: Worksheet, row: int) -> None:
    """The meaning of a lever across columns C..H, wrapped, its row as tall as its lines
    (a merged cell does not grow by itself): never cut at the page's edge."""
    cell = ws.cell(row=row, column=3)
    text = str(cell.value or "")
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=LAST_COLUMN)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    lines = max(1, math.ceil(len(text) / MEANING_CHARACTERS))
    if lines > 1:
        ws.row_dimensions[row].height = 13.0 * lines
        for column in (1, 2):  # the lever and its value on the meaning's first line
            left = ws.cell(row=row, column=column)
            left.alignment = Alignment(horizontal=left.alignment.horizontal, vertical="top")


def _lever_meaning(key: str) -> str:
    if key in SETTING_KEYS:
        return SETTING_KEYS[key].help
    return ITEM_LEVERS.get(key.partition(".")[0], "")


def _utc_offset(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "-"
    minutes = int(abs(seconds)) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _tier_table(out: SheetWriter, row: int, plan: Plan) -> int:
    """Coverage by priority tier; the Charts sheet draws its mean coverage."""
    currency = plan.levers.currency
    tiers = tier_coverage(plan)
    row = out.section(row, "Coverage by priority tier")
    header_row = row
    overall = pd.to_numeric(columns(plan.missions, MISSION_COLUMNS)["coverage"], errors="coerce").mean()
    count, money, percent, points = (EXCEL[Kind.COUNT], EXCEL[Kind.MONEY], EXCEL[Kind.SHARE],
                                     EXCEL[Kind.VALUE])
    last = out.table(
        ["Priority", "Missions", "Fully covered", "Partly covered", "Not covered", "Mean coverage", "Value",
         f"Money spent ({currency})"],
        ([f"Priority {t.priority}", t.missions, t.fully, t.partly, t.uncovered, t.mean_coverage, t.value,
          t.cost] for t in tiers.itertuples()),
        [None, count, count, count, count, percent, points, money],
        top=header_row,
        autofilter=False,
        totals=["All tiers", tiers["missions"].sum(), tiers["fully"].sum(), tiers["partly"].sum(),
                tiers["uncovered"].sum(), number(overall), tiers["value"].sum(), tiers["cost"].sum()],
    )
    out.ws.row_dimensions[header_row].height = 30
    return _wrapped(out, last + 1, "Fully covered: at its most wanted coverage (max_coverage) in every "
                                   "active period; not covered: at 0 in every one; partly: in between.",
                    italic=True)


def _binding(out: SheetWriter, row: int, plan: Plan) -> int:
    """The limits that hold the value back most, in their sentences."""
    binding = ranked_sensitivity(plan).head(BINDING_SHOWN)
    if binding.empty:
        return row - 1
    row = out.section(row, "What limits the plan most")
    for sentence in binding["sentence"]:
        if isinstance(sentence, str) and sentence.strip():
            row = _wrapped(out, row, f"• {sentence.strip()}")
    return row


def _zone_table(out: SheetWriter, row: int, plan: Plan, names: Names) -> int:
    """Money spent by zone, the largest first; the others in one row."""
    currency = plan.levers.currency
    zones = zone_spending(plan, names)
    row = out.section(row, "Money by zone" + (f" (the {ZONES_SHOWN} largest; every zone on the Zones sheet)"
                                              if len(zones) > ZONES_SHOWN else ""))
    shown, rest = zones.head(ZONES_SHOWN), zones.iloc[ZONES_SHOWN:]
    rows = [[z.name, z.region, z.missions, z.cost, z.share, z.mean_coverage] for z in shown.itertuples()]
    if len(rest):
        total = rest["cost"].sum()
        whole = zones["cost"].sum()
        rows.append([f"Other zones ({len(rest)})", "", int(rest["missions"].sum()), total,
                     total / whole if whole else None, None])
    header_row = row
    last = out.table(
        ["Zone", "Region", "Missions", f"Money spent ({currency})", "Share of spending", "Mean coverage"],
        rows,
        [None, None, EXCEL[Kind.COUNT], EXCEL[Kind.MONEY], EXCEL[Kind.SHARE], EXCEL[Kind.SHARE]],
        top=header_row,
        autofilter=False,
    )
    out.ws.row_dimensions[header_row].height = 30
    return last + 1


def charts_sheet(ws: Worksheet, summary: Worksheet, plan: Plan, names: Names) -> None:
    """The report's charts: mean coverage by priority tier and money by zone (all zones),
    from small tables on this sheet."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    tiers = tier_coverage(plan)
    last = out.table(
        ["Priority", "Mean coverage"],
        ([f"Priority {t.priority}", t.mean_coverage] for t in tiers.itertuples()),
        [None, EXCEL[Kind.SHARE]],
        autofilter=False,
    )
    chart = BarChart()
    chart.type = "col"
    chart.title = "Mean coverage by priority tier"
    chart.y_axis.title = "Mean coverage"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.legend = None
    _show_axes(chart)
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    chart.width, chart.height = 16, 7.5
    ws.add_chart(chart, "D1")

    zones = zone_spending(plan, names)
    top = last + 18
    last_zone = out.table(
        ["Zone", f"Money spent ({currency})"],
        ([z.name, z.cost] for z in zones.itertuples()),
        [None, EXCEL[Kind.MONEY]],
        top=top,
        autofilter=False,
    )
    if len(zones):
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"Money spent by zone ({currency})"
        chart.y_axis.title = currency
        chart.y_axis.number_format = "#,##0"
        chart.y_axis.scaling.min = 0
        chart.x_axis.scaling.orientation = "maxMin"  # the largest at the top
        chart.legend = None
        _show_axes(chart)
        chart.add_data(Reference(ws, min_col=2, min_row=top, max_row=last_zone), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=last_zone))
        chart.width, chart.height = 18, max(7.5, 2 + 0.55 * len(zones))
        ws.add_chart(chart, f"D{top}")
    ws.freeze_panes = "A2"
    out.fit_columns(maximum=40)


def _show_axes(chart: BarChart) -> None:
    # openpyxl 3.1 marks axes as deleted unless told otherwise; Excel then hides them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
