"""The page's Timeline tab: each mission's coverage period by period as a heat map, with
its starts (▲) and stops (▼), and every start and stop with its money in a table.

Numbers come from the Plan through :mod:`optimiser.report.timeline`, as the report's
Timeline sheet reads them. Names from the workbook are drawn as chart text and table
cells, never as Markdown.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from optimiser import Plan
from optimiser.report.derived import Names, names_of
from optimiser.report.timeline import (
    CHANGE_LABELS,
    START,
    START_MARK,
    STOP,
    STOP_MARK,
    changes,
    mission_periods,
)

SORT = "timeline_sort"  # radio: the missions' order
CHANGED_ONLY = "timeline_changed_only"  # toggle: only the missions that start or stop
CHART = "timeline_chart"  # container of the heat map
CHANGES = "timeline_changes"  # container of the starts and stops table
SORTS = ("priority", "name", "workbook order")
MAX_ROWS = 400  # more missions than this: the heat map shows the first, the table all changes
NOT_RUNNING = "#f4cccc"  # an active period at 0%: light red, apart from the greens of running


def timeline_frame(
    plan: Plan, sort: str = "priority", changed_only: bool = False, names: Names | None = None
) -> pd.DataFrame:
    """One row per active mission-period, for the heat map.

    Columns ``mission_id``, ``label`` (the mission's name, with its id where two share a
    name, and its priority: "Border monitors · P3"), ``priority``, ``period_id``,
    ``coverage``, ``marker`` ("▲", "▼" or ""),
    ``change`` ("starts", "stops" or ""), ``startup_cost``, ``closure_cost`` and ``row``
    (the mission's place in the chosen order: ``sort`` is "priority", "name" or
    "workbook order"). With ``changed_only``, only the missions that start or stop
    after the plan's first period, or stop at all, or pay a start-up cost.
    """
    names = names or names_of(plan)
    missions = mission_periods(plan)
    columns = ["mission_id", "label", "priority", "period_id", "coverage", "marker", "change", "startup_cost",
               "closure_cost", "row"]
    if missions.empty:
        return pd.DataFrame(columns=columns)
    frame = missions.assign(
        coverage=pd.to_numeric(missions["coverage"], errors="coerce").fillna(0.0),
        priority=pd.to_numeric(missions["priority"], errors="coerce"),
        mission_id=missions["mission_id"].astype(str),
        period_id=missions["period_id"].astype(str),
    )
    frame["marker"] = [START_MARK if s else STOP_MARK if t else "" for s, t in
                       zip(frame["starts"], frame["stops"], strict=True)]
    frame["change"] = [START if s else STOP if t else "" for s, t in
                       zip(frame["starts"], frame["stops"], strict=True)]
    name = {m: names.mission(m) for m in dict.fromkeys(frame["mission_id"])}
    repeated = pd.Series(name).duplicated(keep=False)
    tier = frame.drop_duplicates("mission_id").set_index("mission_id")["priority"]
    label = {m: (f"{n} ({m})" if repeated[m] else n) + _tier(tier.get(m)) for m, n in name.items()}
    frame["label"] = frame["mission_id"].map(label)
    if changed_only:
        moved = changes(plan, names)
        quiet = moved["first_period"] & (moved["change"] == START) & (moved["money"] <= 0)
        frame = frame[frame["mission_id"].isin(set(moved.loc[~quiet, "mission_id"]))]
    order = list(dict.fromkeys(frame["mission_id"]))
    if sort == "priority":
        first = frame.drop_duplicates("mission_id").set_index("mission_id")["priority"]
        order = sorted(order, key=lambda m: (first[m], order.index(m)))
    elif sort == "name":
        order = sorted(order, key=lambda m: (label[m].casefold(), m))
    rank = {m: i for i, m in enumerate(order)}
    frame = frame.assign(row=frame["mission_id"].map(rank)).sort_values(["row"], kind="mergesort")
    return frame[columns].reset_index(drop=True)


def _tier(priority: object) -> str:
    return "" if priority is None or pd.isna(priority) else f" · P{int(priority)}"  # type: ignore[call-overload]


def heat_map(frame: pd.DataFrame, periods: list[str], currency: str) -> alt.LayerChart | alt.FacetChart:
    """Mission x period coverage (white to dark green; blank where not active) with the
    start and stop markers written in the cells."""
    labels = list(dict.fromkeys(frame.sort_values("row", kind="mergesort")["label"]))
    y = alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=360, labelOverlap=False))
    x = alt.X("period_id:N", sort=periods, title=None, axis=alt.Axis(orient="top", labelAngle=0))
    tooltip = [
        alt.Tooltip("label:N", title="mission"), alt.Tooltip("mission_id:N", title="id"),
        alt.Tooltip("priority:O", title="priority"), alt.Tooltip("period_id:N", title="period"),
        alt.Tooltip("coverage:Q", format=".0%"), alt.Tooltip("change:N", title="starts / stops"),
        alt.Tooltip("startup_cost:Q", format=",.0f", title=f"start-up cost ({currency})"),
        alt.Tooltip("closure_cost:Q", format=",.0f", title=f"closure cost ({currency})"),
    ]
    base = alt.Chart(frame).encode(x=x, y=y, tooltip=tooltip)
    running = alt.Color("coverage:Q", title="coverage", scale=alt.Scale(domain=[0, 1], scheme="greens"),
                        legend=alt.Legend(format="%"))
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.condition(alt.datum.coverage <= 0, alt.value(NOT_RUNNING), running),
    )
    marks = base.mark_text(fontSize=15, fontWeight="bold").encode(  # light on dark cells, dark on light
        text="marker:N",
        color=alt.condition(alt.datum.coverage >= 0.5, alt.value("white"), alt.value("#1a1a1a")),
    )
    return alt.layer(cells, marks).properties(
        title=f"Coverage by mission and period ({START_MARK} starts, {STOP_MARK} stops)",
        height=alt.Step(20),
    )


def change_table(plan: Plan, names: Names | None = None) -> pd.DataFrame:
    """Every start and stop, in planning order: period, mission name, priority, what
    changes, coverage before and after (percent, one decimal), and the money (whole)."""
    moved = changes(plan, names or names_of(plan))
    return pd.DataFrame({
        "period": moved["period_id"],
        "mission": moved["name"],
        "priority": moved["priority"],
        "change": [CHANGE_LABELS[c] for c in moved["change"]],
        "coverage before": (100 * pd.to_numeric(moved["coverage_before"], errors="coerce")).round(1),
        "coverage": (100 * pd.to_numeric(moved["coverage"], errors="coerce")).round(1),
        "money": pd.to_numeric(moved["money"], errors="coerce").round(0),
        "for": [f"{kind} cost" for kind in moved["cost_kind"]],
    })


def timeline_section(plan: Plan) -> None:
    """The Timeline tab: order and filter, the heat map, then the starts and stops."""
    currency = plan.levers.currency
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    sort = left.radio("Missions in order of", SORTS, key=SORT, horizontal=True)
    changed_only = right.toggle("Only missions that start or stop", key=CHANGED_ONLY,
                                help="Leaves out missions that run throughout, and those that only "
                                "start in the first period at no start-up cost.")
    names = names_of(plan)
    frame = timeline_frame(plan, str(sort), bool(changed_only), names)
    periods = list(names.periods)
    with st.container(key=CHART):
        if frame.empty:
            st.info("No mission to show." if not changed_only else "No mission stops, and none starts "
                    "after the first period or with a start-up cost.")
        else:
            shown = frame[frame["row"] < MAX_ROWS]
            st.altair_chart(heat_map(shown, periods, currency), width="stretch")
            if len(shown) < len(frame):
                st.caption(f"The first {MAX_ROWS} of {frame['mission_id'].nunique()} missions are drawn; "
                           "the table below lists every start and stop.")
    st.caption(f"Coverage per period: light to dark green as it rises to 100%; light red: 0%, not "
               f"running; a blank cell: the mission is not active then. P1 to P5: priority. "
               f"{START_MARK} starts: runs and did not in the period before (the period before the "
               f"first: running now or not), and pays its start-up cost then. {STOP_MARK} stops: no "
               f"longer runs, and pays its closure cost then.")
    st.markdown("#### Starts and stops, period by period")
    moved = change_table(plan, names)
    with st.container(key=CHANGES):
        if moved.empty:
            st.info("No mission starts or stops in this plan.")
        else:
            st.dataframe(
                moved, hide_index=True, width="stretch",
                column_config={  # shares with one decimal, money whole (optimiser.formats)
                    "period": st.column_config.TextColumn("Period"),
                    "mission": st.column_config.TextColumn("Mission", width="large"),
                    "priority": st.column_config.NumberColumn("Priority", format="%d"),
                    "change": st.column_config.TextColumn("Change"),
                    "coverage before": st.column_config.NumberColumn("Coverage before", format="%.1f%%"),
                    "coverage": st.column_config.NumberColumn("Coverage", format="%.1f%%"),
                    "money": st.column_config.NumberColumn(f"Money ({currency})", format="localized"),
                    "for": st.column_config.TextColumn("For"),
                },
            )
