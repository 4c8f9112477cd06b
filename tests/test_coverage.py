"""One definition of fully, partly and not covered (SPEC 5), tested once, and the same
counts on the page, in the report, in the JSON result and in the terminal summary."""

from __future__ import annotations

import pytest

from optimiser import optimise, plan_to_dict, summary_text
from optimiser.coverage import FULLY, NOT, PARTLY, coverage_class, lacking, mission_classes
from optimiser.report import report_workbook
from tests.builders import make_portfolio
from ui.summaries import FULL, NONE, tier_counts, unmet_by_mission
from ui.summaries import PARTLY as PAGE_PARTLY

# Ten infantry, none held back. A (priority 1) wants at most 60% of its ten; B (priority
# 2) takes the four left, 40%; C (priority 5) gets none. A at 60% is fully covered.
MISSIONS = """
    mission_id,name,zone_id,priority,max_coverage
    A,Alpha,Z1,1,0.6
    B,Bravo,Z1,2,1
    C,Charlie,Z1,5,1
"""
ZONES = """
    zone_id,name
    Z1,Zone one
"""
RESOURCES = """
    resource_id,name,kind,unit,unit_cost,available,reserve_share
    INF,Infantry,personnel,person,100,10,0
"""
REQUIREMENTS = """
    mission_id,resource_id,quantity
    A,INF,10
    B,INF,10
    C,INF,10
"""
FUNDING = """
    source_id,amount
    CORE,1000000
"""


@pytest.fixture(scope="module")
def plan():
    portfolio = make_portfolio(missions=MISSIONS, zones=ZONES, resources=RESOURCES,
                               requirements=REQUIREMENTS, funding=FUNDING)
    return optimise(portfolio)


@pytest.mark.parametrize(("coverages", "ceiling", "expected"), [
    ([1.0, 1.0], 1.0, FULLY),
    ([0.6, 0.6], 0.6, FULLY),  # at its max_coverage: fully, though below 100%
    ([0.6, 0.5999999999], 0.6, FULLY),  # solver noise is not a shortfall
    ([0.6, 0.59], 0.6, PARTLY),  # short in one active period
    ([1.0, 0.0], 1.0, PARTLY),
    ([0.0, 0.0], 1.0, NOT),
    ([0.0000001], 1.0, NOT),
])
def test_a_mission_is_fully_covered_at_its_max_coverage_in_every_period(coverages, ceiling, expected):
    assert coverage_class(coverages, ceiling) == expected


def test_the_hand_solved_plan_covers_a_to_its_ceiling_b_in_part_and_c_not(plan):
    coverage = plan.missions.set_index("mission_id")["coverage"]
    assert coverage.to_dict() == pytest.approx({"A": 0.6, "B": 0.4, "C": 0.0})
    assert mission_classes(plan).to_dict() == {"A": FULLY, "B": PARTLY, "C": NOT}


def test_what_a_mission_lacks_is_measured_up_to_its_max_coverage(plan):
    short = lacking(plan).set_index("mission_id")
    assert "A" not in short.index  # 6 of 10 infantry is all A wants
    assert short.loc["B", "shortfall"] == pytest.approx(6.0)
    assert short.loc["C", "shortfall"] == pytest.approx(10.0)
    assert short.loc["C", "shortfall_cost"] == pytest.approx(1000.0)
    page = unmet_by_mission(plan).set_index("mission_id")
    assert set(page.index) == {"B", "C"}
    assert page.loc["B", "shortfall_cost"] == pytest.approx(600.0)


def test_page_report_json_and_terminal_count_the_same_missions(plan):
    expected = {1: (1, 0, 0), 2: (0, 1, 0), 5: (0, 0, 1)}  # (fully, partly, not) by tier
    page = tier_counts(plan).set_index("priority")
    assert {t: tuple(int(page.loc[t, c]) for c in (FULL, PAGE_PARTLY, NONE)) for t in expected} == expected
    result = plan_to_dict(plan)
    tiers = {row["priority"]: (row["fully"], row["partly"], row["uncovered"])
             for row in result["coverage_by_priority"]}
    assert {t: tiers[t] for t in expected} == expected
    summary = report_workbook(plan)["Summary"]
    rows = {row[0]: row[2:5] for row in summary.iter_rows(values_only=True)
            if isinstance(row[0], str) and row[0].startswith("Priority ")}
    assert {t: rows[f"Priority {t}"] for t in expected} == expected
    text = summary_text(plan)
    assert "Priority 1: 1 mission - 1 fully, 0 partly, 0 not covered" in text
    assert "Priority 2: 1 mission - 0 fully, 1 partly, 0 not covered" in text
    assert "Priority 5: 1 mission - 0 fully, 0 partly, 1 not covered" in text
    assert {row["mission_id"] for row in result["unmet"]} == {"B", "C"}
