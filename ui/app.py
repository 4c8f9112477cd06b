"""The what-if page: ``streamlit run ui/app.py``.

A thin shell: it reads the workbook (the national sample, or the planner's upload),
turns the widgets into :class:`optimiser.Levers`, calls :func:`optimiser.optimise`
(cached per workbook and levers) and draws the plan. The last plan that could be
made stays on screen while a new one is computed, and when a change makes a plan
impossible; the planner may then ask for the plan with the commitments stretched
(:func:`optimiser.relax_commitments`), drawn in its place and labelled as breaking them,
never kept as the last good plan.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts only ui/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.delta_generator import DeltaGenerator  # noqa: E402

from optimiser import Plan, WarmStart  # noqa: E402
from optimiser.safe_text import markdown_literal as literal  # noqa: E402
from ui import controls, explain, scenarios, state, views  # noqa: E402
from ui.summaries import mission_coverage, portfolio_caption  # noqa: E402
from ui.timeline import timeline_section  # noqa: E402
from ui.tradeoffs import render_tradeoffs  # noqa: E402


def _book() -> state.Workbook:
    return st.session_state[state.CURRENT_BOOK]


def _reset_levers() -> None:
    portfolio = _book().portfolio
    assert portfolio is not None
    controls.put_levers(portfolio, portfolio.levers, st.session_state)
    st.session_state[state.NOTICE] = "Levers reset to the workbook's Settings."


def _save_scenario() -> None:
    scenarios.save_current(_book())


def _load_scenario() -> None:
    scenarios.load_chosen(_book())


def _delete_scenario() -> None:
    scenarios.delete_chosen(_book())


def _read_workbook() -> state.Workbook:
    with st.sidebar:
        st.header("Workbook")
        uploads = st.file_uploader(
            "Upload your portfolio workbook",
            type=list(state.UPLOAD_TYPES),
            accept_multiple_files=True,
            key=views.UPLOAD,
            help="Excel (.xlsx, .xlsm, .xls, .xlsb) or OpenDocument (.ods); or the CSV files of one "
            "portfolio, named after the sheets (missions.csv, zones.csv, ...). Without a file, the "
            "page plans the bundled national sample.",
        )
        with st.spinner("Reading the workbook…"):
            if uploads:
                book = state.read_upload([(f.name, f.getvalue()) for f in uploads])
            else:
                book = state.read_sample()
        st.caption(("Uploaded: " if uploads else "National sample: ") + f"**{literal(book.name)}**")
    return book


def _shown_plan(book: state.Workbook, key: str, solved: state.Solved) -> tuple[Plan | None, Plan | None]:
    """(plan to draw, plan drawn before it). A plan that cannot be made leaves the last
    good one on screen."""
    last = st.session_state.get(state.LAST_GOOD)
    if solved.plan is not None and solved.plan.has_plan:
        if last is None or last[0] != key:
            st.session_state[state.PREVIOUS] = last[1] if last else None
            st.session_state[state.LAST_GOOD] = (key, solved.plan)
        return solved.plan, st.session_state.get(state.PREVIOUS)
    return (last[1] if last else None), None


def _previous(key: str) -> Plan | None:
    """The plan the metrics' deltas compare with once the plan of ``key`` is made (as
    :func:`_shown_plan` will keep it)."""
    last = st.session_state.get(state.LAST_GOOD)
    if last is None or last[0] != key:
        return last[1] if last else None
    return st.session_state.get(state.PREVIOUS)


class _Headline:
    """The headline figures, drawn once a run in ``head``: as soon as a plan's figures are
    known (a plan made now: before its shadow prices, which they do not depend on, are
    found; :func:`optimiser.optimise`'s ``early`` hands over the same plan, only its
    prices unknown); the whole plan, made after them, then only updates the time taken."""

    def __init__(self, head: DeltaGenerator):
        self.head = head
        self.caption: DeltaGenerator | None = None  # the status caption, once drawn

    def draw(self, plan: Plan, previous: Plan | None) -> None:
        if self.caption is not None:
            views.status_caption(self.caption, plan)
            return
        with self.head:
            self.caption = views.metrics(plan, previous)
        views.let_the_browser_draw()  # the headline on screen before the rest is sent


def main() -> None:
    st.set_page_config(page_title="Mission optimiser · what-if", layout="wide")
    st.title("Mission optimiser · what-if")

    book = _read_workbook()
    if book.portfolio is None:
        views.problems_table(book)
        st.stop()
    portfolio = book.portfolio
    st.session_state[state.CURRENT_BOOK] = book
    if st.session_state.get(state.LEVERS_FOR) != book.sha256:  # a new workbook: its own levers
        controls.put_levers(portfolio, portfolio.levers, st.session_state)
        st.session_state[state.LEVERS_FOR] = book.sha256
        st.session_state.pop(state.LAST_GOOD, None)
        st.session_state.pop(state.PREVIOUS, None)

    st.caption(literal(portfolio_caption(portfolio)))
    notes = st.container()  # the workbook's warnings, drawn after the headline
    notice = st.session_state.pop(state.NOTICE, None)
    if notice:
        st.toast(notice)  # its input text is escaped where it is written (ui.scenarios.plain)

    # The levers are read from the widgets' state, which holds the values the planner set
    # before this run; the headline is planned and drawn first, the lever panel, the
    # workbook's warnings and the saved scenarios after it, in places kept for them here.
    with st.sidebar:
        panel = st.container()
        shelf = st.container()
    head = st.container()
    # Only the open tab is drawn (on_change="rerun"): the page stays quick as it grows.
    plan_tab, timeline_tab, binds_tab, missions_tab, tables_tab, compare_tab, tradeoffs_tab = st.tabs(
        [*views.TABS, "Trade-offs"], key=views.VIEW, on_change="rerun"
    )
    if missions_tab.open:
        with missions_tab:
            st.markdown("Change **priority**, **must fund**, **min** and **max coverage** of any mission, "
                        "or **cancel** it; the plan follows.")
            controls.mission_editor(portfolio, st.session_state)

    levers = controls.levers_from_widgets(portfolio, st.session_state)
    st.session_state[state.CURRENT_LEVERS] = levers
    with head:
        explain.lever_warnings_note(portfolio, levers)
    key = state.lever_key(levers)
    headline = _Headline(head)
    with head, st.spinner("Planning…", show_time=True):
        # a plan made now draws its headline before its shadow prices are found
        solved = state.solve(book, levers, early=lambda made: headline.draw(made, _previous(key)),
                             warm=st.session_state.setdefault(state.WARM, WarmStart()))
    plan, previous = _shown_plan(book, key, solved)

    with head:
        stretched = None  # the plan with the commitments stretched, when asked for
        if solved.plan is None:
            st.error(f"The plan could not be made: {literal(solved.failure)}")
        elif not solved.plan.has_plan and views.no_plan(solved.plan):
            with st.spinner("Planning with the commitments stretched…", show_time=True):
                stretched = views.stretched_plan(solved.plan, state.relax(book, levers))
            if stretched is not None:  # drawn instead of the last good plan, which is kept
                plan, previous = stretched, plan
        if plan is not None:
            if stretched is None and plan is not solved.plan:
                st.info("Below: the last plan that could be made. Change the levers to plan again.")
            headline.draw(plan, previous)

    with panel:
        st.header("Scenario levers")
        controls.lever_panel(portfolio, on_reset=_reset_levers)
    with shelf:
        st.header("Scenarios")
        saved = scenarios.saved_for(book)  # from the store: every session's, kept across restarts
        scenarios.save_form(book, saved, _save_scenario)
    with notes:
        views.warnings_note(book)
    if plan is None:
        st.stop()

    with head:
        if plan.message:
            st.caption(literal(plan.message))
        coverage = mission_coverage(plan)
        views.tier_table(plan, coverage)
        views.downloads(plan, book, scenarios.name_of(plan.levers, saved))

    if plan_tab.open:
        with plan_tab:
            views.chart_section(plan, coverage)
            explain.alternatives_section(book, levers, plan)
    if timeline_tab.open:
        with timeline_tab:
            timeline_section(plan)
    if binds_tab.open:
        with binds_tab:
            views.binding_section(plan, state.ranges(book, plan))
    if missions_tab.open:
        with missions_tab:
            st.markdown("#### Coverage per mission")
            views.mission_table(plan, coverage, on_pick=explain.pick_from_table)
            explain.why_section(book, levers, plan)
    if tables_tab.open:
        with tables_tab:
            views.tables_section(plan)
    if compare_tab.open:
        with compare_tab:
            scenarios.store_section(book, saved, on_load=_load_scenario, on_delete=_delete_scenario)
    if tradeoffs_tab.open:
        with tradeoffs_tab:
            render_tradeoffs(portfolio, levers)


main()
