"""The report's Summary sheet: result, coverage by tier and money by zone (with charts),
diagnosis, scenario levers, input file and run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.plan import Plan, Status
from optimiser.report.cells import (
    BOLD,
    DATETIME,
    MONEY,
    PERCENT,
    PERCENT_FINE,
    RATIO,
    SECONDS,
    TITLE_FONT,
    UNITS,
    VALUE,
    SheetWriter,
)
from optimiser.report.derived import (
    MISSION_COLUMNS,
    Names,
    columns,
    number,
    share,
    tier_coverage,
    tool_version,
    zone_spending,
)
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS

STATUS_MEANING = {
    Status.OPTIMAL: "the best plan, proven within the accepted gap",
    Status.FEASIBLE: "a good plan; the time limit stopped the search before it was proven best",
    Status.INFEASIBLE: "no plan can keep every commitment; see below for what clashes",
    Status.RELAXED: "no plan can keep every commitment; this plan keeps them relaxed by the least "
    "needed, listed below",
}
CHART_COLUMN = "K"
MAX_LISTED_WARNINGS = 200


def summary_sheet(ws: Worksheet, plan: Plan, names: Names, written_at: datetime) -> None:
    """Fill the Summary sheet, top to bottom: title and message, result figures, the
    diagnosis (when there is one), coverage by tier and money by zone with their charts
    (when there is a plan), scenario levers, input file with its SHA-256, and the run."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    out.note(1, 1, "Mission allocation plan", font=TITLE_FONT)
    out.note(2, 1, plan.message or f"Status: {plan.status}")

    row = out.section(4, "Result")
    out.put(row, 1, "Status")
    out.put(row, 2, str(plan.status), font=BOLD)
    out.note(row, 3, STATUS_MEANING.get(plan.status, ""))
    row += 1
    figures: list[tuple[str, object, str]] = []
    if plan.has_plan:
        figures += [
            ("Value", plan.value, VALUE),
            ("Most possible value (every mission fully covered)", plan.max_value, VALUE),
            ("Share of the most possible value", share(plan.value, plan.max_value), PERCENT),
            ("Best bound on the value", plan.best_bound, VALUE),
            ("Optimality gap", plan.gap, PERCENT_FINE),
            (f"Money spent ({currency})", plan.total_cost, MONEY),
        ]
    figures.append((f"Money available ({currency})", plan.money_available, MONEY))
    if plan.has_plan:
        figures += [
            ("Share of the money spent", share(plan.total_cost, plan.money_available), PERCENT),
            ("Mission-periods planned", len(columns(plan.missions, MISSION_COLUMNS)), UNITS),
        ]
    row = _pairs(out, row, figures)

    if plan.diagnosis or not plan.has_plan:
        title = (
            "Why no plan is possible" if not plan.has_plan
            else "Commitments relaxed" if plan.status is Status.RELAXED
            else "Diagnosis"
        )
        row = out.section(row + 1, title)
        if plan.message:
            out.note(row, 1, plan.message)
            row += 1
        for sentence in plan.diagnosis:
            out.note(row, 1, f"• {sentence}")
            row += 1

    if plan.has_plan:
        row = _tier_table(out, row + 1, plan)
        row = _zone_table(out, row + 1, plan, names)

    row = out.section(row + 1, "Scenario levers")
    settings = plan.levers.as_settings()
    row = out.table(
        ["Setting", "Value", "Meaning"],
        ([key, value, _lever_meaning(key)] for key, value in settings.items()),
        [None, None, None],
        top=row,
        autofilter=False,
    ) + 1

    source = plan.portfolio.source if plan.portfolio is not None else None
    warnings = plan.portfolio.warnings if plan.portfolio is not None else ()
    row = out.section(row + 1, "Input")
    row = _pairs(out, row, [
        ("Input file", source.path if source and source.path else "(not from a file)", None),
        ("Format", source.format if source else "", None),
        ("SHA-256 of the input file", source.sha256 if source else "", None),
        ("Warnings while reading", len(warnings), UNITS),
    ])
    for problem in warnings[:MAX_LISTED_WARNINGS]:
        out.note(row, 1, f"• {problem}")
        row += 1
    if len(warnings) > MAX_LISTED_WARNINGS:
        out.note(row, 1, f"… and {len(warnings) - MAX_LISTED_WARNINGS} more")
        row += 1

    solver = plan.solver
    offset = written_at.utcoffset() if written_at.tzinfo else None
    row = out.section(row + 1, "Run")
    _pairs(out, row, [
        ("Tool", f"mission-optimiser {tool_version()}", None),
        ("Solver", f"{solver.name} {solver.version}".strip(), None),
        ("Solver stages", ", ".join(solver.stages), None),
        ("Building the model (s)", solver.build_s, SECONDS),
        ("Solving (s)", solver.solve_s, SECONDS),
        ("Total time (s)", solver.total_s, SECONDS),
        ("Report written", written_at, DATETIME),
        ("Time zone", _utc_offset(offset.total_seconds()) if offset is not None else "local", None),
    ])
    ws.column_dimensions["A"].width = 46
    for letter in "BCDEFGHI":
        ws.column_dimensions[letter].width = 16


def _pairs(out: SheetWriter, row: int, pairs: Sequence[tuple[str, object, str | None]]) -> int:
    for label, value, number_format in pairs:
        out.put(row, 1, label)
        out.put(row, 2, value, number_format)
        row += 1
    return row


def _lever_meaning(key: str) -> str:
    if key in SETTING_KEYS:
        return SETTING_KEYS[key].help
    return ITEM_LEVERS.get(key.partition(".")[0], "")


def _utc_offset(seconds: float) -> str:
    sign = "+" if seconds >= 0 else "-"
    minutes = int(abs(seconds)) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _tier_table(out: SheetWriter, row: int, plan: Plan) -> int:
    """Coverage by priority tier, with a bar chart of the mean coverage."""
    currency = plan.levers.currency
    tiers = tier_coverage(plan)
    row = out.section(row, "Coverage by priority tier")
    header_row = row
    overall = pd.to_numeric(columns(plan.missions, MISSION_COLUMNS)["coverage"], errors="coerce").mean()
    last = out.table(
        ["Priority", "Tier weight", "Missions", "Fully covered", "Partly covered", "Not covered",
         "Mean coverage", "Value", f"Money spent ({currency})"],
        ([f"Priority {t.priority}", t.tier_weight, t.missions, t.fully, t.partly, t.uncovered,
          t.mean_coverage, t.value, t.cost] for t in tiers.itertuples()),
        [None, RATIO, UNITS, UNITS, UNITS, UNITS, PERCENT, VALUE, MONEY],
        top=header_row,
        autofilter=False,
        totals=["All tiers", None, tiers["missions"].sum(), tiers["fully"].sum(), tiers["partly"].sum(),
                tiers["uncovered"].sum(), number(overall), tiers["value"].sum(), tiers["cost"].sum()],
    )
    out.note(last + 1, 1, "Fully: covered 100% in every active period; not: 0% in every one; "
                          "mean coverage over the tier's mission-periods.")
    chart = BarChart()
    chart.type = "col"
    chart.title = "Mean coverage by priority tier"
    chart.y_axis.title = "Mean coverage"
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.legend = None
    _show_axes(chart)
    last_tier = header_row + len(tiers)
    chart.add_data(Reference(out.ws, min_col=7, min_row=header_row, max_row=last_tier), titles_from_data=True)
    chart.set_categories(Reference(out.ws, min_col=1, min_row=header_row + 1, max_row=last_tier))
    chart.width, chart.height = 16, 7.5
    out.ws.add_chart(chart, f"{CHART_COLUMN}4")
    return last + 2


def _zone_table(out: SheetWriter, row: int, plan: Plan, names: Names) -> int:
    """Money spent by zone, with a bar chart."""
    currency = plan.levers.currency
    zones = zone_spending(plan, names)
    row = out.section(row, "Money by zone")
    header_row = row
    last = out.table(
        ["Zone ID", "Zone", "Region", "Missions", f"Money spent ({currency})", "Share of spending",
         "Mean coverage"],
        ([z.zone_id, z.name, z.region, z.missions, z.cost, z.share, z.mean_coverage]
         for z in zones.itertuples()),
        [None, None, None, UNITS, MONEY, PERCENT, PERCENT],
        top=header_row,
        autofilter=False,
    )
    if len(zones):
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"Money spent by zone ({currency})"
        chart.x_axis.title = "Zone"
        chart.y_axis.title = currency
        chart.y_axis.number_format = "#,##0"
        chart.y_axis.scaling.min = 0
        chart.legend = None
        _show_axes(chart)
        chart.add_data(Reference(out.ws, min_col=5, min_row=header_row, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(out.ws, min_col=2, min_row=header_row + 1, max_row=last))
        chart.width, chart.height = 16, max(7.5, 3 + 0.5 * len(zones))
        out.ws.add_chart(chart, f"{CHART_COLUMN}21")
    return last + 1


def _show_axes(chart: BarChart) -> None:
    # openpyxl 3.1 marks axes as deleted unless told otherwise; Excel then hides them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False

