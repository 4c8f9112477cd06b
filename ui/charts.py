"""The plan's charts (Altair, which Streamlit ships). Each function takes a Plan and
returns a chart; none of them decides anything."""

from __future__ import annotations

import altair as alt
import pandas as pd

from optimiser import Plan
from ui.summaries import COVERAGE_CLASSES, mission_coverage

TIER_COLOURS = ["#08306b", "#2171b5", "#6baed6", "#bdd7e7", "#d9d9d9"]
TIERS = [f"Priority {tier}" for tier in range(1, 6)]
_TIER_SCALE = alt.Scale(domain=TIERS, range=TIER_COLOURS)
_COVERED_SCALE = alt.Scale(domain=list(COVERAGE_CLASSES), range=["#31a354", "#fdae6b", "#de2d26"])
ALL_PERIODS = "All periods"
_BINDING_SCALE = alt.Scale(domain=["all in use", "spare left"], range=["#de2d26", "#6baed6"])


MISSIONS_SHOWN = 40  # the bar chart of missions: the least covered, the rest in the Missions tab


def _words(text: object) -> str:
    """A mission type or kind as words: ``capacity_building`` -> ``capacity building``."""
    return str(text).replace("_", " ")


def _names(plan: Plan, table: str) -> dict[str, str]:
    portfolio = plan.portfolio
    if portfolio is None:
        return {}
    frame = getattr(portfolio, table)
    return {str(k): str(v) for k, v in frame["name"].items()} if "name" in frame else {}


def coverage_by_mission(plan: Plan, coverage: pd.DataFrame | None = None,
                        most: int = MISSIONS_SHOWN) -> alt.Chart:
    """Mean coverage of the ``most`` least covered missions over their active periods (all
    of them when there are no more), most important first, coloured by priority tier."""
    table = (mission_coverage(plan) if coverage is None else coverage).copy()
    total = len(table)
    if total > most:
        table = table.sort_values(["coverage", "priority"], kind="stable").head(most)
        table = table.sort_values(["priority", "coverage"], kind="stable")
    table["label"] = table["name"].astype(str)
    table["tier"] = "Priority " + table["priority"].astype(str)
    table["mission type"] = table["type"].map(_words)
    table["zone"] = table["zone_id"].astype(str).map(_names(plan, "zones")).fillna(table["zone_id"])
    title = ("Coverage by mission, grouped by priority" if total <= most else
             f"The {most} least covered of {total} missions (every mission in the Missions tab)")
    return (
        alt.Chart(table, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort=list(table["label"]), title=None,
                    axis=alt.Axis(labelLimit=360, labelOverlap=False)),
            x=alt.X("coverage:Q", title="coverage (mean over active periods)",
                    scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.Color("tier:N", scale=_TIER_SCALE, title="Priority"),
            tooltip=[
                alt.Tooltip("mission_id:N", title="mission ID"), alt.Tooltip("name:N", title="mission"),
                "zone:N", "mission type:N", alt.Tooltip("tier:N", title="priority"),
                alt.Tooltip("coverage:Q", format=".1%"),
                alt.Tooltip("lowest_coverage:Q", format=".1%", title="lowest period"),
                alt.Tooltip("cost:Q", format=",.0f", title=f"money ({plan.levers.currency})"),
                alt.Tooltip("value:Q", format=",.1f"), alt.Tooltip("covered:N", title="covered"),
            ],
        )
        .properties(height=alt.Step(18))
    )


def money_by_zone_and_type(plan: Plan) -> alt.Chart:
    """Money spent in each zone (by name, every one labelled), split by mission type."""
    table = plan.missions.groupby(["zone_id", "type"], as_index=False)["cost"].sum()
    table = table[table["cost"] > 0]
    table["zone"] = table["zone_id"].astype(str).map(_names(plan, "zones")).fillna(table["zone_id"])
    table["mission type"] = table["type"].map(_words)
    currency = plan.levers.currency
    return (
        alt.Chart(table, title=f"Money by zone and mission type ({currency})")
        .mark_bar()
        .encode(
            y=alt.Y("zone:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
            x=alt.X("sum(cost):Q", title=f"money spent ({currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("mission type:N", title="Mission type"),
            tooltip=["zone:N", "mission type:N", alt.Tooltip("cost:Q", format=",.0f", title="money")],
        )
        .properties(height=alt.Step(16))
    )


def resource_periods(plan: Plan) -> list[str]:
    return [ALL_PERIODS, *dict.fromkeys(plan.resources["period_id"])]


def resource_use(plan: Plan, period: str = ALL_PERIODS) -> alt.Chart:
    """Each resource's use as a share of what is usable (available less the reserve), so
    that 16 helicopters and 34,000 infantry read on one scale; the figures in the tooltip.

    With every period, the units are added up (person-periods); resources without a limit
    are left out (nothing to be a share of).
    """
    table = plan.resources
    if period != ALL_PERIODS:
        table = table[table["period_id"] == period]
    table = table.groupby("resource_id", as_index=False, sort=False).agg(
        kind=("kind", "first"), used=("used", "sum"),
        usable=("usable", lambda s: s.sum(min_count=len(s))),
        available=("available", lambda s: s.sum(min_count=len(s))),
    )
    table = table.dropna(subset=["usable"])
    table = table[table["usable"] > 0]
    table["share"] = (table["used"] / table["usable"]).clip(upper=1.0)
    table["resource"] = table["resource_id"].astype(str).map(_names(plan, "resources")).fillna(
        table["resource_id"])
    table["kind"] = table["kind"].map(_words)
    table["in use"] = [f"{used:,.0f} of {usable:,.0f} usable" for used, usable in
                       zip(table["used"], table["usable"], strict=True)]
    table["binding"] = ["all in use" if share >= 1 - 1e-6 else "spare left" for share in table["share"]]
    where = "over every period" if period == ALL_PERIODS else f"in {period}"
    return (
        alt.Chart(table, title=f"Resource use as a share of what is usable {where}")
        .mark_bar()
        .encode(
            y=alt.Y("resource:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300, labelOverlap=False)),
            x=alt.X("share:Q", title="share of the usable units in use (after the reserve)",
                    scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.Color("binding:N", title=None, scale=_BINDING_SCALE),
            tooltip=["resource:N", "kind:N", "in use:N", alt.Tooltip("share:Q", format=".1%", title="share"),
                     alt.Tooltip("available:Q", format=",.0f", title="available before the reserve")],
        )
        .properties(height=alt.Step(22))
    )


def funding_flows(plan: Plan) -> alt.Chart:
    """Money from each funding source to each mission type, against the source's amount."""
    flows = plan.funding.merge(plan.missions[["mission_id", "period_id", "type"]].drop_duplicates(),
                               on=["mission_id", "period_id"], how="left")
    flows = flows.fillna({"type": "other"}).groupby(["source_id", "type"], as_index=False)["money"].sum()
    amounts = plan.budgets.groupby("source_id", as_index=False)["amount"].sum()
    sources = _names(plan, "sources")
    flows["source"] = flows["source_id"].astype(str).map(sources).fillna(flows["source_id"])
    flows["mission type"] = flows["type"].map(_words)
    amounts["source"] = amounts["source_id"].astype(str).map(sources).fillna(amounts["source_id"])
    currency = plan.levers.currency
    bars = (
        alt.Chart(flows)
        .mark_bar()
        .encode(
            y=alt.Y("source:N", title=None, axis=alt.Axis(labelLimit=260)),
            x=alt.X("money:Q", title=f"money ({currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("mission type:N", title="Mission type"),
            tooltip=["source:N", "mission type:N", alt.Tooltip("money:Q", format=",.0f")],
        )
    )
    ticks = (
        alt.Chart(amounts)
        .mark_tick(color="black", thickness=2, size=18)
        .encode(y="source:N", x="amount:Q",
                tooltip=["source:N", alt.Tooltip("amount:Q", format=",.0f", title="available")])
    )
    return (bars + ticks).properties(
        title="Funding source → mission type (black tick: money available)",
        height=alt.Step(28),
    )


def tier_coverage(counts: pd.DataFrame) -> alt.Chart:
    """Missions fully / partly / not covered per tier, as one stacked bar per tier (all five
    tiers on the axis, whole missions on the scale)."""
    long = counts.melt(id_vars=["priority"], value_vars=list(COVERAGE_CLASSES), var_name="covered",
                       value_name="missions")
    long["tier"] = "Priority " + long["priority"].astype(int).astype(str)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("tier:N", title=None, sort=TIERS, scale=alt.Scale(domain=TIERS),
                    axis=alt.Axis(labelOverlap=False)),
            x=alt.X("missions:Q", stack="zero", title="missions", axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color("covered:N", scale=_COVERED_SCALE, title=None),
            tooltip=[alt.Tooltip("tier:N", title="priority"), "covered:N", "missions:Q"],
        )
        .properties(height=alt.Step(30))
    )
