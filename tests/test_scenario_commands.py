"""``optimiser solve --save`` and ``optimiser scenarios list|show|compare|delete``: output
and exit codes, on the hand-solved portfolio of test_store.py (budget 300: all three
missions covered; budget_scale 0.5: M1 fully, M2 half, M3 not at all).

Every test has its own store (tests/conftest.py sets ``MISSION_OPTIMISER_STORE``).
"""

from __future__ import annotations

import json
import stat

import pytest
from conftest_reading import write_csv_texts
from test_store import ONE_PERIOD

from optimiser.cli import main
from optimiser.read import read_workbook
from optimiser.store import ScenarioStore

INFEASIBLE = {**ONE_PERIOD, "missions": """
    mission_id,name,zone_id,priority,must_fund,min_coverage
    M1,Alpha,Z1,1,yes,100%
    M2,Bravo,Z1,2,yes,100%
    M3,Charlie,Z1,3,yes,100%
""", "funding": "source_id,amount\nCORE,200\n"}  # 300 needed


@pytest.fixture
def folder(tmp_path):
    return write_csv_texts(tmp_path / "portfolio", ONE_PERIOD)


@pytest.fixture
def saved(folder, capsys):
    """Three scenarios of the portfolio: full, half, quarter."""
    assert main(["solve", str(folder), "--save", "full", "--by", "A. Planner", "--note", "as sent"]) == 0
    assert main(["solve", str(folder), "--set", "budget_scale=0.5", "--save", "half", "--by", "B"]) == 0
    assert main(["solve", str(folder), "--set", "budget_scale=0.25", "--save", "quarter", "--by", "B"]) == 0
    capsys.readouterr()
    return folder


def run(capsys, *arguments: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(arguments))
    out, err = capsys.readouterr()
    return code, out, err


def test_solve_save_keeps_the_run_with_its_workbook_levers_and_plan(folder, capsys, scenario_store):
    code, out, _ = run(capsys, "solve", str(folder), "--set", "budget_scale=0.5", "--save", "half",
                       "--by", "A. Planner", "--note", "as asked")
    assert code == 0
    assert f"Scenario 'half' saved in {scenario_store}." in out
    kept = ScenarioStore(scenario_store).get("half")
    assert kept.workbook_name == "portfolio"
    assert kept.workbook_sha256 == read_workbook(folder).source.sha256
    assert kept.levers.budget_scale == 0.5
    assert (kept.saved_by, kept.note) == ("A. Planner", "as asked")
    assert kept.total_cost == pytest.approx(150.0)
    assert {(m["mission_id"], m["coverage"]) for m in kept.result["missions"]} == {
        ("M1", 1.0), ("M2", 0.5), ("M3", 0.0)}
    assert stat.S_IMODE(scenario_store.stat().st_mode) == 0o600


def test_solve_save_again_says_it_replaces(folder, capsys):
    assert run(capsys, "solve", str(folder), "--save", "plan")[0] == 0
    code, out, _ = run(capsys, "solve", str(folder), "--set", "budget_scale=0.5", "--save", "plan")
    assert code == 0
    assert "Scenario 'plan' saved in " in out and "(replacing the one saved " in out


def test_a_plan_that_cannot_be_made_is_saved_with_its_status(tmp_path, capsys, scenario_store):
    folder = write_csv_texts(tmp_path / "impossible", INFEASIBLE)
    code, out, _ = run(capsys, "solve", str(folder), "--save", "impossible")
    assert code == 1
    assert "Scenario 'impossible' saved" in out
    assert ScenarioStore(scenario_store).get("impossible").status == "infeasible"


def test_store_option_wins_over_the_variable(folder, capsys, tmp_path, scenario_store):
    elsewhere = tmp_path / "elsewhere" / "mine.sqlite"
    assert run(capsys, "solve", str(folder), "--save", "here", "--store", str(elsewhere))[0] == 0
    assert [s.name for s in ScenarioStore(elsewhere).list()] == ["here"]
    assert not scenario_store.exists()
    code, out, _ = run(capsys, "scenarios", "list", "--store", str(elsewhere))
    assert code == 0 and "here" in out


def test_a_bad_store_path_stops_the_solve_before_it_starts(folder, capsys, tmp_path):
    code, out, err = run(capsys, "solve", str(folder), "--save", "x", "--store", str(tmp_path))
    assert code == 2
    assert "is a folder" in err
    assert "Optimal" not in out  # nothing was solved


def test_note_without_save_is_an_invalid_argument(folder, capsys):
    code, _, err = run(capsys, "solve", str(folder), "--note", "lost")
    assert code == 2 and "--save" in err


def test_list_shows_each_scenario_with_its_plan(saved, capsys, scenario_store):
    code, out, _ = run(capsys, "scenarios", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Scenarios kept in {scenario_store}: 3"
    assert "portfolio (SHA-256 " in out
    full = next(line for line in lines if line.strip().startswith("full "))
    assert "A. Planner" in full and "100.0%" in full and "300" in full and "as sent" in full
    assert [line.split()[0] for line in lines if line.strip().startswith(("full", "half", "quarter"))] == [
        "full", "half", "quarter"]


def test_list_for_a_workbook_shows_only_its_scenarios(saved, capsys, tmp_path):
    other = write_csv_texts(tmp_path / "other", {**ONE_PERIOD, "funding": "source_id,amount\nCORE,200\n"})
    assert main(["solve", str(other), "--save", "other's"]) == 0
    capsys.readouterr()
    _, out, _ = run(capsys, "scenarios", "list", "--workbook", str(other))
    assert "other's" in out and "full" not in out
    assert out.splitlines()[0].endswith("for other: 1")
    _, everything, _ = run(capsys, "scenarios", "list")
    assert "other's" in everything and "full" in everything


def test_show_gives_every_field_and_the_command_that_plans_it_again(saved, capsys, tmp_path):
    code, out, _ = run(capsys, "scenarios", "show", "half", "--json", str(tmp_path / "half.json"))
    assert code == 0
    assert "Scenario 'half'" in out
    assert "saved      " in out and " by B" in out
    assert "150 USD spent of 150 available" in out
    assert "1 fully covered, 1 partly, 1 not covered" in out
    assert "budget_scale         0.5" in out
    assert "--set budget_scale=0.5" in out
    result = json.loads((tmp_path / "half.json").read_text())
    assert result["total_cost"] == pytest.approx(150.0)


def test_compare_shows_levers_that_differ_headline_and_missions(saved, capsys):
    code, out, _ = run(capsys, "scenarios", "compare", "full", "half", "quarter")
    assert code == 0
    assert out.startswith("3 scenarios of portfolio, each against 'full'")
    levers = out.split("Levers that differ:")[1].split("Plan:")[0]
    assert "budget_scale" in levers and "0.5" in levers and "0.25" in levers
    assert "personnel_scale" not in levers
    spent = next(line for line in out.splitlines() if "money spent" in line)
    assert spent.split()[-4:] == ["150", "(-150)", "75", "(-225)"]
    assert "3 of 3 missions change" in out
    rows = [line.split()[0] for line in out.splitlines() if line.strip().startswith("M")]
    assert rows == ["M3", "M2", "M1"]


def test_delete_forgets_the_scenario(saved, capsys):
    code, out, _ = run(capsys, "scenarios", "delete", "half")
    assert code == 0 and out.startswith("Deleted scenario 'half' of portfolio")
    _, listed, _ = run(capsys, "scenarios", "list")
    assert "half" not in listed and "quarter" in listed


@pytest.mark.parametrize("arguments, message", [
    (["show", "nope"], "no scenario named 'nope'"),
    (["delete", "nope"], "no scenario named 'nope'"),
    (["compare", "full", "nope"], "no scenario named 'nope'"),
    (["compare", "full"], "at least two"),
])
def test_a_name_not_kept_is_exit_code_2_with_the_names_kept(saved, capsys, arguments, message):
    code, out, err = run(capsys, "scenarios", *arguments)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_bad_store_path_is_exit_code_2(capsys, tmp_path):
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("shopping list " * 100)
    code, _, err = run(capsys, "scenarios", "list", "--store", str(not_a_store))
    assert code == 2 and "cannot be used" in err
    code, _, err = run(capsys, "scenarios", "list", "--workbook", str(tmp_path / "missing.xlsx"))
    assert code == 2 and "missing.xlsx" in err


def test_an_empty_store_says_how_to_save(capsys):
    code, out, _ = run(capsys, "scenarios", "list")
    assert code == 0 and "optimiser solve WORKBOOK --save NAME" in out
