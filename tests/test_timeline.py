"""Plans over time (SPEC 3.1): one hand-solved case per rule, each asserting the plan's
numbers, and a property test on generated portfolios.

Every case has one kind of staff, 1,000 a person a period, and missions that need 10 of
them at full coverage (10,000 a period). Values are linear (``diminishing_returns`` no):
a priority-1 mission is worth 16 per period at full coverage, a priority-2 one 8.
The arithmetic is in a comment next to each assertion.
"""

from __future__ import annotations

import pytest
from builders import make_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.diagnose import relax_commitments
from optimiser.entry import optimise
from optimiser.model import build_model, keep_rules
from optimiser.plan import Plan, Status
from optimiser.scenario import apply_levers

ZONES = """
    zone_id,region
    Z1,East
"""
QUARTERS = """
    period_id,name
    Q1,2027-Q1
    Q2,2027-Q2
    Q3,2027-Q3
    Q4,2027-Q4
"""
COLUMNS = (
    "mission_id,zone_id,priority,must_fund,min_coverage,start_period,end_period,"
    "continuity,min_run,running_now,startup_cost,closure_cost,max_step"
)


def staff(integer: str = "no") -> str:
    return f"""
        resource_id,kind,unit_cost,integer
        S,personnel,1000,{integer}
    """


def needs(*missions: str, quantity: float = 10) -> str:
    return "mission_id,resource_id,quantity\n" + "\n".join(f"{m},S,{quantity}" for m in missions)


def money(*amounts: float) -> str:
    rows = "\n".join(f"CORE,{a},Q{i}" for i, a in enumerate(amounts, 1))
    return "source_id,amount,period\n" + rows


def quarters(n: int) -> str:
    return "\n".join(QUARTERS.strip().splitlines()[: n + 1])


def plan_of(
    missions: str, funding: str, n: int, extra: str = "", integer: str = "no", requirements=None
) -> Plan:
    settings_rows = "key,value\ndiminishing_returns,no\n" + extra
    ids = [line.split(",")[0].strip() for line in missions.strip().splitlines()]
    portfolio = make_portfolio(
        missions=COLUMNS + "\n" + missions,
        zones=ZONES,
        resources=staff(integer),
        requirements=requirements or needs(*ids),
        funding=funding,
        periods=quarters(n),
        settings=settings_rows,
    )
    return optimise(portfolio)


def coverage(plan: Plan, mission: str) -> list[float]:
    rows = plan.missions[plan.missions["mission_id"] == mission]
    return [round(float(c), 6) for c in rows["coverage"]]


def cost(plan: Plan, mission: str) -> list[float]:
    rows = plan.missions[plan.missions["mission_id"] == mission]
    return [round(float(c), 2) for c in rows["cost"]]


# -- continuity ------------------------------------------------------------------------------


@pytest.mark.parametrize("integer", ["no", "yes"])
def test_continuity_forbids_a_restart_and_continuity_no_allows_it(integer):
    # Q1 holds 10,000 (full coverage), Q2 nothing, Q3 8,000 (80%). Running Q1 and Q3 would
    # be worth 16 + 12.8 = 28.8, but that is a restart: with continuity the best single
    # stretch is Q1 alone (16; Q3 alone is 12.8).
    missions = "A,Z1,1,no,0,,,yes,1,no,0,0,"
    plan = plan_of(missions, money(10000, 0, 8000), 3, integer=integer)
    assert plan.status is Status.OPTIMAL
    assert coverage(plan, "A") == [1.0, 0.0, 0.0]
    assert plan.value == pytest.approx(16.0)
    # the mission's own column, or the setting for every mission, turns the rule off
    allowed = plan_of(missions.replace(",yes,1,", ",no,1,"), money(10000, 0, 8000), 3, integer=integer)
    assert coverage(allowed, "A") == [1.0, 0.0, 0.8]
    assert allowed.value == pytest.approx(28.8)
    setting = plan_of(missions, money(10000, 0, 8000), 3, extra="continuity,no\n", integer=integer)
    assert coverage(setting, "A") == [1.0, 0.0, 0.8]


def test_a_mission_running_now_that_stops_never_restarts():
    # Running now, Q1 has no money: it must stop in Q1 and cannot come back in Q2 or Q3.
    plan = plan_of("A,Z1,1,no,0,,,yes,1,yes,0,0,", money(0, 10000, 10000), 3)
    assert coverage(plan, "A") == [0.0, 0.0, 0.0]
    # a mission not running now may start late and run Q2-Q3 (one stretch): 32
    late = plan_of("A,Z1,1,no,0,,,yes,1,no,0,0,", money(0, 10000, 10000), 3)
    assert coverage(late, "A") == [0.0, 1.0, 1.0] and late.value == pytest.approx(32.0)


# -- min_run ---------------------------------------------------------------------------------


def test_min_run_keeps_a_mission_on_through_a_lean_quarter():
    # A (priority 2, worth 8 a period) may restart (continuity no); B (priority 1, worth 16)
    # runs only in Q2 and needs 2 staff, the whole of Q2's 2,000.
    # Without min_run: A runs Q1 and Q3 (8 + 8), B gets Q2 (16): 32.
    # With min_run 3, starting in Q1 means running Q1-Q3, so A keeps the 1% floor in Q2
    # (0.1 staff = 100), B gets 1,900 (95%): 8 x 2.01 + 16 x 0.95 = 31.28 (better than A
    # in Q3 alone, a run cut short by the end: 8 + 16 = 24).
    requirements = needs("A") + "\nB,S,2"
    free = "A,Z1,2,no,0,,,no,1,no,0,0,\nB,Z1,1,no,0,Q2,Q2,yes,1,no,0,0,"
    plan = plan_of(free, money(10000, 2000, 10000), 3, requirements=requirements)
    assert coverage(plan, "A") == [1.0, 0.0, 1.0] and coverage(plan, "B") == [1.0]
    assert plan.value == pytest.approx(32.0)
    held = plan_of(
        free.replace(",no,1,no,", ",no,3,no,", 1), money(10000, 2000, 10000), 3, requirements=requirements
    )
    assert coverage(held, "A") == [1.0, 0.01, 1.0]
    assert coverage(held, "B") == [0.95]
    assert held.value == pytest.approx(31.28)


# -- running_now, start-up and closure costs ---------------------------------------------------


def test_running_now_makes_q1_free_and_a_stop_costs_its_closure_cost():
    # Start-up 5,000, closure 3,000. Q1 holds 10,000, Q2 3,000, Q3 nothing.
    # Running now: no start-up in Q1, so 100% there (10,000). It cannot run into Q3 (no
    # money for Q3's closure, and stopping at end_period Q3 is free only if it runs in Q3),
    # so it stops in Q2 and Q2 pays the closure: 3,000.
    now = plan_of("A,Z1,1,no,0,,,yes,1,yes,5000,3000,", money(10000, 3000, 0), 3)
    assert coverage(now, "A") == [1.0, 0.0, 0.0]
    assert cost(now, "A") == [10000.0, 3000.0, 0.0]
    assert now.total_cost == pytest.approx(13000.0)
    # Not running now: Q1 pays the start-up, 5,000, and runs at 50% with the rest; the
    # stop in Q2 costs 3,000 as before.
    new = plan_of("A,Z1,1,no,0,,,yes,1,no,5000,3000,", money(10000, 3000, 0), 3)
    assert coverage(new, "A") == [0.5, 0.0, 0.0]
    assert cost(new, "A") == [10000.0, 3000.0, 0.0]
    # the closure is paid by the mission's sources: it shows in the Funding table
    paid = new.funding.groupby("period_id")["money"].sum()
    assert paid["Q1"] == pytest.approx(10000.0) and paid["Q2"] == pytest.approx(3000.0)


def test_ending_at_end_period_costs_no_closure():
    # Running now to its end_period Q2 at full coverage: no closure anywhere.
    plan = plan_of("A,Z1,1,no,0,,Q2,yes,1,yes,5000,3000,", money(10000, 10000, 10000), 3)
    assert coverage(plan, "A") == [1.0, 1.0]
    assert cost(plan, "A") == [10000.0, 10000.0]


def test_a_start_up_cost_makes_a_mission_wait_for_the_quarter_with_money():
    # Start-up 6,000: Q1's 5,000 cannot pay it, so it starts in Q2 (6,000 + 10,000 for full
    # coverage from Q2's 16,000) and runs on in Q3 (10,000, no second start-up).
    plan = plan_of("A,Z1,1,no,0,,,yes,1,no,6000,0,", money(5000, 16000, 10000), 3)
    assert coverage(plan, "A") == [0.0, 1.0, 1.0]
    assert cost(plan, "A") == [0.0, 16000.0, 10000.0]
    assert plan.value == pytest.approx(32.0)


def test_start_up_money_is_paid_and_counted_in_budget_share_policies():
    # A (East, priority 1) has a start-up of 4,000; B (West, priority 2) none; 20,000 of
    # money and East at most 50% of all spending. Counting A's start-up:
    # 4,000 + 10,000 a <= 0.5 (4,000 + 10,000 a + 10,000 b), i.e. a <= b - 0.4; with B full
    # (b = 1) A gets 60% and the money is exactly spent (4,000 + 6,000 + 10,000).
    # (Were the start-up left out, a <= b and a + b <= 1.6: both at 80%.)
    zones = "zone_id,region\nZ1,East\nZ2,West"
    portfolio = make_portfolio(
        missions=COLUMNS + "\nA,Z1,1,no,0,,,yes,1,no,4000,0,\nB,Z2,2,no,0,,,yes,1,no,0,0,",
        zones=zones,
        resources=staff(),
        requirements=needs("A", "B"),
        funding="source_id,amount\nCORE,20000",
        policies="rule,scope_type,scope_value,value\nmax_budget_share,region,East,50%",
        settings="key,value\ndiminishing_returns,no",
    )
    plan = optimise(portfolio)
    assert coverage(plan, "A") == [0.6] and coverage(plan, "B") == [1.0]
    assert cost(plan, "A") == [10000.0] and plan.total_cost == pytest.approx(20000.0)
    assert plan.value == pytest.approx(16 * 0.6 + 8)


# -- max_step ----------------------------------------------------------------------------------


def test_max_step_limits_a_build_up():
    # Running now (so stopping would end it for good), Q1 holds 2,000 (20%), later quarters
    # plenty. With max_step 25% the build-up is 20%, 45%, 70%, 95%; without it 20%, then 100%.
    plenty = money(2000, 100000, 100000, 100000)
    limited = plan_of("A,Z1,1,no,0,,,yes,1,yes,0,0,25%", plenty, 4)
    assert coverage(limited, "A") == [0.2, 0.45, 0.7, 0.95]
    assert limited.value == pytest.approx(16 * 2.3)
    free = plan_of("A,Z1,1,no,0,,,yes,1,yes,0,0,", plenty, 4)
    assert coverage(free, "A") == [0.2, 1.0, 1.0, 1.0]


def test_max_step_exempts_a_start():
    # Not running now: it starts in Q2 at full coverage (a start is exempt from the step)
    # rather than creep up from 20% in Q1: 3 x 16 = 48 against 16 x 2.3.
    plan = plan_of("A,Z1,1,no,0,,,yes,1,no,0,0,25%", money(2000, 100000, 100000, 100000), 4)
    assert coverage(plan, "A") == [0.0, 1.0, 1.0, 1.0]


# -- the 1% floor --------------------------------------------------------------------------


def test_a_running_mission_where_a_rule_applies_covers_at_least_one_percent():
    # 50 of money buys 0.5% coverage. With no rule that is the plan; with a rule (here a
    # min_run of 2, cut short by the end of a one-period plan) a mission below 1% is not
    # running, so it gets 0; 200 buys 2%, above the floor.
    plain = plan_of("A,Z1,1,no,0,,,yes,1,no,0,0,", "source_id,amount\nCORE,50", 1)
    assert coverage(plain, "A") == [0.005]
    ruled = plan_of("A,Z1,1,no,0,,,yes,2,no,0,0,", "source_id,amount\nCORE,50", 1)
    assert coverage(ruled, "A") == [0.0]
    assert coverage(plan_of("A,Z1,1,no,0,,,yes,2,no,0,0,", "source_id,amount\nCORE,200", 1), "A") == [0.02]


def test_a_must_fund_mission_runs_in_every_active_period():
    # Must-fund at 30% with continuity: it runs each quarter, so Q2's lean 3,000 holds it
    # at 30% and nothing forces a stop.
    plan = plan_of("A,Z1,1,yes,30%,,,yes,3,no,0,0,", money(10000, 3000, 10000), 3)
    assert coverage(plan, "A") == [1.0, 0.3, 1.0]


# -- a workbook without the new columns ------------------------------------------------------


def test_a_one_period_workbook_without_the_new_columns_plans_exactly_as_before():
    # The model has no running decision beyond on/off minimums, no starts or stops, and the
    # plan is the hand-solved one: 25,000 of money; M1 (priority 1) full at 10,000, M2 (on/
    # off at 60%, priority 2) at 100% for 10,000, M3 (priority 3) gets 5,000: 50%.
    missions = """
        mission_id,zone_id,priority,min_coverage
        M1,Z1,1,0
        M2,Z1,2,60%
        M3,Z1,3,0
    """
    portfolio = make_portfolio(
        missions=missions,
        zones=ZONES,
        resources=staff(),
        requirements=needs("M1", "M2", "M3"),
        funding="source_id,amount\nCORE,25000",
        settings="key,value\ndiminishing_returns,no",
    )
    model = build_model(apply_levers(portfolio))
    assert list(model.running) == [("M2", "P1")] and not model.starts and not model.stops
    assert not model.timeline_rows
    plan = optimise(portfolio)
    assert coverage(plan, "M1") == [1.0] and coverage(plan, "M2") == [1.0] and coverage(plan, "M3") == [0.5]
    assert plan.value == pytest.approx(16 + 8 + 4 * 0.5)
    again = optimise(portfolio, portfolio.levers.changed(continuity=False))
    assert again.missions["coverage"].tolist() == plan.missions["coverage"].tolist()


def test_several_periods_without_the_columns_hold_continuity_by_default():
    # The first case's numbers, from a workbook with no continuity column at all.
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority\nA,Z1,1",
        zones=ZONES,
        resources=staff(),
        requirements=needs("A"),
        funding=money(10000, 0, 8000),
        periods=quarters(3),
        settings="key,value\ndiminishing_returns,no",
    )
    assert coverage(optimise(portfolio), "A") == [1.0, 0.0, 0.0]


# -- rounding a relaxation keeps the rules ---------------------------------------------------


def test_rounding_picks_the_nearest_pattern_that_keeps_continuity_and_min_run():
    portfolio = make_portfolio(
        missions=COLUMNS + "\nA,Z1,1,no,0,,,yes,1,no,0,0,\nB,Z1,1,no,0,,,no,3,no,0,0,",
        zones=ZONES,
        resources=staff(),
        requirements=needs("A", "B"),
        funding=money(1, 1, 1, 1),
        periods=quarters(4),
    )
    cells = build_model(apply_levers(portfolio)).cells
    # A: on, off, off, on -> one stretch agrees in 3 periods of 4 either way (Q1 alone or
    # Q4 alone): the tie goes to the higher coverage, Q4. B: on in Q1-Q2 -> a run of 3 from
    # Q1 agrees in 3 periods (off throughout, or a longer run, in 2).
    on = [1, 0, 0, 1, 1, 1, 0, 0]
    lean = [0.2, 0, 0, 0.9, 1, 1, 0, 0]
    assert keep_rules(cells, on, lean).tolist() == [0, 0, 0, 1, 1, 1, 1, 0]


# -- property: no plan restarts a mission that has continuity --------------------------------


@st.composite
def portfolios(draw):
    n_periods = draw(st.integers(2, 4))
    n_missions = draw(st.integers(1, 4))
    rows, requirements = [], []
    for m in range(n_missions):
        rows.append(
            ",".join(
                [
                    f"M{m}",
                    "Z1",
                    str(draw(st.integers(1, 3))),
                    "no",
                    draw(st.sampled_from(["0", "20%", "50%"])),
                    "",
                    "",
                    draw(st.sampled_from(["yes", "yes", "no"])),
                    str(draw(st.integers(1, 3))),
                    draw(st.sampled_from(["yes", "no"])),
                    str(draw(st.sampled_from([0, 0, 2000, 5000]))),
                    str(draw(st.sampled_from([0, 0, 1000, 3000]))),
                    draw(st.sampled_from(["", "", "25%", "50%"])),
                ]
            )
        )
        requirements.append(f"M{m},S,{draw(st.integers(1, 12))}")
    amounts = [draw(st.sampled_from([0, 3000, 8000, 15000, 40000])) for _ in range(n_periods)]
    integer = draw(st.sampled_from(["yes", "no"]))
    return (
        make_portfolio(
            missions=COLUMNS + "\n" + "\n".join(rows),
            zones=ZONES,
            resources=staff(integer),
            requirements="mission_id,resource_id,quantity\n" + "\n".join(requirements),
            funding=money(*amounts),
            periods=quarters(n_periods),
            settings="key,value\ntime_limit_s,20",
        ),
        n_periods,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_no_plan_restarts_a_mission_that_has_continuity_and_every_rule_holds(case):
    portfolio, _ = case
    plan = optimise(portfolio)
    if plan.status is Status.INFEASIBLE:
        return  # e.g. a closure cost in a period with no money: explained, not planned
    missions = portfolio.missions
    for mission_id, rows in plan.missions.groupby("mission_id", sort=False):
        runs = (rows["coverage"].to_numpy() > 1e-9).tolist()
        m = missions.loc[mission_id]
        before = bool(m["running_now"])
        history = [before, *runs]
        starts = [i for i in range(len(runs)) if runs[i] and not history[i]]
        if m["continuity"]:
            stopped = [i for i in range(len(runs)) if not runs[i] and history[i]]
            assert not any(s > t for t in stopped for s in starts), (mission_id, runs)
            assert len(starts) <= (0 if before else 1), (mission_id, runs)
        for s in starts:  # min_run, truncated at the end
            assert all(runs[s : s + int(m["min_run"])]), (mission_id, runs)
        cover = rows["coverage"].to_numpy()
        for i in range(len(runs)):
            if runs[i]:
                assert cover[i] >= 0.01 - 1e-9
            if i and runs[i] and runs[i - 1] and m["max_step"] == m["max_step"]:
                assert abs(cover[i] - cover[i - 1]) <= m["max_step"] + 1e-6


# -- diagnosis: the rules in the planner's words ------------------------------------------------


def test_the_diagnosis_names_the_rule_that_keeps_a_mission_running():
    # Running now, closure 3,000, and Q1 has no money at all: stopping costs the closure in
    # Q1, and running costs at least its 1% floor (100) there; neither can be paid.
    plan = plan_of("A,Z1,1,no,0,,,yes,1,yes,0,3000,", money(0, 10000, 10000), 3)
    assert plan.status is Status.INFEASIBLE
    sentence = plan.diagnosis[0]
    assert sentence.startswith("A needs USD 100 from CORE in 2027-Q1; it holds USD 0 (short USD 100)")
    assert "A is running now: stopping would cost its closure of USD 3,000" in sentence
    assert "may not restart (continuity)" in sentence


def test_the_stretched_plan_keeps_the_rules():
    portfolio = make_portfolio(
        missions=COLUMNS + "\nA,Z1,1,no,0,,,yes,1,yes,0,3000,",
        zones=ZONES,
        resources=staff(),
        requirements=needs("A"),
        funding=money(0, 10000, 10000),
        periods=quarters(3),
        settings="key,value\ndiminishing_returns,no",
    )
    stretched = relax_commitments(portfolio)
    # the money short in Q1 is lent; A keeps running (no stop and restart): 1% or more in
    # Q1, then full coverage from Q2's money
    runs = coverage(stretched, "A")
    assert runs[0] >= 0.01 and runs[1:] == [1.0, 1.0]
