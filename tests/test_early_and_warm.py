"""What the what-if page plans with (issue 12, target 5): the headline plan handed over
before its shadow prices (``optimise(..., early=)``), the basis of the last solve reused
for the next lever move (``optimise(..., warm=)``), and the page's plan store.

The hand-solvable case: one priority-1 mission worth 16 at full coverage (linear value)
needs 4 field hospitals, whole units; 2 exist. The best plan covers half, value 8; one
more hospital would buy a quarter more: a shadow price of 16 / 4 = 4 per hospital.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import highspy
import pytest
from builders import make_portfolio
from streamlit.testing.v1 import AppTest
from test_model import MONEY, ZONES

from optimiser import Status, WarmStart, formats, load_portfolio, optimise
from ui import controls, state
from ui.state import PlanStore, Solved
from ui.summaries import headline, plan_status

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
APP = str(ROOT / "ui" / "app.py")
TABLES = ("missions", "allocation", "funding", "unmet")


def hospitals(available: int, integer: bool = True, must_fund: bool = False):
    return make_portfolio(
        missions=f"""
            mission_id,zone_id,priority,must_fund,min_coverage
            A,Z1,1,{"yes" if must_fund else "no"},{1 if must_fund else 0}
        """,
        zones=ZONES,
        resources=f"""
            resource_id,name,kind,unit,unit_cost,available
            H,Field hospital,equipment,hospital,0,{available}
        """,
        requirements="mission_id,resource_id,quantity\nA,H,4",
        funding=MONEY,
        settings=f"key,value\ndiminishing_returns,no\ninteger,{'yes' if integer else 'no'}",
    )


def hospital_price(plan) -> float:
    return float(plan.resources.set_index("resource_id").at["H", "shadow_price"])


def test_the_early_plan_is_the_plan_with_its_shadow_prices_still_unknown():
    handed = []
    plan = optimise(hospitals(2), early=handed.append)
    assert len(handed) == 1
    early = handed[0]
    assert plan.value == early.value == pytest.approx(8.0)
    assert (early.status, early.gap, early.best_bound, early.total_cost, early.money_available) == (
        plan.status, plan.gap, plan.best_bound, plan.total_cost, plan.money_available)
    assert early.value_by_priority == plan.value_by_priority and early.message == plan.message
    for name in TABLES:
        assert getattr(early, name).equals(getattr(plan, name)), name
    assert early.resources.drop(columns="shadow_price").equals(plan.resources.drop(columns="shadow_price"))
    # the prices: unknown in the early plan, found in the plan returned, as a plain solve finds them
    assert math.isnan(hospital_price(early)) and early.sensitivity.empty
    assert hospital_price(plan) == pytest.approx(4.0)
    assert hospital_price(optimise(hospitals(2))) == pytest.approx(4.0)
    assert plan.sensitivity["shadow_price"].tolist() == pytest.approx([4.0])
    assert "duals" in plan.solver.stages and "duals" not in early.solver.stages


def test_no_early_plan_when_the_prices_come_with_the_plan_or_there_is_no_plan():
    handed = []
    relaxed = optimise(hospitals(2, integer=False), early=handed.append)  # the value LP's own duals
    assert relaxed.value == pytest.approx(8.0) and hospital_price(relaxed) == pytest.approx(4.0)
    infeasible = optimise(hospitals(2, must_fund=True), early=handed.append)  # 4 hospitals needed, 2 exist
    assert infeasible.status is Status.INFEASIBLE and infeasible.diagnosis
    assert handed == []


def test_a_warm_start_gives_the_plan_a_cold_start_gives(monkeypatch):
    taken = []  # each basis HiGHS was given, and whether it took it
    given = highspy.Highs.setBasis
    monkeypatch.setattr(highspy.Highs, "setBasis", lambda h, *a: taken.append(given(h, *a)) or taken[-1])
    warm = WarmStart()
    first = optimise(hospitals(2, integer=False), warm=warm)
    assert first.value == pytest.approx(8.0) and taken == []  # nothing to start from yet
    assert warm.bases and warm.shape is not None  # each continuous run's basis
    shape = warm.shape
    more = optimise(hospitals(3, integer=False), warm=warm)  # the same model's shape: its basis is used
    assert taken and set(taken) == {highspy.HighsStatus.kOk} and warm.shape == shape
    used = len(taken)
    assert more.value == pytest.approx(12.0) and hospital_price(more) == pytest.approx(4.0)
    # a model of another shape (whole units add columns) ignores that basis and keeps its own
    whole = optimise(hospitals(3), warm=warm)
    assert whole.value == pytest.approx(12.0) and warm.shape != shape and len(taken) == used


@pytest.mark.parametrize("integer", [False, True])
def test_a_warm_start_on_the_national_sample_proves_the_same_bound(integer):
    portfolio = load_portfolio(SAMPLE)
    warm = WarmStart()
    optimise(portfolio, portfolio.levers.changed(integer=integer), warm=warm)
    levers = portfolio.levers.changed(budget_scale=0.85, integer=integer)
    cold, hot = optimise(portfolio, levers), optimise(portfolio, levers, warm=warm)
    assert hot.status is Status.OPTIMAL and hot.gap <= levers.mip_gap + 1e-12
    # the relaxation's optimum (the bound) is the same LP optimum from either start
    assert hot.best_bound == pytest.approx(cold.best_bound, rel=1e-7)
    assert hot.value >= cold.best_bound * (1 - levers.mip_gap) - 1e-6


def test_the_plan_store_hands_out_copies_and_keeps_the_newest():
    store = PlanStore(size=2)
    plan = optimise(hospitals(2))
    store.put(("sha", "a"), Solved(plan, seconds=1.0))
    got = store.get(("sha", "a"))
    assert got is not None and got.plan is not None and got.plan is not plan
    assert got.plan.value == plan.value and got.plan.missions.equals(plan.missions)
    got.plan.missions.loc[:, "coverage"] = 0.0  # a session changing its copy changes no other
    again = store.get(("sha", "a"))
    assert again is not None and again.plan is not None and again.plan.missions.equals(plan.missions)
    store.put(("sha", "b"), Solved(None, "no plan"))
    store.get(("sha", "a"))  # used: the newest now
    store.put(("sha", "c"), Solved(None, "no plan"))
    assert store.get(("sha", "b")) is None and store.get(("sha", "a")) is not None
    assert pickle.loads(pickle.dumps(again)).plan.value == plan.value


def test_the_page_draws_the_headline_of_the_whole_plan_it_keeps():
    """Whole units: the headline is drawn before the shadow prices are found; the page's
    figures are those of the whole plan it keeps (and downloads), its time that plan's."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.toggle(key=controls.INTEGER).set_value(True).run()
    at.slider(key=controls.BUDGET).set_value(0.85).run()  # a budget not planned before
    assert not at.exception, at.exception
    plan = at.session_state[state.LAST_GOOD][1]
    assert plan.levers.integer and plan.levers.budget_scale == 0.85
    assert "duals" in plan.solver.stages and not plan.sensitivity.empty  # the whole plan, prices found
    assert not plan.resources["shadow_price"].isna().any()
    figures = headline(plan)
    assert at.get_by_key("metric_value").metric[0].value == formats.share(figures.value_share)
    assert at.get_by_key("metric_money").metric[0].value == formats.money_short(plan.total_cost, "USD")
    assert at.get_by_key("metric_personnel").metric[0].value == formats.whole(figures.personnel)
    assert at.get_by_key("metric_status").metric[0].value == plan_status(plan)
    captions = [c.value for c in at.get_by_key("metric_status").caption]
    assert captions == [f"whole units · within {formats.percent(plan.gap, 2)} of the best · "
                        f"{plan.solver.total_s:.1f} s"]
    assert len(at.get_by_key("metric_money").metric) == 1  # drawn once
