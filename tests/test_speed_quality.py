"""The integer plan's speed-ups (a plan rounded from the relaxation, then the search
started from it) give up nothing: the plan stays within ``mip_gap`` of the best plan a
plain HiGHS search finds with a long time limit and a tiny gap, and its bound is a
genuine one (no plan is better than it)."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from optimiser import load_portfolio, optimise
from optimiser.model import build_model
from optimiser.plan import Status
from optimiser.read import read_tables
from optimiser.samples.generate import generate_portfolio, write_workbook
from optimiser.scenario import apply_levers
from optimiser.solvers import HighsEngine, StageResult, StageState
from optimiser.stages import Stages
from optimiser.validate import validate


def _reference(portfolio, levers):
    """A plain HiGHS search on the whole model (no rounded start): a long time limit and
    a tiny gap; the best plan it found by then."""
    model = build_model(apply_levers(portfolio, levers))
    engine = HighsEngine(model, levers.changed(mip_gap=1e-3, time_limit_s=40.0))
    result = engine.run("value", model.value, True, 40.0, np.zeros(len(model.variables)))
    assert result.state in (StageState.OPTIMAL, StageState.STOPPED)
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    ("missions", "seed", "changes"),
    [
        (40, 1, {}),
        (60, 2, {"budget_scale": 0.8}),
        (80, 3, {"personnel_scale": 0.85, "budget_scale": 0.9}),
        (50, 4, {"equipment_scale": 0.8}),
    ],
)
def test_integer_plan_is_within_the_gap_of_a_long_plain_search(tmp_path, missions, seed, changes):
    path = write_workbook(generate_portfolio(missions=missions, seed=seed), tmp_path / "p.xlsx")
    portfolio = load_portfolio(path)
    levers = portfolio.levers.changed(integer=True, **changes)
    plan = optimise(portfolio, levers)
    assert plan.status is Status.OPTIMAL
    gap = float(levers.mip_gap)
    assert plan.gap <= gap + 1e-9
    assert plan.value >= plan.best_bound * (1 - gap) - 1e-6
    assert plan.value == pytest.approx(float(plan.missions["value"].sum()), rel=1e-6)
    reference = _reference(portfolio, levers)
    # as good as the long search, up to the accepted gap ...
    assert plan.value >= reference.objective * (1 - gap) - 1e-6
    # ... and the plan's bound is genuine: the long search found nothing above it
    assert reference.objective <= plan.best_bound * (1 + 1e-7) + 1e-6


def test_a_plan_rounded_within_the_gap_needs_no_search(tmp_path, caplog):
    """With a generous gap (10%) the plan rounded from the relaxation is accepted as it is,
    proven by the relaxation's bound: no full integer search runs."""
    path = write_workbook(generate_portfolio(missions=30, seed=5), tmp_path / "p.xlsx")
    portfolio = load_portfolio(path)
    levers = portfolio.levers.changed(integer=True, mip_gap=0.1)
    with caplog.at_level(logging.DEBUG, logger="optimiser.stages"):
        plan = optimise(portfolio, levers)
    runs = [r.getMessage().strip() for r in caplog.records]
    # a restricted search ends within the gap: around the LP of the rounded running
    # pattern, the rounded plan's, or the one near the repaired relaxation
    accepted = tuple(
        f"value-{step}: {state}" for step in ("pattern", "round", "near") for state in ("optimal", "stopped")
    )
    assert any(m.startswith(accepted) for m in runs)
    assert not any(m.startswith("value: ") for m in runs)  # the full search did not run
    assert plan.status is Status.OPTIMAL and "value" in plan.solver.stages
    assert plan.value <= plan.best_bound and plan.gap <= 0.1
    assert plan.value >= plan.best_bound * 0.9 - 1e-6
    reference = _reference(portfolio, levers)
    assert reference.objective <= plan.best_bound * (1 + 1e-7) + 1e-6
    assert plan.value >= reference.objective * 0.9 - 1e-6


class NoIntegerPlan(HighsEngine):
    """HiGHS, except that every integer search ends as a time limit that stopped it before
    it found any plan would: the case of a model too large for its time limit."""

    def run(self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None):
        if not relaxed and len(self.integer):
            return StageResult(name, StageState.NO_PLAN, seconds=0.0)
        return super().run(
            name, objective, maximise, time_limit, start, relaxed=relaxed, gap=gap, target=target
        )


def meets_every_row(model, x, engine) -> None:
    """``x`` is a plan: whole numbers whole, every bound and row held."""
    whole = engine.integer
    assert np.abs(x[whole] - np.round(x[whole])).max() < 1e-6
    for variable, v in zip(model.variables, x, strict=True):
        variable.varValue = float(v)
        assert variable.lowBound is None or v >= variable.lowBound - 1e-6
        assert variable.upBound is None or v <= variable.upBound + 1e-6
    broken = [name for name, row in model.problem.constraints.items() if not row.valid(1e-6)]
    assert broken == []


# Known gap (issue 12, open): with the plans-over-time rules of the generated samples
# (running now, closure costs, min_run), the repair rounds the running decisions first
# (four patterns, each solved as an LP) and then the units; on 50 missions, seed 4, only
# the cautious pattern (missions the relaxation ran in fractions, 0.28, 0.55, 0.28, 0.55,
# left off) has an LP plan, and no rounding of that LP's units down is a plan, so it ends
# with "no plan" when the integer search finds none.
REPAIR_GAP = "repairing the relaxation can still break a plans-over-time rule (issue 12)"


@pytest.mark.parametrize(
    ("missions", "seed", "changes"),
    [
        (40, 1, {}),
        (60, 2, {"budget_scale": 0.8}),
        pytest.param(50, 4, {"budget_scale": 0.8}, marks=pytest.mark.xfail(strict=True, reason=REPAIR_GAP)),
    ],
)
def test_a_search_stopped_before_any_plan_returns_the_relaxation_repaired(missions, seed, changes):
    """Never "no plan found" while a plan exists: the relaxation rounded to whole units
    and repaired is a plan (every row holds, whole units whole), reported as stopped
    with its gap to the relaxation's bound."""
    portfolio = validate(read_tables(generate_portfolio(missions=missions, seed=seed)))
    model = build_model(apply_levers(portfolio, portfolio.levers.changed(integer=True, **changes)))
    engine = NoIntegerPlan(model, model.scenario.levers)
    run = Stages(model, engine, deadline=time.perf_counter() + 60.0)
    run.go()
    value = run.value_stages[0]
    assert value.state is StageState.STOPPED and run.out_of_time
    meets_every_row(model, run.incumbent, engine)
    assert 0 < value.objective <= value.bound
    assert value.gap == pytest.approx((value.bound - value.objective) / value.bound)
    # a usable plan, not an empty one (50 missions, seed 4: a cap on peacekeeping's share of
    # the money that rounding every mission down breaks; peacekeeping then rounds down more)
    assert value.gap < 0.2
