"""The page's sections: each draws part of a Plan (or of a workbook's problems).

No decisions are made here: numbers come from the Plan or from :mod:`ui.summaries`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from optimiser import Plan, Status, formats
from optimiser.coverage import lacking
from optimiser.explore.tolerance import plan_figures, tolerance_note
from optimiser.formats import value_meaning
from optimiser.safe_text import markdown_literal as literal
from ui import charts
from ui.state import Solved, Workbook, json_bytes, report_bytes
from ui.summaries import (
    CONSTRAINT_WORDS,
    FULL,
    NONE,
    PARTLY,
    binding_sentences,
    binding_table,
    for_planners,
    headline,
    levers_text,
    plan_status,
    problems_frame,
    tier_counts,
    unmet_by_mission,
)

UPLOAD = "workbook_upload"
RESOURCE_PERIOD = "resource_period"
RELAX_COMMITMENTS = "relax_commitments"  # the toggle under an impossible scenario's diagnosis
RELAXED_NOTE = "relaxed_plan_note"  # container: what the plan with stretched commitments breaks
BINDING_TABLE = "binding_table"  # container: shadow prices with their ranges
TOLERANCE_NOTE = "tolerance_note"  # container: why a delta moves against the change, within the gap
DRAW_PAUSE_S = 0.05  # after the headline: time for the server to send it and the browser to draw it
VIEW = "view"  # the tabs
TABS = ("Plan", "Timeline", "What binds", "Missions", "Tables", "Compare scenarios")


def table(frame: pd.DataFrame, key: str, **options: object) -> None:
    """A read-only table inside a keyed container: a display table carries no key of its
    own, so the tests and the browser find it by its container's."""
    with st.container(key=key):
        st.dataframe(frame, hide_index=True, width="stretch", **options)  # type: ignore[call-overload]


def _percent(share: float) -> str:
    return formats.share(share)


def _value_meaning(plan: Plan) -> str:
    return value_meaning({tier: plan.levers.tier_weight(tier) for tier in range(1, 6)})


def _money_delta(change: float, currency: str) -> str:
    return ("+" if change >= 0 else "-") + formats.money_short(abs(change), currency)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "scenario"


# --------------------------------------------------------------------------- workbook


def problems_table(book: Workbook) -> None:
    """Why the workbook cannot be planned: every problem with its sheet, cell and column."""
    if book.failure:
        st.error(f"The workbook **{literal(book.name)}** could not be read: {literal(book.failure)}")
        return
    errors = book.errors
    st.error(
        f"**{literal(book.name)}** has {len(errors)} problem{'s' if len(errors) != 1 else ''} to fix before "
        "a plan can be made. Each row names the sheet, cell and column."
    )
    table(problems_frame(book.problems), "problems_table")


def warnings_note(book: Workbook) -> None:
    warnings = book.warnings
    if not warnings:
        return
    st.warning(
        f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} in **{literal(book.name)}** "
        "(the plan is made anyway)."
    )
    with st.expander("Warnings", expanded=False):
        table(problems_frame(warnings), "warnings_table")


# --------------------------------------------------------------------------- headline


def metrics(plan: Plan, previous: Plan | None) -> DeltaGenerator:
    """The plan at a glance; deltas against the plan shown before the last change.
    Returns the place of the status caption (its gap and the time the plan took), which
    :func:`status_caption` may draw again when the plan's shadow prices were found after
    these figures were drawn (every figure here is the same then; only the time grows)."""
    now = headline(plan)
    before = headline(previous) if previous is not None and previous.has_plan else None
    cur = now.currency
    value, spent, people, status = st.columns(4)
    available = formats.money(now.money_available, cur)
    with value.container(key="metric_value"):
        st.metric(
            "Value reached",
            _percent(now.value_share),
            delta=None if before is None else f"{(now.value_share - before.value_share) * 100:+.1f} pts",
            help=f"Value {now.value:,.1f} of the most possible {now.max_value:,.1f} (every active mission "
            "fully covered). " + _value_meaning(plan),
        )
        st.caption(f"value {now.value:,.1f} of {now.max_value:,.1f} possible")
    with spent.container(key="metric_money"):
        st.metric(
            "Money spent",
            formats.money_short(now.total_cost, cur),
            delta=None if before is None else _money_delta(now.total_cost - before.total_cost, cur),
            delta_color="off",
            help=literal(f"{_percent(now.money_share)} of the {available} available."),
        )
        st.caption(literal(f"of {available} available ({_percent(now.money_share)})"))
    with people.container(key="metric_personnel"):
        st.metric(
            "Personnel deployed",
            formats.whole(now.personnel),
            delta=None if before is None else f"{now.personnel - before.personnel:+,.0f}",
            help="People deployed in the busiest period.",
        )
        st.caption("in the busiest period")
    with status.container(key="metric_status"):
        st.metric(
            "Plan",
            plan_status(plan),
            help=literal(plan.message) if plan.message else None,
        )
        caption = st.empty()
        status_caption(caption, plan)
    if before is not None and previous is not None:
        note = tolerance_note(plan_figures(previous), plan_figures(plan),
                              ("the plan before the last change", "the plan on screen"), quote=False)
        if note:
            with st.container(key=TOLERANCE_NOTE):
                st.caption(literal(note))
    return caption


def status_caption(place: DeltaGenerator, plan: Plan) -> None:
    """Under the plan's status: whole or fractional units, its gap and the time it took."""
    now = headline(plan)
    gap = "–" if now.gap is None else f"within {formats.percent(now.gap, 2)} of the best"
    mode = "whole units" if plan.levers.integer else "fractional units (faster)"
    if plan.status is Status.FEASIBLE:
        mode = "time limit reached · " + mode
    place.caption(f"{mode} · {gap} · {now.solve_s:.1f} s")


def let_the_browser_draw() -> None:
    """Pause the run for a moment: the server sends what is drawn so far and the browser
    puts it on screen before the tables and charts after it arrive (measured in a real
    browser, ``bench/ui_bench.py``: without it the headline waited for them, 0.05-0.26 s).
    The pause also lets go of the interpreter, which the server's sending thread needs."""
    time.sleep(DRAW_PAUSE_S)


def tier_table(plan: Plan, coverage: pd.DataFrame | None = None) -> None:
    """Missions fully / partly / not covered in each priority tier."""
    counts = tier_counts(plan, coverage)
    left, right = st.columns([3, 2])
    with left:
        table(
            counts,
            "tier_table",
            column_config={
                "priority": st.column_config.NumberColumn("Priority", format="%d"),
                FULL: st.column_config.NumberColumn(FULL.capitalize(), format="%d"),
                PARTLY: st.column_config.NumberColumn(PARTLY.capitalize(), format="%d"),
                NONE: st.column_config.NumberColumn(NONE.capitalize(), format="%d"),
                "value": st.column_config.NumberColumn("Value reached", format="%,.1f"),
            },
        )
        st.caption("Fully covered: at its most wanted coverage in every active period; not covered: "
                   "at 0 in every one. " + _value_meaning(plan))
    with right:
        st.altair_chart(charts.tier_coverage(counts), width="stretch")


def no_plan(plan: Plan) -> bool:
    """An infeasible plan: what clashes, in the planner's words (SPEC section 4), and the
    offer of the plan with those commitments stretched. Returns whether it is asked for."""
    st.error(literal(plan.message) if plan.message else "No plan is possible under these levers.")
    stretched = bool(st.session_state.get(RELAX_COMMITMENTS))
    if plan.diagnosis and not stretched:  # when asked for, the stretched plan lists them
        st.markdown("**What clashes** (the smallest relaxation that makes a plan possible), by "
                    "commitment:")
        st.markdown("\n".join(f"- {literal(line)}" for line in plan.diagnosis))
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
                 + literal(solved.failure if relaxed is None else relaxed.message))
        if infeasible.diagnosis:
            st.markdown("\n".join(f"- {literal(line)}" for line in infeasible.diagnosis))
        return None
    with st.container(key=RELAXED_NOTE):
        st.warning(
            "**Below: a plan that breaks the commitments listed here.** No plan keeps every "
            "commitment under these levers; this one stretches each limit below by the least needed "
            "(as `optimiser solve --relax-commitments` plans it). It is shown for "
            "comparison only: the last plan that keeps every commitment, if one was made, comes "
            "back when the toggle is off."
        )
        st.markdown("**Stretched, and by how much:**")
        st.markdown("\n".join(f"- {literal(line)}" for line in relaxed.diagnosis))
    return relaxed


# --------------------------------------------------------------------------- sections


def chart_section(plan: Plan, coverage: pd.DataFrame | None = None) -> None:
    st.altair_chart(charts.coverage_by_mission(plan, coverage), width="stretch")
    # one above the other: side by side at 1366 px their bars and titles were squeezed
    st.altair_chart(charts.money_by_zone_and_type(plan), width="stretch")
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
        st.markdown("\n".join(f"{i}. {literal(s)}" for i, s in enumerate(sentences, 1)))
        st.caption("Each figure is the extra value one more unit, one more person allowed or a round "
                   "sum of money in one fund and period would buy, largest first (from the plan with its "
                   "on/off choices fixed). Each holds while its limit stays in the range given; beyond it "
                   "the value changes. `optimiser solve --explain` measures what 10% more adds by solving "
                   "again. " + _value_meaning(plan))
        if ranges is None:
            why = ("its limits are the stretched ones" if plan.status is Status.RELAXED
                   else "the ranges could not be worked out")
            st.caption(f"How far each price holds is not shown for this plan: {why}.")
        with st.expander("The same, as numbers", expanded=False):
            numbers = binding_table(plan, ranges)
            periods = plan.portfolio.periods["name"].to_dict() if plan.portfolio is not None else {}
            shown = numbers.assign(
                constraint=numbers["constraint"].map(lambda c: CONSTRAINT_WORDS.get(str(c), str(c))),
                period_id=numbers["period_id"].map(lambda p: periods.get(p, p)),
            )[["rank", "sentence", "constraint", "id", "period_id", "gain", "unit", "low", "high", "limit",
               "holds"]]
            table(shown, BINDING_TABLE, column_config={
                "rank": st.column_config.NumberColumn("Rank", format="%d"),
                "sentence": st.column_config.TextColumn("What binds", width="large"),
                "constraint": st.column_config.TextColumn("Limit"),
                "id": st.column_config.TextColumn("ID"),
                "period_id": st.column_config.TextColumn("Period"),
                "gain": st.column_config.NumberColumn("Value added per step", format="%.3g"),
                "unit": st.column_config.TextColumn("Per"),
                "low": st.column_config.NumberColumn("Price holds from", format="localized"),
                "high": st.column_config.NumberColumn("Price holds to", format="localized"),
                "limit": st.column_config.NumberColumn("Limit now", format="localized"),
                "holds": st.column_config.TextColumn("How far it holds", width="large"),
            })
    else:
        st.info("Nothing binds: no extra person, unit of equipment or money would add value.")
    st.markdown("#### Unmet needs of under-covered missions")
    unmet = unmet_by_mission(plan)
    if unmet.empty:
        st.success("Every mission is fully covered.")
        return
    # a static table: its text wraps, so that what a mission lacks and the money to close
    # it are both read at 1366 px without scrolling sideways
    currency = plan.levers.currency
    shown = pd.DataFrame({
        "Mission ID": unmet["mission_id"].astype(str),
        "Mission": unmet["name"].astype(str),
        "Priority": unmet["priority"].astype(int).astype(str),
        "Coverage": [formats.share(c) for c in unmet["coverage"]],
        f"Money to close it ({currency})": [formats.whole(m) for m in unmet["shortfall_cost"]],
        "Still lacks (per period, at most)": unmet["lacks"].astype(str),
    })
    with st.container(key="unmet_table"):
        st.table(shown.set_index("Mission ID"))
    st.caption("What each mission lacks to reach its most wanted coverage (the three largest needs; "
               "every one is on the Tables tab and the report's Unmet sheet), and the money that would "
               "close it at the unit costs it pays.")


def mission_table(plan: Plan, coverage: pd.DataFrame, on_pick: Callable | None = None) -> None:
    """Coverage per mission; with ``on_pick``, a row clicked is handed to it (the
    selection and the table) so that "why is this mission short?" can answer for it."""
    first = [c for c in ("mission_id", "name", "coverage", "lowest_coverage", "covered", "priority",
                         "must_fund", "cost", "value") if c in coverage.columns]
    ordered = coverage[first + [c for c in coverage.columns if c not in first]]  # coverage in view at 1366 px
    shown, config = for_planners(ordered, plan, "missions")
    config["coverage"] = st.column_config.NumberColumn("Coverage (mean)", format="%.1f%%")
    options: dict[str, object] = {}
    if on_pick is not None:
        options = dict(on_select="rerun", selection_mode="single-row")
    with st.container(key="mission_coverage"):
        selection = st.dataframe(shown, hide_index=True, width="stretch", key="mission_coverage_pick",
                                 column_config=config, **options)  # type: ignore[call-overload]
    if on_pick is not None:
        on_pick(selection, coverage)


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


def tables_section(plan: Plan) -> None:
    for name, title in TABLES.items():
        frame: pd.DataFrame = lacking(plan) if name == "unmet" else getattr(plan, name)
        with st.expander(f"{title} ({len(frame):,} rows)", expanded=name == "missions"):
            shown, config = for_planners(frame, plan, name)
            table(shown, f"table_{name}", column_config=config)


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
