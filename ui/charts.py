"""The plan's charts (Altair, which Streamlit ships). Each function takes a Plan and
returns a chart; none of them decides anything."""

from __future__ import annotations

import altair as alt
import pandas as pd

from optimiser import Plan
from ui.summaries import COVERAGE_CLASSES, mission_coverage

TIER_COLOURS = ["#08306b", "#2171b5", "#6baed6", "#bdd7e7", "#d9d9d9"]
_TIER_SCALE = alt.Scale(domain=[1, 2, 3, 4, 5], range=TIER_COLOURS)
_COVERED_SCALE = alt.Scale(domain=list(COVERAGE_CLASSES), range=["#31a354", "#fdae6b", "#de2d26"])
ALL_PERIODS = "All periods"


def coverage_by_mission(plan: Plan, coverage: pd.DataFrame | None = None) -> alt.Chart:
    """Mean coverage of each mission over its active periods, grouped by priority tier."""
    table = (mission_coverage(plan) if coverage is None else coverage).copy()
    table["label"] = table["mission_id"] + " · " + table["name"].astype(str)
    table["tier"] = "Priority " + table["priority"].astype(str)
    return (
        alt.Chart(table, title="Coverage by mission, grouped by priority")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=list(table["label"]), title=None,
                    axis=alt.Axis(labelLimit=320, labelOverlap=False)),
            x=alt.X("coverage:Q", title="coverage (mean over active periods)",
                    scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.Color("priority:O", scale=_TIER_SCALE, title="priority"),
            tooltip=[
                "mission_id", "name", "zone_id", "type", "priority", "must_fund",
                alt.Tooltip("coverage:Q", format=".0%"),
                alt.Tooltip("lowest_coverage:Q", format=".0%", title="lowest period"),
                alt.Tooltip("cost:Q", format=",.0f"), alt.Tooltip("value:Q", format=",.2f"), "covered",
            ],
        )
        .properties(height=alt.Step(20))
    )


def money_by_zone_and_type(plan: Plan) -> alt.Chart:
    """Money spent in each zone, split by mission type."""
    table = plan.missions.groupby(["zone_id", "type"], as_index=False)["cost"].sum()
    table = table[table["cost"] > 0]
    currency = plan.levers.currency
    return (
        alt.Chart(table, title=f"Money by zone and mission type ({currency})")
        .mark_bar()
        .encode(
            x=alt.X("zone_id:N", sort="-y", title="zone"),
            y=alt.Y("sum(cost):Q", title=f"money spent ({currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("type:N", title="mission type"),
            tooltip=["zone_id", "type", alt.Tooltip("cost:Q", format=",.0f", title="money")],
        )
        .properties(height=320)
    )


def resource_periods(plan: Plan) -> list[str]:
    return [ALL_PERIODS, *dict.fromkeys(plan.resources["period_id"])]


def resource_use(plan: Plan, period: str = ALL_PERIODS) -> alt.Chart:
    """Units used, spare and held in reserve per resource, against what is available.

    With every period, the units are added up (person-periods); unlimited resources
    show their use only.
    """
    table = plan.resources
    if period != ALL_PERIODS:
        table = table[table["period_id"] == period]
    table = table.groupby("resource_id", as_index=False, sort=False).agg(
        kind=("kind", "first"), used=("used", "sum"), usable=("usable", "sum"),
        reserve=("reserve", "sum"), available=("available", lambda s: s.sum(min_count=len(s))),
    )
    table["spare"] = (table["usable"] - table["used"]).clip(lower=0)
    parts = table.melt(id_vars=["resource_id", "kind", "available"], value_vars=["used", "spare", "reserve"],
                       var_name="part", value_name="units").fillna({"units": 0.0})
    order = {"used": 0, "spare": 1, "reserve": 2}
    parts["order"] = parts["part"].map(order)
    axis = "units" + (" (summed over periods)" if period == ALL_PERIODS else f" in {period}")
    part_scale = alt.Scale(domain=list(order), range=["#2171b5", "#c6dbef", "#fd8d3c"])
    bars = (
        alt.Chart(parts)
        .mark_bar()
        .encode(
            y=alt.Y("resource_id:N", title=None),
            x=alt.X("units:Q", stack="zero", title=axis),
            color=alt.Color("part:N", scale=part_scale, title=None),
            order=alt.Order("order:Q"),
            tooltip=["resource_id", "kind", "part", alt.Tooltip("units:Q", format=",.1f"),
                     alt.Tooltip("available:Q", format=",.1f")],
        )
    )
    ticks = (
        alt.Chart(table.dropna(subset=["available"]))
        .mark_tick(color="black", thickness=2, size=18)
        .encode(y="resource_id:N", x="available:Q",
                tooltip=["resource_id", alt.Tooltip("available:Q", format=",.1f")])
    )
    return (bars + ticks).properties(
        title="Resource use against availability and reserve (black tick: available)",
        height=alt.Step(24),
    )


def funding_flows(plan: Plan) -> alt.Chart:
    """Money from each funding source to each mission type, against the source's amount."""
    flows = plan.funding.merge(plan.missions[["mission_id", "period_id", "type"]].drop_duplicates(),
                               on=["mission_id", "period_id"], how="left")
    flows = flows.fillna({"type": "other"}).groupby(["source_id", "type"], as_index=False)["money"].sum()
    amounts = plan.budgets.groupby("source_id", as_index=False)["amount"].sum()
    currency = plan.levers.currency
    bars = (
        alt.Chart(flows)
        .mark_bar()
        .encode(
            y=alt.Y("source_id:N", title="funding source"),
            x=alt.X("money:Q", title=f"money ({currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("type:N", title="mission type"),
            tooltip=["source_id", "type", alt.Tooltip("money:Q", format=",.0f")],
        )
    )
    ticks = (
        alt.Chart(amounts)
        .mark_tick(color="black", thickness=2, size=18)
        .encode(y="source_id:N", x="amount:Q",
                tooltip=["source_id", alt.Tooltip("amount:Q", format=",.0f", title="available")])
    )
    return (bars + ticks).properties(
        title="Funding source → mission type (black tick: money available)",
        height=alt.Step(28),
    )


def tier_coverage(counts: pd.DataFrame) -> alt.Chart:
    """Missions fully / partly / not covered per tier, as one stacked bar per tier."""
    long = counts.melt(id_vars=["priority"], value_vars=list(COVERAGE_CLASSES), var_name="covered",
                       value_name="missions")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("priority:O", title="priority"),
            x=alt.X("missions:Q", stack="zero", title="missions", axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color("covered:N", scale=_COVERED_SCALE, title=None),
            tooltip=["priority", "covered", "missions"],
        )
        .properties(height=150)
    )
