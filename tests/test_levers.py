"""Scenario levers: parsing as planners type them, and what apply_levers hands the model."""

import math

import pytest

from optimiser import InvalidInput, Levers, PriorityMode, SolverName, apply_levers, validate
from optimiser.read import read_tables

TABLES = {
    "Missions": """
        mission_id,zone_id,priority,must_fund,start_period,end_period
        M1,Z1,1,no,Q1,Q2
        M2,Z2,2,no,Q2,
    """,
    "Zones": """
        zone_id,region,personnel_cap
        Z1,Sahel,100
        Z2,Levant,
    """,
    "Resources": """
        resource_id,kind,unit_cost,available,reserve_share
        INF,personnel,1000,200,10%
        VEH,equipment,500,40,0
        SAT,equipment,100,,0
    """,
    "Requirements": """
        mission_id,resource_id,quantity
        M1,INF,50
        M2,VEH,5
    """,
    "Funding": """
        source_id,amount,period,eligible_types
        CORE,"1,000,000",,
        UN,500000,Q1,peacekeeping
        UN,250000,Q3,peacekeeping
    """,
    "Periods": """
        period_id
        Q1
        Q2
        Q3
    """,
    "Availability": """
        resource_id,period_id,available
        INF,Q2,100
    """,
}


@pytest.fixture(scope="module")
def portfolio():
    return validate(read_tables(TABLES))


def test_settings_parse_as_typed():
    levers = Levers().with_settings(
        {
            "Budget scale": "90%",
            "personnel_scale": "0,8",
            "reserve_share": "15%",
            "priority_weights": "1:20,5:0.5",
            "priority_mode": "Strict",
            "diminishing_returns": "n",
            "integer": "no",
            "solver": "CBC",
            "time_limit_s": "30",
            "mip_gap": "1%",
            "source_scale.CORE": "0.5",
            "zone_cap.Z1": "",
            "must_fund.M2": "x",
            "priority.M1": "3",
        }
    )
    assert levers.budget_scale == pytest.approx(0.9)
    assert levers.personnel_scale == pytest.approx(0.8)
    assert levers.reserve_share == pytest.approx(0.15)
    assert levers.priority_weights == (20.0, 8.0, 4.0, 2.0, 0.5)
    assert levers.priority_mode is PriorityMode.STRICT
    assert (levers.diminishing_returns, levers.integer) == (False, False)
    assert levers.solver is SolverName.CBC
    assert (levers.time_limit_s, levers.mip_gap) == (30.0, pytest.approx(0.01))
    assert levers.source_scale == {"CORE": 0.5}
    assert levers.zone_cap == {"Z1": None}
    assert levers.must_fund == {"M2": True}
    assert levers.priority == {"M1": 3}


def test_every_bad_setting_is_reported_at_once():
    with pytest.raises(InvalidInput) as caught:
        Levers().with_settings(
            {"budget_scael": "1", "mip_gap": "lots", "priority.M1": "7", "solver": "gurobi"}
        )
    messages = [str(p) for p in caught.value.errors]
    assert len(messages) == 4
    assert any("'budget_scael' is not a setting" in m for m in messages)
    assert any("mip_gap" in m and "not a number" in m for m in messages)
    assert any("priority.M1" in m and "1 to 5" in m for m in messages)
    assert any("solver" in m and "highs, cbc" in m for m in messages)


def test_levers_round_trip_through_settings_text():
    levers = Levers().with_settings(
        {"budget_scale": "0.85", "priority_weights": "10,5,3,2,1", "zone_cap.Z1": "40", "must_fund.M2": "yes"}
    )
    assert Levers().with_settings(levers.as_settings()) == levers


def test_capacity_is_scaled_overridden_and_reserved(portfolio):
    scenario = apply_levers(portfolio, portfolio.levers.changed(personnel_scale=0.5, equipment_scale=2.0))
    cap = scenario.capacity.set_index(["resource_id", "period_id"])
    # INF: 200 available, 100 in Q2 (override), halved, 10% reserve.
    assert cap.loc[("INF", "Q1"), ["available", "reserve", "usable"]].tolist() == pytest.approx([100, 10, 90])
    assert cap.loc[("INF", "Q2"), ["available", "reserve", "usable"]].tolist() == pytest.approx([50, 5, 45])
    assert cap.loc[("VEH", "Q3"), "usable"] == pytest.approx(80)
    assert math.isnan(cap.loc[("SAT", "Q1"), "usable"])


def test_reserve_share_lever_replaces_every_resources_reserve(portfolio):
    scenario = apply_levers(portfolio, portfolio.levers.changed(reserve_share=0.25))
    cap = scenario.capacity.set_index(["resource_id", "period_id"])
    assert cap.loc[("INF", "Q1"), "usable"] == pytest.approx(150)
    assert cap.loc[("VEH", "Q1"), "usable"] == pytest.approx(30)


def test_budget_scale_and_source_scale_multiply(portfolio):
    levers = portfolio.levers.with_settings({"budget_scale": "0.5", "source_scale.UN": "2"})
    budget = apply_levers(portfolio, levers).budget.set_index(["source_id", "period_id"])["amount"]
    assert budget[("CORE", "Q2")] == pytest.approx(500_000)
    assert budget[("UN", "Q1")] == pytest.approx(500_000)
    assert budget[("UN", "Q2")] == pytest.approx(0)
    assert budget[("UN", "Q3")] == pytest.approx(250_000)


def test_active_periods_run_from_start_to_end(portfolio):
    active = apply_levers(portfolio).active
    assert list(active.itertuples(index=False, name=None)) == [
        ("M1", "Q1"),
        ("M1", "Q2"),
        ("M2", "Q2"),
        ("M2", "Q3"),
    ]


def test_item_levers_edit_missions_and_zones(portfolio):
    levers = portfolio.levers.with_settings({"must_fund.M2": "yes", "priority.M1": "4", "zone_cap.Z1": ""})
    edited = apply_levers(portfolio, levers).portfolio
    assert bool(edited.missions.loc["M2", "must_fund"]) is True
    assert edited.missions.loc["M1", "priority"] == 4
    assert math.isnan(edited.zones.loc["Z1", "personnel_cap"])
    assert portfolio.missions.loc["M1", "priority"] == 1  # the validated portfolio is untouched


def test_item_lever_naming_an_unknown_id_is_refused(portfolio):
    with pytest.raises(InvalidInput, match=r"zone_cap\.Z9: .Z9. is not a zone"):
        apply_levers(portfolio, portfolio.levers.with_settings({"zone_cap.Z9": "10"}))
