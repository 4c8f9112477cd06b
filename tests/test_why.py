"""Why is this mission short? (SPEC 4.1), and the per-mission levers cancel, min_coverage
and max_coverage (SPEC 2), on cases solved by hand.

The case: one period, one resource R (10 kits usable), no diminishing returns.
A (priority 2, weight 1.5: worth 8 x 1.5 = 12) needs 20 R; B (priority 3, weight 1: worth
4) needs 10 R. Per kit, A makes 12 / 20 = 0.6 value and B 4 / 10 = 0.4, so A takes all
10 kits (coverage 0.5, value 6) and B gets none.

- Funding B fully: B takes the 10 kits, A none: value 4, so 2 is given up and A loses
  coverage 0.5 -> 0 (value 6).
- B is fully covered once its worth per kit beats A's: 4 w / 10 > 0.6, w > 1.5 (at 1.5 the
  two plans tie at value 6).
- At priority 2 (worth 8, 0.8 per kit) B beats A: the priority needed is 2.
"""

from __future__ import annotations

import json
import math
import textwrap

import openpyxl
import pytest

from optimiser import Levers, optimise
from optimiser.alternatives import alternatives
from optimiser.cli import main
from optimiser.explore import sweep
from optimiser.problems import InvalidInput, Severity
from optimiser.read import read_tables
from optimiser.report import plan_to_dict
from optimiser.scenario import apply_levers, lever_warnings
from optimiser.sensitivity import explain
from optimiser.solve import solve
from optimiser.validate import validate
from optimiser.why import PRECISION, is_fully_covered, why, why_text, with_weight

MISSIONS = """\
    mission_id,name,zone_id,priority,weight,must_fund,min_coverage
    A,Alpha team,Z1,2,1.5,no,0
    B,Bravo team,Z1,3,1,no,0
"""
REQUIREMENTS = """\
    mission_id,resource_id,quantity
    A,R,20
    B,R,10
"""


def sheets(integer: bool = True, missions: str = MISSIONS) -> dict[str, str]:
    tables = {
        "Missions": missions,
        "Zones": "zone_id\nZ1",
        "Resources": "resource_id,name,kind,unit,unit_cost,available\nR,Kits,equipment,kit,1000,10",
        "Requirements": REQUIREMENTS,
        "Funding": "source_id,name,amount\nCORE,Core budget,1000000000",
        "Settings": f"key,value\ndiminishing_returns,no\ninteger,{'yes' if integer else 'no'}",
    }
    return {name: textwrap.dedent(text).strip() + "\n" for name, text in tables.items()}


def portfolio(integer: bool = True, missions: str = MISSIONS):
    return validate(read_tables(sheets(integer, missions)))


def coverage(plan, mission_id: str) -> float:
    return float(plan.missions.set_index("mission_id").at[mission_id, "coverage"])


# -- why -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("integer", [True, False], ids=["whole-units", "relaxed"])
def test_a_mission_short_of_a_used_up_resource_names_it_and_the_higher_value_user(integer):
    answer = why(portfolio(integer), "B")
    assert answer.covered == "not"
    assert answer.coverage == {"P1": pytest.approx(0.0)}
    (lack,) = answer.lacks
    assert lack["period_id"] == "P1"
    assert lack["missing"][0]["resource_id"] == "R"
    assert lack["missing"][0]["shortfall"] == pytest.approx(10)
    assert lack["shortfall_cost"] == pytest.approx(10_000)
    resource = [h for h in answer.held_back_by if h["kind"] == "resource"]
    assert [(h["id"], h["period_id"]) for h in resource] == [("R", "P1")]
    assert resource[0]["value_per_unit"] == pytest.approx(0.6)  # A's 12 / 20 at the margin
    assert resource[0]["this_value_per_unit"] == pytest.approx(0.4)  # B's 4 / 10
    (rival,) = answer.competitors
    assert (rival["mission_id"], rival["limit"], rival["uses"]) == ("A", "resource:R", pytest.approx(10))
    assert rival["value_per_unit"] == pytest.approx(0.6)
    assert rival["this_value_per_unit"] == pytest.approx(0.4)
    text = why_text(answer)
    assert "Kits in P1 are used up" in text and "A (priority 2)" in text
    assert "0.6 value per kit against this mission's 0.4 value per kit" in text


@pytest.mark.parametrize("integer", [True, False], ids=["whole-units", "relaxed"])
def test_the_value_given_up_by_funding_it_fully_is_the_difference_of_the_two_plans(integer):
    answer = why(portfolio(integer), "B")
    assert answer.value_given_up == pytest.approx(6.0 - 4.0)
    (loser,) = answer.losers
    assert loser["mission_id"] == "A"
    assert (loser["coverage_before"], loser["coverage_after"]) == (pytest.approx(0.5), pytest.approx(0.0))
    assert loser["value_lost"] == pytest.approx(6.0)


@pytest.mark.parametrize("integer", [True, False], ids=["whole-units", "relaxed"])
def test_the_weight_needed_is_where_the_plan_changes_within_the_stated_precision(integer):
    book = portfolio(integer)
    answer = why(book, "B")
    assert answer.precision == PRECISION
    assert answer.weight_needed_low == pytest.approx(1.5)
    assert answer.weight_needed == pytest.approx(1.5 * (1 + PRECISION))
    scenario = apply_levers(book)
    assert is_fully_covered(solve(with_weight(scenario, "B", answer.weight_needed)), "B", 1.0)
    below = answer.weight_needed_low * (1 - PRECISION)
    assert not is_fully_covered(solve(with_weight(scenario, "B", below)), "B", 1.0)
    assert answer.priority_needed == 2  # worth 8: 0.8 per kit beats A's 0.6
    assert "Weight needed: 1.515 (now 1)" in why_text(answer)


def test_a_fully_covered_mission_has_nothing_to_explain():
    answer = why(portfolio(), "A", Levers(diminishing_returns=False).changed(cancel={"B": True}))
    assert answer.covered == "partly"  # A needs 20 kits: 10 exist
    answer = why(portfolio(), "A", portfolio().levers.changed(max_coverage={"A": 0.5}))
    assert answer.covered == "fully" and not answer.lacks and answer.value_given_up is None


def test_why_of_an_unknown_mission_names_the_known_ones():
    with pytest.raises(InvalidInput, match="'C' is not a mission; known: A and B"):
        why(portfolio(), "C")


def test_why_on_the_command_line_prints_the_answer_and_writes_its_json(tmp_path, capsys):
    folder = tmp_path / "book"
    folder.mkdir()
    for name, text in sheets().items():
        (folder / f"{name.lower()}.csv").write_text(text, encoding="utf-8")
    out = tmp_path / "why.json"
    assert main(["why", str(folder), "B", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "B (Bravo team), priority 3, weight 1: not covered." in printed
    assert "gives up 2 value" in printed
    answer = json.loads(out.read_text(encoding="utf-8"))
    for key in (
        "lacks",
        "held_back_by",
        "competitors",
        "value_given_up",
        "losers",
        "weight_needed",
        "priority_needed",
    ):
        assert key in answer
    assert answer["value_given_up"] == pytest.approx(2.0)
    assert answer["priority_needed"] == 2
    assert main(["why", str(folder), "Z"]) == 2


# -- cancel, min_coverage, max_coverage -------------------------------------------------------------


def test_cancel_gives_a_mission_coverage_0_and_its_resources_to_the_others():
    book = portfolio()
    plan = optimise(book, book.levers.changed(cancel={"A": True}))
    assert coverage(plan, "A") == pytest.approx(0.0)
    assert coverage(plan, "B") == pytest.approx(1.0)
    assert plan.value == pytest.approx(4.0)


def test_cancel_stops_a_must_fund_mission_too():
    must = MISSIONS.replace("A,Alpha team,Z1,2,1.5,no,0", "A,Alpha team,Z1,2,1.5,yes,0.5")
    book = portfolio(missions=must)
    assert coverage(optimise(book), "A") == pytest.approx(0.5)
    plan = optimise(book, book.levers.changed(cancel={"A": True}))
    assert coverage(plan, "A") == pytest.approx(0.0) and coverage(plan, "B") == pytest.approx(1.0)


def test_max_coverage_lever_caps_a_mission_and_the_rest_goes_to_the_next():
    book = portfolio()
    plan = optimise(book, book.levers.with_settings({"max_coverage.A": "25%"}))
    assert coverage(plan, "A") == pytest.approx(0.25)  # 5 kits
    assert coverage(plan, "B") == pytest.approx(0.5)  # the other 5
    assert plan.value == pytest.approx(12 * 0.25 + 4 * 0.5)


def test_max_coverage_0_is_accepted_and_stops_the_mission():
    book = portfolio()
    plan = optimise(book, book.levers.with_settings({"max_coverage.A": "0"}))
    assert coverage(plan, "A") == pytest.approx(0.0) and coverage(plan, "B") == pytest.approx(1.0)


def test_min_coverage_lever_with_must_fund_sets_a_floor():
    book = portfolio()
    plan = optimise(book, book.levers.with_settings({"must_fund.B": "yes", "min_coverage.B": "0.5"}))
    assert coverage(plan, "B") == pytest.approx(0.5)  # 5 kits: its floor, worth less than A's use
    assert coverage(plan, "A") == pytest.approx(0.25)
    assert plan.value == pytest.approx(12 * 0.25 + 4 * 0.5)


def test_min_coverage_above_max_coverage_by_lever_is_refused_naming_it():
    book = portfolio()
    with pytest.raises(InvalidInput, match=r"min_coverage\.A: 80% is above max_coverage 50% of mission A"):
        apply_levers(book, book.levers.with_settings({"min_coverage.A": "0.8", "max_coverage.A": "0.5"}))
    with pytest.raises(InvalidInput, match="is not a share between 0 and 1"):
        book.levers.with_settings({"max_coverage.A": "2"})
    with pytest.raises(InvalidInput, match=r"cancel\.Q: 'Q' is not a mission"):
        apply_levers(book, book.levers.with_settings({"cancel.Q": "yes"}))


def test_the_new_levers_read_back_from_their_settings():
    levers = Levers().with_settings({"cancel.A": "yes", "min_coverage.B": "40%", "max_coverage.B": "0.9"})
    assert (levers.cancel, levers.min_coverage, levers.max_coverage) == ({"A": True}, {"B": 0.4}, {"B": 0.9})
    assert Levers().with_settings(levers.as_settings()) == levers


def test_a_must_fund_lever_on_a_mission_with_min_coverage_0_is_a_warning():
    book = portfolio()
    levers = book.levers.with_settings({"must_fund.B": "yes"})
    (warning,) = lever_warnings(book, levers)
    assert warning.severity is Severity.WARNING
    assert (
        "must_fund.B=yes: must-fund mission B has min_coverage 0, so it is guaranteed nothing"
        in warning.message
    )
    plan = optimise(book, levers)
    assert any("guaranteed nothing" in w.message for w in plan.portfolio.warnings)  # the report's Summary
    assert not lever_warnings(
        book, book.levers.with_settings({"must_fund.B": "yes", "min_coverage.B": "0.5"})
    )
    must = MISSIONS.replace("B,Bravo team,Z1,3,1,no,0", "B,Bravo team,Z1,3,1,yes,0.5")
    book = portfolio(missions=must)
    (warning,) = lever_warnings(book, book.levers.with_settings({"min_coverage.B": "0"}))
    assert "min_coverage.B=0: must-fund mission B" in warning.message


def test_the_must_fund_warning_is_printed_by_solve(tmp_path, capsys):
    folder = tmp_path / "book"
    folder.mkdir()
    for name, text in sheets().items():
        (folder / f"{name.lower()}.csv").write_text(text, encoding="utf-8")
    assert main(["solve", str(folder), "--set", "must_fund.B=yes"]) == 0
    assert "must-fund mission B has min_coverage 0, so it is guaranteed nothing" in capsys.readouterr().err


# -- objective ranging ------------------------------------------------------------------------------


def test_objective_ranging_of_a_relaxed_plan_gives_each_missions_value_range():
    book = portfolio(integer=False)
    plan = explain(book)
    ranges = plan.objective_ranges.set_index("mission_id")
    # A at 0.5 (value 12 per unit): keeps its place down to 8 (B's 0.4 per kit x 20 kits)
    assert ranges.at["A", "value_per_unit"] == pytest.approx(12.0)
    assert ranges.at["A", "low"] == pytest.approx(8.0) and math.isnan(ranges.at["A", "high"])
    assert ranges.at["A", "weight_low"] == pytest.approx(1.0)
    # B at 0 (4 per unit): may rise to 6 (A's 0.6 per kit x 10 kits): weight 1.5, as why finds
    assert ranges.at["B", "high"] == pytest.approx(6.0)
    assert ranges.at["B", "weight_high"] == pytest.approx(1.5)
    assert "may move from any lower to 6 (weight 0 to 1.5, now 1)" in ranges.at["B", "sentence"]
    assert plan_to_dict(plan)["objective_ranges"][1]["high"] == pytest.approx(6.0)
    assert explain(portfolio(integer=True)).objective_ranges.empty  # whole units: why() re-solves


# -- alternatives ---------------------------------------------------------------------------------

CLOSE = """\
    mission_id,name,zone_id,priority,weight,must_fund,min_coverage
    A,Alpha team,Z1,2,1.5,no,0
    B,Bravo team,Z1,2,1.4875,no,0
"""
CLOSE_NEEDS = """\
    mission_id,resource_id,quantity
    A,R,10
    B,R,10
"""


def close_portfolio(integer: bool):
    tables = sheets(integer, CLOSE)
    tables["Requirements"] = textwrap.dedent(CLOSE_NEEDS).strip() + "\n"
    return validate(read_tables(tables))


def test_alternatives_are_within_the_share_and_differ_from_the_plan_and_each_other():
    # A (worth 12) and B (11.9) each need all 10 kits: the plan runs A alone (value 12).
    book = close_portfolio(integer=False)
    found = alternatives(book, count=3, share=0.01)  # floor 11.88
    assert [sorted(a.started) for a in found] == [[("B", "P1")], [("B", "P1")]]
    assert [sorted(a.dropped) for a in found] == [[("A", "P1")], []]
    # 1: B alone (value 11.9); 2: both, B from its start of 25% (A 0.75, B 0.25: 11.975)
    assert [a.plan.value for a in found] == [pytest.approx(11.9), pytest.approx(9 + 0.25 * 11.9)]
    assert all(a.value_share >= 0.99 for a in found)
    assert "Alternative 1: value 11.9 (99.2% of the chosen plan's)" in found[0].sentence("USD")
    closer = alternatives(book, count=3, share=0.005)  # floor 11.94: B alone no longer qualifies
    assert [(a.started, a.dropped) for a in closer] == [([("B", "P1")], [])]


def test_alternatives_in_whole_units_keep_the_floor():
    book = close_portfolio(integer=True)
    plan = optimise(book)
    found = alternatives(book, plan=plan, count=3, share=0.01)
    assert found
    for a in found:
        assert a.plan.value >= 0.99 * plan.value - 1e-9
        assert a.started or a.dropped


def test_solve_with_alternatives_prints_them_and_writes_them_to_the_json_and_report(tmp_path, capsys):
    folder = tmp_path / "book"
    folder.mkdir()
    tables = sheets(False, CLOSE)
    tables["Requirements"] = textwrap.dedent(CLOSE_NEEDS).strip() + "\n"
    for name, text in tables.items():
        (folder / f"{name.lower()}.csv").write_text(text, encoding="utf-8")
    out, report = tmp_path / "plan.json", tmp_path / "plan.xlsx"
    assert main(["solve", str(folder), "--alternatives", "3", "--json", str(out), "--out", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "Plans within 1% of this one's value that run other missions:" in printed
    first = "Alternative 1: value 11.9 (99.2% of the chosen plan's), spends the same; runs B (P1); drops A"
    assert first in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [a["alternative"] for a in data["alternatives"]] == [1, 2]
    sheet = openpyxl.load_workbook(report)["Alternatives"]
    assert sheet["A2"].value == 1 and sheet["G2"].value == "B P1"
    assert main(["solve", str(folder), "--alternatives", "1", "--share", "2"]) == 2


def test_the_new_levers_can_be_swept():
    book = portfolio(integer=False)
    result = sweep(book, None, {"max_coverage.A": "0:0.5:3", "cancel.B": "no,yes"}, workers=1)
    table = result.table.sort_values(["max_coverage.A", "cancel.B"]).reset_index(drop=True)
    # A capped at 0, 0.25, 0.5 (0, 5, 10 kits); B takes the rest unless cancelled
    expected = {(0.0, "no"): 4.0, (0.0, "yes"): 0.0, (0.25, "no"): 3 + 2, (0.25, "yes"): 3.0,
                (0.5, "no"): 6.0, (0.5, "yes"): 6.0}
    got = {(float(a), str(c)): float(v) for a, c, v in zip(table["max_coverage.A"], table["cancel.B"],
                                                          table["value"], strict=True)}
    assert got == pytest.approx(expected)
