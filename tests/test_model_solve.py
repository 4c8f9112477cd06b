"""The solving stages, the solvers, statuses, shadow prices and the plan's tables."""

from __future__ import annotations

import dataclasses

import highspy
import pytest
from builders import make_portfolio
from test_model import LINEAR, MONEY, ZONES, coverage, needs, people, solve

from optimiser.entry import optimise
from optimiser.plan import Status
from optimiser.read import read_tables
from optimiser.samples.generate import generate_portfolio
from optimiser.solvers import CbcEngine, HighsEngine, StageResult, StageState
from optimiser.solvers.highs import _highs_state
from optimiser.tables import (
    ALLOCATION_COLUMNS,
    BUDGET_COLUMNS,
    FUNDING_COLUMNS,
    MISSION_COLUMNS,
    RESOURCE_COLUMNS,
    SENSITIVITY_COLUMNS,
    UNMET_COLUMNS,
    ZONE_COLUMNS,
)
from optimiser.validate import validate


def generated(**sizes):
    return validate(read_tables(generate_portfolio(**sizes)))


# -- stages ---------------------------------------------------------------------------------


def test_strict_and_weighted_modes_give_different_plans():
    sheets = dict(
        missions="""
            mission_id,zone_id,priority
            LEAD,Z1,1
            PAIR1,Z1,2
            PAIR2,Z1,2
        """,
        resources=people(10),
        requirements=needs(LEAD=10, PAIR1=4, PAIR2=4),
    )
    # weighted: a linguist is worth 8/4 = 2 to each tier-2 mission and 16/10 = 1.6 to LEAD
    weighted = solve(**sheets)
    assert coverage(weighted) == pytest.approx({"LEAD": 0.2, "PAIR1": 1.0, "PAIR2": 1.0})
    assert weighted.value == pytest.approx(19.2)
    # strict: tier 1 first, whatever tier 2 could have made of the linguists
    strict = solve(settings=LINEAR + "priority_mode,strict\n", **sheets)
    assert coverage(strict) == pytest.approx({"LEAD": 1.0, "PAIR1": 0.0, "PAIR2": 0.0})
    assert strict.value == pytest.approx(16.0)
    assert strict.value_by_priority[1] == pytest.approx(16.0)
    assert strict.solver.stages[:3] == ("weighted", "tier1", "tier2")  # starts from the weighted plan


@pytest.mark.parametrize(("cost_a", "cost_b", "chosen"), [(1000, 100, "B"), (100, 1000, "A")])
def test_of_two_plans_of_equal_value_the_cheaper_is_chosen(cost_a, cost_b, chosen):
    plan = solve(
        missions=f"""
            mission_id,zone_id,priority,running_cost
            A,Z1,1,{cost_a}
            B,Z1,1,{cost_b}
        """,
        resources=people(10),
        requirements=needs(A=10, B=10),
    )
    # 10 linguists make 16 of value whichever mission gets them; the cheaper one runs
    assert coverage(plan)[chosen] == pytest.approx(1.0)
    assert plan.value == pytest.approx(16.0)
    assert plan.total_cost == pytest.approx(min(cost_a, cost_b))


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_cost_stage_that_finds_its_value_floor_infeasible_tries_a_hair_below(monkeypatch, solver):
    """A solver's tolerances can declare the value floor (the plan's own value) out of
    reach; the cost stage then retries with the floor a relative 1e-9 lower, and the
    cheaper of two equal plans is still chosen."""
    engine = CbcEngine if solver == "cbc" else HighsEngine
    first_cost_run = []
    real_run = engine.run

    def run(self, name, *args, **kwargs):
        if name == "cost" and not first_cost_run:
            first_cost_run.append(True)
            return StageResult(name, StageState.INFEASIBLE)
        return real_run(self, name, *args, **kwargs)

    monkeypatch.setattr(engine, "run", run)
    plan = solve(
        settings=LINEAR + f"solver,{solver}\n",
        missions="""
            mission_id,zone_id,priority,running_cost
            A,Z1,1,1000
            B,Z1,1,100
        """,
        resources=people(10),
        requirements=needs(A=10, B=10),
    )
    assert first_cost_run == [True]
    assert plan.solver.stages.count("cost") == 2
    assert coverage(plan)["B"] == pytest.approx(1.0)
    assert plan.value == pytest.approx(16.0)
    assert plan.total_cost == pytest.approx(100.0)


def test_free_units_beyond_need_are_not_handed_out():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        resources=people(10),
        requirements=needs(A=2.5),
    )
    assert plan.allocation["units"].tolist() == [3.0]  # 2.5 rounded up to whole people, no more
    assert plan.resources["used"].tolist() == [3.0]


@pytest.mark.parametrize(("integer", "units", "covered"), [("yes", 2.0, 0.5), ("no", 2.5, 0.625)])
def test_integer_units_are_whole_and_relaxed_units_fractional(integer, units, covered):
    plan = solve(
        settings=f"key,value\ndiminishing_returns,no\ninteger,{integer}",
        missions="mission_id,zone_id,priority\nA,Z1,1",
        resources=people(10, unit_cost=100),
        requirements=needs(A=4),
        funding="source_id,amount\nCORE,250",
    )
    # 250 buys 2.5 linguists at 100; whole linguists: 2 of the 4 needed
    assert plan.allocation["units"].tolist() == [units]
    assert coverage(plan) == {"A": pytest.approx(covered)}
    assert plan.value == pytest.approx(16 * covered)


# -- solvers -------------------------------------------------------------------------------


@pytest.mark.parametrize(("integer", "mode"), [("yes", "weighted"), ("no", "weighted"), ("no", "strict")])
def test_cbc_and_highs_agree_on_the_optimal_value(integer, mode):
    portfolio = generated(missions=12, zones=4, resources=6, periods=2, sources=3, seed=3)
    levers = portfolio.levers.with_settings({"integer": integer, "mip_gap": "0", "priority_mode": mode})
    by_highs = optimise(portfolio, levers)
    by_cbc = optimise(portfolio, levers.changed(solver="cbc"))
    assert by_highs.status is by_cbc.status is Status.OPTIMAL
    assert by_cbc.value == pytest.approx(by_highs.value, rel=1e-6)
    assert by_cbc.total_cost == pytest.approx(by_highs.total_cost, rel=1e-4)
    assert (by_highs.solver.name, by_cbc.solver.name) == ("highs", "cbc")
    assert by_highs.solver.version.startswith("1.") and by_cbc.solver.version.startswith("2.")


def test_cbc_shadow_prices_match_highs():
    sheets = dict(
        missions="mission_id,zone_id,priority\nA,Z1,1\nB,Z1,2",
        resources=people(15),
        requirements=needs(A=10, B=10),
    )
    by_cbc = solve(settings=LINEAR + "solver,cbc\n", **sheets)
    assert by_cbc.resources["shadow_price"].tolist() == pytest.approx([0.8])


# -- status --------------------------------------------------------------------------------


def test_must_fund_beyond_capacity_is_infeasible():
    plan = solve(
        missions="mission_id,zone_id,priority,must_fund,min_coverage\nA,Z1,1,yes,100%",
        resources=people(5),
        requirements=needs(A=10),
    )
    assert plan.status is Status.INFEASIBLE
    assert plan.value is None and plan.gap is None and not plan.has_plan
    assert "\n" not in plan.message and "must-fund" in plan.message
    assert plan.diagnosis == ("Must-fund A needs 10 Linguist in P1; 5 are available (short 5)",)
    assert plan.missions.empty and list(plan.missions.columns) == MISSION_COLUMNS
    assert plan.max_value == pytest.approx(16.0)


def test_a_time_limit_stops_the_search_with_a_plan_and_its_gap():
    # a national-sized integer plan takes seconds to prove; without must-fund floors and
    # policies, doing nothing is a plan, so a plan is in hand however early the stop
    portfolio = generated(missions=150, zones=30, resources=16, periods=4, sources=5, seed=1, policies=False)
    # nothing running now: stopping costs no closure, so doing nothing stays a plan
    missions = portfolio.missions.assign(running_now=False, closure_cost=0.0)
    portfolio = dataclasses.replace(portfolio, missions=missions)
    levers = portfolio.levers.changed(
        time_limit_s=0.3, must_fund={m: False for m in portfolio.missions.index}
    )
    plan = optimise(portfolio, levers)
    assert plan.status is Status.FEASIBLE
    assert plan.has_plan and plan.value is not None
    assert 0 < plan.gap <= 1
    assert plan.best_bound >= plan.value
    assert plan.message.startswith("Time limit reached")
    assert plan.solver.total_s < 10


@pytest.mark.parametrize(
    ("status", "has_plan", "state"),
    [
        (highspy.HighsModelStatus.kOptimal, True, StageState.OPTIMAL),
        (highspy.HighsModelStatus.kInfeasible, False, StageState.INFEASIBLE),
        (highspy.HighsModelStatus.kTimeLimit, True, StageState.STOPPED),
        (highspy.HighsModelStatus.kTimeLimit, False, StageState.NO_PLAN),
        (highspy.HighsModelStatus.kInterrupt, True, StageState.STOPPED),
        (highspy.HighsModelStatus.kSolveError, False, StageState.FAILED),
    ],
)
def test_highs_statuses_map_to_stage_states(status, has_plan, state):
    assert _highs_state(status, has_plan) is state


# -- shadow prices and sentences --------------------------------------------------------------


@pytest.mark.parametrize(
    ("integer", "stages"), [("yes", ("value", "cost", "duals")), ("no", ("value", "cost"))]
)
def test_shadow_price_of_a_binding_resource(integer, stages):
    plan = solve(
        settings=LINEAR + f"integer,{integer}\n",
        missions="""
            mission_id,zone_id,priority
            A,Z1,1
            B,Z1,2
        """,
        periods="period_id,name\nQ1,2027-Q1",
        resources=people(15),
        requirements=needs(A=10, B=10),
    )
    # A is full, B half covered: one more linguist gives B 1/10 more coverage, 8/10 of value
    assert coverage(plan) == {"A": 1.0, "B": 0.5}
    assert plan.resources["shadow_price"].tolist() == pytest.approx([0.8])
    assert plan.sensitivity["sentence"].tolist() == ["One more Linguist in 2027-Q1 adds 0.8 value"]
    assert plan.solver.stages == stages  # a continuous plan prices with its own value LP


def test_shadow_price_of_money_is_per_unit_and_spoken_of_per_round_sum():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        resources=people(10, unit_cost=100),
        requirements=needs(A=10),
        funding="source_id,name,amount\nCORE,Core budget,500",
    )
    # 1000 covers A fully: 16 of value per 1000, 0.016 per unit of money, 0.16 per 10
    assert coverage(plan) == {"A": pytest.approx(0.5)}
    assert plan.budgets["shadow_price"].tolist() == pytest.approx([0.016])
    assert plan.budgets["used"].tolist() == pytest.approx([500.0])
    assert plan.sensitivity["sentence"].tolist() == ["One more USD 10 of Core budget in P1 adds 0.16 value"]
    assert plan.sensitivity["gain"].tolist() == pytest.approx([0.16])


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("integer", ["yes", "no"])
def test_shadow_prices_use_the_on_off_decisions_of_the_plan(integer, solver):
    plan = solve(
        settings=LINEAR + f"integer,{integer}\nsolver,{solver}\n",
        missions="""
            mission_id,zone_id,priority,min_coverage
            MINIMUM,Z1,1,50%
            OTHER,Z1,3,
        """,
        resources=people(3),
        requirements=needs(MINIMUM=10, OTHER=10),
    )
    # MINIMUM is off; with it off, one more linguist goes to OTHER: 4/10
    assert coverage(plan) == pytest.approx({"MINIMUM": 0.0, "OTHER": 0.3})
    assert plan.resources["shadow_price"].tolist() == pytest.approx([0.4])


# -- the plan's tables -----------------------------------------------------------------------


def test_plan_tables_have_the_documented_columns_in_input_order():
    plan = solve(
        missions="""
            mission_id,name,zone_id,priority
            M2,Second,Z2,2
            M1,First,Z1,1
        """,
        periods="period_id\nP1\nP2",
        resources="""
            resource_id,kind,unit_cost,available
            R2,equipment,10,3
            R1,personnel,20,5
        """,
        requirements="""
            mission_id,resource_id,quantity
            M1,R1,4
            M1,R2,2
            M2,R2,2
            M2,R1,4
        """,
        funding="""
            source_id,amount
            S2,100
            S1,1000
        """,
    )
    assert list(plan.missions.columns) == MISSION_COLUMNS
    assert list(plan.allocation.columns) == ALLOCATION_COLUMNS
    assert list(plan.funding.columns) == FUNDING_COLUMNS
    assert list(plan.resources.columns) == RESOURCE_COLUMNS
    assert list(plan.budgets.columns) == BUDGET_COLUMNS
    assert list(plan.zones.columns) == ZONE_COLUMNS
    assert list(plan.unmet.columns) == UNMET_COLUMNS
    assert list(plan.sensitivity.columns) == SENSITIVITY_COLUMNS
    keys = list(zip(plan.missions["mission_id"], plan.missions["period_id"], strict=True))
    assert keys == [("M2", "P1"), ("M2", "P2"), ("M1", "P1"), ("M1", "P2")]
    assert plan.allocation["resource_id"].tolist()[:2] == ["R2", "R1"]  # resource order
    assert plan.resources[["resource_id", "period_id"]].values.tolist() == [
        ["R2", "P1"],
        ["R2", "P2"],
        ["R1", "P1"],
        ["R1", "P2"],
    ]
    assert plan.budgets["source_id"].tolist() == ["S2", "S2", "S1", "S1"]
    assert plan.zones[["zone_id", "period_id"]].values.tolist() == [
        ["Z1", "P1"],
        ["Z1", "P2"],
        ["Z2", "P1"],
        ["Z2", "P2"],
    ]
    assert plan.missions["name"].tolist()[0] == "Second"
    assert plan.portfolio is not None and plan.levers.diminishing_returns is False
    assert plan.money_available == pytest.approx(2200)
    assert plan.total_cost == pytest.approx(plan.funding["money"].sum())


def test_solver_info_and_message():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1", resources=people(10), requirements=needs(A=10)
    )
    assert plan.status is Status.OPTIMAL and plan.gap == 0.0
    assert plan.solver.name == "highs"
    assert plan.solver.stages == ("value", "cost", "duals")
    assert 0 < plan.solver.build_s <= plan.solver.total_s
    assert plan.message == "Optimal plan: value 16.0 of 16.0 possible (100%); spends USD 0 of USD 1,000,000."
    assert "status=optimal" in repr(plan)


def test_solving_prints_nothing(capfd):
    solve(missions="mission_id,zone_id,priority\nA,Z1,1", resources=people(10), requirements=needs(A=10))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_portfolio_with_nothing_active_is_an_empty_optimal_plan():
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority,start_period,end_period\nA,Z1,1,P2,P2",
        zones=ZONES,
        resources=people(10),
        requirements=needs(A=10),
        funding=MONEY,
        settings=LINEAR,
        periods="period_id\nP1\nP2",
    )
    plan = optimise(portfolio, portfolio.levers)
    assert plan.status is Status.OPTIMAL
    assert coverage(plan) == {"A": 1.0}  # active in P2 only
    assert plan.missions["period_id"].tolist() == ["P2"]
