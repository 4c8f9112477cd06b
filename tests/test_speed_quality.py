"""The integer plan's speed-ups (a plan rounded from the relaxation, then the search
started from it) give up nothing: the plan stays within ``mip_gap`` of the best plan a
plain HiGHS search finds with a long time limit and a tiny gap, and its bound is a
genuine one (no plan is better than it)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from optimiser import load_portfolio, optimise
from optimiser.model import build_model
from optimiser.plan import Status
from optimiser.samples.generate import generate_portfolio, write_workbook
from optimiser.scenario import apply_levers
from optimiser.solvers import HighsEngine, StageState


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
    # the rounded plan's search ends proven or at its target (a plan within the gap)
    assert any(m.startswith(("value-round: optimal", "value-round: stopped")) for m in runs)
    assert not any(m.startswith("value: ") for m in runs)  # the full search did not run
    assert plan.status is Status.OPTIMAL and plan.solver.stages[0] == "value"
    assert plan.value <= plan.best_bound and plan.gap <= 0.1
    assert plan.value >= plan.best_bound * 0.9 - 1e-6
    reference = _reference(portfolio, levers)
    assert reference.objective <= plan.best_bound * (1 + 1e-7) + 1e-6
    assert plan.value >= reference.objective * 0.9 - 1e-6
