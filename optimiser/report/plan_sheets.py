"""The report's sheets of the plan itself: Allocation, Funding, Resources, Zones, Unmet
and Sensitivity. Each reads one or two of the plan's tables (see
:class:`~optimiser.plan.Plan`) and lays them out for a planner."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.plan import Plan
from optimiser.report.cells import (
    MONEY,
    PERCENT,
    UNITS,
    VALUE,
    WRAP,
    SheetWriter,
    shadow_format,
    units_format,
    yes_no,
)
from optimiser.report.derived import (
    ALLOCATION_COLUMNS,
    BUDGET_COLUMNS,
    FUNDING_COLUMNS,
    MISSION_COLUMNS,
    RESOURCE_COLUMNS,
    UNMET_COLUMNS,
    ZONE_COLUMNS,
    Names,
    columns,
    number,
    ranked_sensitivity,
    share,
)

logger = logging.getLogger(__name__)

CONSTRAINT_LABELS = {"resource": "Resource", "budget": "Funding source", "zone_cap": "Zone personnel cap"}


def allocation_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Mission x period: coverage, value, cost, then units of each resource."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    missions = columns(plan.missions, MISSION_COLUMNS)
    allocation = columns(plan.allocation, ALLOCATION_COLUMNS)
    units = {
        (str(m), str(p), str(r)): u
        for m, p, r, u in zip(allocation["mission_id"], allocation["period_id"], allocation["resource_id"],
                              allocation["units"], strict=True)
    }
    resources = list(names.resource_order)
    labels = _resource_labels(resources, names)
    keys = [(str(m), str(p)) for m, p in zip(missions["mission_id"], missions["period_id"], strict=True)]
    unit_columns = [[units.get((m, p, r)) for m, p in keys] for r in resources]
    rows = (
        [m.mission_id, m.name, m.zone_id, m.region, m.type, m.priority, yes_no(m.must_fund), m.period_id,
         m.coverage, m.value, m.cost, *(column[i] for column in unit_columns)]
        for i, m in enumerate(missions.itertuples())
    )
    cost = pd.to_numeric(missions["cost"], errors="coerce").fillna(0.0)
    _check_total(cost.sum(), plan.total_cost)
    out.table(
        ["Mission ID", "Mission", "Zone", "Region", "Type", "Priority", "Must fund", "Period", "Coverage",
         "Value", f"Cost ({currency})", *labels],
        rows,
        [None, None, None, None, None, UNITS, None, None, PERCENT, VALUE, MONEY,
         *(units_format(column) for column in unit_columns)],
        totals=["Total", None, None, None, None, None, None, None, None,
                pd.to_numeric(missions["value"], errors="coerce").sum(), cost.sum(),
                *(sum(number(u) or 0.0 for u in column) for column in unit_columns)],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40)


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
                     share(used, amount), number(b.shadow_price)])
    out.table(
        ["Source ID", "Source", "Period", f"Available ({currency})", f"Spent ({currency})",
         f"Left ({currency})", "Use", f"Shadow price (value per {currency})"],
        rows,
        [None, None, None, MONEY, MONEY, MONEY, PERCENT, shadow_format],
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
    numbers = [number(v) for c in ("used", "available", "reserve", "usable") for v in frame[c]]
    unit_format = units_format(numbers)
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
         shadow_format],
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
    unit_format = units_format([number(v) for c in ("personnel", "cap") for v in frame[c]])
    out.table(
        ["Zone ID", "Zone", "Region", "Risk", "Period", "Personnel", "Personnel cap", "Utilisation",
         f"Money spent ({currency})", "Shadow price (value per person)"],
        rows,
        [None, None, None, None, None, unit_format, unit_format, PERCENT, MONEY, shadow_format],
    )
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40)


def unmet_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """What each under-covered mission still lacks, and what closing the gap would cost."""
    out = SheetWriter(ws)
    currency = plan.levers.currency
    unmet = columns(plan.unmet, UNMET_COLUMNS)
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
            [u.mission_id, names.mission(mission_id), priority, getattr(mission, "zone_id", None),
             u.period_id, getattr(mission, "coverage", None), u.resource_id,
             names.resource(resource_id), names.units.get(resource_id, ""), number(u.needed),
             number(u.allocated), number(u.shortfall), number(u.shortfall_cost)],
        ))
    rows.sort(key=lambda item: item[0])
    values = [row for _, row in rows]
    unit_format = units_format([v for row in values for v in row[9:12]])
    last = out.table(
        ["Mission ID", "Mission", "Priority", "Zone", "Period", "Coverage", "Resource ID", "Resource", "Unit",
         "Needed", "Allocated", "Shortfall", f"Cost to close ({currency})"],
        values,
        [None, None, UNITS, None, None, PERCENT, None, None, None, unit_format, unit_format, unit_format,
         MONEY],
        totals=["Total", *([None] * 11), sum(row[12] or 0.0 for row in values)],
    )
    if not values:
        out.note(last + 2, 1, "Every active mission is fully covered in every period.")
    ws.freeze_panes = "C2"
    out.fit_columns(maximum=40)


def sensitivity_sheet(ws: Worksheet, plan: Plan, names: Names) -> None:
    """Shadow prices, largest first, each with its sentence."""
    out = SheetWriter(ws)
    frame = ranked_sensitivity(plan)
    name_of: dict[str, Callable[[str], str]] = {
        "resource": names.resource, "budget": names.source, "zone_cap": names.zone,
    }
    rows = [
        [rank, CONSTRAINT_LABELS.get(str(s.constraint), s.constraint), s.id,
         name_of.get(str(s.constraint), str)(str(s.id)), s.period_id, number(s.shadow_price), s.unit,
         s.sentence]
        for rank, s in enumerate(frame.itertuples(), start=1)
    ]
    last = out.table(
        ["Rank", "Constraint", "ID", "Name", "Period", "Shadow price", "Per", "What it means"],
        rows,
        [UNITS, None, None, None, None, shadow_format, None, None],
    )
    for row in range(2, last + 1):
        ws.cell(row=row, column=8).alignment = WRAP
    note = last + 2
    if not rows:
        out.note(note, 1, "No constraint limits the value: more people, equipment or money would add none.")
        note += 1
    out.note(note, 1, "Shadow price: the extra value one more unit would buy, from the continuous model "
                      "with the on/off decisions fixed at this plan.")
    note = _explained(out, plan, names, note + 2)
    ws.freeze_panes = "B2"
    out.fit_columns(maximum=40, fixed={8: 90})


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
        formats = [None, None, None, UNITS, UNITS, shadow_format, UNITS, UNITS, None]
        row = out.table(header, rows, formats, top=row, autofilter=False) + 2
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
