"""The page's per-mission levers (cancel, min and max coverage), "why is this mission
short?" and "other plans nearly as good", through Streamlit's AppTest on the national
sample (relaxed, for speed); widgets found by their keys."""

from __future__ import annotations

import pytest
from test_ui import levers_on_screen, open_page, plan_on_screen, show

from optimiser.why import short_missions
from ui import controls, explain


def test_mission_table_edits_become_cancel_and_coverage_levers() -> None:
    at = show(open_page(), "Missions")
    missions = plan_on_screen(at).portfolio.missions
    first, second = missions.index[0], missions.index[1]
    rows = {m: i for i, m in enumerate(missions.index)}
    at.session_state[controls.MISSION_EDITOR] = {
        "edited_rows": {rows[first]: {"cancel": True}, rows[second]: {"max_coverage": 0.5}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    levers = levers_on_screen(at)
    assert levers.cancel == {first: True}
    assert levers.max_coverage == {second: pytest.approx(0.5)}
    plan = plan_on_screen(at)
    coverage = plan.missions.groupby("mission_id")["coverage"].max()
    assert coverage[first] == pytest.approx(0.0)
    assert coverage[second] <= 0.5 + 1e-9


def test_why_answers_for_the_mission_picked() -> None:
    at = show(open_page(), "Missions")
    plan = plan_on_screen(at)
    short = short_missions(plan)
    assert short
    assert at.selectbox(key=explain.WHY_MISSION).value == short[0]  # the most important short one first
    at.button(key=explain.WHY_GO).click().run()
    assert not at.exception, at.exception
    answer = at.get_by_key(explain.WHY_ANSWER).text[0].value
    assert answer.startswith(f"{short[0]} (")
    assert "What it lacks:" in answer and "Funding it fully" in answer


def test_other_plans_nearly_as_good_are_shown_on_the_plan_tab() -> None:
    at = show(open_page(), "Plan")
    at.button(key=explain.ALT_GO).click().run()
    assert not at.exception, at.exception
    shown = at.get_by_key(explain.ALT_ANSWER)
    texts = [t.value for t in shown.text]
    assert texts and all(t.startswith("Alternative ") for t in texts)


def test_making_a_mission_must_fund_with_min_coverage_0_is_a_warning_on_the_page() -> None:
    at = show(open_page(), "Missions")
    missions = plan_on_screen(at).portfolio.missions
    floorless = ~missions["must_fund"].astype(bool) & (missions["min_coverage"].astype(float) == 0)
    free = missions[floorless].index[0]
    rows = {m: i for i, m in enumerate(missions.index)}
    at.session_state[controls.MISSION_EDITOR] = {
        "edited_rows": {rows[free]: {"must_fund": True}}, "added_rows": [], "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    shown = at.get_by_key(explain.LEVER_WARNINGS).dataframe[0].value
    cells = shown.astype(str).to_numpy().ravel()
    assert any("guaranteed nothing" in m and free in m for m in cells)
