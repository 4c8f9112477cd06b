"""Whole units in the model: the rows that say what a whole number of units buys, and
capacities floored to whole units. Each case is small enough to solve by hand; the
relaxation (every whole number made continuous) is solved on its own to show that its
bound is the hand-computed best plan, not the fraction the plain rows would allow."""

from __future__ import annotations

import pulp
import pytest
from builders import make_portfolio
from test_model import MONEY, ZONES

from optimiser.entry import optimise
from optimiser.model import build_model
from optimiser.scenario import apply_levers

TWO_MISSIONS = """
    mission_id,zone_id,priority
    A,Z1,1
    B,Z1,1
"""
ONE_MISSION = """
    mission_id,zone_id,priority,max_coverage
    A,Z1,1,{max_coverage}
"""


def hospitals(available: str, unit_cost: float = 0, reserve: str = "") -> str:
    return f"""
        resource_id,name,kind,unit,unit_cost,available,reserve_share
        H,Field hospital,equipment,hospital,{unit_cost},{available},{reserve}
    """


def portfolio(missions: str, resources: str, requirements: str, settings: str = "", money: str = MONEY):
    return make_portfolio(
        missions=missions,
        zones=ZONES,
        resources=resources,
        requirements=requirements,
        funding=money,
        settings=settings or None,
    )


def relaxation_bound(portfolio) -> float:
    """The value of the model with every whole number made continuous."""
    model = build_model(apply_levers(portfolio, portfolio.levers))
    for variable in model.variables:
        variable.cat = pulp.LpContinuous
    status = model.problem.solve(pulp.HiGHS(msg=False))
    assert pulp.LpStatus[status] == "Optimal"
    return float(pulp.value(model.value))


def test_half_a_hospital_does_not_buy_half_a_mission():
    # Two priority-1 missions (worth 16 each) need one field hospital each; one exists.
    # Diminishing returns: g(0.5) = 2/3, g(1) = 1. Spreading the hospital half-half would
    # be worth 2 x 16 x 2/3 = 21.33, but half a hospital runs nothing: the best plan runs
    # one mission in full, 16 x 1 = 16, and the relaxation's bound is that 16 too.
    p = portfolio(TWO_MISSIONS, hospitals("1"), "mission_id,resource_id,quantity\nA,H,1\nB,H,1")
    assert relaxation_bound(p) == pytest.approx(16.0)
    plan = optimise(p)
    assert plan.value == pytest.approx(16.0)
    assert sorted(plan.missions["coverage"].round(9)) == [0.0, 1.0]


def test_three_linguists_short_of_a_half():
    # One mission needs 3 linguists at full coverage, at most half of it is wanted
    # (max_coverage 0.5), linear value (worth 16 x coverage). Money: 150 at 100 a
    # linguist. Whole linguists: 1 buys 1/3 (2 cost 200): 16/3 = 5.33. The plain rows
    # would let 1.5 linguists buy the half (value 8); the row through (1, 1/3) and
    # (2, 1/2) allows 1/3 + (1.5 - 1)/6 = 5/12 at most: a bound of 16 x 5/12 = 6.67.
    p = portfolio(
        ONE_MISSION.format(max_coverage=0.5),
        """
        resource_id,name,kind,unit,unit_cost,available
        L,Linguist,personnel,person,100,
        """,
        "mission_id,resource_id,quantity\nA,L,3",
        settings="key,value\ndiminishing_returns,no",
        money="source_id,name,amount\nCORE,Core budget,150",
    )
    assert relaxation_bound(p) == pytest.approx(16 * 5 / 12)
    plan = optimise(p)
    assert plan.value == pytest.approx(16 / 3)
    assert plan.allocation["units"].tolist() == [1.0]


def test_usable_units_are_floored_to_whole_units():
    # 5 hospitals with half held in reserve leave 2.5 usable: 2 whole ones. A mission
    # needing 4 runs at 2/4 = 0.5 (linear value 16 x 0.5 = 8), and the relaxation's bound
    # is 8 as well (2.5 hospitals would make it 10). The report keeps the planner's 2.5.
    p = portfolio(
        ONE_MISSION.format(max_coverage=1),
        hospitals("5", reserve="0.5"),
        "mission_id,resource_id,quantity\nA,H,4",
        settings="key,value\ndiminishing_returns,no",
    )
    assert relaxation_bound(p) == pytest.approx(8.0)
    plan = optimise(p)
    assert plan.value == pytest.approx(8.0)
    assert plan.resources.set_index("resource_id").loc["H", "usable"] == pytest.approx(2.5)


def test_continuous_resources_keep_their_fractions():
    # The same mission with hospitals shared by the hour (integer = no): 2.5 usable buy
    # 2.5 / 4 = 0.625 of it, worth 16 x 0.625 = 10.
    p = portfolio(
        ONE_MISSION.format(max_coverage=1),
        """
        resource_id,name,kind,unit,unit_cost,available,reserve_share,integer
        H,Field hospital,equipment,hospital,0,5,0.5,no
        """,
        "mission_id,resource_id,quantity\nA,H,4",
        settings="key,value\ndiminishing_returns,no",
    )
    assert relaxation_bound(p) == pytest.approx(10.0)
    assert optimise(p).value == pytest.approx(10.0)
