"""Levers applied to a portfolio: the :class:`Scenario` the model reads.

:func:`apply_levers` turns a validated portfolio and levers into a :class:`Scenario`: the
numbers the model reads (usable capacity after scales and reserves, money per source and
period, active periods of each mission, worth of each priority tier).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from optimiser.levers import Levers
from optimiser.portfolio import Portfolio
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.schema import TIMELINE_DEFAULTS


@dataclass(frozen=True, eq=False)
class Scenario:
    """A portfolio with levers applied: exactly what the model reads.

    Attributes
    ----------
    portfolio : the portfolio with per-item levers applied (must_fund, priority,
        zone caps).
    levers : the levers applied.
    capacity : one row per (resource, period): ``resource_id``, ``period_id``,
        ``kind``, ``available`` (scaled; NaN: unlimited), ``reserve`` (units held
        back), ``usable`` (available - reserve; NaN: unlimited).
    budget : one row per (source, period): ``source_id``, ``period_id``, ``amount``
        (scaled money).
    active : one row per active (mission, period): ``mission_id``, ``period_id``.
    """

    portfolio: Portfolio
    levers: Levers
    capacity: pd.DataFrame
    budget: pd.DataFrame
    active: pd.DataFrame

    def tier_weight(self, priority: int) -> float:
        return self.levers.tier_weight(priority)


def apply_levers(portfolio: Portfolio, levers: Levers | None = None) -> Scenario:
    """Apply scenario levers to a validated portfolio.

    Parameters
    ----------
    portfolio : the validated portfolio.
    levers : the levers; ``None`` means the workbook's own Settings
        (``portfolio.levers``).

    Raises
    ------
    InvalidInput
        when a per-item lever names a source, zone or mission that does not exist.
    """
    levers = portfolio.levers if levers is None else levers
    _check_item_ids(portfolio, levers)

    missions = with_timeline_columns(portfolio.missions)
    for mission_id, flag in levers.must_fund.items():
        missions.loc[mission_id, "must_fund"] = bool(flag)
    for mission_id, tier in levers.priority.items():
        missions.loc[mission_id, "priority"] = int(tier)
    zones = portfolio.zones.copy()
    for zone_id, cap in levers.zone_cap.items():
        zones.loc[zone_id, "personnel_cap"] = float("nan") if cap is None else float(cap)
    edited = dataclasses.replace(portfolio, missions=missions, zones=zones, levers=levers)

    return Scenario(
        portfolio=edited,
        levers=levers,
        capacity=_capacity(portfolio, levers),
        budget=_budget(portfolio, levers),
        active=_active(portfolio),
    )


def with_timeline_columns(missions: pd.DataFrame) -> pd.DataFrame:
    """A copy of a Missions table with every plans-over-time column (SPEC 3.1), the
    defaults filled in where a table was built without them."""
    missions = missions.copy()
    for column, default in TIMELINE_DEFAULTS.items():
        if column not in missions.columns:
            missions[column] = default
    missions["continuity"] = missions["continuity"].astype(bool)
    missions["running_now"] = missions["running_now"].astype(bool)
    missions["min_run"] = missions["min_run"].astype("int64")
    for column in ("startup_cost", "closure_cost", "max_step"):
        missions[column] = missions[column].astype(float)
    return missions


def _check_item_ids(portfolio: Portfolio, levers: Levers) -> None:
    known = {
        "source_scale": (levers.source_scale, portfolio.sources.index, "funding source"),
        "zone_cap": (levers.zone_cap, portfolio.zones.index, "zone"),
        "must_fund": (levers.must_fund, portfolio.missions.index, "mission"),
        "priority": (levers.priority, portfolio.missions.index, "mission"),
    }
    problems = [
        Problem(Severity.ERROR, "levers", f"{prefix}.{item}: '{item}' is not a {what}", value=item)
        for prefix, (mapping, index, what) in known.items()
        for item in mapping
        if item not in index
    ]
    if problems:
        raise InvalidInput(problems)


def _capacity(portfolio: Portfolio, levers: Levers) -> pd.DataFrame:
    """Units usable per resource and period: scaled availability less the reserve."""
    resources = portfolio.resources
    periods = portfolio.period_ids
    grid = pd.MultiIndex.from_product([resources.index, periods], names=["resource_id", "period_id"])
    frame = pd.DataFrame(index=grid).reset_index()
    frame["kind"] = frame["resource_id"].map(resources["kind"])
    frame["available"] = frame["resource_id"].map(resources["available"]).astype(float)
    overrides = portfolio.availability.set_index(["resource_id", "period_id"])["available"]
    if len(overrides):
        key = pd.MultiIndex.from_frame(frame[["resource_id", "period_id"]])
        override = overrides.reindex(key).to_numpy()
        frame["available"] = frame["available"].where(pd.isna(override), override)
    scale = frame["kind"].map({"personnel": levers.personnel_scale, "equipment": levers.equipment_scale})
    frame["available"] = frame["available"] * scale
    share = (
        levers.reserve_share
        if levers.reserve_share is not None
        else frame["resource_id"].map(resources["reserve_share"])
    )
    frame["reserve"] = frame["available"] * share
    frame["usable"] = frame["available"] - frame["reserve"]
    return frame


def _budget(portfolio: Portfolio, levers: Levers) -> pd.DataFrame:
    """Money per source and period after the budget scale and per-source scales."""
    frame = portfolio.funding[["source_id", "period_id", "amount"]].copy()
    per_source = frame["source_id"].map(lambda s: levers.source_scale.get(s, 1.0))
    frame["amount"] = frame["amount"].astype(float) * levers.budget_scale * per_source
    return frame.reset_index(drop=True)


def _active(portfolio: Portfolio) -> pd.DataFrame:
    """The (mission, period) pairs between each mission's start and end period."""
    order = {p: i for i, p in enumerate(portfolio.period_ids)}
    rows = [
        (mission_id, period)
        for mission_id, start, end in zip(
            portfolio.missions.index,
            portfolio.missions["start_period"],
            portfolio.missions["end_period"],
            strict=True,
        )
        for period in portfolio.period_ids
        if order[start] <= order[period] <= order[end]
    ]
    return pd.DataFrame(rows, columns=["mission_id", "period_id"])
