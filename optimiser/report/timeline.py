"""The plan over time (SPEC 3.1 and 5): figures the Timeline sheet, the JSON, the text
summary and the page all read, so they never disagree about when a mission starts.

- :func:`mission_periods`: the plan's missions table with ``runs``, ``starts``,
  ``stops``, ``startup_cost`` and ``closure_cost`` (the plan's own, or worked out from its
  coverage for a plan made without them);
- :func:`changes`: one row per start or stop, in planning order, with its money;
- :func:`change_lines`: those changes in a planner's words, for the terminal.
"""

from __future__ import annotations

import pandas as pd

from optimiser import formats
from optimiser.plan import Plan
from optimiser.report.derived import MISSION_COLUMNS, Names, columns, number
from optimiser.runs import RUN_COLUMNS, run_changes

START_MARK = "▲"
STOP_MARK = "▼"
START, STOP = "starts", "stops"
CHANGE_LABELS = {START: f"{START_MARK} starts", STOP: f"{STOP_MARK} stops"}
CHANGE_COLUMNS = ("period_id", "mission_id", "name", "priority", "zone_id", "change", "coverage",
                  "coverage_before", "money", "cost_kind", "first_period")
LINES_SHOWN = 8


def mission_periods(plan: Plan) -> pd.DataFrame:
    """``plan.missions`` (every column of :data:`MISSION_COLUMNS`), in the plan's order,
    with its runs, starts and stops: the plan's own columns, or, for a plan made without
    them, worked out from its coverage and its portfolio's Missions columns."""
    missions = columns(plan.missions, MISSION_COLUMNS)
    if len(missions) and missions[list(RUN_COLUMNS)].isna().any().any():
        info = plan.portfolio.missions if plan.portfolio is not None else pd.DataFrame()
        missions = run_changes(missions, info, list(_periods(plan, missions)))
    for column in ("runs", "starts", "stops"):
        missions[column] = missions[column].fillna(False).astype(bool)
    for column in ("startup_cost", "closure_cost"):
        missions[column] = pd.to_numeric(missions[column], errors="coerce").fillna(0.0)
    return missions


def _periods(plan: Plan, missions: pd.DataFrame) -> tuple[str, ...]:
    known = tuple(str(p) for p in plan.portfolio.period_ids) if plan.portfolio is not None else ()
    seen = tuple(dict.fromkeys(str(p) for p in missions["period_id"]))
    return known + tuple(p for p in seen if p not in known)


def running_now(plan: Plan) -> dict[str, bool]:
    """Mission id -> deployed today, before the first period (no where not said)."""
    missions = plan.portfolio.missions if plan.portfolio is not None else pd.DataFrame()
    if "running_now" not in missions.columns:
        return {}
    return {str(m): bool(v) for m, v in missions["running_now"].items() if not pd.isna(v)}


def changes(plan: Plan, names: Names) -> pd.DataFrame:
    """One row per start or stop, in planning order, then priority, then the plan's order.

    Columns: ``period_id``, ``mission_id``, ``name``, ``priority``, ``zone_id``,
    ``change`` ("starts" or "stops"), ``coverage`` (in that period), ``coverage_before``
    (in the mission's period before; ``None`` before its first), ``money`` (the start-up
    or closure cost charged in that period), ``cost_kind`` ("start-up" or "closure") and
    ``first_period`` (whether the period is the plan's first).
    """
    missions = mission_periods(plan)
    if missions.empty:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))
    periods = _periods(plan, missions)
    rank = {p: i for i, p in enumerate(periods)}
    missions = missions.assign(
        _order=range(len(missions)),
        _period=[rank.get(str(p), len(rank)) for p in missions["period_id"]],
        coverage=pd.to_numeric(missions["coverage"], errors="coerce").fillna(0.0),
    )
    by_mission = missions.sort_values(["mission_id", "_period"], kind="mergesort")
    previous = by_mission.groupby("mission_id", sort=False)["coverage"].shift(1)
    missions["coverage_before"] = previous.reindex(missions.index)
    moved = missions[missions["starts"] | missions["stops"]]
    mission_rank = {m: i for i, m in enumerate(dict.fromkeys(missions["mission_id"].astype(str)))}
    moved = moved.assign(
        _mission=[mission_rank[str(m)] for m in moved["mission_id"]],
        _priority=pd.to_numeric(moved["priority"], errors="coerce").fillna(9),
    ).sort_values(["_period", "_priority", "_mission"], kind="mergesort")
    first = periods[0] if periods else None
    rows = []
    for m in moved.itertuples():
        start = bool(m.starts)
        rows.append({
            "period_id": str(m.period_id),
            "mission_id": str(m.mission_id),
            "name": names.mission(str(m.mission_id)),
            "priority": None if pd.isna(m.priority) else int(m.priority),
            "zone_id": m.zone_id,
            "change": START if start else STOP,
            "coverage": float(m.coverage),
            "coverage_before": number(m.coverage_before),
            "money": float(m.startup_cost if start else m.closure_cost),
            "cost_kind": "start-up" if start else "closure",
            "first_period": str(m.period_id) == first,
        })
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def change_lines(plan: Plan, names: Names, report_written: bool = False) -> list[str]:
    """The missions that start or stop, for the terminal summary: every stop, then every
    start (each in planning order), except those in the plan's first period at no start-up cost (a new plan's
    missions all start then: they are counted, not named). Nothing for a one-period plan
    with nothing to name. ``report_written``: whether a report goes with it (the list,
    when cut short, then points to its Timeline sheet)."""
    frame = changes(plan, names)
    currency = plan.levers.currency
    quiet = frame["first_period"] & (frame["change"] == START) & (frame["money"] <= 0)
    named, counted = frame[~quiet], frame[quiet]
    named = named.sort_values("change", key=lambda c: c != STOP, kind="mergesort")  # stops first
    periods = _periods(plan, columns(plan.missions, MISSION_COLUMNS))
    if named.empty:
        if len(periods) < 2:
            return []
        return ["Starts and stops: no mission stops, and none starts after the first period."]
    starts = int((named["change"] == START).sum())
    stops = int((named["change"] == STOP).sum())
    money = float(named["money"].sum())
    counts = f"{_count(starts, 'start')}, {_count(stops, 'stop')}"
    if money > 0:
        counts += f"; {formats.money(money, currency)} of start-up and closure costs"
    lines = [f"Missions that start or stop ({counts}):"]
    for change in named.head(LINES_SHOWN).itertuples():
        lines.append(f"  - {change.period_id}: {change.mission_id} {change.name} "
                     f"(priority {change.priority}) {_words(change, currency)}")
    if len(named) > LINES_SHOWN:
        more = len(named) - LINES_SHOWN
        lines.append(f"  ... and {more} more" + (" (see the Timeline sheet of the report)" if report_written
                                                  else " (write the report with --out to see them all)"))
    if len(counted):
        verb = "starts" if len(counted) == 1 else "start"
        lines.append(f"  {_count(len(counted), 'new mission')} {verb} in the first period "
                     "at no start-up cost.")
    return lines


def _words(change: object, currency: str) -> str:
    """``starts at 50.0%; start-up cost USD 800,000`` or ``stops (was 100.0%); closure cost ...``."""
    money = float(change.money)  # type: ignore[attr-defined]
    if change.change == START:  # type: ignore[attr-defined]
        text = f"starts at {formats.share(change.coverage)}"  # type: ignore[attr-defined]
        return text + (f"; start-up cost {formats.money(money, currency)}" if money > 0 else "")
    before = change.coverage_before  # type: ignore[attr-defined]
    text = "stops" + (f" (was {formats.share(before)})" if before is not None and not pd.isna(before) else
                      " (was running before the first period)")
    return text + (f"; closure cost {formats.money(money, currency)}" if money > 0 else "")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
