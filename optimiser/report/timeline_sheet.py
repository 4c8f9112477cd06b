"""The report's Timeline sheet (SPEC 5): each mission's coverage period by period, where
it starts and stops, and the money of each start and stop.

Top: one row per mission (most important first), its coverage in each period coloured
from red (0%) through yellow to green (100%), grey where the mission is not active, and
beside each period a plain marker, ▲ starts or ▼ stops; then its start-up and closure
money in all. Below: every start and stop in planning order, with its money.
"""

from __future__ import annotations

import pandas as pd
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.plan import Plan
from optimiser.report.cells import MONEY, PERCENT, UNITS, SheetWriter, yes_no
from optimiser.report.derived import Names
from optimiser.report.timeline import (
    CHANGE_LABELS,
    START,
    STOP,
    changes,
    mission_periods,
    running_now,
)

NOT_ACTIVE_FILL = PatternFill("solid", fgColor="D9D9D9")
START_FONT = Font(bold=True, color="1E7B34")
STOP_FONT = Font(bold=True, color="C00000")
LOW, MIDDLE, HIGH = "F8696B", "FFEB84", "63BE7B"  # Excel's red-yellow-green scale
MARKER_WIDTH = 10.0
HEADER_HEIGHT = 30.0  # points: two lines of header text
MISSION_HEADER = ["Mission ID", "Mission", "Priority", "Zone", "Type", "Running now"]


def timeline_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Mission x period coverage with starts and stops marked, then each start and stop
    with its money (SPEC 5)."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    missions = mission_periods(plan)
    periods = [p for p in names.periods if p in set(missions["period_id"].astype(str))]
    by_key = {(str(m.mission_id), str(m.period_id)): m for m in missions.itertuples()}
    now = running_now(plan)
    first = missions.drop_duplicates("mission_id")
    first = first.assign(
        _priority=pd.to_numeric(first["priority"], errors="coerce").fillna(9), _order=range(len(first)),
    ).sort_values(["_priority", "_order"], kind="mergesort")

    header = [*MISSION_HEADER]
    for period in periods:
        header += [period, f"{period} start / stop"]
    header += ["Starts", "Stops", f"Start-up cost ({currency})", f"Closure cost ({currency})"]
    left = len(MISSION_HEADER)
    out.header(1, 1, header)
    ws.row_dimensions[1].height = HEADER_HEIGHT  # two lines: "2027-Q1 start / stop"
    row = 1
    for m in first.itertuples():
        row += 1
        mission_id = str(m.mission_id)
        values = [mission_id, names.mission(mission_id), m.priority, names.zone(str(m.zone_id)),
                  str(m.type).replace("_", " "),
                  yes_no(now.get(mission_id, False))]
        for column, value in enumerate(values, start=1):
            out.put(row, column, value, UNITS if column == 3 else None)
        starts = stops = 0
        startup = closure = 0.0
        for i, period in enumerate(periods):
            column = left + 1 + 2 * i
            cell = by_key.get((mission_id, period))
            if cell is None:  # not active in this period
                out.put(row, column, None, fill=NOT_ACTIVE_FILL)
                out.put(row, column + 1, None, fill=NOT_ACTIVE_FILL)
                continue
            out.put(row, column, float(cell.coverage), PERCENT)
            if cell.starts:
                out.put(row, column + 1, CHANGE_LABELS[START], font=START_FONT)
                starts += 1
                startup += float(cell.startup_cost)
            elif cell.stops:
                out.put(row, column + 1, CHANGE_LABELS[STOP], font=STOP_FONT)
                stops += 1
                closure += float(cell.closure_cost)
        end = left + 2 * len(periods)
        out.put(row, end + 1, starts, UNITS)
        out.put(row, end + 2, stops, UNITS)
        out.put(row, end + 3, startup, MONEY)
        out.put(row, end + 4, closure, MONEY)
    last_mission_row = max(row, 2)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last_mission_row}"
    for i in range(len(periods)):
        letter = get_column_letter(left + 1 + 2 * i)
        ws.conditional_formatting.add(
            f"{letter}2:{letter}{last_mission_row}",
            ColorScaleRule(start_type="num", start_value=0, start_color=LOW,
                           mid_type="num", mid_value=0.5, mid_color=MIDDLE,
                           end_type="num", end_value=1, end_color=HIGH),
        )
    if len(first):
        row += 2
        end = left + 2 * len(periods)
        frame = missions
        out.put(row, 1, "Total", font=Font(bold=True))
        totals = [int(frame["starts"].sum()), int(frame["stops"].sum()), float(frame["startup_cost"].sum()),
                  float(frame["closure_cost"].sum())]
        for offset, (value, code) in enumerate(zip(totals, [UNITS, UNITS, MONEY, MONEY], strict=True)):
            out.put(row, end + 1 + offset, value, code, font=Font(bold=True))
    row = out.section(row + 2, "Legend") if len(first) else row + 1
    for text in (
        "Coverage: the share of the mission's requirements met in the period, coloured from red (0%, "
        "not running) through yellow (50%) to green (100%); grey: the mission is not active then.",
        f"{CHANGE_LABELS[START]}: the mission runs and did not in the period before (before the first "
        "period: unless it is running now); its start-up cost falls in that period.",
        f"{CHANGE_LABELS[STOP]}: the mission no longer runs but did in the period before; its closure "
        "cost falls in that period. Ending at its end period is not a stop.",
    ):
        out.note(row, 1, text)
        row += 1

    row = out.section(row + 1, "Starts and stops, period by period")
    moved = changes(plan, names)
    rows = [
        [c.mission_id, c.name, c.priority, c.zone_id, c.period_id, CHANGE_LABELS[c.change], c.coverage,
         c.coverage_before, c.money, f"{c.cost_kind} cost"]
        for c in moved.itertuples()
    ]
    last = out.table(
        ["Mission ID", "Mission", "Priority", "Zone", "Period", "Change", "Coverage", "Coverage before",
         f"Money ({currency})", "Money for"],
        rows,
        [None, None, UNITS, None, None, None, PERCENT, PERCENT, MONEY, None],
        top=row,
        autofilter=False,
        totals=["Total", None, None, None, None, None, None, None, float(moved["money"].sum()), None]
        if rows else None,
    )
    ws.row_dimensions[row].height = HEADER_HEIGHT
    for i, c in enumerate(moved.itertuples(), start=row + 1):
        ws.cell(row=i, column=6).font = START_FONT if c.change == START else STOP_FONT
    if not rows:
        out.note(last + 2, 1, "No mission starts or stops in this plan.")
    ws.freeze_panes = ws.cell(row=2, column=3)  # header row and mission id and name stay in view
    markers = {left + 2 + 2 * i: MARKER_WIDTH for i in range(len(periods))}  # headers wrap
    out.fit_columns(maximum=40, fixed=markers)
    ws.print_title_cols = "A:B"
