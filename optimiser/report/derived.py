"""Figures derived from a plan for its reports: names, coverage by tier, money by zone.

The workbook, the JSON result and the text summary all read these, so that the three
never disagree about, say, how many priority-1 missions are fully covered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from optimiser.coverage import FULLY, NOT, ceilings, lacking, mission_classes
from optimiser.plan import Plan
from optimiser.version import __version__

TIERS = (1, 2, 3, 4, 5)

# Columns of the plan's tables, as documented on :class:`~optimiser.plan.Plan`.
MISSION_COLUMNS = ("mission_id", "period_id", "name", "zone_id", "region", "type", "priority",
                   "must_fund", "coverage", "value", "cost", "runs", "starts", "stops", "startup_cost",
                   "closure_cost")
ALLOCATION_COLUMNS = ("mission_id", "period_id", "resource_id", "kind", "needed", "units", "unit_cost",
                      "cost")
FUNDING_COLUMNS = ("source_id", "mission_id", "period_id", "money")
RESOURCE_COLUMNS = ("resource_id", "period_id", "kind", "used", "available", "reserve", "usable",
                    "shadow_price")
BUDGET_COLUMNS = ("source_id", "period_id", "amount", "used", "shadow_price")
ZONE_COLUMNS = ("zone_id", "period_id", "personnel", "cap", "shadow_price")
UNMET_COLUMNS = ("mission_id", "period_id", "resource_id", "needed", "allocated", "shortfall",
                 "shortfall_cost")
SENSITIVITY_COLUMNS = ("constraint", "id", "period_id", "shadow_price", "unit", "sentence")


def columns(frame: pd.DataFrame | None, names: Sequence[str]) -> pd.DataFrame:
    """``frame`` with at least the columns ``names`` (missing ones empty), index reset.

    An infeasible plan may carry bare empty frames; reports read them through this.
    """
    frame = pd.DataFrame() if frame is None else frame.reset_index(drop=True)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        frame = frame.assign(**{name: pd.Series([None] * len(frame), dtype=object) for name in missing})
    return frame


def number(value: object) -> float | None:
    """A finite float, or ``None`` for blanks, NaN and infinities."""
    if value is None or value is pd.NA:
        return None
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def share(part: object, whole: object) -> float | None:
    """``part / whole``, or ``None`` when either is missing or ``whole`` is zero."""
    top, bottom = number(part), number(whole)
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def tool_version() -> str:
    """The installed mission-optimiser version."""
    return __version__


def run_time() -> datetime:
    """Now, in local time with its UTC offset: when a report was written."""
    return datetime.now().astimezone().replace(microsecond=0)


@dataclass(frozen=True)
class Names:
    """Display names and ordering of the plan's ids (from its portfolio when it has one)."""

    missions: dict[str, str]
    zones: dict[str, str]
    regions: dict[str, str]
    risks: dict[str, str]
    resources: dict[str, str]
    units: dict[str, str]
    kinds: dict[str, str]
    sources: dict[str, str]
    periods: tuple[str, ...]
    resource_order: tuple[str, ...]

    def mission(self, mission_id: str) -> str:
        return self.missions.get(mission_id, mission_id)

    def resource(self, resource_id: str) -> str:
        return self.resources.get(resource_id, resource_id)

    def source(self, source_id: str) -> str:
        return self.sources.get(source_id, source_id)

    def zone(self, zone_id: str) -> str:
        return self.zones.get(zone_id, zone_id)

    def period_rank(self, period_id: str) -> int:
        return self.periods.index(period_id) if period_id in self.periods else len(self.periods)


def _mapping(frame: pd.DataFrame, column: str) -> dict[str, str]:
    if column not in frame.columns:
        return {}
    return {str(key): str(value) for key, value in frame[column].items() if not pd.isna(value)}


def _unique(values: pd.Series) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in values if not pd.isna(v)))


def names_of(plan: Plan) -> Names:
    """Names, units and orders of the ids in ``plan``."""
    missions = columns(plan.missions, MISSION_COLUMNS)
    allocation = columns(plan.allocation, ALLOCATION_COLUMNS)
    resources = columns(plan.resources, RESOURCE_COLUMNS)
    portfolio = plan.portfolio
    if portfolio is not None:
        mission_names = _mapping(portfolio.missions, "name")
        zones, sources = portfolio.zones, portfolio.sources
        zone_names, regions = _mapping(zones, "name"), _mapping(zones, "region")
        risks = _mapping(zones, "risk")
        resource_names = _mapping(portfolio.resources, "name")
        units = _mapping(portfolio.resources, "unit")
        kinds = _mapping(portfolio.resources, "kind")
        source_names = _mapping(sources, "name")
        periods = tuple(str(p) for p in portfolio.period_ids)
        resource_order = tuple(str(r) for r in portfolio.resources.index)
    else:
        mission_names, zone_names, risks, resource_names, units, source_names = {}, {}, {}, {}, {}, {}
        regions = {}
        kinds = {}
        periods = ()
        resource_order = ()
    # The plan's own tables fill what the portfolio does not say.
    for mission_id, name in zip(missions["mission_id"], missions["name"], strict=True):
        if not pd.isna(name):
            mission_names.setdefault(str(mission_id), str(name))
    for zone_id, region in zip(missions["zone_id"], missions["region"], strict=True):
        if not pd.isna(region):
            regions.setdefault(str(zone_id), str(region))
    for resource_id, kind in zip(allocation["resource_id"], allocation["kind"], strict=True):
        if not pd.isna(kind):
            kinds.setdefault(str(resource_id), str(kind))
    seen_periods = _unique(pd.concat([missions["period_id"], resources["period_id"]]))
    periods = periods + tuple(p for p in seen_periods if p not in periods)
    seen_resources = _unique(pd.concat([allocation["resource_id"], resources["resource_id"]]))
    resource_order = resource_order + tuple(r for r in seen_resources if r not in resource_order)
    return Names(
        missions=mission_names, zones=zone_names, regions=regions, risks=risks,
        resources=resource_names, units=units, kinds=kinds, sources=source_names,
        periods=periods, resource_order=resource_order,
    )


def mission_coverage(plan: Plan) -> pd.DataFrame:
    """One row per mission over its active periods.

    Columns ``mission_id``, ``name``, ``zone_id``, ``priority``, ``periods``,
    ``mean_coverage``, ``min_coverage``, ``max_coverage`` (the lowest and highest coverage
    over its periods), ``ceiling`` (the mission's max_coverage), ``value``, ``cost``,
    ``shortfall_cost`` (money to bring it to its max_coverage in every period) and
    ``covered`` ("fully", "partly" or "not", :func:`optimiser.coverage.coverage_class`),
    in the plan's mission order.
    """
    missions = columns(plan.missions, MISSION_COLUMNS)
    result_columns = ["mission_id", "name", "zone_id", "priority", "periods", "mean_coverage",
                      "min_coverage", "max_coverage", "ceiling", "value", "cost", "shortfall_cost",
                      "covered"]
    if missions.empty:
        return pd.DataFrame(columns=result_columns)
    frame = missions.assign(
        mission_id=missions["mission_id"].astype(str),
        priority=pd.to_numeric(missions["priority"], errors="coerce"),
        coverage=pd.to_numeric(missions["coverage"], errors="coerce").fillna(0.0),
        value=pd.to_numeric(missions["value"], errors="coerce").fillna(0.0),
        cost=pd.to_numeric(missions["cost"], errors="coerce").fillna(0.0),
    )
    grouped = frame.groupby("mission_id", sort=False)
    result = grouped.agg(
        name=("name", "first"),
        zone_id=("zone_id", "first"),
        priority=("priority", "first"),
        periods=("period_id", "count"),
        mean_coverage=("coverage", "mean"),
        min_coverage=("coverage", "min"),
        max_coverage=("coverage", "max"),
        value=("value", "sum"),
        cost=("cost", "sum"),
    ).reset_index()
    result["ceiling"] = result["mission_id"].map(ceilings(plan)).fillna(1.0)
    short = lacking(plan)
    shortfall = short["shortfall_cost"].groupby(short["mission_id"]).sum()
    result["shortfall_cost"] = result["mission_id"].map(shortfall).fillna(0.0)
    result["covered"] = result["mission_id"].map(mission_classes(plan)).fillna(NOT)
    return result[result_columns]


def under_covered(plan: Plan) -> pd.DataFrame:
    """Missions short of their max_coverage in some period, most important first.

    The rows of :func:`mission_coverage` not fully covered, sorted by priority, then
    lowest mean coverage, then largest cost to close the gap.
    """
    frame = mission_coverage(plan)
    frame = frame[frame["covered"] != FULLY]
    return frame.sort_values(
        ["priority", "mean_coverage", "shortfall_cost"], ascending=[True, True, False], kind="mergesort"
    ).reset_index(drop=True)


def tier_coverage(plan: Plan) -> pd.DataFrame:
    """Coverage by priority tier, one row per tier 1..5.

    Columns ``priority``, ``tier_weight``, ``missions``, ``fully``, ``partly``,
    ``uncovered`` (counts of missions: at their max_coverage in every active period, at
    0 in every one, or in between; :func:`optimiser.coverage.coverage_class`),
    ``mean_coverage`` (over the tier's mission-periods;
    ``None`` without missions), ``value`` (from ``plan.value_by_priority``) and
    ``cost`` (money spent on the tier).
    """
    per_mission = mission_coverage(plan)
    missions = columns(plan.missions, MISSION_COLUMNS)
    coverage = pd.to_numeric(missions["coverage"], errors="coerce")
    rows = []
    for tier in TIERS:
        in_tier = per_mission[per_mission["priority"] == tier]
        periods_in_tier = pd.to_numeric(missions["priority"], errors="coerce") == tier
        mean = coverage[periods_in_tier].mean() if periods_in_tier.any() else None
        rows.append({
            "priority": tier,
            "tier_weight": plan.levers.tier_weight(tier),
            "missions": len(in_tier),
            "fully": int((in_tier["covered"] == "fully").sum()),
            "partly": int((in_tier["covered"] == "partly").sum()),
            "uncovered": int((in_tier["covered"] == "not").sum()),
            "mean_coverage": number(mean),
            "value": float((plan.value_by_priority or {}).get(tier, 0.0) or 0.0),
            "cost": float(in_tier["cost"].sum()),
        })
    return pd.DataFrame(rows)


def zone_spending(plan: Plan, names: Names) -> pd.DataFrame:
    """Money spent by zone, largest first.

    Columns ``zone_id``, ``name``, ``region``, ``missions`` (count), ``cost``,
    ``share`` (of all spending) and ``mean_coverage`` (over the zone's mission-periods).
    """
    missions = columns(plan.missions, MISSION_COLUMNS)
    result_columns = ["zone_id", "name", "region", "missions", "cost", "share", "mean_coverage"]
    if missions.empty:
        return pd.DataFrame(columns=result_columns)
    frame = missions.assign(
        cost=pd.to_numeric(missions["cost"], errors="coerce").fillna(0.0),
        coverage=pd.to_numeric(missions["coverage"], errors="coerce"),
    )
    grouped = frame.groupby("zone_id", sort=False).agg(
        missions=("mission_id", "nunique"), cost=("cost", "sum"), mean_coverage=("coverage", "mean")
    ).reset_index()
    total = grouped["cost"].sum()
    grouped["share"] = grouped["cost"] / total if total else None
    grouped["name"] = [names.zone(str(z)) for z in grouped["zone_id"]]
    grouped["region"] = [names.regions.get(str(z), "") for z in grouped["zone_id"]]
    grouped = grouped.sort_values(["cost", "zone_id"], ascending=[False, True], kind="mergesort")
    return grouped[result_columns].reset_index(drop=True)


def ranked_sensitivity(plan: Plan) -> pd.DataFrame:
    """The plan's shadow prices above zero, ranked by the value their sentence's step adds
    (``gain``: one unit, one person, or a round sum of money, since a price per person and
    a price per dollar are not comparable), else by price; ties in the plan's order."""
    frame = columns(plan.sensitivity, SENSITIVITY_COLUMNS)
    prices = pd.to_numeric(frame["shadow_price"], errors="coerce").fillna(0.0)
    frame = frame.assign(shadow_price=prices)[prices > 0]
    if "gain" in frame.columns:
        gains = pd.to_numeric(frame["gain"], errors="coerce")
        frame = frame.assign(_rank=gains.fillna(frame["shadow_price"]))
        frame = frame.sort_values("_rank", ascending=False, kind="mergesort").drop(columns="_rank")
        return frame.reset_index(drop=True)
    return frame.sort_values("shadow_price", ascending=False, kind="mergesort").reset_index(drop=True)
