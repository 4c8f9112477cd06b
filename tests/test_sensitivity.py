"""What binds and what it is worth: shadow prices in words, ranked by the value of a step;
how far each limit can move before its price changes; and, for integer plans, what more
really adds, measured by solving again."""

from __future__ import annotations

import json
import textwrap

import openpyxl
import pytest
from conftest_reading import write_csv_texts

from optimiser import wording
from optimiser.cli import main
from optimiser.entry import optimise
from optimiser.read import read_tables
from optimiser.report import plan_to_dict, report_workbook
from optimiser.report.derived import ranked_sensitivity
from optimiser.sensitivity import explain, price_ranges, top_sentences, what_if_more
from optimiser.validate import validate

ONE_ZONE = "zone_id\nZ1"
LINEAR = "key,value\ndiminishing_returns,no\ninteger,no"


def portfolio(**sheets: str):
    sheets.setdefault("zones", ONE_ZONE)
    sheets.setdefault("funding", "source_id,name,amount\nCORE,Core budget,1000000000")
    sheets.setdefault("settings", LINEAR)
    tables = {name.capitalize(): textwrap.dedent(text).strip() + "\n" for name, text in sheets.items()}
    return validate(read_tables(tables))


# -- wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "unit", "one"),
    [
        ("Military engineers", "person", "Military engineer"),
        ("Utility helicopters (Mi-8/Mi-17 class)", "helicopter", "Utility helicopter (Mi-8/Mi-17 class)"),
        ("Tactical communications kits", "kit", "Tactical communications kit"),
        ("Generators (100 kVA)", "generator", "Generator (100 kVA)"),
        ("Batteries", "unit", "Battery"),
        ("Field hospital, role 1", "facility", "Field hospital, role 1"),
        ("Linguist", "person", "Linguist"),
        ("Infantry (formed units)", "person", "person of Infantry (formed units)"),
        ("Medical staff (doctors)", "person", "person of Medical staff (doctors)"),
        ("Mediators and political officers", "person", "person (Mediators and political officers)"),
    ],
)
def test_one_unit_of_a_resource_reads_in_the_singular(name, unit, one):
    assert wording.singular(name, unit) == one
    assert wording.count_of(1, name, unit) == f"1 {one}"
    assert wording.count_of(850, name, unit) == f"850 {name}"


# -- shadow prices in words ---------------------------------------------------------------------


def test_one_more_person_is_priced_per_unit_and_per_round_sum_of_its_cost():
    plan = optimise(
        portfolio(
            missions="mission_id,zone_id,priority\nA,Z1,1",
            resources="""
                resource_id,name,kind,unit,unit_cost,available
                ENG,Military engineers,personnel,person,100,5
            """,
            requirements="mission_id,resource_id,quantity\nA,ENG,10",
        )
    )
    # an engineer is worth 16/10 = 1.6; at 100 each, USD 1m of engineers would be worth 16,000
    assert plan.sensitivity["sentence"].tolist() == [
        "One more Military engineer in P1 adds 1.6 value (16,000 per USD 1m of its cost)"
    ]


def test_money_is_spoken_of_per_1m_when_budgets_are_large():
    plan = optimise(
        portfolio(
            missions="mission_id,zone_id,priority,running_cost\nA,Z1,1,20000000",
            resources="resource_id,kind,unit_cost\nR,equipment,0",
            requirements="mission_id,resource_id,quantity\nA,R,0",
            funding="source_id,name,amount\nCORE,Core budget,10000000",
        )
    )
    # 20m covers A fully (16 value): 0.8 per 1m
    [row] = plan.sensitivity.itertuples()
    assert (row.step, row.gain) == pytest.approx((1e6, 0.8))
    assert row.sentence == "One more USD 1m of Core budget in P1 adds 0.8 value"


def test_constraints_are_ranked_by_what_a_step_adds_not_by_the_price_per_unit():
    plan = optimise(
        portfolio(
            missions="""
                mission_id,zone_id,type,priority,running_cost
                PEOPLE,Z1,mediation,1,0
                MONEY,Z1,humanitarian,1,20000000
            """,
            resources="resource_id,name,kind,unit,unit_cost,available\nLING,Linguists,personnel,person,0,5",
            requirements="mission_id,resource_id,quantity\nPEOPLE,LING,10\nMONEY,LING,0",
            funding="source_id,name,amount,eligible_types\nHUM,Humanitarian fund,10000000,humanitarian",
        )
    )
    # a linguist: 1.6 per person; money: 8e-7 per dollar, 0.8 per 1m. Per unit, the dollar
    # is tiny; per step, the linguist still comes first, then the money.
    ranked = ranked_sensitivity(plan)
    assert ranked["id"].tolist() == ["LING", "HUM"]
    assert top_sentences(plan) == [
        "One more Linguist in P1 adds 1.6 value",
        "One more USD 1m of Humanitarian fund in P1 adds 0.8 value",
    ]
    assert [r["id"] for r in plan_to_dict(plan)["sensitivity"]] == ["LING", "HUM"]


# -- ranges -------------------------------------------------------------------------------------

RANGED = dict(
    missions="mission_id,zone_id,priority\nA,Z1,1\nB,Z1,2",
    resources="""
        resource_id,name,kind,unit,unit_cost,available
        LING,Linguists,personnel,person,0,5
        VEH,Vehicles,equipment,vehicle,0,20
    """,
    requirements="mission_id,resource_id,quantity\nA,LING,10\nA,VEH,4",
)


def test_a_binding_limit_keeps_its_price_until_the_mission_it_feeds_is_full():
    plan = optimise(portfolio(**RANGED))
    ranges = price_ranges(plan).set_index("id")
    # A (priority 1) gets the 5 linguists: 1.6 each from 0 up to 10, where A is full
    linguists = ranges.loc["LING"]
    assert (linguists.limit, linguists.used, linguists.shadow_price) == pytest.approx((5, 5, 1.6))
    assert (linguists.low, linguists.high) == pytest.approx((0, 10))
    assert linguists.sentence == (
        "Linguists in P1: 1.6 value per person holds from 0 to 10 (now 5; 5 more at most)"
    )
    # vehicles: A at half coverage uses 2 of 20
    vehicles = ranges.loc["VEH"]
    assert (vehicles.shadow_price, vehicles.low) == pytest.approx((0, 2))
    assert vehicles.sentence == (
        "Vehicles in P1: not binding; it could fall by 18 (to 2) before it limits the plan"
    )


# -- re-solve answers ---------------------------------------------------------------------------

ALL_OR_NOTHING = dict(
    missions="""
        mission_id,zone_id,priority,min_coverage
        FLAGSHIP,Z1,1,100%
        SMALL,Z1,3,0
    """,
    resources="resource_id,name,kind,unit,unit_cost,available\nLING,Linguist,personnel,person,0,9",
    requirements="mission_id,resource_id,quantity\nFLAGSHIP,LING,10\nSMALL,LING,10",
    settings="key,value\ndiminishing_returns,no",
)


def test_what_if_more_measures_what_whole_units_deliver():
    data = portfolio(**ALL_OR_NOTHING)
    plan = optimise(data)
    # 9 linguists cannot run FLAGSHIP (all or nothing at 10): SMALL gets them, 0.9 x 4 = 3.6
    assert plan.value == pytest.approx(3.6)
    answers = what_if_more(data, top=5, plan=plan)
    [row] = answers.itertuples()
    # the shadow price (SMALL's 0.4 per linguist) promised 0.4 for one more; solving again
    # with 10 runs FLAGSHIP: 16 - 3.6 = 12.4
    assert (row.kind, row.id, row.change) == ("resource", "LING", "+1 Linguist per period (+10%)")
    assert row.estimated_gain == pytest.approx(0.4)
    assert row.measured_gain == pytest.approx(12.4)
    assert row.sentence == "+1 Linguist per period (+10%) adds 12.4 value (shadow prices promised 0.4)"


def test_explain_fills_ranges_and_what_if_for_report_and_json():
    data = portfolio(**ALL_OR_NOTHING)
    plan = explain(data, top=5)
    assert plan.ranges["id"].tolist() == ["LING"]
    assert plan.what_if["measured_gain"].tolist() == pytest.approx([12.4])
    result = plan_to_dict(plan)
    assert result["what_if"][0]["measured_gain"] == pytest.approx(12.4)
    assert result["ranges"][0]["id"] == "LING"
    sheet = report_workbook(plan)["Sensitivity"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "What more would add, measured by solving again" in cells
    assert "How far each limit can move before its shadow price changes" in cells
    assert any(isinstance(c, str) and "adds 12.4 value" in c for c in cells)


def test_a_continuous_plan_is_not_solved_again():
    plan = explain(portfolio(**RANGED))
    assert plan.what_if.empty and len(plan.ranges) == 2


def test_cli_explain_prints_sentences_ranges_and_measured_answers(tmp_path, capsys):
    sheets = {"zones": ONE_ZONE, "funding": "source_id,amount\nCORE,1000", **ALL_OR_NOTHING}
    folder = write_csv_texts(tmp_path / "book", sheets)
    code = main(["solve", str(folder), "--explain", "--json", str(tmp_path / "r.json"),
                 "--out", str(tmp_path / "r.xlsx")])
    out = capsys.readouterr().out
    assert code == 0
    assert "What binds, ranked by the value more would add (top 10):" in out
    assert "1. One more Linguist in P1 adds 0.4 value" in out
    assert "Linguist in P1: 0.4 value per person holds" in out
    assert "adds 12.4 value (shadow prices promised 0.4)" in out
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["what_if"]
    assert "Sensitivity" in openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames


def test_several_re_solves_run_side_by_side_in_processes():
    data = portfolio(
        missions="""
            mission_id,zone_id,priority,min_coverage,running_cost
            FLAGSHIP,Z1,1,100%,0
            SMALL,Z1,3,0,0
            PAID,Z1,2,0,1000
        """,
        resources=ALL_OR_NOTHING["resources"],
        requirements=ALL_OR_NOTHING["requirements"] + "\nPAID,LING,0",
        funding="source_id,name,amount\nCORE,Core budget,500",
        settings="key,value\ndiminishing_returns,no",
    )
    answers = what_if_more(data, top=5, workers=2).set_index("id")
    # one more linguist runs FLAGSHIP (+12.4); 10% more money (50 of 1000) gives PAID 5%
    # more coverage, 8 x 0.05 = 0.4
    assert answers["measured_gain"].to_dict() == pytest.approx({"LING": 12.4, "CORE": 0.4})
    assert answers.loc["CORE", "change"] == "+USD 50 of Core budget over all periods (+10%)"
