"""The page's answers to "why is this mission short?" and "show me another plan nearly as
good": thin shells over :func:`optimiser.why.why` and
:func:`optimiser.alternatives.alternatives`, cached like solves (by workbook SHA-256 and
exact levers).

Mission text from the workbook is shown with ``st.text`` (never as Markdown or links).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from optimiser import Levers, Plan, Portfolio
from optimiser.alternatives import SHARE, alternatives, alternatives_table
from optimiser.safe_text import markdown_literal as literal
from optimiser.scenario import lever_warnings
from optimiser.why import Why, short_missions, why, why_text
from ui.state import Workbook, lever_key
from ui.summaries import problems_frame
from ui.views import table

log = logging.getLogger(__name__)

WHY_MISSION = "why_mission"  # the mission picked
WHY_GO = "why_go"  # the button
WHY_ANSWER = "why_answer"  # container: the answer
ALT_SHARE = "alternatives_share"
ALT_COUNT = "alternatives_count"
ALT_GO = "alternatives_go"
ALT_ANSWER = "alternatives_answer"  # container: the alternatives
MISSION_PICK = "mission_coverage_pick"  # the mission table's row selection
LEVER_WARNINGS = "lever_warnings_table"  # container: warnings the levers give rise to


def lever_warnings_note(portfolio: Portfolio, levers: Levers) -> None:
    """Warnings the levers give rise to (a must-fund mission with min_coverage 0 is
    guaranteed nothing), never a silent 0%."""
    try:
        found = lever_warnings(portfolio, levers)
    except Exception:  # an unknown id is the solve's to report
        return
    if not found:
        return
    plural = "s" if len(found) != 1 else ""
    st.warning(f"{len(found)} warning{plural} from the levers (the plan is made anyway).")
    table(problems_frame(found), LEVER_WARNINGS)


@st.cache_data(max_entries=64, show_spinner=False)
def why_cached(content_sha256: str, levers_text: str, mission_id: str, _portfolio: Portfolio, _levers: Levers,
               _plan: Plan) -> Why | str:
    """:func:`optimiser.why.why` for one mission (or one line saying why it failed)."""
    try:
        return why(_portfolio, mission_id, _levers, plan=_plan)
    except Exception as error:  # one line on the page, never a traceback
        log.exception("why failed")
        return f"{type(error).__name__}: {error}".splitlines()[0]


@st.cache_data(max_entries=16, show_spinner=False)
def alternatives_cached(content_sha256: str, levers_text: str, count: int, share: float,
                        _portfolio: Portfolio, _levers: Levers, _plan: Plan) -> pd.DataFrame | str:
    """:func:`optimiser.alternatives.alternatives` as its table (or one line on failure)."""
    try:
        found = alternatives(_portfolio, _levers, plan=_plan, count=count, share=share)
    except Exception as error:
        log.exception("alternatives failed")
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return alternatives_table(found, _levers.currency)


def pick_from_table(selection: Any, coverage: pd.DataFrame) -> None:
    """A row clicked in the mission table picks that mission for the answer below."""
    rows = list(getattr(getattr(selection, "selection", None), "rows", []) or [])
    picked = str(coverage.iloc[rows[0]]["mission_id"]) if rows and 0 <= rows[0] < len(coverage) else None
    if picked is not None and picked != st.session_state.get(f"{MISSION_PICK}_last"):
        st.session_state[WHY_MISSION] = picked  # a new click; the pick box may change it afterwards
    st.session_state[f"{MISSION_PICK}_last"] = picked


def why_section(book: Workbook, levers: Levers, plan: Plan) -> None:
    """Pick a mission (short ones first, most important first) and read why it is short."""
    portfolio = book.portfolio
    assert portfolio is not None
    st.markdown("#### Why is this mission short?")
    short = short_missions(plan)
    others = [str(m) for m in portfolio.missions.index if str(m) not in short]
    options = short + others
    if st.session_state.get(WHY_MISSION) not in options:
        st.session_state.pop(WHY_MISSION, None)
    names = portfolio.missions["name"].astype(str).to_dict()
    st.selectbox(
        "Mission", options, key=WHY_MISSION,
        format_func=lambda m: f"{m} · {names.get(m, m)}" + (" (short)" if m in short else ""),
        help="Short missions first, most important first; or click a row of the table above.",
    )
    asked = st.button("Explain", key=WHY_GO, help="Solves again: the plan with this mission funded fully, "
                      "and with its weight raised until it is.")
    mission_id = st.session_state.get(WHY_MISSION)
    with st.container(key=WHY_ANSWER):
        if not (asked or st.session_state.get(f"{WHY_ANSWER}_for") == (lever_key(levers), mission_id)):
            st.caption("Pick a mission and press Explain.")
            return
        st.session_state[f"{WHY_ANSWER}_for"] = (lever_key(levers), mission_id)
        with st.spinner("Solving again…", show_time=True):
            answer = why_cached(book.sha256, lever_key(levers), str(mission_id), portfolio, levers, plan)
        if isinstance(answer, str):
            st.error(f"The answer could not be made: {literal(answer)}")
            return
        st.text(why_text(answer))  # plain text: mission names are never Markdown


def alternatives_section(book: Workbook, levers: Levers, plan: Plan) -> None:
    """"Show me another plan nearly as good": up to three plans within a share of the value."""
    portfolio = book.portfolio
    assert portfolio is not None
    if not plan.has_plan:
        return
    st.markdown("#### Other plans nearly as good")
    left, middle, right = st.columns([2, 1, 1])
    left.number_input("Value they may give up (share of this plan's)", min_value=0.0, max_value=0.5,
                      value=SHARE, step=0.005, format="%.3f", key=ALT_SHARE)
    middle.number_input("How many", min_value=1, max_value=5, value=3, step=1, key=ALT_COUNT)
    asked = right.button("Show alternatives", key=ALT_GO, width="stretch",
                         help="Plans within the share of this one's value that run other missions, as "
                         "different as possible (solves again; may take a while).")
    share = float(st.session_state.get(ALT_SHARE, SHARE))
    count = int(st.session_state.get(ALT_COUNT, 3))
    wanted = (lever_key(levers), share, count)
    with st.container(key=ALT_ANSWER):
        if not (asked or st.session_state.get(f"{ALT_ANSWER}_for") == wanted):
            return
        st.session_state[f"{ALT_ANSWER}_for"] = wanted
        with st.spinner("Looking for other plans…", show_time=True):
            found = alternatives_cached(book.sha256, lever_key(levers), count, share, portfolio, levers, plan)
        if isinstance(found, str):
            st.error(f"The alternatives could not be made: {literal(found)}")
            return
        if not len(found):
            st.info(f"No other plan within {share:.1%} of this one's value runs other missions.")
            return
        for sentence in found["sentence"]:
            st.text(sentence)
        st.dataframe(found.drop(columns=["sentence"]), hide_index=True, width="stretch",
                     column_config={"value_share": st.column_config.NumberColumn("share of value",
                                                                                 format="percent")})
