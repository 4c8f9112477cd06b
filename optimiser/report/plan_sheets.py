"""The report's sheets of the plan itself: Allocation, Funding, Resources, Zones, Unmet
and Sensitivity. Each reads one or two of the plan's tables (see
:class:`~optimiser.plan.Plan`) and lays them out for a planner."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from optimiser import formats
from optimiser.coverage import lacking
from optimiser.formats import EXCEL, MILLION, Kind, per_million
from optimiser.plan import Plan
from optimiser.report.cells import (
    MONEY,
    PERCENT,
    UNITS,
    VALUE,
    WRAP,
    SheetWriter,
    units_cell_format,
    yes_no,
)
from optimiser.report.derived import (
    ALLOCATION_COLUMNS,
    BUDGET_COLUMNS,
    FUNDING_COLUMNS,
    MISSION_COLUMNS,
    RESOURCE_COLUMNS,
    ZONE_COLUMNS,
    Names,
    columns,
    number,
    ranked_sensitivity,
    share,
)
from optimiser.why import explain_short, held_back_by_cells

logger = logging.getLogger(__name__)
TOP_WHY = 10  # missions explained on the Why short sheet

CONSTRAINT_LABELS = {"resource": "Resource", "budget": "Funding source", "zone_cap": "Zone personnel cap"}


def allocation_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Mission x period: coverage, value and cost (the units of each resource are on the
    Units sheet, one row per resource, so that both print legibly)."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    missions = columns(plan.missions, MISSION_COLUMNS)
    rows = (
        [m.mission_id, m.name, names.zone(str(m.zone_id)), str(m.type).replace("_", " "), m.priority,
         yes_no(m.must_fund),
         m.period_id, m.coverage, m.value, m.cost]
        for m in missions.itertuples()
    )
    cost = pd.to_numeric(missions["cost"], errors="coerce").fillna(0.0)
    _check_total(cost.sum(), plan.total_cost)
    out.table(
        ["Mission ID", "Mission", "Zone", "Type", "Priority", "Must fund", "Period", "Coverage", "Value",
         f"Cost ({currency})"],
        rows,
        [None, None, None, None, UNITS, None, None, PERCENT, EXCEL[Kind.VALUE], MONEY],
        totals=["Total", None, None, None, None, None, None, None,
                pd.to_numeric(missions["value"], errors="coerce").sum(), cost.sum()],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=45)


def units_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Each resource a mission needs, by period: units needed at full coverage, allocated,
    and the mission's coverage; one row per (mission, period, resource)."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    allocation = columns(plan.allocation, ALLOCATION_COLUMNS)
    missions = columns(plan.missions, MISSION_COLUMNS)
    coverage = {(str(m), str(p)): c for m, p, c in zip(missions["mission_id"], missions["period_id"],
                                                        missions["coverage"], strict=True)}
    labels = dict(zip(names.resource_order, _resource_labels(list(names.resource_order), names), strict=True))
    rows = (
        [a.mission_id, names.mission(str(a.mission_id)), a.period_id, coverage.get((str(a.mission_id),
                                                                                     str(a.period_id))),
         labels.get(str(a.resource_id), names.resource(str(a.resource_id))), number(a.needed),
         number(a.units), number(a.cost)]
        for a in allocation.itertuples()
    )
    out.table(
        ["Mission ID", "Mission", "Period", "Coverage", "Resource", "Needed at full coverage", "Allocated",
         f"Cost ({currency})"],
        rows,
        [None, None, None, PERCENT, None, units_cell_format, units_cell_format, MONEY],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=45)


def _resource_labels(resources: Sequence[str], names: Names) -> list[str]:
    """Column headers for resources: their names (ids if names repeat), with the unit."""
    display = [names.resource(r) for r in resources]
    if len(set(display)) < len(display):
        display = list(resources)
    return [f"{label} ({names.units[r]})" if names.units.get(r, "unit") != "unit" else label
            for label, r in zip(display, resources, strict=True)]


def _check_total(shown: float, total_cost: float) -> None:
    if not math.isclose(shown, total_cost, rel_tol=1e-6, abs_tol=1e-3):
        logger.warning("the missions' costs add up to %s but the plan's total cost is %s", shown, total_cost)


def funding_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Money from each source to each mission by period, then each source's use."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    flows = columns(plan.funding, FUNDING_COLUMNS)
    flows = flows.assign(money=pd.to_numeric(flows["money"], errors="coerce").fillna(0.0))
    periods = list(names.periods)
    mission_ids = columns(plan.missions, MISSION_COLUMNS)["mission_id"].astype(str)
    mission_rank = {m: i for i, m in enumerate(dict.fromkeys(mission_ids))}
    source_rank = {s: i for i, s in enumerate(names.sources)}
    pairs = sorted(
        {(str(s), str(m)) for s, m in zip(flows["source_id"], flows["mission_id"], strict=True)},
        key=lambda pair: (source_rank.get(pair[0], len(source_rank)), pair[0],
                          mission_rank.get(pair[1], len(mission_rank)), pair[1]),
    )
    money = flows.groupby([flows["source_id"].astype(str), flows["mission_id"].astype(str),
                           flows["period_id"].astype(str)])["money"].sum().to_dict()
    rows = []
    for source_id, mission_id in pairs:
        by_period = [money.get((source_id, mission_id, p)) for p in periods]
        rows.append([source_id, names.source(source_id), mission_id, names.mission(mission_id), *by_period,
                     sum(v or 0.0 for v in by_period)])
    period_totals = [sum(v for (_, _, p), v in money.items() if p == period) for period in periods]
    last = out.table(
        ["Source ID", "Source", "Mission ID", "Mission", *(f"{p} ({currency})" for p in periods),
         f"Total ({currency})"],
        rows,
        [None, None, None, None, *([MONEY] * len(periods)), MONEY],
        totals=["Total", None, None, None, *period_totals, sum(period_totals)],
    )
    ws.freeze_panes = "E2"

    budgets = columns(plan.budgets, BUDGET_COLUMNS)
    budgets = budgets.assign(
        _source=[source_rank.get(str(s), len(source_rank)) for s in budgets["source_id"]],
        _period=[names.period_rank(str(p)) for p in budgets["period_id"]],
    ).sort_values(["_source", "source_id", "_period"], kind="mergesort")
    top = out.section(last + 3, "Budget use by source and period")
    rows = []
    for b in budgets.itertuples():
        amount, used = number(b.amount), number(b.used)
        left = None if amount is None or used is None else amount - used
        rows.append([b.source_id, names.source(str(b.source_id)), b.period_id, amount, used, left,
                     share(used, amount), per_million(b.shadow_price)])
    out.table(
        ["Source ID", "Source", "Period", f"Available ({currency})", f"Spent ({currency})",
         f"Left ({currency})", "Use", f"Value of {currency} 1m more"],
        rows,
        [None, None, None, MONEY, MONEY, MONEY, PERCENT, EXCEL[Kind.PER_UNIT]],
        top=top,
        autofilter=False,
    )
    out.fit_columns(maximum=40)


def resources_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Each resource and period: used, available, reserve, usable, utilisation, shadow price."""
    out = SheetWriter(ws)
    frame = columns(plan.resources, RESOURCE_COLUMNS)
    order = {r: i for i, r in enumerate(names.resource_order)}
    frame = frame.assign(
        _resource=[order.get(str(r), len(order)) for r in frame["resource_id"]],
        _period=[names.period_rank(str(p)) for p in frame["period_id"]],
    ).sort_values(["_resource", "_period"], kind="mergesort")
    unit_format = units_cell_format
    rows = []
    for r in frame.itertuples():
        available, usable = number(r.available), number(r.usable)
        rows.append([
            r.resource_id, names.resource(str(r.resource_id)),
            r.kind if not pd.isna(r.kind) else names.kinds.get(str(r.resource_id)),
            names.units.get(str(r.resource_id), ""), r.period_id, number(r.used),
            "unlimited" if available is None else available,
            number(r.reserve) if available is not None else None,
            "unlimited" if usable is None else usable,
            share(r.used, usable) if usable else None,
            number(r.shadow_price),
        ])
    out.table(
        ["Resource ID", "Resource", "Kind", "Unit", "Period", "Used", "Available", "Reserve", "Usable",
         "Utilisation", "Shadow price (value per unit)"],
        rows,
        [None, None, None, None, None, unit_format, unit_format, unit_format, unit_format, PERCENT,
         EXCEL[Kind.PER_UNIT]],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40)


def zones_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Personnel deployed in each zone and period against its cap."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    frame = columns(plan.zones, ZONE_COLUMNS)
    missions = columns(plan.missions, MISSION_COLUMNS)
    spent = pd.to_numeric(missions["cost"], errors="coerce").fillna(0.0).groupby(
        [missions["zone_id"].astype(str), missions["period_id"].astype(str)]).sum().to_dict()
    zone_order = {z: i for i, z in enumerate(names.zones)}
    frame = frame.assign(
        _zone=[zone_order.get(str(z), len(zone_order)) for z in frame["zone_id"]],
        _period=[names.period_rank(str(p)) for p in frame["period_id"]],
    ).sort_values(["_zone", "zone_id", "_period"], kind="mergesort")
    rows = []
    for z in frame.itertuples():
        cap = number(z.cap)
        rows.append([
            z.zone_id, names.zone(str(z.zone_id)), names.regions.get(str(z.zone_id), ""),
            names.risks.get(str(z.zone_id), ""), z.period_id, number(z.personnel),
            "no cap" if cap is None else cap, share(z.personnel, cap) if cap else None,
            spent.get((str(z.zone_id), str(z.period_id)), 0.0), number(z.shadow_price),
        ])
    unit_format = EXCEL[Kind.PEOPLE]
    out.table(
        ["Zone ID", "Zone", "Region", "Risk", "Period", "Personnel", "Personnel cap", "Utilisation",
         f"Money spent ({currency})", "Shadow price (value per person)"],
        rows,
        [None, None, None, None, None, unit_format, unit_format, PERCENT, MONEY, EXCEL[Kind.PER_UNIT]],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40)


def unmet_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """What each under-covered mission still lacks to reach its max_coverage
    (:func:`optimiser.coverage.lacking`), and what closing the gap would cost."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    unmet = lacking(plan)
    missions = columns(plan.missions, MISSION_COLUMNS)
    by_key = {(str(m.mission_id), str(m.period_id)): m for m in missions.itertuples()}
    mission_rank = {m: i for i, m in enumerate(dict.fromkeys(missions["mission_id"].astype(str)))}
    resource_rank = {r: i for i, r in enumerate(names.resource_order)}

    rows = []
    for u in unmet.itertuples():
        mission_id, period_id, resource_id = str(u.mission_id), str(u.period_id), str(u.resource_id)
        mission = by_key.get((mission_id, period_id))
        priority = getattr(mission, "priority", None)
        rows.append((
            (number(priority) or 9, mission_rank.get(mission_id, len(mission_rank)),
             names.period_rank(period_id), resource_rank.get(resource_id, 0)),
            [u.mission_id, names.mission(mission_id), priority,
             names.zone(str(getattr(mission, "zone_id", ""))),
             u.period_id, getattr(mission, "coverage", None), u.resource_id,
             names.resource(resource_id), names.units.get(resource_id, ""), number(u.needed),
             number(u.allocated), number(u.shortfall), number(u.shortfall_cost)],
        ))
    rows.sort(key=lambda item: item[0])
    values = [row for _, row in rows]
    held = _held_back(plan) if values else {}
    for row in values:
        row.append(held.get((str(row[0]), str(row[4])), ""))
    unit_format = units_cell_format
    last = out.table(
        ["Mission ID", "Mission", "Priority", "Zone", "Period", "Coverage", "Resource ID", "Resource", "Unit",
         "Needed at its max coverage", "Allocated", "Shortfall", f"Cost to close ({currency})",
         "Held back by"],
        values,
        [None, None, UNITS, None, None, PERCENT, None, None, None, unit_format, unit_format, unit_format,
         MONEY, None],
        totals=["Total", *([None] * 11), sum(row[12] or 0.0 for row in values), None],
    )
    if not values:
        out.note(last + 2, 1, "Every active mission is at its most wanted coverage in every period.")
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40, fixed={14: 80})


def _held_back(plan: Plan) -> dict[tuple[str, str], str]:
    """What holds each short mission-period back (:func:`optimiser.why.held_back_by_cells`);
    an explanation that fails leaves the column blank rather than the report unwritten."""
    try:
        return held_back_by_cells(plan)
    except Exception:
        logger.exception("the Unmet sheet's 'held back by' column could not be made")
        return {}


def why_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Why short: the full answer of ``optimiser why`` for the ten most important short
    missions (with the value given up and the weight needed when ``--explain`` solved
    again; from the plan's tables otherwise)."""
    out = SheetWriter(ws)
    explained = plan.explanations if plan.explanations is not None and len(plan.explanations) else None
    frame = explained
    if frame is None and plan.portfolio is not None:
        try:
            frame = explain_short(plan.portfolio, plan.levers, plan=plan, top=TOP_WHY, search=False)
        except Exception:
            logger.exception("the Why short sheet could not be made")
    rows = [] if frame is None else [  # one line of the answer per row: readable, and filterable
        [rank, w.mission_id, names.mission(str(w.mission_id)), w.priority, w.covered, number(w.mean_coverage),
         number(w.max_coverage), line]
        for rank, w in enumerate(frame.itertuples(), start=1)
        for line in str(w.answer).splitlines()
    ]
    last = out.table(
        ["Rank", "Mission ID", "Mission", "Priority", "Covered", "Mean coverage", "Max coverage",
         "Why (what it lacks, what holds it back, who takes what it needs, what funding it fully costs)"],
        rows, [UNITS, None, None, UNITS, None, PERCENT, PERCENT, None],
    )
    note = last + 2
    if not rows:
        out.note(note, 1, "Every active mission reaches its max_coverage in every period.")
        note += 1
    if explained is None:
        out.note(note, 1, "From the plan's tables. The value given up by funding a mission fully and the "
                          "weight or priority it would need come from solving again: optimiser solve "
                          "--explain, or optimiser why WORKBOOK MISSION.")
    ws.freeze_panes = "D2"
    out.fit_columns(maximum=40, fixed={8: 160})


def sensitivity_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Shadow prices, largest first, each with its sentence."""
    out = SheetWriter(ws)
    frame = ranked_sensitivity(plan)
    name_of: dict[str, Callable[[str], str]] = {
        "resource": names.resource, "budget": names.source, "zone_cap": names.zone,
    }
    rows = [
        [rank, CONSTRAINT_LABELS.get(str(s.constraint), s.constraint), s.id,
         name_of.get(str(s.constraint), str)(str(s.id)), s.period_id, _gain(s), _step(s, plan), s.sentence]
        for rank, s in enumerate(frame.itertuples(), start=1)
    ]
    last = out.table(
        ["Rank", "Constraint", "ID", "Name", "Period", "Value added", "For", "What it means"],
        rows,
        [UNITS, None, None, None, None, EXCEL[Kind.PER_UNIT], None, None],
    )
    for row in range(2, last + 1):
        ws.cell(row=row, column=8).alignment = WRAP
    note = last + 2
    if not rows:
        out.note(note, 1, "No constraint limits the value: more people, equipment or money would add none.")
        note += 1
    out.note(note, 1, "Value added: what one more unit, one more person allowed or a round sum of money "
                      "would buy (shadow price, from the continuous model with the on/off decisions fixed "
                      "at this plan).")
    note = _explained(out, plan, names, note + 2)
    ws.freeze_panes = "B2"
    out.fit_columns(maximum=40, fixed={8: 90})


def _step_size(row: object) -> float:
    """The step a row's value added is for: its own, else one unit (USD 1m for money)."""
    step = number(getattr(row, "step", None))
    if step:
        return step
    return MILLION if getattr(row, "constraint", "") == "budget" else 1.0


def _gain(row: object) -> float | None:
    gain = number(getattr(row, "gain", None))
    if gain is not None:
        return gain
    price = number(getattr(row, "shadow_price", None))
    return None if price is None else price * _step_size(row)


def _step(row: object, plan: Plan) -> str:
    """What the value added is for: ``"1 person"``, ``"USD 1m"``."""
    step = _step_size(row)
    unit = str(getattr(row, "unit", "") or "unit")
    if getattr(row, "constraint", "") == "budget":
        return f"{plan.levers.currency} {formats.money_step(step)}"
    if getattr(row, "constraint", "") == "zone_cap":
        unit = "person"
    return f"{formats.units(step)} {unit}"


def _explained(out: SheetWriter, plan: Plan, names: Names, row: int) -> int:
    """Below the shadow prices, when asked for (``optimiser solve --explain``): how far
    each limit can move before its price changes, and what 10% more of the resources
    and sources that matter most adds, measured by solving again."""
    ranges = plan.ranges if plan.ranges is not None else pd.DataFrame()
    if len(ranges) and "sentence" in ranges:
        row = out.section(row, "How far each limit can move before its shadow price changes")
        rows = [
            [CONSTRAINT_LABELS.get(str(r.constraint), r.constraint), r.id, r.period_id, number(r.limit),
             number(r.used), number(r.shadow_price), number(r.low), number(r.high), r.sentence]
            for r in ranges.itertuples()
        ]
        header = ["Constraint", "ID", "Period", "Limit", "Used", "Shadow price", "Price holds from",
                  "Price holds to", "What it means"]
        formats = [None, None, None, units_cell_format, units_cell_format, EXCEL[Kind.PER_UNIT],
                   units_cell_format, units_cell_format, None]
        row = out.table(header, rows, formats, top=row, autofilter=False) + 2
    objective = plan.objective_ranges if plan.objective_ranges is not None else pd.DataFrame()
    if len(objective) and "sentence" in objective:
        row = out.section(row, "How far each mission's value per unit may move before the plan changes shape")
        rows = [
            [o.mission_id, names.mission(str(o.mission_id)), o.period_id, number(o.coverage),
             number(o.value_per_unit), number(o.low), number(o.high), number(o.weight), number(o.weight_low),
             number(o.weight_high), o.sentence]
            for o in objective.itertuples()
        ]
        row = out.table(
            ["Mission ID", "Mission", "Period", "Coverage", "Value per unit of coverage", "Holds from",
             "Holds to", "Weight", "Weight from", "Weight to", "What it means"],
            rows, [None, None, None, PERCENT, VALUE, VALUE, VALUE, VALUE, VALUE, VALUE, None], top=row,
            autofilter=False,
        ) + 2
    what_if = plan.what_if if plan.what_if is not None else pd.DataFrame()
    if len(what_if) and "sentence" in what_if:
        row = out.section(row, "What more would add, measured by solving again")
        rows = [
            [w.kind, w.id, w.name, w.change, number(w.estimated_gain), number(w.measured_gain),
             number(w.gain_bound), number(w.extra_cost), w.sentence]
            for w in what_if.itertuples()
        ]
        row = out.table(
            ["Kind", "ID", "Name", "Change", "Shadow prices promised", "Value added", "At most",
             f"Extra money spent ({plan.levers.currency})", "What it means"],
            rows, [None, None, None, None, VALUE, VALUE, VALUE, MONEY, None], top=row, autofilter=False,
        ) + 2
    return row


def alternatives_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Plans nearly as good that run other missions (``optimiser solve --alternatives``)."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    rows = [
        [a.alternative, number(a.value), number(a.value_share), number(a.total_cost), number(a.cost_change),
         a.differs, a.started, a.dropped, a.sentence]
        for a in plan.alternatives.itertuples()
    ]
    last = out.table(
        ["Alternative", "Value", "Share of the plan's value", f"Money spent ({currency})",
         f"Money against the plan ({currency})", "Mission-periods that differ", "Runs (not in the plan)",
         "Drops (run in the plan)", "What it means"],
        rows, [UNITS, VALUE, PERCENT, MONEY, MONEY, UNITS, None, None, None],
    )
    for row in range(2, last + 1):
        for column in (7, 8, 9):
            ws.cell(row=row, column=column).alignment = WRAP
    out.note(last + 2, 1, "Each alternative is within the chosen share of this plan's value and differs "
                          "from it and from the alternatives before it in the missions run, as much as "
                          "possible.")
    ws.freeze_panes = "B2"
    out.fit_columns(maximum=40, fixed={7: 50, 8: 50, 9: 90})
