"""Large models (issue 12, targets 2 and 6): the coverage relaxation is a genuine bound,
the large-model stage (coverage relaxation, its guide rounded and repaired, then the
search) returns a plan of every row with an honest gap, and a stopped search's repair
stays within a few seconds of the planner's time limit.

The large-model stage runs from :data:`optimiser.stages.LARGE_COLUMNS` columns (20,000
missions); here it is lowered so that small generated portfolios take that path."""

from __future__ import annotations

import time

import pytest
from builders import make_portfolio
from test_model import LINEAR, MONEY, ZONES, needs, people
from test_speed_quality import NoIntegerPlan, meets_every_row

import optimiser.stages as stages_module
from optimiser.bound import coverage_relaxation
from optimiser.model import build_model
from optimiser.plan import Status
from optimiser.read import read_tables
from optimiser.samples.generate import generate_portfolio
from optimiser.scenario import apply_levers
from optimiser.solve import solve
from optimiser.solvers import HighsEngine, StageResult, StageState
from optimiser.stages import _REPAIR_MIN_S, Stages
from optimiser.validate import validate

CASES = [
    (40, 1, {}),
    (60, 2, {"budget_scale": 0.8}),
    (50, 4, {"budget_scale": 0.8}),
    (80, 3, {"personnel_scale": 0.85, "equipment_scale": 0.9}),
]


def _model(missions, seed, changes, integer=True):
    portfolio = validate(read_tables(generate_portfolio(missions=missions, seed=seed)))
    return build_model(apply_levers(portfolio, portfolio.levers.changed(integer=integer, **changes)))


@pytest.mark.parametrize(("missions", "seed", "changes"), CASES)
@pytest.mark.parametrize("integer", [True, False])
def test_the_coverage_relaxation_bounds_the_models_own_relaxation(missions, seed, changes, integer):
    """Every plan of the model is a plan of the coverage relaxation, worth as much: its
    optimum is at least the model's relaxation's (total value and each tier's), and,
    since it drops only earmarks, budget shares and the rules of plans over time, not far
    above it on these portfolios (within 10%)."""
    model = _model(missions, seed, changes, integer)
    engine = HighsEngine(model, model.scenario.levers)
    for objective in [model.value, *model.tier_value.values()]:
        full = engine.run("relaxed", objective, True, 60.0, None, relaxed=True)
        assert full.state is StageState.OPTIMAL
        quick = engine.solve_lp("quick", coverage_relaxation(model, objective), 60.0)
        assert quick is not None and quick.state is StageState.OPTIMAL
        assert quick.objective >= full.objective - 1e-6 * max(1.0, abs(full.objective))
        if objective is model.value:
            assert quick.objective <= full.objective * 1.10 + 1e-6


@pytest.mark.parametrize(("settings", "per_worth_of_a"), [(LINEAR, 1.0), (None, 2 / 3 + 0.4)])
def test_the_coverage_relaxation_of_a_hand_made_case(settings, per_worth_of_a):
    """Two missions share 10 linguists and need 10 each; B is worth 0.6 of A. Linear
    value: A whole (A's worth). Diminishing returns: A's first half (4/3 x 0.5 = 2/3 of
    A's worth), then B's first half (4/3 x 0.5 x 0.6 = 0.4) beats A's second (2/3 x 0.5 =
    1/3): 2/3 + 0.4 of A's worth. The integer optimum is the same: 5 linguists each."""
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority,weight\nA,Z1,1,1\nB,Z1,1,0.6",
        zones=ZONES,
        resources=people(10),
        requirements=needs(A=10, B=10),
        funding=MONEY,
        settings=settings,
    )
    model = build_model(apply_levers(portfolio, portfolio.levers))
    engine = HighsEngine(model, model.scenario.levers)
    quick = engine.solve_lp("quick", coverage_relaxation(model, model.value), 10.0)
    worth_a = float(model.cells.loc[model.cells["mission_id"] == "A", "worth"].iloc[0])
    assert quick.state is StageState.OPTIMAL
    assert quick.objective == pytest.approx(per_worth_of_a * worth_a)
    plan = solve(apply_levers(portfolio, portfolio.levers))
    assert plan.value == pytest.approx(quick.objective)


class _NoRelaxation(NoIntegerPlan):
    """As :class:`NoIntegerPlan`, and the model's own relaxation stopped too: the case of
    20,000 missions in 60 s. The coverage relaxation (a small LP of its own) still solves."""

    def run(self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None):
        if name.endswith("-bound"):
            return StageResult(name, StageState.NO_PLAN, seconds=0.0)
        return super().run(
            name, objective, maximise, time_limit, start, relaxed=relaxed, gap=gap, target=target
        )


# Known gaps (issue 12, open): rounding the coverage guide down to whole units keeps the
# budgets only with money left over for start-up and closure costs (the guide is tried
# with 100%, 90%, 75% and 60% of it) and can still break a budget-share policy; on 50
# missions (seed 4, budget 0.8) the plan found is 52% below the bound, on 80 (seed 3)
# no rounding is a plan.
GUIDE_GAP = "the rounded coverage guide breaks a budget or budget-share policy (issue 12)"
GUIDE_CASES = [
    *CASES[:2],
    pytest.param(*CASES[2], marks=pytest.mark.xfail(strict=True, reason=GUIDE_GAP)),
    pytest.param(*CASES[3], marks=pytest.mark.xfail(strict=True, reason=GUIDE_GAP)),
]


@pytest.mark.parametrize(("missions", "seed", "changes"), GUIDE_CASES)
def test_a_large_model_with_no_search_in_time_gets_the_guide_repaired(monkeypatch, missions, seed, changes):
    """The large-model stage with every integer search and the model's relaxation
    stopped: the coverage guide rounded and repaired is a plan of every row, reported as
    stopped (``feasible``) with its gap to the coverage relaxation's bound."""
    monkeypatch.setattr(stages_module, "LARGE_COLUMNS", 0)
    model = _model(missions, seed, changes)
    engine = _NoRelaxation(model, model.scenario.levers)
    run = Stages(model, engine, deadline=time.perf_counter() + 60.0)
    run.go()
    value = run.value_stages[0]
    assert value.state in (StageState.STOPPED, StageState.OPTIMAL)
    assert run.out_of_time is (value.state is StageState.STOPPED)
    meets_every_row(model, run.incumbent, engine)
    quick = engine.solve_lp("quick", coverage_relaxation(model, model.value), 60.0)
    assert value.bound == pytest.approx(quick.objective)
    assert 0 < value.objective <= value.bound
    assert value.gap == pytest.approx((value.bound - value.objective) / value.bound)
    assert value.gap < 0.25  # a usable plan, not an empty one


@pytest.mark.parametrize(("missions", "seed", "changes"), CASES[:2])
@pytest.mark.parametrize("integer", [True, False])
def test_the_large_model_stage_with_time_gives_the_plan_of_the_normal_one(
    monkeypatch, missions, seed, changes, integer
):
    """With the time to search from the repaired guide, the large-model stage ends as the
    normal one does: proven within mip_gap, its value within the gap of the normal
    path's, and each path's bound above the other's value."""
    portfolio = validate(read_tables(generate_portfolio(missions=missions, seed=seed)))
    scenario = apply_levers(portfolio, portfolio.levers.changed(integer=integer, **changes))
    normal = solve(scenario)
    monkeypatch.setattr(stages_module, "LARGE_COLUMNS", 0)
    large = solve(scenario)
    assert any(stage.endswith("quick-bound") for stage in large.solver.stages)
    gap = float(scenario.levers.mip_gap)
    assert normal.status is Status.OPTIMAL and large.status is Status.OPTIMAL
    assert large.gap <= gap + 1e-9
    assert large.value >= normal.value * (1 - gap) - 1e-6
    assert normal.value <= large.best_bound * (1 + 1e-7) + 1e-6
    assert large.value <= normal.best_bound * (1 + 1e-7) + 1e-6


class _Stopped(HighsEngine):
    """Every run ends as if the time limit stopped it before any plan: records the time
    limit each run was given."""

    def __init__(self, model, levers):
        super().__init__(model, levers)
        self.limits: list[tuple[str, float]] = []

    def run(self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None):
        self.limits.append((name, float(time_limit)))
        return StageResult(name, StageState.NO_PLAN, seconds=0.0)


def test_the_repair_of_a_stopped_search_stays_within_a_few_seconds_of_the_time_limit():
    """The time limit spent, the repair gives its runs together no more than
    ``_REPAIR_MIN_S`` (it once gave the relaxation a whole further time limit, 60 s, and
    each rounding attempt 5 s): then "no plan found" (every run here finds none)."""
    model = _model(40, 1, {})
    engine = _Stopped(model, model.scenario.levers)
    run = Stages(model, engine, deadline=time.perf_counter())  # no time left at all
    with pytest.raises(stages_module.SolveError, match="No plan found"):
        run.go()
    repair = [limit for name, limit in engine.limits if (name.startswith("value-") and "repair" in name)
              or (name == "value-bound" and limit > 0)]
    assert engine.limits, "the stages ran nothing"
    assert max(limit for _, limit in engine.limits) <= _REPAIR_MIN_S + 1e-6
    assert all(limit <= _REPAIR_MIN_S + 1e-6 for limit in repair)
