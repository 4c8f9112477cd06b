"""The command line: exit codes 0/1/2/3, reports written, problems printed with cells."""

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from conftest_reading import write_csv_texts

from optimiser.cli import main

PORTFOLIO = {
    "missions": "mission_id,zone_id,priority,must_fund,min_coverage\nM1,Z1,1,yes,1\nM2,Z1,2,no,0\n",
    "zones": "zone_id\nZ1\n",
    "resources": "resource_id,kind,unit_cost,available\nINF,personnel,100,10\n",
    "requirements": "mission_id,resource_id,quantity\nM1,INF,6\nM2,INF,8\n",
    "funding": "source_id,amount\nCORE,2000\n",
}


def write_folder(path: Path, **changes: str) -> Path:
    return write_csv_texts(path, {**PORTFOLIO, **changes})


def test_solve_makes_a_plan_writes_reports_and_exits_0(tmp_path, capsys):
    folder = write_folder(tmp_path / "portfolio")
    code = main(
        ["solve", str(folder), "--out", str(tmp_path / "plan.xlsx"), "--json", str(tmp_path / "plan.json")]
    )
    assert code == 0
    result = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    # 10 infantry: M1 (must-fund) takes 6, M2 gets the other 4 of its 8 -> coverage 0.5.
    coverage = {m["mission_id"]: m["coverage"] for m in result["missions"]}
    assert coverage == {"M1": pytest.approx(1.0), "M2": pytest.approx(0.5)}
    assert result["total_cost"] == pytest.approx(1000)
    assert openpyxl.load_workbook(tmp_path / "plan.xlsx").sheetnames[0] == "Summary"
    assert "optimal" in capsys.readouterr().out.lower()


def test_set_overrides_a_lever_for_the_run(tmp_path):
    folder = write_folder(tmp_path / "portfolio")
    assert (
        main(["solve", str(folder), "--set", "budget_scale=0.3", "--json", str(tmp_path / "cut.json")]) == 0
    )
    result = json.loads((tmp_path / "cut.json").read_text(encoding="utf-8"))
    assert result["total_cost"] == pytest.approx(600)  # 2000 x 0.3: only the must-fund 6 people
    assert result["levers"]["budget_scale"] == "0.3"


def test_impossible_commitments_exit_1_with_the_status(tmp_path, capsys):
    folder = write_folder(tmp_path / "portfolio")
    assert main(["solve", str(folder), "--set", "personnel_scale=0.5"]) == 1
    out = capsys.readouterr().out
    assert "infeasible" in out.lower()
    assert "run again with --relax-commitments" in out  # the way to see a plan anyway


def test_invalid_workbook_exits_2_naming_sheet_cell_and_column(tmp_path, capsys):
    folder = write_folder(tmp_path / "portfolio", missions="mission_id,zone_id,priority\nM1,Z9,1\nM2,Z1,7\n")
    assert main(["solve", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "B2" in err and "zone_id" in err and "Z9" in err
    assert "C3" in err and "priority" in err


def test_validate_lists_problems_and_exits_2_or_0(tmp_path, capsys):
    bad = write_folder(
        tmp_path / "bad", requirements="mission_id,resource_id,quantity\nM1,INF,-6\nM2,INF,8\n"
    )
    assert main(["validate", str(bad)]) == 2
    assert "quantity" in capsys.readouterr().err
    assert main(["validate", str(write_folder(tmp_path / "good"))]) == 0


def test_bad_set_and_bad_arguments_exit_2(tmp_path, capsys):
    folder = write_folder(tmp_path / "portfolio")
    assert main(["solve", str(folder), "--set", "budget_scale"]) == 2
    assert main(["solve", str(folder), "--set", "budget_scael=1"]) == 2
    assert "is not a setting" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["solve"])
    assert caught.value.code == 2


def test_a_missing_file_exits_2(tmp_path):
    assert main(["solve", str(tmp_path / "nowhere.xlsx")]) == 2


def test_an_unexpected_failure_exits_3_with_one_line(tmp_path, capsys, monkeypatch):
    from optimiser import cli

    def broken(*args, **kwargs):
        raise RuntimeError("solver crashed\nwith detail")

    monkeypatch.setattr(cli, "optimise", broken)
    assert main(["solve", str(write_folder(tmp_path / "portfolio"))]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["optimiser: failed: RuntimeError: solver crashed"]


def test_template_writes_a_workbook(tmp_path):
    assert main(["template", str(tmp_path / "blank.xlsx")]) == 0
    assert "Missions" in openpyxl.load_workbook(tmp_path / "blank.xlsx").sheetnames


def test_python_dash_m_runs_the_same_command_line():
    done = subprocess.run([sys.executable, "-m", "optimiser", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    assert "solve" in done.stdout and "validate" in done.stdout and "template" in done.stdout


def test_the_summary_says_the_headline_once_in_the_planners_words(tmp_path, capsys):
    folder = write_folder(tmp_path / "portfolio")
    assert main(["solve", str(folder)]) == 0
    out = capsys.readouterr().out
    # 10 infantry at 100: M1 takes 6, M2 4 of its 8; USD 1,000 of 2,000 spent.
    assert out.count("USD 1,000") == 1 and "1,000 USD" not in out
    assert out.count("possible") == 1  # the value is stated once
    assert "M2 M2 (priority 2): mean coverage 50.0%, USD 400 to close; lacks 4 INF per period at most" in out
    assert "Unmet sheet" not in out  # no report was asked for


def test_validate_names_every_empty_required_sheet_of_the_template(tmp_path, capsys):
    assert main(["template", str(tmp_path / "blank.xlsx")]) == 0
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "blank.xlsx")]) == 2
    out = capsys.readouterr().err
    for sheet in ("Missions", "Zones", "Resources", "Requirements", "Funding"):
        assert f"error: {sheet}: has no" in out, sheet


def test_solve_help_lists_every_lever_of_the_schema(capsys):
    from optimiser.schema import ITEM_LEVERS, SETTING_KEYS

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    out = capsys.readouterr().out
    for key in SETTING_KEYS:
        assert f"  {key}" in out, key
    for prefix in ITEM_LEVERS:
        assert f"  {prefix}.<id>" in out, prefix
