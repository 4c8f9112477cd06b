"""Comparing two plans mission by mission, on portfolios whose plans are worked out by hand.

One period: three missions (priority 1, 2, 3), one TEAM each at 100 money, money the only
limit (see test_sweep.py). At budget 300 all three are covered; at 150, M1 fully, M2
half, M3 not at all. So from A (300) to B (150): M3 drops (coverage -100%, cost -100,
TEAM -1), M2 is reduced (-50%, -50, TEAM -0.5), M1 is unchanged.

Two periods (Q1, Q2): funding 300 in Q1, 150 in Q2 at budget 1 -> Q1 all covered, Q2
M1 full and M2 half. At budget 0.5: Q1 M1 full, M2 half; Q2 M1 at 75%.
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from conftest_reading import write_csv_texts

from optimiser import Comparison, InvalidInput, compare_plans, optimise, plan_to_dict, validate, write_json
from optimiser.cli import main
from optimiser.explore import load_result, write_comparison
from optimiser.explore.text import comparison_text
from optimiser.read import read_tables

ONE_PERIOD = {
    "missions": """
        mission_id,name,zone_id,priority,must_fund,min_coverage
        M1,Alpha,Z1,1,no,0
        M2,Bravo,Z1,2,no,0
        M3,"=HYPERLINK(""http://x"")",Z1,3,no,0
    """,
    "zones": "zone_id\nZ1\n",
    "resources": "resource_id,kind,unit_cost,available,integer\nTEAM,personnel,100,,no\n",
    "requirements": "mission_id,resource_id,quantity\nM1,TEAM,1\nM2,TEAM,1\nM3,TEAM,1\n",
    "funding": "source_id,amount\nCORE,300\n",
    "settings": "key,value\ndiminishing_returns,no\ninteger,no\n",
}
TWO_PERIODS = {
    **ONE_PERIOD,
    "periods": "period_id\nQ1\nQ2\n",
    "funding": "source_id,amount,period\nCORE,300,Q1\nCORE,150,Q2\n",
}


@pytest.fixture(scope="module")
def portfolio():
    return validate(read_tables(ONE_PERIOD))


@pytest.fixture(scope="module")
def plans(portfolio):
    return optimise(portfolio), optimise(portfolio, portfolio.levers.changed(budget_scale=0.5))


@pytest.fixture(scope="module")
def comparison(plans) -> Comparison:
    return compare_plans(*plans)


def test_missions_are_sorted_by_the_size_of_their_change(comparison):
    table = comparison.missions
    assert list(table["mission_id"]) == ["M3", "M2", "M1"]
    assert list(table["change"]) == ["dropped", "reduced", "unchanged"]


def test_the_changes_in_coverage_cost_and_resources_are_right(comparison):
    table = comparison.missions.set_index("mission_id")
    assert table["coverage_a"].to_dict() == pytest.approx({"M1": 1, "M2": 1, "M3": 1})
    assert table["coverage_b"].to_dict() == pytest.approx({"M1": 1, "M2": 0.5, "M3": 0})
    assert table["coverage_change"].to_dict() == pytest.approx({"M1": 0, "M2": -0.5, "M3": -1})
    assert table["cost_change"].to_dict() == pytest.approx({"M1": 0, "M2": -50, "M3": -100})
    assert table["resources_change"].to_dict() == {"M1": "", "M2": "TEAM -0.5", "M3": "TEAM -1"}
    assert table.loc["M3", "name"] == '=HYPERLINK("http://x")'
    resources = comparison.resources
    assert list(resources["mission_id"]) == ["M3", "M2"]
    assert list(resources["change"]) == pytest.approx([-1, -0.5])


def test_the_headline_figures_and_their_changes(comparison):
    assert comparison.figure("value") == pytest.approx((28, 20, -8))
    assert comparison.figure("total_cost") == pytest.approx((300, 150, -150))
    assert comparison.figure("missions_covered") == pytest.approx((3, 2, -1))
    assert comparison.figure("missions_fully_covered") == pytest.approx((3, 1, -2))
    assert comparison.figure("status")[:2] == ("optimal", "optimal")
    assert len(comparison.changed) == 2
    assert "value 28.00 -> 20.00" in repr(comparison)


def test_plans_json_dicts_and_json_files_compare_the_same(plans, comparison, tmp_path):
    a, b = plans
    from_dicts = compare_plans(plan_to_dict(a), plan_to_dict(b))
    path_a, path_b = write_json(a, tmp_path / "a.json"), write_json(b, tmp_path / "b.json")
    from_files = compare_plans(path_a, str(path_b))
    mixed = compare_plans(a, path_b)
    for other in (from_dicts, from_files, mixed):
        assert other.missions.equals(comparison.missions)
    assert from_files.labels == ("a.json", "b.json")
    assert comparison.labels == ("A", "B")


def test_coverage_is_the_mean_over_periods_and_cost_the_sum():
    portfolio = validate(read_tables(TWO_PERIODS))
    a = optimise(portfolio)
    b = optimise(portfolio, portfolio.levers.changed(budget_scale=0.5))
    table = compare_plans(a, b).missions.set_index("mission_id")
    # M1: A full twice; B full in Q1, 75% in Q2.  M2: A 100%, 50%; B 50%, 0.  M3: A 100%, 0; B 0, 0.
    assert table["coverage_a"].to_dict() == pytest.approx({"M1": 1, "M2": 0.75, "M3": 0.5})
    assert table["coverage_b"].to_dict() == pytest.approx({"M1": 0.875, "M2": 0.25, "M3": 0})
    assert table["cost_a"].to_dict() == pytest.approx({"M1": 200, "M2": 150, "M3": 100})
    assert table["cost_b"].to_dict() == pytest.approx({"M1": 175, "M2": 50, "M3": 0})
    # Units per period, mean over the mission's two periods: M2 0.75 -> 0.25.
    assert table.loc["M2", "resources_change"] == "TEAM -0.5"
    assert list(table.index) == ["M2", "M3", "M1"]  # |-0.5| with cost -100, |-0.5| with -100 ... then -0.125
    assert table.loc["M1", "change"] == "reduced"


def test_an_infeasible_plan_compares_as_no_plan_not_as_every_mission_dropped(portfolio, plans):
    strict = validate(read_tables({**ONE_PERIOD, "missions": ONE_PERIOD["missions"].replace(
        "M1,Alpha,Z1,1,no,0", "M1,Alpha,Z1,1,yes,1")}))
    impossible = optimise(strict, strict.levers.changed(budget_scale=0.1))
    assert not impossible.has_plan
    comparison = compare_plans(plans[0], impossible)
    assert set(comparison.missions["change"]) == {"B has no plan"}  # not "dropped": B made no choice
    assert not comparison.both_planned
    assert "B (B) has no plan" in comparison_text(comparison)
    assert "dropped" not in comparison_text(comparison)


def test_a_file_that_is_not_a_result_is_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    with pytest.raises(InvalidInput, match=r"bad\.json: is not a mission-optimiser result"):
        load_result(bad)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InvalidInput, match="is not JSON"):
        compare_plans(tmp_path / "broken.json", bad)


def test_the_workbook_lists_missions_largest_change_first(comparison, tmp_path):
    book = openpyxl.load_workbook(write_comparison(comparison, tmp_path / "changes.xlsx"))
    assert book.sheetnames == ["Summary", "Missions", "Resources"]
    missions = book["Missions"]
    assert [missions.cell(row=r, column=1).value for r in (2, 3, 4)] == ["M3", "M2", "M1"]
    assert missions.cell(row=2, column=9).value == pytest.approx(-100)
    assert missions.cell(row=2, column=9).number_format == "#,##0"
    name = missions.cell(row=2, column=2)
    assert name.value == '=HYPERLINK("http://x")' and name.data_type == "s" and name.quotePrefix
    assert missions.freeze_panes == "C2"
    csv = write_comparison(comparison, tmp_path / "changes.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[1].startswith("M3,\"'=HYPERLINK")  # a spreadsheet will not run it


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    return write_csv_texts(tmp_path / "portfolio", ONE_PERIOD)


def test_compare_command_on_two_json_results(plans, tmp_path, capsys):
    a, b = write_json(plans[0], tmp_path / "base.json"), write_json(plans[1], tmp_path / "cut.json")
    out = tmp_path / "changes.xlsx"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cut.json against base.json" in printed
    assert printed.index("M3") < printed.index("M2")
    assert "2 of 3 missions changed" in printed
    assert out.exists()


def test_compare_command_on_one_workbook_with_set_b(folder, capsys):
    assert main(["compare", str(folder), "--set-b", "budget_scale=0.5"]) == 0
    printed = capsys.readouterr().out
    assert "portfolio with budget_scale=0.5 against portfolio" in printed
    assert "dropped" in printed


def test_compare_command_on_two_workbooks_exits_1_when_one_has_no_plan(folder, tmp_path, capsys):
    other = tmp_path / "strict"
    other.mkdir()
    for file in folder.iterdir():
        (other / file.name).write_text(file.read_text())
    missions = (other / "missions.csv").read_text().replace("M1,Alpha,Z1,1,no,0", "M1,Alpha,Z1,1,yes,1")
    (other / "missions.csv").write_text(missions)
    assert main(["compare", str(folder), str(other), "--set", "budget_scale=0.1"]) == 1
    assert "strict: no plan is possible (infeasible)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [
        ["{folder}"],  # no B and no --set-b
        ["{folder}", "{folder}", "--out", "changes.pdf"],
        ["{folder}", "--set-b", "budget_scael=1"],
        ["{missing}", "{folder}"],
        ["{result}", "{result}", "--set", "budget_scale=1"],
        ["{folder}", "{result}", "--set-b", "budget_scale=1"],
    ],
)
def test_compare_command_refuses_bad_arguments_with_exit_2(folder, plans, tmp_path, arguments):
    result = write_json(plans[0], tmp_path / "result.json")
    paths = {"folder": folder, "missing": tmp_path / "missing.json", "result": result}
    assert main(["compare", *(a.format(**paths) for a in arguments)]) == 2
