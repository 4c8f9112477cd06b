"""Why no plan is possible (SPEC 4): each kind of clash, worded with its exact shortfall,
and the plan that becomes possible when the commitments are relaxed by that much."""

from __future__ import annotations

import json
import textwrap

import pytest
from conftest_reading import write_csv_texts

from optimiser.cli import main
from optimiser.diagnose import diagnose, relax_commitments
from optimiser.entry import optimise
from optimiser.plan import Status
from optimiser.read import read_tables
from optimiser.scenario import apply_levers
from optimiser.validate import validate

ONE_ZONE = "zone_id,name\nZ1,Zone One"
PLENTY = "source_id,name,amount\nCORE,Core budget,1000000000"


def portfolio(**sheets: str):
    sheets.setdefault("zones", ONE_ZONE)
    sheets.setdefault("funding", PLENTY)
    tables = {name.capitalize(): textwrap.dedent(text).strip() + "\n" for name, text in sheets.items()}
    return validate(read_tables(tables))


def clash(**sheets: str):
    """The diagnosis's relaxations of a portfolio whose commitments cannot all hold."""
    found = diagnose(apply_levers(portfolio(**sheets)))
    assert not found.feasible
    return found


# -- the kinds of clash ------------------------------------------------------------------------


def test_must_fund_people_beyond_what_is_left_after_the_reserve():
    found = clash(
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            UNIFIL-CMD,Z1,1,yes,100%
            UNMISS-2,Z1,1,yes,50%
            SPARE,Z1,3,no,0
        """,
        periods="period_id\n2027-Q1",
        resources="""
            resource_id,name,kind,unit,unit_cost,available,reserve_share
            INF,Infantry,personnel,person,100,667,10%
        """,
        requirements="""
            mission_id,resource_id,quantity
            UNIFIL-CMD,INF,500
            UNMISS-2,INF,700
            SPARE,INF,100
        """,
    )
    # 667 less the 10% reserve is 600.3 usable: 600 whole people; the floors need 500 + 350
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id, row.period_id) == ("capacity", "INF", "2027-Q1")
    assert (row.needed, row.available, row.shortfall) == (850, 600, 250)
    assert row.missions == ("UNIFIL-CMD", "UNMISS-2")
    assert found.sentences == (
        "Must-fund UNIFIL-CMD (500) and UNMISS-2 (350) need 850 Infantry in 2027-Q1; "
        "600 are available after the 10% reserve (short 250)",
    )


def test_equipment_shortfall_is_counted_in_whole_units():
    found = clash(
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            A,Z1,1,yes,50%
            B,Z1,1,yes,50%
            C,Z1,2,yes,50%
            D,Z1,2,yes,50%
        """,
        resources="""
            resource_id,name,kind,unit,unit_cost,available
            VEH,Light vehicles,equipment,vehicle,10,10
        """,
        requirements="mission_id,resource_id,quantity\nA,VEH,5\nB,VEH,5\nC,VEH,5\nD,VEH,5",
    )
    # half of 5 vehicles is 2.5: each floor needs 3 whole vehicles, 12 in all, against 10
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.needed, row.available, row.shortfall) == ("capacity", 12, 10, 2)
    assert found.sentences == (
        "Must-fund A (3), B (3), C (3) and D (3) need 12 Light vehicles in P1; 10 are available (short 2)",
    )


def test_money_after_earmarks_is_short_in_the_only_fund_a_mission_may_use():
    found = clash(
        missions="""
            mission_id,zone_id,type,priority,must_fund,min_coverage,running_cost
            RELIEF,Z1,humanitarian,1,yes,100%,1500000
            PATROL,Z1,peacekeeping,1,no,0,1000000
        """,
        resources="resource_id,kind,unit_cost\nR,equipment,0",
        requirements="mission_id,resource_id,quantity\nRELIEF,R,0",
        funding="""
            source_id,name,amount,eligible_types
            HUMRES,Humanitarian reserve,2000000,humanitarian
            CORE,Core budget,50000000,peacekeeping
        """,
        settings="key,value\nbudget_scale,0.5",
    )
    # the humanitarian reserve holds 2m x 0.5 = 1m; the core budget may not pay RELIEF
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id, row.needed, row.available) == ("budget", "HUMRES", 1_500_000, 1_000_000)
    assert row.shortfall == pytest.approx(500_000)
    assert found.sentences == (
        "Must-fund RELIEF needs USD 1,500,000 from Humanitarian reserve in P1; it holds USD 1,000,000 "
        "at a budget scale of 0.5 (short USD 500,000)",
    )


def test_zone_cap_below_the_personnel_that_must_fund_missions_need_there():
    found = clash(
        zones="zone_id,name,personnel_cap\nZ1,Zone One,300\nZ2,Zone Two,",
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            A,Z1,1,yes,100%
            B,Z1,2,yes,50%
            ELSEWHERE,Z2,1,yes,100%
        """,
        resources="""
            resource_id,name,kind,unit,unit_cost,available
            INF,Infantry,personnel,person,1,10000
            MED,Medics,personnel,person,1,10000
        """,
        requirements="""
            mission_id,resource_id,quantity
            A,INF,180
            A,MED,20
            B,INF,300
            ELSEWHERE,INF,500
        """,
    )
    # in Zone One: A needs 180 + 20, B half of 300: 350 people against a cap of 300
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id, row.needed, row.available, row.shortfall) == ("zone_cap", "Z1", 350, 300, 50)
    assert found.sentences == (
        "Must-fund A (200) and B (150) need 350 personnel in Zone One in P1; "
        "the zone's cap is 300 (short 50)",
    )


def test_budget_share_policy_that_must_fund_spending_alone_breaks():
    found = clash(
        missions="""
            mission_id,zone_id,type,priority,must_fund,min_coverage,running_cost
            BLUE,Z1,peacekeeping,1,yes,100%,800
            TALKS,Z1,mediation,2,no,0,200
        """,
        resources="resource_id,kind,unit_cost\nR,equipment,0",
        requirements="mission_id,resource_id,quantity\nBLUE,R,0",
        policies="rule,scope_type,scope_value,value\nmax_budget_share,type,peacekeeping,50%",
    )
    # BLUE costs 800; even with TALKS fully funded (200), peacekeeping is 80% of spending
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id, row.period_id) == ("policy", "0", None)
    assert (row.needed, row.available, row.shortfall) == pytest.approx((0.5, 0.8, 0.3))
    assert found.sentences == (
        "Policy: at most 50% of spending may go to peacekeeping missions; the must-fund commitments put "
        "at least 80% there (over by 30 points)",
    )


def test_average_coverage_policy_beyond_the_people_available():
    found = clash(
        missions="""
            mission_id,zone_id,priority,must_fund,min_coverage
            A,Z1,1,yes,20%
            B,Z1,1,no,0
        """,
        resources="resource_id,name,kind,unit_cost,available\nLING,Linguists,personnel,0,10",
        requirements="mission_id,resource_id,quantity\nA,LING,10\nB,LING,10",
        policies="rule,scope_type,scope_value,value\nmin_average_coverage,priority,1,90%",
        settings="key,value\ninteger,no",
    )
    # 10 linguists cover 10 of the 20 needed: a mean of 50% against 90%. Stretching the
    # policy by 0.8 of 1.8 (44%) is smaller than doubling the linguists (100%).
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.period_id) == ("policy", "P1")
    assert (row.needed, row.available, row.shortfall) == pytest.approx((0.9, 0.5, 0.4))
    assert found.sentences == (
        "Policy: the mean coverage of priority-1 missions must be at least 90% in P1; the people, "
        "equipment and money available allow 50% (short 40 points)",
    )


def test_a_must_fund_mission_no_fund_may_pay_is_named():
    found = clash(
        missions="""
            mission_id,zone_id,type,priority,must_fund,min_coverage,running_cost
            ORPHAN,Z1,attache,1,yes,100%,1000
        """,
        resources="resource_id,kind,unit_cost\nR,equipment,0",
        requirements="mission_id,resource_id,quantity\nORPHAN,R,0",
        funding="source_id,name,amount,eligible_types\nHUMRES,Humanitarian reserve,5000,humanitarian",
    )
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id, row.shortfall) == ("no_funding", "ORPHAN", pytest.approx(1000))
    assert found.sentences[0].startswith(
        "Must-fund ORPHAN costs USD 1,000 in P1 at its 100% floor, but no funding source may pay for it"
    )


def test_max_change_below_a_must_fund_floor_is_a_clash():
    found = clash(
        missions="mission_id,zone_id,priority,must_fund,min_coverage\nA,Z1,1,yes,100%",
        resources="resource_id,kind,unit_cost,available\nP,personnel,0,10",
        requirements="mission_id,resource_id,quantity\nA,P,10",
        baseline="mission_id,period_id,coverage\nA,P1,50%",
        settings="key,value\nmax_change,0.2",
    )
    [row] = found.relaxations.itertuples()
    assert (row.kind, row.id) == ("change_limit", "A")
    assert (row.needed, row.available, row.shortfall) == pytest.approx((1.0, 0.7, 0.3))
    assert found.sentences == (
        "max_change: A may move at most 20 points from today's 50% in P1, but its must-fund floor or the "
        "policies need 100% (a move of 50 points, 30 points more than allowed)",
    )


def test_the_same_clash_in_every_period_is_one_sentence():
    found = clash(
        missions="mission_id,zone_id,priority,must_fund,min_coverage\nA,Z1,1,yes,100%",
        periods="period_id,name\nQ1,Spring\nQ2,Summer",
        resources="resource_id,name,kind,unit_cost,available\nENG,Engineers,personnel,0,8",
        requirements="mission_id,resource_id,quantity\nA,ENG,9",
        settings="key,value\npersonnel_scale,0.5",
    )
    assert found.relaxations["period_id"].tolist() == ["Q1", "Q2"]
    assert found.relaxations["shortfall"].tolist() == [5, 5]
    assert found.sentences == (
        "Must-fund A needs 9 Engineers in every period; 4 are available at personnel_scale 0.5 (short 5)",
    )


def test_a_feasible_portfolio_needs_no_relaxation():
    found = diagnose(
        apply_levers(
            portfolio(
                missions="mission_id,zone_id,priority,must_fund,min_coverage\nA,Z1,1,yes,100%",
                resources="resource_id,kind,unit_cost,available\nP,personnel,0,10",
                requirements="mission_id,resource_id,quantity\nA,P,10",
            )
        )
    )
    assert found.feasible and found.relaxations.empty and found.sentences == ()


# -- the hook in solve, the relaxed plan, the command line ------------------------------------

PEOPLE_CLASH = dict(
    missions="""
        mission_id,zone_id,priority,must_fund,min_coverage
        A,Z1,1,yes,100%
        B,Z1,1,yes,50%
        C,Z1,3,no,0
    """,
    resources="resource_id,name,kind,unit,unit_cost,available\nINF,Infantry,personnel,person,100,600",
    requirements="mission_id,resource_id,quantity\nA,INF,500\nB,INF,700\nC,INF,100",
)
PEOPLE_SENTENCE = "Must-fund A (500) and B (350) need 850 Infantry in P1; 600 are available (short 250)"


def test_solve_puts_the_diagnosis_in_an_infeasible_plan():
    plan = optimise(portfolio(**PEOPLE_CLASH))
    assert plan.status is Status.INFEASIBLE
    assert plan.diagnosis == (PEOPLE_SENTENCE,)
    assert "must-fund" in plan.message and "stretches 1 limit" in plan.message
    assert plan.solver.stages[-1] == "diagnose"


def test_the_relaxed_plan_keeps_the_floors_with_the_shortfall_granted():
    plan = relax_commitments(portfolio(**PEOPLE_CLASH))
    assert plan.status is Status.RELAXED and plan.has_plan
    assert plan.message.startswith("Plan with relaxed commitments")
    assert plan.diagnosis == (PEOPLE_SENTENCE,)
    coverage = dict(zip(plan.missions["mission_id"], plan.missions["coverage"], strict=True))
    assert coverage == pytest.approx({"A": 1.0, "B": 0.5, "C": 0.0})
    assert plan.resources["used"].tolist() == [850]


def test_a_feasible_portfolio_relaxed_is_the_ordinary_plan():
    plan = relax_commitments(
        portfolio(
            missions="mission_id,zone_id,priority\nA,Z1,1",
            resources="resource_id,kind,unit_cost,available\nP,personnel,0,10",
            requirements="mission_id,resource_id,quantity\nA,P,10",
        )
    )
    assert plan.status is Status.OPTIMAL and plan.diagnosis == ()


def write_csv_folder(folder, **sheets: str):
    sheets.setdefault("zones", ONE_ZONE)
    sheets.setdefault("funding", PLENTY)
    return write_csv_texts(folder, sheets)


def test_cli_prints_the_clash_writes_it_to_json_and_exits_1(tmp_path, capsys):
    folder = write_csv_folder(tmp_path / "clash", **PEOPLE_CLASH)
    code = main(["solve", str(folder), "--json", str(tmp_path / "r.json"), "--out", str(tmp_path / "r.xlsx")])
    out = capsys.readouterr().out
    assert code == 1
    assert PEOPLE_SENTENCE in out
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["status"] == "infeasible"
    assert result["diagnosis"] == [PEOPLE_SENTENCE]


def test_cli_relax_commitments_writes_the_relaxed_plan_and_still_exits_1(tmp_path, capsys):
    import openpyxl

    folder = write_csv_folder(tmp_path / "clash", **PEOPLE_CLASH)
    report = tmp_path / "r.xlsx"
    code = main(["solve", str(folder), "--relax-commitments", "--json", str(tmp_path / "r.json"),
                 "--out", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("With the commitments stretched: value") and "Commitments stretched:" in out
    assert "Status:" not in out and out.count("possible (") == 1  # the headline once
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["status"] == "relaxed" and len(result["missions"]) == 3
    sheet = openpyxl.load_workbook(report)["Summary"]
    summary = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "Commitments relaxed" in summary
    assert any(isinstance(c, str) and "short 250" in c for c in summary)
