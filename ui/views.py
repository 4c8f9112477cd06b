"""The page's sections: each draws part of a Plan (or of a workbook's problems).

No decisions are made here: numbers come from the Plan or from :mod:`ui.summaries`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from optimiser import Plan, Status
from ui import charts
from ui.state import SavedScenario, Solved, Workbook, json_bytes, report_bytes, solve
from ui.summaries import (
    FULL,
    NONE,
    PARTLY,
    Headline,
    binding_sentences,
    binding_table,
    compare_missions,
    headline,
    headline_deltas,
    levers_text,
    money,
    number,
    problems_frame,
    tier_counts,
    unmet_by_mission,
)

UPLOAD = "workbook_upload"
SCENARIO_NAME = "scenario_name"
SAVE_SCENARIO = "save_scenario"
COMPARE_A = "compare_a"
COMPARE_B = "compare_b"
LOAD_CHOICE = "load_choice"
LOAD_SCENARIO = "load_scenario"
DELETE_SCENARIO = "delete_scenario"
RESOURCE_PERIOD = "resource_period"
RELAX_COMMITMENTS = "relax_commitments"  # the toggle under an impossible scenario's diagnosis
RELAXED_NOTE = "relaxed_plan_note"  # container: what the plan with stretched commitments breaks
BINDING_TABLE = "binding_table"  # container: shadow prices with their ranges
VIEW = "view"  # the tabs
TABS = ("Plan", "Timeline", "What binds", "Missions", "Tables", "Compare scenarios")


def table(frame: pd.DataFrame, key: str, **options: object) -> None:
    """A read-only table inside a keyed container: a display table carries no key of its
    own, so the tests and the browser find it by its container's."""
    with st.container(key=key):
        st.dataframe(frame, hide_index=True, width="stretch", **options)  # type: ignore[call-overload]


def _percent(share: float) -> str:
    return f"{share:.1%}"


def _money_delta(change: float, currency: str) -> str:
    return ("+" if change >= 0 else "-") + money(abs(change), currency)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "scenario"


# --------------------------------------------------------------------------- workbook


def problems_table(book: Workbook) -> None:
    """Why the workbook cannot be planned: every problem with its sheet, cell and column."""
    if book.failure:
        st.error(f"The workbook **{book.name}** could not be read: {book.failure}")
        return
    errors = book.errors
    st.error(
        f"**{book.name}** has {len(errors)} problem{'s' if len(errors) != 1 else ''} to fix before a plan "
        "can be made. Each row names the sheet, cell and column."
    )
    table(problems_frame(book.problems), "problems_table")


def warnings_note(book: Workbook) -> None:
    warnings = book.warnings
    if not warnings:
        return
    st.warning(
        f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} in **{book.name}** "
        "(the plan is made anyway)."
    )
    with st.expander("Warnings", expanded=False):
        table(problems_frame(warnings), "warnings_table")


# --------------------------------------------------------------------------- headline


def metrics(plan: Plan, previous: Plan | None) -> Headline:
    """The plan at a glance; deltas against the plan shown before the last change."""
    now = headline(plan)
    before = headline(previous) if previous is not None and previous.has_plan else None
    cur = now.currency
    value, spent, people, status = st.columns(4)
    with value.container(key="metric_value"):
        st.metric(
            "Value reached",
            _percent(now.value_share),
            delta=None if before is None else f"{(now.value_share - before.value_share) * 100:+.1f} pts",
            help=f"{number(now.value, 2)} of the most possible {number(now.max_value, 2)} "
            "(every active mission fully covered).",
        )
    with spent.container(key="metric_money"):
        st.metric(
            "Money spent",
            money(now.total_cost, cur),
            delta=None if before is None else _money_delta(now.total_cost - before.total_cost, cur),
            delta_color="off",
            help=f"{_percent(now.money_share)} of the {money(now.money_available, cur)} available.",
        )
        st.caption(f"of {money(now.money_available, cur)} available ({_percent(now.money_share)})")
    with people.container(key="metric_personnel"):
        st.metric(
            "Personnel deployed",
            number(now.personnel, 0),
            delta=None if before is None else f"{now.personnel - before.personnel:+,.0f}",
            help="People deployed in the busiest period.",
        )
        st.caption("in the busiest period")
    with status.container(key="metric_status"):
        st.metric(
            "Solve status",
            now.status,
            help=plan.message or None,
        )
        gap = "–" if now.gap is None else f"{now.gap:.2%}"
        mode = "integer" if plan.levers.integer else "relaxed"
        stretched = " · commitments stretched" if plan.status is Status.RELAXED else ""
        st.caption(f"{mode} plan{stretched} · gap {gap} · {now.solve_s:.2f} s")
    return now


def tier_table(plan: Plan, coverage: pd.DataFrame | None = None) -> None:
    """Missions fully / partly / not covered in each priority tier."""
    counts = tier_counts(plan, coverage)
    left, right = st.columns([3, 2])
    with left:
        table(
            counts,
            "tier_table",
            column_config={
                "priority": st.column_config.NumberColumn("priority", format="%d"),
                FULL: st.column_config.NumberColumn(FULL, format="%d"),
                PARTLY: st.column_config.NumberColumn(PARTLY, format="%d"),
                NONE: st.column_config.NumberColumn(NONE, format="%d"),
                "value": st.column_config.NumberColumn("value reached", format="%.2f"),
            },
        )
    with right:
        st.altair_chart(charts.tier_coverage(counts), width="stretch")


def no_plan(plan: Plan) -> bool:
    """An infeasible plan: what clashes, in the planner's words (SPEC section 4), and the
    offer of the plan with those commitments stretched. Returns whether it is asked for."""
    st.error(plan.message or "No plan is possible under these levers.")
    stretched = bool(st.session_state.get(RELAX_COMMITMENTS))
    if plan.diagnosis and not stretched:  # when asked for, the stretched plan lists them
        st.markdown("**What clashes** (the smallest relaxation that makes a plan possible):")
        st.markdown("\n".join(f"- {line}" for line in plan.diagnosis))
    return st.toggle(
        "Show the plan with the commitments stretched",
        key=RELAX_COMMITMENTS,
        help="Plans as `optimiser solve --relax-commitments` does: every limit that clashes is "
        "stretched by the least needed. That plan breaks those commitments: it is shown for "
        "comparison and never replaces the last plan that keeps every commitment.",
    )


def stretched_plan(infeasible: Plan, solved: Solved) -> Plan | None:
    """The plan with the commitments stretched (status ``relaxed``), labelled as breaking
    them, with what was stretched and by how much; ``None`` when there is none."""
    relaxed = solved.plan
    if relaxed is None or not relaxed.has_plan:
        st.error("No plan with the commitments stretched either: "
                 + (solved.failure if relaxed is None else relaxed.message))
        if infeasible.diagnosis:
            st.markdown("\n".join(f"- {line}" for line in infeasible.diagnosis))
        return None
    with st.container(key=RELAXED_NOTE):
        st.warning(
            "**Below: a plan that breaks the commitments listed here.** No plan keeps every "
            "commitment under these levers; this one stretches each limit below by the least needed "
            "(status *relaxed*, as `optimiser solve --relax-commitments`). It is shown for "
            "comparison only: the last plan that keeps every commitment, if one was made, comes "
            "back when the toggle is off."
        )
        st.markdown("**Stretched, and by how much:**")
        st.markdown("\n".join(f"- {line}" for line in relaxed.diagnosis))
    return relaxed


# --------------------------------------------------------------------------- sections


def chart_section(plan: Plan, coverage: pd.DataFrame | None = None) -> None:
    st.altair_chart(charts.coverage_by_mission(plan, coverage), width="stretch")
    left, right = st.columns(2)
    with left:
        st.altair_chart(charts.money_by_zone_and_type(plan), width="stretch")
    with right:
        st.altair_chart(charts.funding_flows(plan), width="stretch")
    periods = charts.resource_periods(plan)
    if st.session_state.get(RESOURCE_PERIOD) not in periods:
        st.session_state[RESOURCE_PERIOD] = periods[0]
    period = st.selectbox("Resource use in", periods, key=RESOURCE_PERIOD)
    st.altair_chart(charts.resource_use(plan, period), width="stretch")


def binding_section(plan: Plan, ranges: pd.DataFrame | None = None) -> None:
    """What binds: shadow prices ranked, each with the range over which it holds when
    ``ranges`` (:func:`optimiser.price_ranges` of the plan) is known."""
    st.markdown("#### What binds")
    sentences = binding_sentences(plan, ranges=ranges)
    if sentences:
        st.markdown("\n".join(f"{i}. {s}" for i, s in enumerate(sentences, 1)))
        st.caption("Shadow prices: the extra value one more unit, person allowed or round sum of "
                   "money would buy, largest first (continuous model, on/off decisions fixed at this "
                   "plan). Each holds while its limit stays in the range given (HiGHS ranging of that "
                   "model, as `optimiser solve --explain` writes to the Sensitivity sheet); beyond it, "
                   "the price changes. `--explain` also measures what 10% more adds by solving again.")
        if ranges is None:
            why = ("its limits are the stretched ones" if plan.status is Status.RELAXED
                   else "the ranging could not be worked out")
            st.caption(f"How far each price holds is not shown for this plan: {why}.")
        with st.expander("Shadow prices and their ranges, as numbers", expanded=False):
            table(
                binding_table(plan, ranges),
                BINDING_TABLE,
                column_config={
                    "rank": st.column_config.NumberColumn("rank", format="%d"),
                    "sentence": st.column_config.TextColumn("what binds", width="large"),
                    "shadow_price": st.column_config.NumberColumn("value per unit", format="%.4g"),
                    "unit": st.column_config.TextColumn("per"),
                    "gain": st.column_config.NumberColumn("value per step", format="%.3g"),
                    "low": st.column_config.NumberColumn("price holds from", format="localized"),
                    "high": st.column_config.NumberColumn("price holds to", format="localized"),
                    "limit": st.column_config.NumberColumn("limit now", format="localized"),
                    "holds": st.column_config.TextColumn("range in words", width="large"),
                },
            )
    else:
        st.info("Nothing binds: no extra person, unit of equipment or money would add value.")
    st.markdown("#### Unmet needs of under-covered missions")
    unmet = unmet_by_mission(plan)
    if unmet.empty:
        st.success("Every mission is fully covered.")
        return
    table(
        unmet,
        "unmet_table",
        column_config={
            "coverage": st.column_config.ProgressColumn("coverage", min_value=0.0, max_value=1.0,
                                                        format="percent"),
            "lacks": st.column_config.TextColumn("still lacks (per period)", width="large"),
            "shortfall_cost": st.column_config.NumberColumn(
                f"money to close it ({plan.levers.currency})", format="localized"),
        },
    )


def mission_table(plan: Plan, coverage: pd.DataFrame) -> None:
    table(
        coverage,
        "mission_coverage",
        column_config={
            "coverage": st.column_config.ProgressColumn("coverage", min_value=0.0, max_value=1.0,
                                                        format="percent"),
            "lowest_coverage": st.column_config.NumberColumn("lowest period", format="percent"),
            "cost": st.column_config.NumberColumn(f"cost ({plan.levers.currency})", format="localized"),
        },
    )


TABLES: dict[str, str] = {
    "missions": "Coverage and cost per mission and period",
    "allocation": "Units of each resource per mission and period",
    "funding": "Money from each source to each mission",
    "resources": "Resources used against availability and reserve",
    "budgets": "Funding sources used against their amounts",
    "zones": "Personnel per zone against its cap",
    "unmet": "What under-covered missions still lack",
    "sensitivity": "Shadow prices, largest first",
}


SHARE_COLUMNS = ("coverage", "lowest_coverage")
MONEY_COLUMNS = ("cost", "money", "amount", "used_money", "shortfall_cost", "unit_cost", "startup_cost",
                 "closure_cost")
UNIT_COLUMNS = ("needed", "units", "used", "available", "reserve", "usable", "allocated", "shortfall",
                "personnel", "cap")


def column_formats(frame: pd.DataFrame, currency: str) -> dict[str, object]:
    """Percentages, money and units formatted for a planner, by column name."""
    formats: dict[str, object] = {}
    for column in frame.columns:
        if column in SHARE_COLUMNS:
            formats[column] = st.column_config.NumberColumn(column, format="percent")
        elif column in MONEY_COLUMNS:
            formats[column] = st.column_config.NumberColumn(f"{column} ({currency})", format="localized")
        elif column in UNIT_COLUMNS:
            formats[column] = st.column_config.NumberColumn(column, format="%.1f")
        elif column == "shadow_price":
            formats[column] = st.column_config.NumberColumn(column, format="%.4g")
    return formats


def tables_section(plan: Plan) -> None:
    for name, title in TABLES.items():
        frame: pd.DataFrame = getattr(plan, name)
        with st.expander(f"{title} ({len(frame)} rows)", expanded=name == "missions"):
            table(frame, f"table_{name}", column_config=column_formats(frame, plan.levers.currency))


def downloads(plan: Plan, book: Workbook, scenario: str = "") -> None:
    stretched = plan.status is Status.RELAXED  # commitments stretched: --relax-commitments reproduces it
    stem = f"{book.name.rsplit('.', 1)[0]}-{_slug(scenario) if scenario else 'plan'}"
    if stretched:
        stem += "-commitments-stretched"
    report, result, levers = st.columns(3)
    report.download_button(
        "Report workbook (.xlsx)",
        data=lambda: report_bytes(plan),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="download_report",
        on_click="ignore",
        width="stretch",
    )
    result.download_button(
        "Result (.json)",
        data=lambda: json_bytes(plan),
        file_name=f"{stem}.json",
        mime="application/json",
        key="download_json",
        on_click="ignore",
        width="stretch",
    )
    levers.download_button(
        "Levers (--set)",
        data=levers_text(plan.levers, book.name, book.sha256, scenario, relax_commitments=stretched),
        file_name=f"{stem}-levers.txt",
        mime="text/plain",
        key="download_levers",
        on_click="ignore",
        width="stretch",
        help="The key=value levers of this scenario and the `optimiser solve ... --set` command "
        "that reproduces it.",
    )


# --------------------------------------------------------------------------- scenarios


def save_form(on_save: Callable[[], None], saved: dict[str, SavedScenario]) -> None:
    st.text_input("Scenario name", key=SCENARIO_NAME, placeholder=f"Scenario {len(saved) + 1}")
    st.button("Save current levers", key=SAVE_SCENARIO, on_click=on_save, width="stretch")
    if saved:
        st.caption("Saved: " + ", ".join(saved))


def compare_section(
    book: Workbook,
    saved: dict[str, SavedScenario],
    on_load: Callable[[], None],
    on_delete: Callable[[], None],
) -> None:
    names = list(saved)
    if not names:
        st.info("Save the levers on screen as a scenario (sidebar, *Scenarios*), change them, save again, "
                "then compare any two here.")
        return
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    left.selectbox("Scenario", names, key=LOAD_CHOICE)
    middle.button("Load its levers", key=LOAD_SCENARIO, on_click=on_load, width="stretch")
    right.button("Delete", key=DELETE_SCENARIO, on_click=on_delete, width="stretch")
    if len(names) < 2:
        st.info("Save a second scenario to compare two side by side.")
        return
    for key, default in ((COMPARE_A, names[0]), (COMPARE_B, names[-1])):
        if st.session_state.get(key) not in names:  # first time, or back from another tab
            kept = st.session_state.get(f"{key}_kept")
            st.session_state[key] = kept if kept in names else default
    a_col, b_col = st.columns(2)
    name_a = a_col.selectbox("Compare", names, key=COMPARE_A)
    name_b = b_col.selectbox("with", names, key=COMPARE_B)
    st.session_state[f"{COMPARE_A}_kept"], st.session_state[f"{COMPARE_B}_kept"] = name_a, name_b
    with st.spinner("Planning both scenarios…"):
        solved_a, solved_b = solve(book, saved[name_a].levers), solve(book, saved[name_b].levers)
    for name, solved in ((name_a, solved_a), (name_b, solved_b)):
        if solved.plan is None:
            st.error(f"Scenario '{name}' could not be planned: {solved.failure}")
            return
        if not solved.plan.has_plan:
            st.warning(f"Scenario '{name}': {solved.plan.message}")
            return
    plan_a, plan_b = solved_a.plan, solved_b.plan
    assert plan_a is not None and plan_b is not None
    cur = plan_b.levers.currency
    deltas = headline_deltas(plan_a, plan_b)
    st.markdown(f"**{name_b}** against **{name_a}**")
    cols = st.columns(5)
    in_money, money_change = (lambda v: money(v, cur)), (lambda d: _money_delta(d, cur))
    shown = [
        ("Value reached", deltas["value_share"], _percent, lambda d: f"{d * 100:+.1f} pts"),
        ("Money spent", deltas["total_cost"], in_money, money_change),
        ("Money available", deltas["money_available"], in_money, money_change),
        ("Personnel deployed", deltas["personnel"], lambda v: number(v, 0), lambda d: f"{d:+,.0f}"),
        ("Missions fully covered", deltas[FULL], lambda v: number(v, 0), lambda d: f"{d:+,.0f}"),
    ]
    for col, (label, (_, after, change), fmt, fmt_delta) in zip(cols, shown, strict=True):
        with col.container(key="compare_" + label.lower().replace(" ", "_")):
            st.metric(label, fmt(after), delta=fmt_delta(change) if abs(change) > 1e-9 else None,
                      delta_color="off" if label.startswith("Money") else "normal")
    changes = compare_missions(plan_a, plan_b)
    table(
        changes,
        "compare_table",
        column_config={
            "coverage_before": st.column_config.NumberColumn(f"coverage {name_a}", format="percent"),
            "coverage_after": st.column_config.NumberColumn(f"coverage {name_b}", format="percent"),
            "coverage_change": st.column_config.NumberColumn("coverage change", format="percent"),
            "cost_before": st.column_config.NumberColumn(f"cost {name_a}", format="localized"),
            "cost_after": st.column_config.NumberColumn(f"cost {name_b}", format="localized"),
            "cost_change": st.column_config.NumberColumn(f"cost change ({cur})", format="localized"),
            "priority_before": st.column_config.NumberColumn(f"priority {name_a}", format="%d"),
            "priority_after": st.column_config.NumberColumn(f"priority {name_b}", format="%d"),
        },
    )
    st.caption("Sorted by the size of the coverage change, then of the money change.")
