"""Trade-off sweeps on a portfolio whose curve is worked out by hand.

Three missions, one per priority tier 1-3, each needing one TEAM (100 money per
period, unlimited, continuous); value is linear in coverage (no diminishing returns);
one fund of 300. Money is the only limit, so the plan buys tier 1 first (16 value per
100), then tier 2 (8), then tier 3 (4):

    budget_scale   money   value   coverage M1  M2    M3
    0              0       0                0   0     0
    0.25           75      12               .75 0     0
    0.5            150     20               1   .5    0
    0.75           225     25               1   1     .25
    1              300     28               1   1     1
    1.25, 1.5      300     28 (flat: everything is covered; the rest is unspent)

As the budget falls, M3 is reduced at 0.75 and drops out at 0.5, M2 is reduced at 0.5
and drops out at 0.25, M1 is reduced at 0.25 and drops out at 0.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest_reading import write_csv_texts
from openpyxl.chart import ScatterChart

from optimiser import InvalidInput, SweepResult, sweep, validate
from optimiser.cli import main
from optimiser.explore import parse_vary, write_sweep
from optimiser.explore.sweep import linspace
from optimiser.read import read_tables

MONEY_ONLY = {
    "missions": """
        mission_id,name,zone_id,priority,must_fund,min_coverage
        M1,Alpha,Z1,1,no,0
        M2,Bravo,Z1,2,no,0
        M3,"=HYPERLINK(""http://x"")",Z1,3,no,0
    """,
    "zones": "zone_id\nZ1\n",
    "resources": """
        resource_id,kind,unit_cost,available,integer
        TEAM,personnel,100,,no
    """,
    "requirements": """
        mission_id,resource_id,quantity
        M1,TEAM,1
        M2,TEAM,1
        M3,TEAM,1
    """,
    "funding": "source_id,amount\nCORE,300\n",
    "settings": "key,value\ndiminishing_returns,no\ninteger,no\n",
}
BUDGETS = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]
VALUES = [0, 12, 20, 25, 28, 28, 28]
COST = [0, 75, 150, 225, 300, 300, 300]
STABLE = ["point", "budget_scale", "status", "value", "value_share", "total_cost", "money_available",
          "coverage_p1", "coverage_p2", "coverage_p3", "missions_covered", "dropped_out", "reduced"]


def portfolio_of(**changes: str):
    return validate(read_tables({**MONEY_ONLY, **changes}))


@pytest.fixture(scope="module")
def portfolio():
    return portfolio_of()


@pytest.fixture(scope="module")
def budget_sweep(portfolio) -> SweepResult:
    return sweep(portfolio, None, {"budget_scale": BUDGETS}, workers=1)


# -- the curve ------------------------------------------------------------------------------


def test_value_rises_linearly_with_money_then_flattens(budget_sweep):
    table = budget_sweep.table
    assert list(table["point"]) == [1, 2, 3, 4, 5, 6, 7]
    assert list(table["budget_scale"]) == BUDGETS
    assert list(table["status"]) == ["optimal"] * 7
    assert list(table["value"]) == pytest.approx(VALUES)
    assert list(table["total_cost"]) == pytest.approx(COST)
    assert list(table["money_available"]) == pytest.approx([300 * b for b in BUDGETS])
    assert list(table["value_share"]) == pytest.approx([v / 28 for v in VALUES])


def test_coverage_by_priority_tier_fills_the_highest_tier_first(budget_sweep):
    table = budget_sweep.table
    assert list(table["coverage_p1"]) == pytest.approx([0, 0.75, 1, 1, 1, 1, 1])
    assert list(table["coverage_p2"]) == pytest.approx([0, 0, 0.5, 1, 1, 1, 1])
    assert list(table["coverage_p3"]) == pytest.approx([0, 0, 0, 0.25, 1, 1, 1])
    assert table["coverage_p4"].isna().all() and table["coverage_p5"].isna().all()  # tiers without missions
    assert list(table["missions_covered"]) == [0, 1, 2, 3, 3, 3, 3]


def test_missions_drop_out_lowest_priority_first_as_the_budget_falls(budget_sweep):
    table = budget_sweep.table
    assert list(table["dropped_out"]) == ["M1", "M2", "M3", "", "", "", ""]
    assert list(table["reduced"]) == ["", "M1", "M2", "M3", "", "", ""]
    drops = budget_sweep.dropouts()  # read as the budget falls
    assert list(zip(drops["budget_scale"], drops["mission_id"], drops["drop"], strict=True)) == [
        (0.75, "M3", "reduced"),
        (0.5, "M2", "reduced"),
        (0.5, "M3", "dropped out"),
        (0.25, "M1", "reduced"),
        (0.25, "M2", "dropped out"),
        (0.0, "M1", "dropped out"),
    ]
    m3 = drops[drops["mission_id"] == "M3"].set_index("budget_scale")
    assert m3.loc[0.5, ["coverage", "coverage_next", "change"]].tolist() == pytest.approx([0, 0.25, -0.25])


def test_the_missions_frame_has_a_row_per_point_and_mission(budget_sweep):
    missions = budget_sweep.missions
    assert len(missions) == 7 * 3
    at_half = missions[missions["budget_scale"] == 0.5].set_index("mission_id")
    assert at_half["coverage"].to_dict() == pytest.approx({"M1": 1, "M2": 0.5, "M3": 0})
    assert at_half["cost"].to_dict() == pytest.approx({"M1": 100, "M2": 50, "M3": 0})
    assert at_half["value"].to_dict() == pytest.approx({"M1": 16, "M2": 4, "M3": 0})
    top = missions[missions["budget_scale"] == 1.5]
    assert top["coverage_next"].isna().all()  # the top of the curve has nothing above it


def test_the_coverage_matrix_has_every_mission_at_every_point(budget_sweep):
    matrix = budget_sweep.coverage_matrix()
    assert list(matrix.columns[:3]) == ["mission_id", "name", "priority"]
    budget = "Budget (× the workbook's funding)"  # the lever in a planner's words, not budget_scale
    assert list(matrix.columns[3:]) == [f"{budget} {b:g}" for b in BUDGETS]
    assert matrix.set_index("mission_id").loc["M2", f"{budget} 0.5"] == pytest.approx(0.5)


def test_marginal_value_of_money_comes_from_the_adjacent_points(budget_sweep):
    # 0.5 -> 0.75: 5 more value for 75 more money
    assert budget_sweep.marginal_value(at=0.5, per=100) == pytest.approx(5 / 75 * 100)
    assert budget_sweep.marginal_value(at=0.25, per=1_000_000) == pytest.approx(8 / 75 * 1_000_000)
    assert budget_sweep.marginal_value(at=1.0, per=100) == pytest.approx(0)  # the next money buys nothing
    assert budget_sweep.marginal_value(at=1.5, per=100) == pytest.approx(0)  # top: from the point below


def test_a_lever_that_is_not_money_has_no_marginal_value_of_money(portfolio):
    result = sweep(portfolio, None, {"personnel_scale": [0.5, 1]}, workers=1)
    assert result.marginal_value() is None


# -- grids and levers ---------------------------------------------------------------------


def test_a_grid_of_two_levers_has_the_product_size_with_the_first_lever_fastest(portfolio):
    result = sweep(portfolio, None, {"budget_scale": [0.5, 0.25, 1], "priority_mode": "weighted,strict"},
                   workers=1)
    table = result.table
    assert len(table) == 3 * 2
    assert list(table["priority_mode"]) == ["weighted"] * 3 + ["strict"] * 3
    assert list(table["budget_scale"]) == [0.25, 0.5, 1] * 2  # numeric values sorted
    # Strict priorities give the same plan here: money goes to tier 1, then 2, then 3.
    assert list(table["value"]) == pytest.approx([12, 20, 28] * 2)
    # Drop-outs compare within a curve: each mode's 0.25 against its own 0.5.
    assert list(table["dropped_out"]) == ["M2", "M3", ""] * 2
    assert [others for others, _ in result.curves()] == [{"priority_mode": "weighted"},
                                                         {"priority_mode": "strict"}]


def test_integer_and_per_item_levers_can_be_varied(portfolio):
    result = sweep(portfolio, None, {"source_scale.CORE": "0:1:3", "diminishing_returns": ["no", "yes"]},
                   workers=1)
    assert len(result.table) == 6
    assert list(result.table["source_scale.CORE"]) == [0, 0.5, 1] * 2
    assert list(result.table["diminishing_returns"]) == ["no"] * 3 + ["yes"] * 3
    # With diminishing returns at 150 money: M1 full (16) and M2 half (8 x 4/3 x 0.5).
    assert result.table["value"].iloc[4] == pytest.approx(16 + 8 * 2 / 3)


def test_vary_ranges_parse_to_evenly_spaced_exact_values():
    key, values = parse_vary("Budget Scale=0.5:1.5:21")
    assert key == "budget_scale"
    assert len(values) == 21 and values[1] == 0.55 and values[-1] == 1.5
    assert parse_vary("priority_mode=weighted, strict") == ("priority_mode", ["weighted", "strict"])
    assert parse_vary("priority_weights=16,8,4,2,1;1,1,1,1,1")[1] == ["16,8,4,2,1", "1,1,1,1,1"]
    assert linspace(1, 1, 1) == [1.0]


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ({"budget_scale": []}, "no values"),
        ({"budget_scael": [1]}, "is not a lever"),
        ({"priority_mode": ["sideways"]}, "is not one of weighted, strict"),
        ({"budget_scale": ["-1"]}, "must not be negative"),
        ({"budget_scale": "0.5:1"}, "START:STOP:COUNT"),
        ({"budget_scale": "0.5:1:2.5"}, "whole number"),
        ({}, "nothing to vary"),
    ],
)
def test_levers_and_values_that_are_not_understood_are_refused(portfolio, vary, message):
    with pytest.raises(InvalidInput, match=message):
        sweep(portfolio, None, vary, workers=1)


def test_a_per_item_lever_naming_an_unknown_id_is_refused_before_planning(portfolio):
    with pytest.raises(InvalidInput, match="'NOPE' is not a funding source"):
        sweep(portfolio, None, {"source_scale.NOPE": [0.5, 1]}, workers=1)


# -- points without a plan ------------------------------------------------------------------


def test_infeasible_points_are_rows_with_their_status_not_failures():
    # M1 must run fully (100 money): below budget_scale 1/3 no plan is possible.
    must_run = MONEY_ONLY["missions"].replace("M1,Alpha,Z1,1,no,0", "M1,Alpha,Z1,1,yes,1")
    portfolio = portfolio_of(missions=must_run)
    result = sweep(portfolio, None, {"budget_scale": [0, 0.25, 0.5, 1]}, workers=1)
    table = result.table
    assert list(table["status"]) == ["infeasible", "infeasible", "optimal", "optimal"]
    assert table["value"].iloc[:2].isna().all()
    assert list(table["money_available"]) == pytest.approx([0, 75, 150, 300])
    assert table["message"].iloc[0]  # says why
    assert list(table["dropped_out"]) == ["", "", "M3", ""]  # no comparison from a point without a plan
    assert result.failed == 0


def test_a_point_whose_solve_fails_is_a_row_with_status_failed(portfolio, monkeypatch):
    import optimiser.explore.point as point

    real = point.optimise

    def flaky(portfolio, levers):
        if levers.budget_scale == 0.5:
            raise RuntimeError("solver crashed\nwith a long story")
        return real(portfolio, levers)

    monkeypatch.setattr(point, "optimise", flaky)
    result = sweep(portfolio, None, {"budget_scale": [0.25, 0.5, 1]}, workers=1)
    assert list(result.table["status"]) == ["optimal", "failed", "optimal"]
    assert result.table["message"].iloc[1] == "RuntimeError: solver crashed"
    assert result.failed == 1
    assert list(result.table["dropped_out"]) == ["", "", ""]  # nothing to compare across the failure


# -- where the points run ---------------------------------------------------------------------


def test_progress_is_reported_from_zero_to_every_point(portfolio):
    calls = []
    sweep(portfolio, None, {"budget_scale": [0.5, 1, 1.5]}, workers=1,
          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def comparable(result: SweepResult) -> pd.DataFrame:
    return result.table[STABLE]


def test_local_processes_give_the_serial_results(portfolio, budget_sweep):
    calls = []
    parallel = sweep(portfolio, None, {"budget_scale": BUDGETS}, workers=2,
                     progress=lambda done, total: calls.append(done))
    assert parallel.runner == "2 local processes"
    pd.testing.assert_frame_equal(comparable(parallel), comparable(budget_sweep))
    pd.testing.assert_frame_equal(parallel.missions, budget_sweep.missions)
    assert sorted(calls) == list(range(8))


def test_a_dask_cluster_gives_the_serial_results(portfolio, budget_sweep):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        on_client = sweep(portfolio, None, {"budget_scale": BUDGETS}, dask=client)
        by_address = sweep(portfolio, None, {"budget_scale": BUDGETS[:3]}, dask=cluster.scheduler_address)
    assert on_client.runner.startswith("Dask cluster")
    pd.testing.assert_frame_equal(comparable(on_client), comparable(budget_sweep))
    pd.testing.assert_frame_equal(on_client.missions, budget_sweep.missions)
    assert list(by_address.table["value"]) == pytest.approx(VALUES[:3])


# -- files --------------------------------------------------------------------------------------


def test_the_workbook_has_a_line_chart_of_value_against_the_lever_and_the_numbers(budget_sweep, tmp_path):
    path = write_sweep(budget_sweep, tmp_path / "curve.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Curve", "Points", "Drop-outs", "Coverage", "About"]
    points = book["Points"]
    header = [c.value for c in points[1]]
    value_column = header.index("Value") + 1
    lever_column = header.index("Budget (× the workbook's funding)") + 1
    assert [points.cell(row=r, column=value_column).value for r in range(2, 9)] == pytest.approx(VALUES)
    assert [points.cell(row=r, column=lever_column).value for r in range(2, 9)] == pytest.approx(BUDGETS)
    money = points.cell(row=5, column=header.index("Money spent (USD)") + 1)
    assert money.value == pytest.approx(225) and money.number_format == "#,##0"
    assert points.cell(row=5, column=header.index("Mean coverage, priority 3") + 1).number_format == "0.0%"
    assert points.freeze_panes == "C2"

    charts = book["Curve"]._charts
    assert len(charts) == 2
    value_chart = charts[0]
    assert isinstance(value_chart, ScatterChart)
    series = value_chart.series[0]
    letter = openpyxl.utils.get_column_letter
    assert series.yVal.numRef.f == f"'Points'!${letter(value_column)}$2:${letter(value_column)}$8"
    assert series.xVal.numRef.f == f"'Points'!${letter(lever_column)}$2:${letter(lever_column)}$8"
    assert book["Curve"]["A9"].value == "Value per extra 1,000,000 USD"
    assert book["Curve"]["B9"].value == pytest.approx(0)  # at budget 1 the next money buys nothing

    # Text from the input (a mission named like a formula) stays text.
    named = [c for row in book["Coverage"].iter_rows() for c in row if c.value == '=HYPERLINK("http://x")']
    assert named and all(c.data_type == "s" and c.quotePrefix for c in named)


def test_the_csv_holds_the_table(budget_sweep, tmp_path):
    path = write_sweep(budget_sweep, tmp_path / "curve.csv")
    read = pd.read_csv(path, keep_default_na=False)
    assert list(read.columns) == list(budget_sweep.table.columns)
    assert list(read["value"]) == pytest.approx(VALUES)
    assert list(read["dropped_out"]) == ["M1", "M2", "M3", "", "", "", ""]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle))[:2] == ["point", "budget_scale"]


def test_other_file_types_are_refused(budget_sweep, tmp_path):
    with pytest.raises(ValueError, match=r"\.xlsx or \.csv"):
        write_sweep(budget_sweep, tmp_path / "curve.pdf")


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    return write_csv_texts(tmp_path / "portfolio", MONEY_ONLY)


def test_sweep_command_writes_the_curve_and_exits_0(folder, tmp_path, capsys):
    out = tmp_path / "curve.csv"
    code = main(["sweep", str(folder), "--vary", "budget_scale=0:1.5:7", "--out", str(out), "--workers", "1"])
    assert code == 0
    assert list(pd.read_csv(out)["value"]) == pytest.approx(VALUES)
    captured = capsys.readouterr()
    assert "Sweep of the budget (7 values)" in captured.out and "Marginal value of money" in captured.out
    assert "budget_scale" not in captured.out.split("Sweep written")[0]  # the lever in words
    assert "7/7 points" in captured.err  # the progress line


def test_sweep_command_grid_and_set(folder, tmp_path):
    out = tmp_path / "grid.xlsx"
    code = main(["sweep", str(folder), "--vary", "budget_scale=0.5,1", "--vary", "personnel_scale=0.5,1",
                 "--set", "reserve_share=0", "--out", str(out), "--workers", "1"])
    assert code == 0
    assert openpyxl.load_workbook(out)["Points"].max_row == 1 + 4


@pytest.mark.parametrize(
    "arguments",
    [
        ["--vary", "budget_scale"],
        ["--vary", "budget_scale=1:2"],
        ["--vary", "budget_scael=1,2"],
        ["--vary", "budget_scale=1,2", "--vary", "budget_scale=3"],
        ["--vary", "budget_scale=1,2", "--out", "curve.pdf"],
        ["--vary", "budget_scale=1,2", "--workers", "0"],
        ["--vary", "budget_scale=1,2", "--set", "budget_scale"],
    ],
)
def test_sweep_command_refuses_bad_arguments_with_exit_2(folder, arguments):
    try:
        code = main(["sweep", str(folder), *arguments])
    except SystemExit as caught:  # argparse's own refusals
        code = caught.code
    assert code == 2


def test_sweep_command_exits_3_when_a_point_fails_but_writes_the_table(folder, tmp_path, monkeypatch, capsys):
    import optimiser.explore.point as point

    def broken(portfolio, levers):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(point, "optimise", broken)
    out = tmp_path / "curve.csv"
    code = main(["sweep", str(folder), "--vary", "budget_scale=0.5,1", "--out", str(out), "--workers", "1"])
    assert code == 3
    assert list(pd.read_csv(out)["status"]) == ["failed", "failed"]
    assert "2 of 2 sweep points failed" in capsys.readouterr().err


def test_sweep_command_with_infeasible_points_exits_0(folder, tmp_path):
    missions = (folder / "missions.csv").read_text().replace("M1,Alpha,Z1,1,no,0", "M1,Alpha,Z1,1,yes,1")
    (folder / "missions.csv").write_text(missions)
    out = tmp_path / "curve.csv"
    code = main(["sweep", str(folder), "--vary", "budget_scale=0,1", "--out", str(out), "--workers", "1"])
    assert code == 0
    table = pd.read_csv(out)
    assert list(table["status"]) == ["infeasible", "optimal"]
    assert math.isnan(table["value"].iloc[0]) and not np.isnan(table["value"].iloc[1])


def test_workers_do_not_run_the_main_script_again(portfolio, budget_sweep, tmp_path, monkeypatch):
    # A Streamlit page (or a script without `if __name__ == "__main__"`) is __main__ while it
    # runs; spawned workers would run it again. Here that script would fail in every worker.
    import sys
    import types

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the page ran again in a worker')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    parallel = sweep(portfolio, None, {"budget_scale": BUDGETS}, workers=2)
    pd.testing.assert_frame_equal(comparable(parallel), comparable(budget_sweep))
    assert sys.modules["__main__"] is page
