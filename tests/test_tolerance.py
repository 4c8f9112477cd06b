"""Figures that move the "wrong" way between two plans by less than the searches'
tolerance are explained in words (issue 15, point 1): hand-made results with known bands."""

from __future__ import annotations

import pandas as pd
import pytest

from optimiser.explore.compare import compare_plans
from optimiser.explore.text import comparison_text
from optimiser.explore.tolerance import slack, sweep_note, tolerance_note


def result(value: float, bound: float, money: float, tiers: dict[int, float], gap: float = 0.005,
           fully: int = 0) -> dict:
    return {
        "status": "optimal", "value": value, "best_bound": bound, "gap": gap, "money_available": money,
        "total_cost": money, "value_share": 0.9, "currency": "USD",
        "value_by_priority": {str(t): v for t, v in tiers.items()},
        "coverage_by_priority": [{"priority": 1, "missions": 1, "fully": fully, "partly": 1 - fully,
                                  "uncovered": 0}],
        "missions": [{"mission_id": "M1", "name": "Envoy office", "priority": 1, "coverage": 0.6,
                      "cost": money, "resources": {}}],
    }


FULL = result(1000.0, 1005.0, 100.0, {1: 500.0, 2: 500.0})  # may be 5 points short of its best
CUT = result(900.0, 904.5, 80.0, {1: 503.0, 2: 397.0})  # 4.5 points short: the band is 9.5


def test_the_band_is_the_sum_of_each_plans_distance_to_its_bound() -> None:
    assert slack(FULL) == pytest.approx(5.0)
    assert slack({"value": 200.0, "gap": 0.01}) == pytest.approx(2.0)  # no bound: gap x value
    assert slack({"value": 200.0, "best_bound": 200.0, "gap": 0.0}) == 0.0  # a linear plan: exact


def test_a_tier_rising_under_a_cut_within_the_band_is_explained() -> None:
    note = tolerance_note(FULL, CUT, ("full budget", "cut 20%"))
    assert note.startswith("'cut 20%' against 'full budget': priority 1 gains 3.0 value points while the "
                           "plan as a whole loses 100.0.")
    assert "within 0.5% of the best possible (together up to 9.5 value points short of it)" in note
    assert "search's tolerance, not the change of levers" in note
    assert "priority 2" not in note  # it falls with the plan: the right way


def test_a_move_larger_than_the_band_is_a_real_trade_off_and_gets_no_note() -> None:
    bigger = result(900.0, 904.5, 80.0, {1: 512.0, 2: 388.0})  # +12 > 9.5
    assert tolerance_note(FULL, bigger) == ""


def test_more_value_with_less_money_within_the_band_is_explained() -> None:
    odd = result(1002.0, 1006.0, 80.0, {1: 500.0, 2: 502.0})
    note = tolerance_note(FULL, odd)
    assert "the value rises by 2.0 points although the money available falls" in note


def test_exact_plans_need_no_note() -> None:
    a = result(1000.0, 1000.0, 100.0, {1: 500.0, 2: 500.0}, gap=0.0)
    b = result(900.0, 900.0, 80.0, {1: 503.0, 2: 397.0}, gap=0.0)
    assert tolerance_note(a, b) == ""


def test_the_compare_command_shows_the_note_and_tier_values() -> None:
    comparison = compare_plans(FULL, CUT, labels=("full budget", "cut 20%"))
    assert comparison.tolerance == tolerance_note(FULL, CUT, ("full budget", "cut 20%"))
    assert comparison.figure("value_p1") == (500.0, 503.0, 3.0)
    text = comparison_text(comparison)
    assert comparison.tolerance in text
    assert "Value from priority 1 (points)" in text and "value_p1" not in text


def test_fully_covered_in_a_comparison_is_the_reports_count() -> None:
    # M1 is at its max_coverage of 0.6: the report counts it fully covered, so does compare
    a, b = result(10.0, 10.0, 1.0, {1: 10.0}, fully=1), result(10.0, 10.0, 1.0, {1: 10.0}, fully=1)
    assert compare_plans(a, b).figure("missions_fully_covered")[:2] == (1.0, 1.0)


def test_a_sweep_whose_value_falls_as_the_budget_rises_within_the_gap_is_explained() -> None:
    table = pd.DataFrame({"budget_scale": [0.8, 1.0], "value": [1002.0, 1000.0], "gap": [0.005, 0.005]})
    note = sweep_note(table, "budget_scale", "the budget")
    assert note.startswith("Between the budget 0.8 and 1 the value moves against the lever by 2.0 points")
    rising = table.assign(value=[990.0, 1000.0])
    assert sweep_note(rising, "budget_scale", "the budget") == ""
    # more reserve held back can only lower the value: a rise is the wrong way there
    reserve = pd.DataFrame({"reserve_share": [0.1, 0.2], "value": [1000.0, 1001.0], "gap": [0.005, 0.005]})
    assert "by 1.0 points" in sweep_note(reserve, "reserve_share", "the reserve held back")


def test_the_comparison_workbook_carries_the_note_and_the_tier_values() -> None:
    from optimiser.explore.sheets import comparison_workbook

    comparison = compare_plans(FULL, CUT, labels=("full budget", "cut 20%"))
    summary = comparison_workbook(comparison)["Summary"]
    texts = [c for row in summary.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert comparison.tolerance in texts
    assert "Value from priority 1" in texts


def test_a_sweep_result_gives_the_note_of_its_curve(monkeypatch) -> None:
    from optimiser.explore.sweep import SweepResult

    table = pd.DataFrame({"point": [1, 2], "budget_scale": [0.8, 1.0], "status": ["optimal", "optimal"],
                          "value": [1002.0, 1000.0], "gap": [0.005, 0.005]})
    monkeypatch.setattr(SweepResult, "curves", lambda self: [({}, table)])
    monkeypatch.setattr(SweepResult, "lever", property(lambda self: "budget_scale"))
    result = SweepResult.__new__(SweepResult)
    note = result.tolerance_note()
    assert note.startswith("Between the budget 0.8 and 1 the value moves against the lever")
