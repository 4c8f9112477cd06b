"""Strict priority order (SPEC 3): tier by tier, each tier held at no less than (1 -
tier_tolerance) x its value; on a pure linear programme the lexicographic optimum; with
integer decisions never behind the weighted plan in priority order."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from builders import make_portfolio
from test_model import MONEY, ZONES, coverage

from optimiser import load_portfolio, optimise
from optimiser.levers import Levers, PriorityMode
from optimiser.model import build_model
from optimiser.plan import Status
from optimiser.problems import InvalidInput
from optimiser.read import read_tables
from optimiser.samples.generate import generate_portfolio
from optimiser.scenario import apply_levers
from optimiser.solvers import make_engine
from optimiser.solvers.base import StageState, evaluate
from optimiser.stages import Stages
from optimiser.validate import validate

ROOT = Path(__file__).resolve().parent.parent

# Two resources, continuous: linguists (10) and drivers (5).
TWO_RESOURCES = """
    resource_id,name,kind,unit,unit_cost,available,integer
    L,Linguist,personnel,person,0,10,no
    D,Driver,personnel,person,0,5,no
"""


def _solve(missions: str, requirements: str, settings: str, resources: str = TWO_RESOURCES):
    return optimise(
        make_portfolio(
            missions=missions,
            zones=ZONES,
            resources=resources,
            requirements=requirements,
            funding=MONEY,
            settings="key,value\ndiminishing_returns,no\n" + settings,
        )
    )


LEX_MISSIONS = """
    mission_id,zone_id,priority,weight
    LEAD,Z1,1,1
    A,Z1,2,0.1
    B,Z1,3,10
"""
LEX_NEEDS = """
    mission_id,resource_id,quantity
    LEAD,L,5
    A,L,4
    A,D,2
    B,L,4
    B,D,4
"""


def test_strict_on_a_pure_linear_programme_is_the_lexicographic_optimum():
    """By hand: LEAD (tier 1) takes 5 linguists; A (tier 2) then 4 linguists and 2
    drivers; B (tier 3) the last linguist: coverage 1/4. Tier values 16, 8 x 0.1 = 0.8
    and 4 x 10 x 1/4 = 10. Weighted, B's 40 per coverage beats A's 0.8: B runs in full
    and A gets the last linguist (1/4): tier 2 only 0.2."""
    weighted = _solve(LEX_MISSIONS, LEX_NEEDS, "")
    assert coverage(weighted) == pytest.approx({"LEAD": 1.0, "A": 0.25, "B": 1.0})
    strict = _solve(LEX_MISSIONS, LEX_NEEDS, "priority_mode,strict\n")
    assert strict.status is Status.OPTIMAL
    assert coverage(strict) == pytest.approx({"LEAD": 1.0, "A": 1.0, "B": 0.25})
    assert [strict.value_by_priority[t] for t in (1, 2, 3)] == pytest.approx([16.0, 0.8, 10.0])
    assert "weighted" not in strict.solver.stages  # a pure LP: no weighted start needed


def test_tier_tolerance_lets_a_tier_give_up_that_share_for_the_tiers_below():
    """10 linguists; LEAD (tier 1) and NEXT (tier 2) each need 10. With no tolerance LEAD
    takes all; with 10% LEAD is held at 90% of its 16 (coverage 0.9) and NEXT gets the
    linguist freed: coverage 0.1."""
    missions = """
        mission_id,zone_id,priority
        LEAD,Z1,1
        NEXT,Z1,2
    """
    requirements = "mission_id,resource_id,quantity\nLEAD,L,10\nNEXT,L,10\n"
    exact = _solve(missions, requirements, "priority_mode,strict\n")
    assert coverage(exact) == pytest.approx({"LEAD": 1.0, "NEXT": 0.0})
    tolerant = _solve(missions, requirements, "priority_mode,strict\ntier_tolerance,10%\n")
    assert coverage(tolerant) == pytest.approx({"LEAD": 0.9, "NEXT": 0.1})
    assert tolerant.value_by_priority[1] == pytest.approx(0.9 * 16.0)


def test_tier_tolerance_defaults_to_zero_for_a_pure_lp_and_mip_gap_otherwise():
    levers = Levers()
    assert levers.tier_tolerance is None
    assert levers.tier_tolerance_for(integer_model=False) == 0.0
    assert levers.tier_tolerance_for(integer_model=True) == pytest.approx(0.005)
    assert levers.changed(mip_gap=0.01).tier_tolerance_for(True) == pytest.approx(0.01)
    set_ = levers.with_settings({"tier_tolerance": "2%"})
    assert set_.tier_tolerance == pytest.approx(0.02)
    assert set_.tier_tolerance_for(False) == pytest.approx(0.02)
    assert set_.as_settings()["tier_tolerance"] == "0.02"
    assert levers.with_settings(set_.as_settings()) == set_  # a round trip
    assert levers.with_settings({"tier_tolerance": ""}).tier_tolerance is None
    with pytest.raises(InvalidInput, match="tier_tolerance"):
        levers.with_settings({"tier_tolerance": "1.5"})


def _ahead_or_level(strict: dict[int, float], weighted: dict[int, float]) -> bool:
    """``strict`` at least as good as ``weighted`` in priority order: tier 1 no lower;
    if equal (to a relative 1e-7), tier 2 no lower; and so on."""
    for tier in range(1, 6):
        a, b = strict.get(tier, 0.0), weighted.get(tier, 0.0)
        if a > b + 1e-7 * max(abs(b), 1.0):
            return True
        if a < b - 1e-7 * max(abs(b), 1.0):
            return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize(("missions", "seed"), [(40, 1), (60, 3)])
def test_strict_whole_units_respect_the_tier_order(missions, seed):
    """With whole units the plan is no worse in priority order than the weighted plan
    (it starts from it): tier 1 no lower; if equal, tier 2 no lower; and so on."""
    portfolio = validate(read_tables(generate_portfolio(missions=missions, seed=seed)))
    base = portfolio.levers.changed(integer=True)
    weighted = optimise(portfolio, base)
    strict = optimise(portfolio, base.changed(priority_mode=PriorityMode.STRICT))
    assert strict.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert strict.solver.stages[0].startswith("weighted")  # the weighted plan first (repaired or not)
    if weighted.status is Status.OPTIMAL:  # (under a time limit, another weighted plan)
        assert _ahead_or_level(strict.value_by_priority, weighted.value_by_priority)
    if strict.status is Status.OPTIMAL:  # a tier may give up its tolerance for those below
        given_up = base.tier_tolerance_for(True)
        assert strict.gap <= float(base.mip_gap) + given_up + 1e-9


def test_strict_under_a_short_time_limit_still_returns_a_plan():
    """Three seconds for a weighted start and five tiers: the plan in hand, never "no
    plan found", however far the searches got."""
    portfolio = validate(read_tables(generate_portfolio(missions=60, seed=3)))
    levers = portfolio.levers.changed(integer=True, time_limit_s=3.0, priority_mode=PriorityMode.STRICT)
    plan = optimise(portfolio, levers)
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert plan.value == pytest.approx(float(plan.missions["value"].sum()), rel=1e-6)
    units = plan.allocation["units"].to_numpy(float)
    assert (abs(units - units.round()) < 1e-6).all()  # whole units


@pytest.mark.slow
def test_strict_national_whole_units_proves_every_tier_but_the_last():
    """The national sample, strict, whole units: tiers 1 to 4 each within mip_gap of the
    best possible given the tiers above (the tier's relaxation with them held). Each
    tier's rounding takes first half of the tolerance the tiers above have left, and its
    search prefers plans that take less, so the tiers below still have room to round:
    before, tier 3 took the whole of tiers 1 and 2's tolerance, and tier 4 found 107.5
    against a bound of 190 (43%). Tier 5 is not proven yet (issue 12): its relaxation
    takes from every tier above in fractions no whole-unit plan can."""
    portfolio = load_portfolio(ROOT / "sample_budgets" / "national_portfolio.xlsx")
    levers = portfolio.levers.changed(integer=True, priority_mode=PriorityMode.STRICT, time_limit_s=20.0)
    model = build_model(apply_levers(portfolio, levers))
    run = Stages(model, make_engine(model, levers), deadline=time.perf_counter() + 20.0)
    run.go()
    tiers = {stage.name: stage for stage in run.value_stages}
    assert sorted(tiers) == ["tier1", "tier2", "tier3", "tier4", "tier5"]
    gap = float(levers.mip_gap)
    for name in ("tier1", "tier2", "tier3", "tier4"):
        stage = tiers[name]
        assert stage.state is StageState.OPTIMAL, name
        assert stage.objective >= (1 - gap) * stage.bound - 1e-9, name
    # the plan keeps every tier at (1 - tier_tolerance) x the value found for it
    found = {int(name[4:]): stage.objective for name, stage in tiers.items()}
    tolerance = levers.tier_tolerance_for(True)
    for tier, value in found.items():
        assert evaluate(model.tier_value[tier], run.incumbent) >= (1 - tolerance) * value - 1e-6
