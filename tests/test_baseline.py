"""Stability against today's plan: the Baseline sheet, ``max_change`` and ``change_penalty``."""

from __future__ import annotations

import textwrap

import pytest

from optimiser.entry import optimise
from optimiser.levers import Levers
from optimiser.problems import InvalidInput
from optimiser.read import read_tables
from optimiser.report import report_workbook
from optimiser.validate import validate

ONE_ZONE = "zone_id\nZ1"


def portfolio(**sheets: str):
    sheets.setdefault("zones", ONE_ZONE)
    tables = {name.capitalize(): textwrap.dedent(text).strip() + "\n" for name, text in sheets.items()}
    return validate(read_tables(tables))


def moved(plan, baseline: dict[str, float]) -> list[str]:
    """Missions whose coverage is not what it is today."""
    coverage = dict(zip(plan.missions["mission_id"], plan.missions["coverage"], strict=True))
    return sorted(m for m, today in baseline.items() if abs(coverage[m] - today) > 1e-6)


# Today: four small missions run (2.5 each, 10 of money). BIG (9 of money) does not. All
# five are all-or-nothing (min_coverage 100%).
SMALL = [f"S{i}" for i in range(1, 5)]
TODAY = {"BIG": 0.0, **{m: 1.0 for m in SMALL}}
KNAPSACK = dict(
    missions="mission_id,zone_id,priority,weight,min_coverage,running_cost\n"
    "BIG,Z1,3,2.475,100%,9\n" + "\n".join(f"{m},Z1,3,0.625,100%,2.5" for m in SMALL),
    resources="resource_id,kind,unit_cost\nR,equipment,0",
    requirements="mission_id,resource_id,quantity\nBIG,R,0",
    funding="source_id,amount\nCORE,10",
    baseline="mission_id,period_id,coverage\n" + "\n".join(f"{m},P1,{c}" for m, c in TODAY.items()),
    settings="key,value\ndiminishing_returns,no",
)


def test_a_small_budget_cut_moves_few_missions_with_the_baseline_in_force():
    data = portfolio(**KNAPSACK)
    today = optimise(data)
    assert moved(today, TODAY) == []  # today's plan is the best at full budget: 4 x 2.5 = 10
    # A 10% cut (9 of money): the best plan drops all four small missions for BIG (value
    # 9.9 against 7.5 for three small ones): five missions move.
    free = optimise(data, data.levers.changed(budget_scale=0.9))
    assert moved(free, TODAY) == ["BIG", "S1", "S2", "S3", "S4"]
    assert free.value == pytest.approx(9.9)
    # Charging 1 of value per unit of coverage moved: dropping one small mission (7.5 - 1)
    # beats the reshuffle (9.9 - 5): one mission moves.
    steady = optimise(data, data.levers.changed(budget_scale=0.9, change_penalty=1.0))
    assert len(moved(steady, TODAY)) == 1 and "BIG" not in moved(steady, TODAY)
    assert steady.value == pytest.approx(7.5 - 1.0)  # the plan's value is net of the charge
    assert steady.missions["value"].sum() == pytest.approx(7.5)


def test_max_change_bounds_how_far_any_coverage_moves():
    data = portfolio(
        missions="mission_id,zone_id,priority\nA,Z1,1\nB,Z1,2",
        resources="resource_id,kind,unit_cost,available\nP,personnel,0,6",
        requirements="mission_id,resource_id,quantity\nA,P,5\nB,P,5",
        funding="source_id,amount\nCORE,10",
        baseline="mission_id,period_id,coverage\nA,P1,100%\nB,P1,100%",
        settings="key,value\ndiminishing_returns,no\ninteger,no",
    )
    # 6 people: without a limit, priority 1 keeps A full and B gets 1 person (20%)
    free = optimise(data)
    assert dict(zip(free.missions["mission_id"], free.missions["coverage"], strict=True)) == pytest.approx(
        {"A": 1.0, "B": 0.2}
    )
    # with max_change 50%, B keeps at least 50% (2.5 people); A gets the other 3.5 (70%)
    held = optimise(data, data.levers.changed(max_change=0.5))
    assert dict(zip(held.missions["mission_id"], held.missions["coverage"], strict=True)) == pytest.approx(
        {"A": 0.7, "B": 0.5}
    )


def test_mission_periods_not_in_the_baseline_are_free():
    data = portfolio(
        missions="mission_id,zone_id,priority\nOLD,Z1,2\nNEW,Z1,1",
        resources="resource_id,kind,unit_cost,available\nP,personnel,0,10",
        requirements="mission_id,resource_id,quantity\nOLD,P,10\nNEW,P,10",
        funding="source_id,amount\nCORE,10",
        baseline="mission_id,period_id,coverage\nOLD,P1,100%",
        settings="key,value\ndiminishing_returns,no\ninteger,no\nmax_change,0.3",
    )
    plan = optimise(data)
    # OLD may fall to 70%; NEW (not listed) takes the rest of the people
    assert dict(zip(plan.missions["mission_id"], plan.missions["coverage"], strict=True)) == pytest.approx(
        {"OLD": 0.7, "NEW": 0.3}
    )


def test_settings_read_max_change_and_change_penalty():
    levers = Levers().with_settings({"max_change": "20%", "change_penalty": "2.5"})
    assert (levers.max_change, levers.change_penalty) == (0.2, 2.5)
    assert Levers().with_settings(levers.as_settings()) == levers
    assert Levers().with_settings({"max_change": ""}).max_change is None
    with pytest.raises(InvalidInput, match="max_change"):
        Levers().with_settings({"max_change": "150%"})
    with pytest.raises(InvalidInput, match="change_penalty"):
        Levers().with_settings({"change_penalty": "-1"})


BASE = dict(
    missions="mission_id,zone_id,priority,start_period\nA,Z1,1,\nB,Z1,2,Q2",
    periods="period_id\nQ1\nQ2",
    resources="resource_id,kind,unit_cost,available\nP,personnel,0,10",
    requirements="mission_id,resource_id,quantity\nA,P,5\nB,P,5",
    funding="source_id,amount\nCORE,10",
)


def test_baseline_problems_are_located_by_cell():
    with pytest.raises(InvalidInput) as raised:
        portfolio(
            **BASE,
            baseline="""
                mission_id,period_id,coverage
                A,Q1,80%
                C,Q1,1
                A,Q1,1
                A,Q3,50%
                B,Q2,2
            """,
        )
    messages = [str(p) for p in raised.value.problems]
    assert messages == [
        "Baseline!A3 (mission_id): 'C' is not a mission; known missions: A, B",
        "Baseline!B4 (period_id): A in Q1 is already given on row 2; give each mission and period once",
        "Baseline!B5 (period_id): 'Q3' is not a period; known periods: Q1, Q2",
        "Baseline!C6 (coverage): '2' is not a share between 0 and 1; write it as 40% or 0.4",
    ]


def test_a_baseline_outside_a_missions_periods_is_a_warning_and_the_sheet_is_reported():
    data = portfolio(**BASE, baseline="mission_id,period_id,coverage\nA,Q1,80%\nB,Q1,50%")
    assert [str(w) for w in data.warnings] == [
        "Baseline!B3 (period_id): B is not active in Q1 (it runs Q2 to Q2); this row is not used"
    ]
    assert data.baseline.to_dict("records") == [
        {"mission_id": "A", "period_id": "Q1", "coverage": 0.8},
        {"mission_id": "B", "period_id": "Q1", "coverage": 0.5},
    ]
    report = report_workbook(optimise(data))
    assert report.sheetnames[-1] == "Input Baseline"


def test_stability_settings_without_a_baseline_warn():
    data = portfolio(**BASE, settings="key,value\nmax_change,0.1")
    assert any("without Baseline rows they change nothing" in str(w) for w in data.warnings)
