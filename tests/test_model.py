"""The allocation rules of SPEC section 3, each proven on a portfolio small enough to
solve by hand. Every case states its arithmetic in a comment next to the assertion."""

from __future__ import annotations

import pytest
from builders import make_portfolio

from optimiser.entry import optimise
from optimiser.model import build_model
from optimiser.plan import Plan
from optimiser.scenario import apply_levers

ZONES = """
    zone_id,region
    Z1,East
    Z2,West
"""
MONEY = """
    source_id,name,amount
    CORE,Core budget,1000000
"""
LINEAR = """
    key,value
    diminishing_returns,no
"""


def people(available: int | str, unit_cost: float = 0, integer: str = "yes", reserve: str = "") -> str:
    return f"""
        resource_id,name,kind,unit,unit_cost,available,reserve_share,integer
        P,Linguist,personnel,person,{unit_cost},{available},{reserve},{integer}
    """


def needs(**quantities: float) -> str:
    rows = "\n".join(f"{mission},P,{quantity}" for mission, quantity in quantities.items())
    return "mission_id,resource_id,quantity\n" + rows


def solve(settings: str | None = LINEAR, **sheets: str) -> Plan:
    sheets.setdefault("zones", ZONES)
    sheets.setdefault("funding", MONEY)
    return optimise(make_portfolio(settings=settings, **sheets))


def coverage(plan: Plan) -> dict[str, float]:
    """Coverage by mission (single-period cases) or by (mission, period)."""
    frame = plan.missions
    if frame["period_id"].nunique() == 1:
        return dict(zip(frame["mission_id"], frame["coverage"], strict=True))
    return dict(
        zip(zip(frame["mission_id"], frame["period_id"], strict=True), frame["coverage"], strict=True)
    )


# -- value: priorities, weights, diminishing returns ---------------------------------------


def test_priority_one_is_covered_before_priority_two():
    plan = solve(
        missions="""
            mission_id,zone_id,priority
            TIER2,Z1,2
            TIER1,Z1,1
        """,
        resources=people(10),
        requirements=needs(TIER1=10, TIER2=10),
    )
    # 10 linguists, each mission needs 10: a linguist is worth 16/10 to tier 1, 8/10 to tier 2
    assert coverage(plan) == {"TIER2": 0.0, "TIER1": 1.0}
    assert plan.value == pytest.approx(16.0)
    assert plan.value_by_priority == {1: 16.0, 2: 0.0, 3: 0.0, 4: 0.0, 5: 0.0}


def test_weight_decides_within_a_tier():
    plan = solve(
        missions="""
            mission_id,zone_id,priority,weight
            LIGHT,Z1,3,1
            HEAVY,Z1,3,2.5
        """,
        resources=people(10),
        requirements=needs(LIGHT=10, HEAVY=10),
    )
    assert coverage(plan) == {"LIGHT": 0.0, "HEAVY": 1.0}
    assert plan.value == pytest.approx(4 * 2.5)


@pytest.mark.parametrize(
    ("diminishing", "expected", "value"),
    [
        # concave: first halves are worth 1.2*4/3 = 1.6 and 4/3 per unit of coverage, more than
        # the heavier mission's second half (0.8): each gets half, 16 * (0.8 + 2/3)
        ("yes", {"HEAVY": 0.5, "LIGHT": 0.5}, 16 * (1.2 * 2 / 3 + 2 / 3)),
        # linear: every linguist is worth more to the heavier mission
        ("no", {"HEAVY": 1.0, "LIGHT": 0.0}, 16 * 1.2),
    ],
)
def test_diminishing_returns_share_scarce_people_between_missions(diminishing, expected, value):
    plan = solve(
        settings=f"key,value\ndiminishing_returns,{diminishing}",
        missions="""
            mission_id,zone_id,priority,weight
            HEAVY,Z1,1,1.2
            LIGHT,Z1,1,1
        """,
        resources=people(10),
        requirements=needs(HEAVY=10, LIGHT=10),
    )
    assert coverage(plan) == pytest.approx(expected)
    assert plan.value == pytest.approx(value)
    assert plan.missions["value"].sum() == pytest.approx(value)


def test_max_value_is_every_active_mission_at_its_max_coverage():
    plan = solve(
        settings=None,  # diminishing returns on: g(0.8) = 2/3 + 2/3 * 0.3 = 0.8667
        missions="""
            mission_id,zone_id,priority,max_coverage,start_period
            A,Z1,1,80%,
            B,Z1,2,,P2
        """,
        periods="period_id\nP1\nP2",
        resources=people(0),
        requirements=needs(A=1, B=1),
    )
    assert plan.max_value == pytest.approx(2 * 16 * (2 / 3 + 2 / 3 * 0.3) + 8)
    assert plan.value == pytest.approx(0.0)


# -- money: earmarks, hazard pay, running cost ---------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("eligible_types", "mediation"), ("eligible_zones", "Z1"), ("eligible_regions", "East")],
)
def test_earmarked_fund_only_pays_eligible_missions(column, value):
    plan = solve(
        missions="""
            mission_id,zone_id,type,priority
            TALKS,Z1,mediation,2
            TROOPS,Z2,peacekeeping,1
        """,
        resources=people(10, unit_cost=100),
        requirements=needs(TALKS=1, TROOPS=1),
        funding=f"""
            source_id,name,amount,{column}
            EARMARK,Mediation fund,100,{value}
        """,
    )
    # only the eligible (lower-priority) mission can be paid; the other stays uncovered
    assert coverage(plan) == {"TALKS": 1.0, "TROOPS": 0.0}
    assert plan.funding[["source_id", "mission_id", "money"]].to_dict("records") == [
        {"source_id": "EARMARK", "mission_id": "TALKS", "money": 100.0}
    ]


def test_hazard_multiplier_raises_the_cost_of_personnel_only():
    plan = solve(
        missions="""
            mission_id,zone_id,priority,running_cost
            SAFE,Z1,1,10
            RISKY,Z2,1,10
        """,
        zones="""
            zone_id,hazard_multiplier
            Z1,1
            Z2,1.5
        """,
        resources="""
            resource_id,kind,unit_cost,available
            P,personnel,1000,10
            KIT,equipment,500,10
        """,
        requirements="""
            mission_id,resource_id,quantity
            SAFE,P,2
            SAFE,KIT,1
            RISKY,P,2
            RISKY,KIT,1
        """,
    )
    cost = dict(zip(plan.missions["mission_id"], plan.missions["cost"], strict=True))
    assert cost == {"SAFE": 2 * 1000 + 500 + 10, "RISKY": 2 * 1500 + 500 + 10}
    unit_cost = plan.allocation.set_index(["mission_id", "resource_id"])["unit_cost"].to_dict()
    assert unit_cost == {
        ("SAFE", "P"): 1000,
        ("SAFE", "KIT"): 500,
        ("RISKY", "P"): 1500,
        ("RISKY", "KIT"): 500,
    }
    assert plan.total_cost == pytest.approx(6020)


def test_money_limits_coverage_through_hazard_adjusted_costs():
    plan = solve(
        missions="""
            mission_id,zone_id,priority
            RISKY,Z2,1
        """,
        zones="""
            zone_id,hazard_multiplier
            Z2,2
        """,
        resources=people(10, unit_cost=100),
        requirements=needs(RISKY=10),
        funding="""
            source_id,amount
            CORE,1200
        """,
    )
    # 10 linguists at 100 x 2 danger pay = 2000 for full coverage; 1200 buys 6 of them
    assert coverage(plan) == {"RISKY": pytest.approx(0.6)}
    assert plan.unmet[["needed", "allocated", "shortfall", "shortfall_cost"]].to_dict("records") == [
        {"needed": 10.0, "allocated": 6.0, "shortfall": 4.0, "shortfall_cost": 800.0}
    ]


# -- capacity: reserve, availability by period, zone caps -----------------------------------


def test_reserve_holds_back_units():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        resources=people(10, reserve="20%"),
        requirements=needs(A=10),
    )
    assert coverage(plan) == {"A": pytest.approx(0.8)}  # 10 less a 20% reserve leaves 8
    row = plan.resources.iloc[0]
    assert (row["available"], row["reserve"], row["usable"], row["used"]) == pytest.approx((10, 2, 8, 8))


def test_reserve_lever_replaces_every_reserve_share():
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        zones=ZONES,
        funding=MONEY,
        resources=people(10, reserve="20%"),
        requirements=needs(A=10),
        settings=LINEAR,
    )
    plan = optimise(portfolio, portfolio.levers.changed(reserve_share=0.5))
    assert coverage(plan) == {"A": pytest.approx(0.5)}


def test_availability_overrides_one_period():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        periods="period_id,name\nP1,2027-Q1\nP2,2027-Q2",
        availability="resource_id,period_id,available\nP,P2,5",
        resources=people(10),
        requirements=needs(A=10),
    )
    assert coverage(plan) == {("A", "P1"): 1.0, ("A", "P2"): 0.5}
    assert plan.resources["available"].tolist() == [10.0, 5.0]


def test_zone_cap_binds_on_personnel_only():
    plan = solve(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        zones="zone_id,personnel_cap\nZ1,6",
        resources="""
            resource_id,name,kind,unit_cost,available
            P,Linguist,personnel,0,20
            KIT,Kit,equipment,0,20
        """,
        requirements="mission_id,resource_id,quantity\nA,P,10\nA,KIT,10",
    )
    # 6 people allowed in the zone for a need of 10 (the 10 kits do not count)
    assert coverage(plan) == {"A": pytest.approx(0.6)}
    zone = plan.zones.iloc[0]
    assert (zone["personnel"], zone["cap"]) == (6.0, 6.0)
    # one more person allowed: 1/10 more coverage of a tier-1 mission, 16/10
    assert zone["shadow_price"] == pytest.approx(1.6)
    assert plan.resources["shadow_price"].tolist() == [0.0, 0.0]


# -- commitments: must-fund floors, on/off minimums -------------------------------------------


def test_must_fund_floor_forces_coverage_at_the_expense_of_higher_priority():
    plan = solve(
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            TOP,Z1,1,no,
            PLEDGE,Z1,5,yes,60%
        """,
        resources=people(10),
        requirements=needs(TOP=10, PLEDGE=10),
    )
    assert coverage(plan) == {"TOP": pytest.approx(0.4), "PLEDGE": pytest.approx(0.6)}


@pytest.mark.parametrize("integer", ["yes", "no"])
@pytest.mark.parametrize(
    ("available", "expected"),
    [
        # 3 linguists cannot run the mission at its 50% minimum: it is off, the tier-3 one gets them
        (3, {"MINIMUM": 0.0, "OTHER": 0.3}),
        # 6 reach the minimum: 6 to the tier-1 mission
        (6, {"MINIMUM": 0.6, "OTHER": 0.0}),
    ],
)
def test_on_off_mission_is_off_or_at_least_its_minimum(integer, available, expected):
    plan = solve(
        settings=f"key,value\ndiminishing_returns,no\ninteger,{integer}",
        missions="""
            mission_id,zone_id,priority,min_coverage
            MINIMUM,Z1,1,50%
            OTHER,Z1,3,
        """,
        resources=people(available),
        requirements=needs(MINIMUM=10, OTHER=10),
    )
    assert coverage(plan) == pytest.approx(expected)


# -- policies -------------------------------------------------------------------------------

TWO_REGIONS = """
    mission_id,zone_id,priority,running_cost
    EAST,Z1,1,100
    WEST,Z2,2,100
"""
DESKS = """
    resource_id,kind,unit_cost
    DESK,equipment,0
"""
EACH_A_DESK = "mission_id,resource_id,quantity\nEAST,DESK,1\nWEST,DESK,1"
HUNDRED = "source_id,amount\nCORE,100"


def test_without_policies_money_goes_to_the_higher_tier():
    plan = solve(missions=TWO_REGIONS, resources=DESKS, requirements=EACH_A_DESK, funding=HUNDRED)
    assert coverage(plan) == {"EAST": 1.0, "WEST": 0.0}


def test_min_budget_share_guarantees_a_region_its_share():
    plan = solve(
        missions=TWO_REGIONS,
        resources=DESKS,
        requirements=EACH_A_DESK,
        funding=HUNDRED,
        policies="rule,scope_type,scope_value,value\nmin_budget_share,region,West,40%",
    )
    # West must get 40% of the 100 spent: 40 to WEST, 60 to EAST; value 16*0.6 + 8*0.4
    assert coverage(plan) == {"EAST": pytest.approx(0.6), "WEST": pytest.approx(0.4)}
    assert plan.value == pytest.approx(12.8)


def test_max_budget_share_caps_a_region():
    plan = solve(
        missions=TWO_REGIONS,
        resources=DESKS,
        requirements=EACH_A_DESK,
        funding=HUNDRED,
        policies="rule,scope_type,scope_value,value\nmax_budget_share,zone,Z1,50%",
    )
    assert coverage(plan) == {"EAST": pytest.approx(0.5), "WEST": pytest.approx(0.5)}
    assert plan.value == pytest.approx(12.0)


def test_min_average_coverage_lifts_a_tier_in_every_period():
    plan = solve(
        missions="""
            mission_id,zone_id,priority,weight
            FAVOURITE,Z1,1,1.5
            SMALL,Z1,2,1
            BIG,Z1,2,2
        """,
        periods="period_id\nP1\nP2",
        resources=people(10),
        requirements=needs(FAVOURITE=10, SMALL=10, BIG=10),
        policies="rule,scope_type,scope_value,value\nmin_average_coverage,priority,2,50%",
    )
    # tier 2 must average 50%: the 10 linguists go to BIG (worth 16) in both periods,
    # although FAVOURITE would be worth 24
    for period in ("P1", "P2"):
        assert coverage(plan)[("BIG", period)] == pytest.approx(1.0)
        assert coverage(plan)[("FAVOURITE", period)] == pytest.approx(0.0)
    assert plan.value == pytest.approx(32.0)


def test_model_keeps_handles_for_relaxing_commitments():
    portfolio = make_portfolio(
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            A,Z1,1,yes,50%
            B,Z2,2,no,30%
        """,
        zones="zone_id,region,personnel_cap\nZ1,East,5\nZ2,West,",
        resources=people(10, unit_cost=100, integer="no"),
        requirements=needs(A=10, B=10),
        funding=MONEY,
        policies="rule,scope_type,scope_value,value\nmin_budget_share,region,West,10%\n"
        "min_average_coverage,region,East,50%",
        settings=LINEAR,
    )
    model = build_model(apply_levers(portfolio))
    assert list(model.must_fund) == [("A", "P1")]
    assert list(model.running) == [("B", "P1")]
    assert list(model.zone_caps) == [("Z1", "P1")]
    assert list(model.capacity) == [("P", "P1")]
    assert list(model.budgets) == [("CORE", "P1")]
    assert sorted(model.policies, key=str) == [(0, None), (1, "P1")]
    assert model.units == {}  # continuous resources: units are quantity x coverage
    assert model.problem.sense == -1  # maximise value
