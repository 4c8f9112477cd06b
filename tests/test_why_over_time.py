"""Why is this mission short? (SPEC 4.1) when a rule of plans over time (SPEC 3.1) holds
it: one hand-solved case per rule, each asserting the numbers of the answer.

The cases are those of tests/test_timeline.py: one kind of staff, 1,000 a person a period;
the mission A (priority 1, worth 16 a period at full coverage, values linear) needs 10 of
them (10,000 a period at full coverage), and the money per quarter is what limits it. Each
rule's entry in ``held_back_by`` is found from the plan's running pattern and confirmed by
one solve with that rule lifted for A alone: ``value_if_lifted`` is the value that adds
(the difference of two plans solved by hand in the comments) and ``coverage_if_lifted``
A's coverage in that period then.
"""

from __future__ import annotations

import json

import pytest
from builders import make_portfolio

from optimiser.scenario import apply_levers
from optimiser.solve import solve
from optimiser.why import held_back_by_cells, why, why_text

COLUMNS = (
    "mission_id,zone_id,priority,must_fund,min_coverage,start_period,end_period,"
    "continuity,min_run,running_now,startup_cost,closure_cost,max_step"
)
QUARTERS = ["Q1", "Q2", "Q3", "Q4"]


def book(mission: str, *amounts: float, integer: str = "no"):
    """A alone, with the money of each quarter (as many quarters as amounts)."""
    periods = "period_id,name\n" + "\n".join(f"{q},2027-{q}" for q in QUARTERS[: len(amounts)])
    funding = "source_id,amount,period\n" + "\n".join(
        f"CORE,{a},Q{i}" for i, a in enumerate(amounts, 1)
    )
    return make_portfolio(
        missions=COLUMNS + "\n" + mission,
        zones="zone_id,region\nZ1,East",
        resources=f"resource_id,kind,unit_cost,integer\nS,personnel,1000,{integer}",
        requirements="mission_id,resource_id,quantity\nA,S,10",
        funding=funding,
        periods=periods,
        settings="key,value\ndiminishing_returns,no",
    )


def held(answer, kind: str) -> dict[str, dict]:
    """The answer's entries of one kind, by period."""
    return {h["period_id"]: h for h in answer.held_back_by if h["kind"] == kind}


INTEGER = pytest.mark.parametrize("integer", ["no", "yes"], ids=["relaxed", "whole-units"])


@INTEGER
def test_continuity_a_stopped_mission_may_not_restart_and_a_restart_would_add_its_value(integer):
    # Q1 holds 10,000 (100%), Q2 nothing, Q3 8,000 (80%): with continuity the plan is Q1 alone
    # (16); letting it restart it also runs Q3 at 80% (16 + 12.8 = 28.8): 12.8 more.
    answer = why(book("A,Z1,1,no,0,,,yes,1,no,0,0,", 10000, 0, 8000, integer=integer), "A")
    assert answer.coverage == {"Q1": pytest.approx(1.0), "Q2": 0.0, "Q3": 0.0}
    entries = held(answer, "continuity")
    assert list(entries) == ["Q3"]  # in Q2 no money holds it; the rule holds it only in Q3
    assert entries["Q3"]["value_if_lifted"] == pytest.approx(12.8)
    assert entries["Q3"]["coverage_if_lifted"] == pytest.approx(0.8)
    assert entries["Q3"]["sentence"] == (
        "It stopped in 2027-Q2 and, with continuity, may not restart in 2027-Q3; letting it "
        "restart (its continuity no) would add 12.8 value, with 80% in 2027-Q3"
    )
    assert "may not restart in 2027-Q3" in why_text(answer)
    # Q2 itself: no money at all (the rule is not what holds it there)
    assert held(answer, "budget")["Q2"]["sentence"] == (
        "CORE has no money in 2027-Q2: USD 100 there would be worth 0.16 value to this mission"
    )


def test_continuity_that_a_restart_would_not_help_is_not_named():
    # Q3 has no money either: a restart gains nothing there, so the re-solve drops the rule;
    # read from the plan alone (the report's Unmet column) the pattern still names it.
    portfolio = book("A,Z1,1,no,0,,,yes,1,no,0,0,", 10000, 0, 0)
    assert held(why(portfolio, "A"), "continuity") == {}
    assert list(held(why(portfolio, "A", search=False), "continuity")) == ["Q3"]


@INTEGER
def test_running_now_a_mission_that_stops_today_never_restarts(integer):
    # Running now, Q1 has no money: it stops in Q1 and may not come back; letting it restart
    # it runs Q2 and Q3 at 100% (16 + 16 = 32 against 0).
    answer = why(book("A,Z1,1,no,0,,,yes,1,yes,0,0,", 0, 10000, 10000, integer=integer), "A")
    assert answer.coverage == {"Q1": 0.0, "Q2": 0.0, "Q3": 0.0}
    entries = held(answer, "running_now")
    assert list(entries) == ["Q2", "Q3"]
    assert [entries[q]["value_if_lifted"] for q in ("Q2", "Q3")] == [pytest.approx(32.0)] * 2
    assert entries["Q2"]["coverage_if_lifted"] == pytest.approx(1.0)
    assert entries["Q2"]["sentence"].startswith(
        "It runs today (running_now) and stopped in 2027-Q1; with continuity a mission running "
        "now that stops never restarts, so it stays at 0 in 2027-Q2"
    )


@INTEGER
def test_min_run_a_start_commits_it_through_a_quarter_without_money(integer):
    # min_run 3, no continuity; Q3 has no money, so no start can run its three quarters (or
    # to the end): A stays at 0. With min_run 1 it runs Q1 and Q2 at 100%: 32 more.
    answer = why(book("A,Z1,1,no,0,,,no,3,no,0,0,", 10000, 10000, 0, integer=integer), "A")
    assert answer.coverage == {"Q1": 0.0, "Q2": 0.0, "Q3": 0.0}
    entries = held(answer, "min_run")
    assert list(entries) == ["Q1", "Q2"]  # a start in Q3 commits it to nothing more
    assert entries["Q1"]["value_if_lifted"] == pytest.approx(32.0)
    assert entries["Q1"]["coverage_if_lifted"] == pytest.approx(1.0)
    assert entries["Q1"]["limit"] == 3
    assert entries["Q1"]["sentence"].startswith(
        "min_run 3: a start in 2027-Q1 commits it to run 3 periods, through 2027-Q3;"
    )
    assert entries["Q2"]["sentence"].startswith(
        "min_run 3: a start in 2027-Q2 commits it to run 2 periods, through 2027-Q3 (its "
        "end_period comes first);"
    )


@INTEGER
def test_startup_cost_is_money_in_the_quarter_it_would_start(integer):
    # Start-up 6,000: Q1's 5,000 cannot pay it, so A starts in Q2 (value 32). Without the
    # start-up cost it runs Q1 at 50% too: 8 more.
    answer = why(book("A,Z1,1,no,0,,,yes,1,no,6000,0,", 5000, 16000, 10000, integer=integer), "A")
    assert answer.coverage == {"Q1": 0.0, "Q2": pytest.approx(1.0), "Q3": pytest.approx(1.0)}
    (entry,) = answer.held_back_by  # money is left in Q1: only the start-up holds it
    assert (entry["kind"], entry["period_id"], entry["limit"]) == ("startup_cost", "Q1", 6000)
    assert entry["value_if_lifted"] == pytest.approx(8.0)
    assert entry["coverage_if_lifted"] == pytest.approx(0.5)
    assert "starting it in 2027-Q1 would cost USD 6,000 there" in entry["sentence"]


@INTEGER
def test_closure_cost_is_money_in_the_quarter_it_stops(integer):
    # Running now, closure 3,000; Q1 10,000, Q2 3,000, Q3 nothing. It must stop by Q3, and
    # the stop's 3,000 takes all of Q2: Q1 alone, 16. Without the closure cost it also runs
    # Q2 at 30% (3,000) and ends there: 16 + 4.8.
    answer = why(book("A,Z1,1,no,0,,,yes,1,yes,5000,3000,", 10000, 3000, 0, integer=integer), "A")
    assert answer.coverage == {"Q1": pytest.approx(1.0), "Q2": 0.0, "Q3": 0.0}
    entries = held(answer, "closure_cost")
    assert list(entries) == ["Q2"]
    assert entries["Q2"]["value_if_lifted"] == pytest.approx(4.8)
    assert entries["Q2"]["coverage_if_lifted"] == pytest.approx(0.3)
    assert "it stops in 2027-Q2, and its USD 3,000 closure cost falls there" in entries["Q2"]["sentence"]


@INTEGER
def test_max_step_limits_its_build_up(integer):
    # Running now, Q1 holds 2,000 (20%), later quarters plenty; max_step 25%: 20, 45, 70, 95%
    # (value 16 x 2.3 = 36.8). Without it: 20%, then 100% (16 x 3.2 = 51.2): 14.4 more.
    money = (2000, 100000, 100000, 100000)
    answer = why(book("A,Z1,1,no,0,,,yes,1,yes,0,0,25%", *money, integer=integer), "A")
    assert list(answer.coverage.values()) == pytest.approx([0.2, 0.45, 0.7, 0.95])
    entries = held(answer, "max_step")
    assert list(entries) == ["Q2", "Q3", "Q4"]
    assert [entries[q]["limit"] for q in entries] == pytest.approx([0.45, 0.7, 0.95])
    assert entries["Q2"]["value_if_lifted"] == pytest.approx(14.4)
    assert entries["Q2"]["coverage_if_lifted"] == pytest.approx(1.0)
    assert entries["Q2"]["sentence"].startswith(
        "max_step 0.25 limits its build-up: it can reach at most 45% in 2027-Q2 from 20% in 2027-Q1;"
    )
    assert list(held(answer, "budget")) == ["Q1"]  # Q1's 2,000 is the other limit


@INTEGER
def test_the_running_floor_what_is_left_would_cover_less_than_one_percent(integer):
    # Continuity over two quarters puts A under the 1% floor; 50 a quarter buys 0.5%
    # (worth 16 x 0.005 = 0.08), below it, so A does not run.
    answer = why(book("A,Z1,1,no,0,,,yes,1,no,0,0,", 50, 50, integer=integer), "A")
    assert answer.coverage == {"Q1": 0.0, "Q2": 0.0}
    entries = held(answer, "running_floor")
    assert list(entries) == ["Q1", "Q2"]
    assert (entries["Q1"]["limit"], entries["Q1"]["used"]) == (pytest.approx(0.01), pytest.approx(0.005))
    assert entries["Q1"]["sentence"] == (
        "A running mission covers at least 1% (a rule of plans over time applies to it): what is "
        "left in 2027-Q1 (USD 50 in its sources) would cover only 0.5%, worth 0.08 value"
    )


def test_the_rules_reach_the_json_and_the_unmet_column():
    portfolio = book("A,Z1,1,no,0,,,yes,1,yes,0,0,25%", 2000, 100000, 100000, 100000)
    cells = held_back_by_cells(solve(apply_levers(portfolio)))
    assert cells[("A", "Q2")] == "max_step"
    assert cells[("A", "Q1")].startswith("CORE binds")
    answer = why(portfolio, "A").as_dict()
    kinds = [(h["kind"], h["period_id"], h["value_if_lifted"]) for h in answer["held_back_by"]]
    assert ("max_step", "Q3", pytest.approx(14.4)) in kinds
    budget = json.loads(json.dumps(answer))["held_back_by"][0]
    assert (budget["kind"], budget["value_if_lifted"]) == ("budget", None)  # no rule lifted
