"""Solve a scenario: solver options, stages, status, and the plan's tables.

The one place where solver objects are created. :func:`solve` builds the model
(:mod:`optimiser.model`), runs its stages on HiGHS (``pulp.HiGHS``, the highspy object
kept in ``problem.solverModel``) or CBC (``pulp.PULP_CBC_CMD``), and turns the chosen
plan into a :class:`~optimiser.plan.Plan`.

Stages (SPEC 3)
---------------
- ``weighted``: maximise total value (stage "value"); then keep that value (at least
  the incumbent's value; CBC: less a relative 1e-9) and spend the least
  money (stage "cost"), starting the integer search from the value stage's plan.
- ``strict``: maximise the value of tier 1 ("tier1"), keep it, then tier 2, ... up to
  the lowest tier present; then spend the least money ("cost").
- On/off decisions without whole units (``integer = no``): the value stage first solves
  the continuous relaxation (stage "value-bound", an upper bound), runs every on/off
  mission that reached its minimum there and stops the others, and re-solves with
  those decisions fixed. That plan is accepted when it is within ``mip_gap`` of the
  bound (what the integer search would accept too), else the integer search starts
  from it; in strict mode each tier decides again. A relaxed plan is then a few LPs,
  fast enough for the what-if page.
- With whole units (``integer = yes``) each value stage (value or tier) first solves the
  continuous relaxation (an upper bound; with the model's whole-unit rows it is within
  about 0.2% of the best plan on the national sample, where the plain rows left 1%),
  then the "rounded" plan: the integer search restricted to units and on/off decisions
  at the floor or ceiling of their relaxed values (the units of a mission only half on
  in the relaxation left free), with the coverage and money of every mission-period
  the relaxation left whole kept as they are, and stopped at the first plan within
  ``mip_gap`` of the relaxation's bound (HiGHS's ``objective_target``): a small search.
  That plan is accepted with the relaxation's bound; otherwise the full integer search
  starts from it, and usually has only to prove its bound (the national sample over 12
  lever settings: a median of 0.7 s and the slowest about 2.3 s from levers to plan, where it
  took 2-3 s and up to 18 s before these steps). The stage's bound is the lesser of the
  relaxation's and HiGHS's ``mip_dual_bound``, both genuine. CBC searches as before.
- "cost" keeps the on/off decisions of the value stage (one mission switched for
  another of the same value is rarely cheaper, and fixing them makes the money search
  far easier). With whole units, it first hands back the units the plan does not need
  (stage "polish": the least money with each need between ``ceil(quantity x
  coverage)`` and the units given, a small search), then searches for cheaper plans
  for a tenth of the time the value search took (at least 0.2 s) each; if
  it stops there, the plan is still value-optimal and the message says how close to
  the least money it got.
- ``duals``: shadow prices come from the continuous model with the on/off decisions
  fixed at the chosen plan (integer units relaxed, value floors dropped), maximising
  total value weighted by ``priority_weights`` (in strict mode too: the lexicographic
  order has no single marginal value, so the tiers' weights price it). When the value
  stage's own LP is that model, its duals are used. A shadow price is "value of one
  more unit": ``d value / d right-hand side`` of a capacity, budget or zone-cap row
  (HiGHS's row dual for a maximisation; CBC's as read by PuLP), never negative.

Time: ``time_limit_s`` covers every stage together. Each value stage may use three
parts of the remaining time for every one part left to each later stage (weighted:
75 % to "value", the rest to "cost"); time a stage does not use passes on.

Status: ``optimal`` when the value stages proved their optimum (within ``mip_gap``);
``feasible`` when the time limit stopped a search with a plan in hand; ``infeasible``
when the commitments (must-fund floors, policies, zone caps, on/off minimums) cannot
all hold. ``gap`` is the value stage's (bound - value) / bound, the bound read from
HiGHS's ``mip_dual_bound`` (0 for a continuous plan); "within 1.2% of the best
possible" means the value is at least 98.8% of the bound.

Reported value: weighted mode, the value stage's optimum (SPEC 3); strict mode, the
total weighted value of the final plan (its tiers are in ``value_by_priority``), with
``gap`` the largest tier gap. ``max_value`` is the value if every active mission ran at
its ``max_coverage`` in every active period.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import re
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter

import highspy
import numpy as np
import pandas as pd
import pulp

from optimiser.levers import PriorityMode, SolverName
from optimiser.model import HALF, MissionModel, build_model, row_matrix, value_of_coverage
from optimiser.plan import Plan, SolverInfo, Status
from optimiser.portfolio import Portfolio
from optimiser.scenario import Scenario, apply_levers

log = logging.getLogger(__name__)

TIDY_COST = 1e-6  # money-unit cost of one unit of a free integer resource in the cost stage
_STAGE_SHARE = 3.0  # a value stage's weight in sharing the time limit (a cost stage: 1)
_MIN_STAGE_S = 0.01  # shortest time limit given to a stage
_DUALS_FLOOR_S = 1.0  # the duals LP may run this long even when the time limit is spent
_COST_SHARE = 0.1  # the integer cost searches may each take this share of the value search's time
_COST_MIN_S = 0.2  # ... and at least this long
_ROUND_SHARE = 0.25  # the rounded plan's search may take this share of a value stage's time
_ROUND_MAX_S = 2.0  # ... and at most this long
_ROUND_GAP = 1e-3  # the rounded plan's search stops within this of its own (restricted) bound
_FLOOR_RETRY = 1e-9  # relative loosening of the value floors when the cost stage finds them infeasible


class SolveError(RuntimeError):
    """The solver failed, or a time limit stopped it before it found any plan.

    Not raised for infeasible input: that is a :class:`~optimiser.plan.Plan` with status
    ``infeasible``.
    """


class StageState(StrEnum):
    """How one solver run ended."""

    OPTIMAL = "optimal"  # proven (integer plans: within mip_gap)
    STOPPED = "stopped"  # a time or other limit stopped the search with a plan in hand
    INFEASIBLE = "infeasible"  # no plan meets the constraints
    NO_PLAN = "no_plan"  # a limit stopped the search before any plan was found
    FAILED = "failed"  # the solver reported an error


@dataclass
class StageResult:
    """One solver run: how it ended, its plan (column values) and objective."""

    name: str
    state: StageState
    values: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0


def optimise(portfolio: Portfolio, levers=None) -> Plan:
    """Plan a portfolio under scenario levers: ``solve(apply_levers(portfolio, levers))``.

    Parameters
    ----------
    portfolio : a validated portfolio.
    levers : :class:`~optimiser.levers.Levers`; ``None`` uses the workbook's Settings.
    """
    return solve(apply_levers(portfolio, levers))


def solve(scenario: Scenario, *, start: Plan | None = None) -> Plan:
    """Build and solve the model of a scenario and return the plan (SPEC 3 and 5).

    Parameters
    ----------
    scenario : a portfolio with levers applied (:func:`optimiser.levers.apply_levers`).
    start : a plan to start the integer search from, e.g. the plan of the same
        portfolio before a limit was loosened (:func:`optimiser.sensitivity.what_if_more`).

    Returns
    -------
    Plan
        Status ``optimal``, ``feasible`` (a time limit stopped the search with a plan
        in hand) or ``infeasible`` (then ``value`` is None and the tables are empty).

    Raises
    ------
    SolveError
        when the solver fails or finds no plan at all within the time limit.
    """
    started = time.perf_counter()
    levers = scenario.levers
    model = build_model(scenario)
    engine = _make_engine(model, levers)
    build_s = time.perf_counter() - started
    log.info("built %r in %.3fs", model, build_s)
    run = _Stages(model, engine, deadline=started + float(levers.time_limit_s))
    if start is not None and model.is_mip:
        from optimiser.sensitivity import start_values

        run.start = start_values(model, start)
    run.go()
    solve_s = sum(stage.seconds for stage in run.stages)
    info = SolverInfo(
        name=str(levers.solver),
        version=engine.version(),
        build_s=build_s,
        solve_s=solve_s,
        total_s=0.0,
        stages=tuple(stage.name for stage in run.stages),
    )
    plan = _make_plan(model, run, info, started)
    if not plan.has_plan:  # say which commitments clash and by how much (SPEC 4)
        from optimiser.diagnose import explain_infeasible

        plan = explain_infeasible(plan, scenario)
    log.info("%s", plan.message)
    return plan


# -- stages ----------------------------------------------------------------------------


class _Stages:
    """Runs the value, cost and duals stages and keeps the incumbent plan."""

    def __init__(self, model: MissionModel, engine: _Engine, deadline: float):
        self.model = model
        self.engine = engine
        self.deadline = deadline
        self.levers = model.scenario.levers
        self.gap_target = float(self.levers.mip_gap)
        self.stages: list[StageResult] = []
        self.value_stages: list[StageResult] = []
        self.cost_stage: StageResult | None = None
        self.cost_capped = False  # the cost search stopped on its own time share
        self.out_of_time = False  # the planner's time limit stopped a search
        self.incumbent: np.ndarray | None = None
        self.start: np.ndarray | None = None  # column values to start the integer search from
        self.infeasible = False
        self.duals: Callable[[pulp.LpConstraint], float] | None = None
        # the solver columns of each mission-period (model.cells) and of each whole-units
        # need, as arrays (-1: none)
        cells, needs, flows = model.cells, model.needs, model.flows
        coverage = cells["coverage_column"].to_numpy(np.int64)
        excess = cells["excess_column"].to_numpy(np.int64)
        run_of_cell = cells["running_column"].to_numpy(np.int64)
        on_off = np.flatnonzero(run_of_cell >= 0)
        self.running_cols = run_of_cell[on_off]
        self.running_cov = coverage[on_off]
        self.running_min = cells["min_coverage"].to_numpy(float)[on_off]
        self.cell_running = run_of_cell
        has_excess = np.flatnonzero(excess >= 0)
        self.excess_cols, self.excess_cover = excess[has_excess], coverage[has_excess]
        column = needs["column"].to_numpy(np.int64)
        whole = column >= 0
        self.unit_cols = column[whole]
        self.unit_cell = needs["cell"].to_numpy(np.int64)[whole]
        self.unit_running = run_of_cell[self.unit_cell]  # the on/off column of its mission-period
        # every continuous column that belongs to one mission-period (coverage, excess,
        # money flows), with its mission-period: the rounded plan keeps those of
        # mission-periods the relaxation left whole
        flow_cell = flows["cell"].to_numpy(np.int64)
        self.owned_cell = np.concatenate([np.arange(len(cells)), has_excess, flow_cell])
        self.owned_col = np.concatenate([coverage, excess[has_excess], flows["column"].to_numpy(np.int64)])

    def go(self) -> None:
        model = self.model
        if not model.variables:  # nothing active: the empty plan is the only plan
            self.incumbent = np.zeros(0)
            self.value_stages.append(StageResult("value", StageState.OPTIMAL, np.zeros(0), 0.0, 0.0, 0.0))
            self.duals = lambda constraint: 0.0
            return
        if self.levers.priority_mode == PriorityMode.STRICT:
            objectives = [(f"tier{t}", model.tier_value[t]) for t in sorted(model.tier_value)]
        else:
            objectives = [("value", model.value)]
        whole_units = bool(model.units)
        start = np.zeros(len(model.variables)) if model.is_mip else None  # doing nothing is often a plan
        if self.start is not None and model.is_mip:
            start = self.start
        for i, (name, objective) in enumerate(objectives):
            share = self._share(_STAGE_SHARE, _STAGE_SHARE * (len(objectives) - i) + 1)
            if model.running and not whole_units:
                result = self._dive(name, objective, share)
            elif whole_units and self.engine.can_round:
                result = self._round_then_search(name, objective, share, start)
            else:
                result = self._run(name, objective, True, share, start)
            self.value_stages.append(result)
            if result.state is StageState.INFEASIBLE and self.incumbent is None:
                self.infeasible = True
                return
            if result.state is StageState.NO_PLAN and self.incumbent is None:
                raise SolveError(
                    f"No plan found within the time limit of {self.levers.time_limit_s:g} s; "
                    "raise time_limit_s or solve a relaxed plan (integer = no)"
                )
            if result.state in (StageState.INFEASIBLE, StageState.NO_PLAN):
                log.warning("stage %s ended %s; keeping the previous plan", name, result.state)
                break
            self.incumbent = start = self._tidy_excess(result.values)
            if not model.is_mip and self.levers.priority_mode == PriorityMode.WEIGHTED:
                self.duals = self.engine.duals()  # a continuous plan: the value LP's own duals
            # Later stages keep this stage's value: the floor is the incumbent's own value
            # (the incumbent stays feasible; it is also the next stage's start), less the
            # engine's slack: none for HiGHS, a relative 1e-9 for CBC, which declares a
            # zero-slack floor infeasible. No more: the cost stage spends any slack, and a
            # relative 1e-6 left coverages such as 0.499997.
            slack = self.engine.floor_slack * max(abs(result.objective), 1.0)
            floor = result.objective - slack
            self.engine.add_floor(objective, floor)
        self._cost()
        self._duals()

    def _tidy_excess(self, values: np.ndarray) -> np.ndarray:
        """A plan with every mission's excess at its least, ``max(coverage - 1/2, 0)``.

        A stage that maximises one tier leaves the excess of the others wherever the
        solver put it (it is only in their value, with a negative sign); the next tier's
        search would start from a plan that undervalues them. Still a plan: the excess
        appears nowhere else with a sign that its least value could break."""
        if not len(self.excess_cols):
            return values
        values = np.array(values, dtype=float)
        values[self.excess_cols] = np.maximum(values[self.excess_cover] - HALF, 0.0)
        return values

    def _dive(self, name: str, objective, limit: float) -> StageResult:
        """On/off decisions by rounding the continuous optimum, proven by its bound.

        Solves the continuous relaxation (an upper bound on the value), runs every on/off
        mission that reached its minimum there and stops the others, and re-solves with
        those decisions fixed. When that plan is within ``mip_gap`` of the bound it is
        accepted (optimal within the accepted gap, like the integer search would be);
        otherwise the integer search starts from it.
        """
        clock = time.perf_counter()
        fallback = self.incumbent if self.incumbent is not None else np.zeros(len(self.model.variables))
        if self.engine.running_fixed:  # an earlier tier's decisions: decide again
            self.engine.free_running(self.running_cols)
        relaxed = self._run(f"{name}-bound", objective, True, limit, None, relaxed=True)
        if relaxed.state is StageState.INFEASIBLE:
            return relaxed  # the relaxation has no plan: neither has the model
        if relaxed.state is not StageState.OPTIMAL:  # a limit hit: search from the last plan
            start = fallback
            return self._run(
                name, objective, True, max(limit - (time.perf_counter() - clock), _MIN_STAGE_S), start
            )
        coverage = relaxed.values[self.running_cov]
        decisions = (coverage >= self.running_min - 1e-6).astype(float)
        self.engine.fix_running(self.running_cols, decisions)
        fixed = self._run(
            name,
            objective,
            True,
            max(limit - (time.perf_counter() - clock), _MIN_STAGE_S),
            None,
            relaxed=True,
        )
        if fixed.state is StageState.OPTIMAL:
            gap = _relative_gap(fixed.objective, relaxed.objective)
            if fixed.objective >= relaxed.objective - self.gap_target * max(abs(relaxed.objective), 1e-9):
                fixed.bound, fixed.gap = relaxed.objective, gap
                if self.levers.priority_mode == PriorityMode.WEIGHTED:
                    self.duals = self.engine.duals()  # continuous, on/off fixed: the duals LP itself
                return fixed
        self.engine.free_running(self.running_cols)
        start = fixed.values if fixed.state is StageState.OPTIMAL else fallback
        limit = max(limit - (time.perf_counter() - clock), _MIN_STAGE_S)
        return self._run(name, objective, True, limit, start)

    def _round_then_search(self, name: str, objective, limit: float, start) -> StageResult:
        """Whole units: a plan rounded from the continuous optimum, proven by a bound.

        1. The continuous relaxation: an upper bound on the value (and a guide).
        2. The "rounded" plan: the integer search restricted to plans whose every whole
           number (units, on/off) is the floor or the ceiling of its continuous value, a
           far smaller search (HiGHS on its own takes seconds to find as good a plan).
        3. When that plan is within ``mip_gap`` of the relaxation's bound it is
           accepted with that bound. Otherwise, with a plan in hand (``start``, or the
           rounded plan when better), the search in its neighbourhood: whole numbers
           where the plan and the relaxation agree stay, the others range between the
           two (HiGHS's RINS, once, with the same target). In strict mode the box of 2
           rarely keeps the tiers above at their floors; this one always can.
        4. Failing that, the full integer search starts from the best plan so far and
           has only to prove the bound.

        One stage for the planner (``name``): its seconds are those of all its runs;
        its bound the lesser of the relaxation's and the search's, both genuine.
        """
        engine = self.engine
        clock = time.perf_counter()
        runs: list[StageResult] = []

        def left() -> float:
            return max(limit - (time.perf_counter() - clock), _MIN_STAGE_S)

        def run(label, time_limit, begin, **options) -> StageResult:
            result = engine.run(label, objective, True, time_limit, begin, **options)
            runs.append(result)
            log.debug(
                "  %s: %s objective=%s bound=%s in %.3fs",
                label, result.state, result.objective, result.bound, result.seconds,
            )
            if result.state is StageState.FAILED:
                raise SolveError(f"The solver failed in stage {name!r}")
            return result

        def done(result: StageResult) -> StageResult:
            result = dataclasses.replace(result, name=name, seconds=sum(r.seconds for r in runs))
            self.stages.append(result)
            if result.state is StageState.STOPPED:
                self.out_of_time = True
            log.debug(
                "stage %s: %s objective=%s bound=%s gap=%s in %.3fs",
                name, result.state, result.objective, result.bound, result.gap, result.seconds,
            )
            return result

        def restricted(label: str, narrowed: list, begin, **options) -> StageResult | None:
            """A search with columns narrowed to (columns, low, high), stopped at the first
            plan within the gap of the relaxation's bound: that plan as the stage's
            result, accepted with the bound; else None, and ``start`` is the better of
            the plan in hand and the one found."""
            nonlocal start
            for narrow in narrowed:
                engine.bound(*narrow)
            try:
                found = run(label, min(left() * _ROUND_SHARE, _ROUND_MAX_S), begin, target=accept, **options)
            finally:
                for narrow in narrowed:
                    engine.unfix(narrow[0])
            if found.state not in (StageState.OPTIMAL, StageState.STOPPED):
                return None
            if found.objective >= accept:
                gap = _relative_gap(found.objective, bound)
                return done(StageResult(name, StageState.OPTIMAL, found.values, found.objective, bound, gap))
            if start is None or found.objective > _evaluate(objective, start):
                start = found.values
            return None

        relaxed = run(f"{name}-bound", left(), None, relaxed=True)
        if relaxed.state is StageState.INFEASIBLE:
            return done(relaxed)  # the relaxation has no plan: neither has the model
        bound = relaxed.objective if relaxed.state is StageState.OPTIMAL else None
        if bound is not None:
            accept = bound - self.gap_target * max(abs(bound), 1e-9)
            columns = engine.integer
            x = relaxed.values[columns]
            low = np.maximum(np.floor(x + 1e-6), engine.lower[columns])
            high = np.minimum(np.ceil(x - 1e-6), engine.upper[columns])
            # a mission half on in the relaxation may run at its minimum, which takes
            # more whole units than the ceilings of its fractional ones: free its units
            on = relaxed.values[np.maximum(self.unit_running, 0)]
            undecided = (self.unit_running >= 0) & (on > 1e-6) & (on < 1 - 1e-6)
            if undecided.any():
                free = np.isin(columns, self.unit_cols[undecided])
                low[free], high[free] = engine.lower[columns][free], engine.upper[columns][free]
            high = np.maximum(high, low)
            # mission-periods the relaxation left whole (every unit count whole, on or
            # off) keep their coverage and money: the search is only over the others
            whole_cell = np.ones(len(self.model.cells), dtype=bool)
            fractional = high > low
            whole_cell[self.unit_cell[np.isin(self.unit_cols, columns[fractional])]] = False
            on_off = np.flatnonzero(self.cell_running >= 0)
            running = relaxed.values[self.cell_running[on_off]]
            whole_cell[on_off[np.abs(running - np.round(running)) > 1e-6]] = False
            kept = np.unique(self.owned_col[whole_cell[self.owned_cell]])
            narrowed = [(columns, low, high), (kept, relaxed.values[kept], relaxed.values[kept])]
            accepted = restricted(f"{name}-round", narrowed, None, gap=min(_ROUND_GAP, self.gap_target))
            if accepted is not None:
                return accepted
            if start is not None and _evaluate(objective, start) < accept:
                # a neighbourhood of the plan in hand (RINS): whole numbers where it and
                # the relaxation agree stay, the others range between the two
                have = start[columns]
                low = np.minimum(np.floor(x + 1e-6), have)
                high = np.maximum(np.ceil(x - 1e-6), have)
                agree = np.abs(np.round(x) - have) < 1e-6
                low[agree] = high[agree] = have[agree]
                low, high = np.maximum(low, engine.lower[columns]), np.minimum(high, engine.upper[columns])
                accepted = restricted(f"{name}-near", [(columns, low, high)], start)
                if accepted is not None:
                    return accepted
        result = run(name, left(), start)
        # the relaxation's bound, where it proves more than the search's own
        proves_more = bound is not None and (result.bound is None or bound < result.bound)
        if proves_more and result.state in (StageState.OPTIMAL, StageState.STOPPED):
            result.bound = bound
            result.gap = _relative_gap(result.objective, bound)
            if result.state is StageState.STOPPED and result.gap <= self.gap_target:
                result.state = StageState.OPTIMAL
        return done(result)

    def _cost(self) -> None:
        """Spend the least money for the value reached, keeping the on/off decisions."""
        model = self.model
        if len(self.running_cols) and not self.engine.running_fixed:
            self.engine.fix_running(self.running_cols, np.round(self.incumbent[self.running_cols]))
        cost = model.spending + TIDY_COST * model.tidy_units if len(model.tidy_units) else model.spending
        searched = sum(s.seconds for s in self.stages)
        if model.units:
            remaining = self.deadline - time.perf_counter()
            self._polish(cost, min(max(remaining, _MIN_STAGE_S), max(_COST_MIN_S, _COST_SHARE * searched)))
        remaining = self.deadline - time.perf_counter()
        if model.units:  # an integer search: a share of the time the value search took
            limit = min(max(remaining, _MIN_STAGE_S), max(_COST_MIN_S, _COST_SHARE * searched))
            capped = limit < remaining
        else:
            limit, capped = max(remaining, _MIN_STAGE_S), False
        result = self._run("cost", cost, False, limit, self.incumbent, relaxed=not model.units)
        if result.state is StageState.INFEASIBLE and self.engine.loosen_floors(_FLOOR_RETRY):
            # the value floor sits exactly at the plan's own value, and a solver's
            # tolerances can find even that plan a hair short of it: try once more with
            # the floor a relative 1e-9 lower (large models, seen at 1,000 missions)
            log.info("cost stage found its value floor infeasible; retrying a hair below it")
            limit = max(self.deadline - time.perf_counter(), _MIN_STAGE_S) if not capped else limit
            result = self._run("cost", cost, False, limit, self.incumbent, relaxed=not model.units)
        self.cost_stage = result
        if result.state in (StageState.OPTIMAL, StageState.STOPPED):
            self.incumbent = result.values
            if result.state is StageState.STOPPED:
                self.cost_capped = capped
                self.out_of_time = self.out_of_time or not capped
        else:
            log.warning("cost stage ended %s; keeping the value stage's plan", result.state)

    def _polish(self, cost, limit: float) -> None:
        """Hand back whole units the plan does not need: the least money with every
        integer need between ``ceil(quantity x coverage)`` units and what the plan gave
        it (a small integer search, started from the plan: the unrestricted search
        rarely finds this within its time, and budget-share policies can need some of
        those units)."""
        needs = self.model.needs
        columns = needs["column"].to_numpy(np.int64)
        whole = columns >= 0
        columns = columns[whole]
        cells = needs["cell"].to_numpy(np.int64)[whole]
        coverage = self.incumbent[np.array([v.index for v in self.model.coverage.values()], dtype=np.int64)]
        given = np.round(self.incumbent[columns])
        needed = np.ceil(needs["quantity"].to_numpy(float)[whole] * coverage[cells] - 1e-7)
        needed = np.clip(needed, 0.0, given)
        if np.array_equal(needed, given):
            return
        self.engine.bound(columns, needed, given)
        result = self._run("polish", cost, False, limit, self.incumbent)
        self.engine.unfix(columns)
        if result.state in (StageState.OPTIMAL, StageState.STOPPED):
            self.incumbent = result.values
        else:
            log.debug("polish ended %s; the cost search starts from the value stage's plan", result.state)

    def _duals(self) -> None:
        """Shadow prices: the continuous model, on/off decisions fixed, total value."""
        if self.duals is not None:
            return
        self.engine.drop_floors()
        limit = max(self.deadline - time.perf_counter(), _DUALS_FLOOR_S)
        result = self._run("duals", self.model.value, True, limit, None, relaxed=True)
        self.duals = self.engine.duals() if result.state is StageState.OPTIMAL else None
        if self.duals is None:
            log.warning("shadow prices not available: the duals LP ended %s", result.state)
            self.duals = lambda constraint: math.nan

    def _share(self, mine: float, total: float) -> float:
        remaining = self.deadline - time.perf_counter()
        return max(remaining * mine / total, _MIN_STAGE_S)

    def _run(self, name, objective, maximise, limit, start, relaxed=False) -> StageResult:
        result = self.engine.run(name, objective, maximise, limit, start, relaxed=relaxed)
        self.stages.append(result)
        log.debug(
            "stage %s: %s objective=%s gap=%s in %.3fs",
            name,
            result.state,
            result.objective,
            result.gap,
            result.seconds,
        )
        if result.state is StageState.FAILED:
            raise SolveError(f"The solver failed in stage {name!r}")
        if result.state is StageState.STOPPED and name not in ("cost", "polish"):  # they have own shares
            self.out_of_time = True
        return result


# -- engines: the one place solver objects are created ----------------------------------


class _Engine:
    """What the stages need from a solver. Column order is ``model.variables``."""

    name = ""
    can_round = False  # runs take gap=, and integer/lower/upper hold the integer columns' bounds
    running_fixed = False
    floor_slack = 0.0  # relative value a later stage may give up (see _Stages.go)

    def version(self) -> str:
        raise NotImplementedError

    def run(self, name, objective, maximise, time_limit, start, relaxed=False) -> StageResult:
        """Solve with this objective; ``relaxed``: every integer column continuous."""
        raise NotImplementedError

    def add_floor(self, expression: pulp.LpAffineExpression, lower: float) -> None:
        """Keep ``expression >= lower`` in later runs (a stage's value)."""
        raise NotImplementedError

    def drop_floors(self) -> None:
        raise NotImplementedError

    def loosen_floors(self, relative: float) -> bool:
        """Lower every value floor by ``relative`` of itself; False when there are none."""
        raise NotImplementedError

    def fix_running(self, columns: np.ndarray, values: np.ndarray) -> None:
        """Fix the on/off decisions (binary columns) at these values."""
        self.fix(columns, values)
        self.running_fixed = True

    def free_running(self, columns: np.ndarray) -> None:
        self.unfix(columns)
        self.running_fixed = False

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        """Fix columns at values (both bounds)."""
        self.bound(columns, values, values)

    def bound(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Narrow columns' bounds (until :meth:`unfix`)."""
        raise NotImplementedError

    def unfix(self, columns: np.ndarray) -> None:
        """Give columns back their own bounds."""
        raise NotImplementedError

    def duals(self) -> Callable[[pulp.LpConstraint], float] | None:
        """Row duals of the last continuous run, d objective / d right-hand side, or
        None when the solver gave none."""
        raise NotImplementedError


def _make_engine(model: MissionModel, levers) -> _Engine:
    if levers.solver == SolverName.CBC:
        return _CbcEngine(model, levers)
    return _HighsEngine(model, levers)


class _QuietHighs(highspy.Highs):
    """A highspy model that does not print HiGHS's banner on standard output (highspy
    prints it when it installs its callbacks, before options can be set)."""

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


class _PulpHighs(pulp.HiGHS):
    """``pulp.HiGHS`` with a bulk loader (numpy arrays, not one call per column), a quiet
    highspy object, HiGHS's own objective sense (duals are d objective / d rhs), and the
    LP algorithm chosen by size and start (:meth:`choose_lp`)."""

    # From this many columns an LP is "large": 2,000 missions x 8 periods relaxed is about
    # 70,000; the national sample about 2,300 relaxed and 5,000 with whole units, which
    # keep HiGHS's default (dual simplex) everywhere.
    large_lp_columns = 20_000
    _last_lp_cost: np.ndarray | None = None  # the objective of the last large LP run

    def createAndConfigureSolver(self, lp):
        lp.solverModel = _QuietHighs()
        lp.solverModel.setOptionValue("output_flag", bool(self.msg))
        if self.gapRel is not None:
            lp.solverModel.setOptionValue("mip_rel_gap", float(self.gapRel))
        if self.timeLimit is not None:
            lp.solverModel.setOptionValue("time_limit", float(self.timeLimit))
        if self.threads is not None:
            lp.solverModel.setOptionValue("threads", self.threads)
        for key, value in self.optionsDict.items():
            lp.solverModel.setOptionValue(key, value)

    def buildSolverModel(self, lp):
        self.load(lp, lp.variables())

    def load(self, lp: pulp.LpProblem, variables: list[pulp.LpVariable]) -> None:
        """Columns in the order given (``variable.index`` set), rows in problem order."""
        h = lp.solverModel
        inf = highspy.kHighsInf
        n = len(variables)
        for i, variable in enumerate(variables):
            variable.index = i
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        _check(h.addVars(n, lower, upper), "a bound", np.concatenate([lower, upper]))
        integer = np.array([i for i, v in enumerate(variables) if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer) and self.mip:
            h.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
        constraints = lp.constraints()
        for r, constraint in enumerate(constraints):
            constraint.index = r
        # rows as the model builder made them come from its arrays, in one call
        starts, index, values = row_matrix(constraints, variables)
        rhs = -np.fromiter(map(attrgetter("constant"), constraints), dtype=float, count=len(constraints))
        sense = np.fromiter(map(attrgetter("sense"), constraints), dtype=np.int64, count=len(constraints))
        lows = np.where(sense == pulp.LpConstraintLE, -inf, rhs)  # GE and EQ: rhs is the lower bound
        ups = np.where(sense == pulp.LpConstraintGE, inf, rhs)  # LE and EQ: rhs is the upper bound
        if len(constraints):
            status = h.addRows(
                len(constraints),
                lows,
                ups,
                len(index),
                starts[:-1].astype(np.int32),
                index.astype(np.int32),
                values,
            )
            _check(status, "a coefficient", values)
        objective = lp.objective or pulp.LpAffineExpression()
        self.set_objective(h, n, objective, lp.sense == pulp.LpMaximize)

    @staticmethod
    def set_objective(h, n: int, objective: pulp.LpAffineExpression, maximise: bool) -> np.ndarray:
        cost = np.zeros(n)
        if len(objective):
            np.add.at(
                cost,
                np.fromiter(map(attrgetter("index"), objective.keys()), dtype=np.int64, count=len(objective)),
                np.fromiter(objective.values(), dtype=float, count=len(objective)),
            )
        _check(h.changeColsCost(n, np.arange(n, dtype=np.int32), cost), "an objective coefficient", cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
        return cost

    def choose_lp(self, h, cost: np.ndarray, mip: bool) -> None:
        """The algorithm of the next run, just before it, for large LPs only (smaller
        models and integer searches keep HiGHS's defaults, so their plans do not change):

        - no basis to start from (the first LP, or the first after an integer search):
          interior point, then crossover to a basis for the LPs after it (2,000 missions
          relaxed: about 2.6 s where dual simplex takes 8-12 s);
        - a new objective (the cost stage, the next tier, the duals LP): primal simplex
          from the last basis, which is still feasible since the value floors added hold
          at the plan found (the cost stage: 0.2 s where dual simplex takes 6-13 s, and
          on one 1,000-mission portfolio declared its zero-slack floor infeasible);
        - the same objective with bounds changed (the on/off decisions fixed): dual
          simplex, HiGHS's default.
        """
        if len(cost) < self.large_lp_columns:
            return
        if mip:
            h.setOptionValue("solver", "choose")
            h.setOptionValue("simplex_strategy", 1)
            self._last_lp_cost = None
            return
        if not h.getBasis().valid:
            h.setOptionValue("solver", "ipm")
        else:
            changed = self._last_lp_cost is None or not np.array_equal(cost, self._last_lp_cost)
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_strategy", 4 if changed else 1)  # 4: primal, 1: dual
        self._last_lp_cost = cost


def _check(status, what: str, numbers: np.ndarray) -> None:
    """HiGHS refuses numbers beyond what it holds (a coefficient of 1e15 or more) and
    would otherwise solve a model without them: stop with a one-line reason."""
    if status == highspy.HighsStatus.kError:
        finite = np.abs(numbers[np.isfinite(numbers)]) if len(numbers) else np.zeros(0)
        largest = f" (up to {finite.max():.3g})" if len(finite) else ""
        raise SolveError(
            f"The solver cannot hold {what} of this model{largest}: some numbers are too large; "
            "check hazard multipliers, unit costs, quantities and amounts"
        )


def _highs_state(model_status, has_plan: bool) -> StageState:
    """A HiGHS model status as a stage state (a plan in hand or not decides limits)."""
    status = highspy.HighsModelStatus
    if model_status == status.kOptimal:
        return StageState.OPTIMAL
    if model_status in (status.kInfeasible, status.kUnboundedOrInfeasible):
        return StageState.INFEASIBLE
    limits = (
        status.kTimeLimit,
        status.kIterationLimit,
        status.kInterrupt,
        status.kSolutionLimit,
        status.kObjectiveBound,
        status.kObjectiveTarget,
        status.kMemoryLimit,
        status.kHighsInterrupt,
    )
    if model_status in limits:
        return StageState.STOPPED if has_plan else StageState.NO_PLAN
    return StageState.FAILED


def _evaluate(expression: pulp.LpAffineExpression, values: np.ndarray) -> float:
    """An expression's value at column values (``variable.index`` positions)."""
    if not len(expression):
        return float(expression.constant)
    index = np.fromiter(map(attrgetter("index"), expression.keys()), dtype=np.int64, count=len(expression))
    coefs = np.fromiter(expression.values(), dtype=float, count=len(expression))
    return float(coefs @ np.asarray(values, dtype=float)[index]) + float(expression.constant)


def _relative_gap(objective: float, bound: float) -> float:
    """|bound - objective| relative to the larger of the two (0 when both are 0)."""
    scale = max(abs(objective), abs(bound))
    return 0.0 if scale < 1e-12 else abs(bound - objective) / scale


class _HighsEngine(_Engine):
    """One highspy model, kept across stages: objectives change, value floors are added as
    rows, and each integer stage starts from the previous plan."""

    name = "highs"
    can_round = True

    def __init__(self, model: MissionModel, levers):
        self.model = model
        self.solver = _PulpHighs(
            msg=False, gapRel=float(levers.mip_gap), timeLimit=float(levers.time_limit_s)
        )
        self.solver.createAndConfigureSolver(model.problem)
        self.solver.load(model.problem, model.variables)
        self.h = model.problem.solverModel
        self.n = len(model.variables)
        self.floors: list[int] = []
        self.row_dual: np.ndarray | None = None
        self.integer = np.array([v.index for v in model.variables if v.cat == pulp.LpInteger], dtype=np.int32)
        inf = highspy.kHighsInf
        self.lower = np.array(
            [-inf if v.lowBound is None else v.lowBound for v in model.variables], dtype=float
        )
        self.upper = np.array([inf if v.upBound is None else v.upBound for v in model.variables], dtype=float)

    def version(self) -> str:
        return str(self.h.version())

    def _integrality(self, on: bool) -> None:
        if len(self.integer):
            kind = np.full(len(self.integer), 1 if on else 0, dtype=np.uint8)
            self.h.changeColsIntegrality(len(self.integer), self.integer, kind)

    def run(
        self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None
    ) -> StageResult:
        """``gap``: this run's relative gap instead of the levers' ``mip_gap``; ``target``
        (maximising): stop the integer search at the first plan worth at least this."""
        if gap is not None or target is not None:
            h = self.h
            own = float(self.solver.gapRel)
            h.setOptionValue("mip_rel_gap", float(gap if gap is not None else own))
            h.setOptionValue("objective_target", float(target if target is not None else -highspy.kHighsInf))
            try:
                return self.run(name, objective, maximise, time_limit, start, relaxed=relaxed)
            finally:
                h.setOptionValue("mip_rel_gap", own)
                h.setOptionValue("objective_target", -highspy.kHighsInf)
        h = self.h
        cost = self.solver.set_objective(h, self.n, objective, maximise)
        mip = len(self.integer) > 0 and not relaxed
        # HiGHS 1.16 checks an LP's time limit against the model's total run time so far
        # (a MIP's against its own run), so an LP after a long search needs the total added.
        limit = max(time_limit, _MIN_STAGE_S) + (0.0 if mip else h.getRunTime())
        h.setOptionValue("time_limit", float(limit))
        if relaxed:
            self._integrality(False)
        elif start is not None and mip:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), np.asarray(start, dtype=float))
        # -- the LP algorithm, by size and start (issue 6, _PulpHighs.choose_lp) --
        self.solver.choose_lp(h, cost, mip)
        clock = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - clock
        info = h.getInfo()
        state = _highs_state(h.getModelStatus(), info.primal_solution_status == 2)  # 2: feasible
        if state in (StageState.OPTIMAL, StageState.STOPPED):
            values = np.asarray(h.getSolution().col_value, dtype=float)
            if not mip:
                solution = h.getSolution()
                row_dual = np.asarray(solution.row_dual, dtype=float)
                valid = solution.dual_valid and len(row_dual) == h.getNumRow()
                self.row_dual = row_dual if valid else None
        if relaxed:
            self._integrality(True)
        if state not in (StageState.OPTIMAL, StageState.STOPPED):
            return StageResult(name, state, seconds=seconds)
        value = float(cost @ values) + float(objective.constant)
        if mip:
            # HiGHS's own mip_gap divides by the plan's value (above 100% for a poor
            # plan); the planner's reading is "within x% of the best possible", so the
            # gap here is relative to the larger of bound and value.
            bound = float(info.mip_dual_bound) + float(objective.constant)
            gap = _relative_gap(value, bound) if math.isfinite(bound) else 1.0
        else:
            bound, gap = value, 0.0
        return StageResult(name, state, values, value, bound, gap, seconds)

    def add_floor(self, expression, lower) -> None:
        count = len(expression)
        index = np.fromiter(map(attrgetter("index"), expression.keys()), dtype=np.int32, count=count)
        coefs = np.fromiter(expression.values(), dtype=float, count=count)
        self.h.addRow(float(lower - expression.constant), highspy.kHighsInf, count, index, coefs)
        self.floors.append(self.h.getNumRow() - 1)

    def loosen_floors(self, relative: float) -> bool:
        lp = self.h.getLp()
        for row in self.floors:
            lower = float(lp.row_lower_[row])
            self.h.changeRowBounds(row, lower - relative * max(abs(lower), 1.0), highspy.kHighsInf)
        return bool(self.floors)

    def drop_floors(self) -> None:
        for row in self.floors:
            self.h.changeRowBounds(row, -highspy.kHighsInf, highspy.kHighsInf)
        self.floors = []

    def bound(self, columns, lower, upper) -> None:
        columns = np.asarray(columns, dtype=np.int32)
        if len(columns):
            lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
            self._bounds(columns, lower, upper)

    def unfix(self, columns) -> None:
        columns = np.asarray(columns, dtype=np.int32)
        if len(columns):
            self._bounds(columns, self.lower[columns], self.upper[columns])

    def _bounds(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """HiGHS refuses a column set given twice and then changes nothing: a bug here."""
        status = self.h.changeColsBounds(len(columns), columns, lower, upper)
        if status == highspy.HighsStatus.kError:
            raise SolveError("The solver refused a change of bounds (a bug: please report it)")

    def duals(self):
        row_dual = self.row_dual
        if row_dual is None:  # HiGHS gave no duals (seen with absurd coefficients)
            return None
        return lambda constraint: float(row_dual[constraint.index])


class _CbcEngine(_Engine):
    """PuLP's bundled CBC, one run per stage on a copy of the problem (CBC is a
    command-line program: every run writes the model anew)."""

    name = "cbc"
    floor_slack = 1e-9

    def __init__(self, model: MissionModel, levers):
        self.model = model
        self.levers = levers
        self.floors: list[pulp.LpConstraint] = []
        for i, variable in enumerate(model.variables):
            variable.index = i
        self.pi: dict[int, float] = {}
        self.bounds: dict[int, tuple[float | None, float | None]] = {}  # of fixed columns

    def version(self) -> str:
        return _cbc_version()

    def run(self, name, objective, maximise, time_limit, start, relaxed=False) -> StageResult:
        problem = self.model.problem.copy()
        problem.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
        problem.setObjective(objective)
        for floor in self.floors:
            problem.addConstraint(floor)
        variables = self.model.variables
        mip = self.model.is_mip and not relaxed
        if start is not None and mip:
            for variable, x in zip(variables, start, strict=True):
                variable.varValue = float(x)
        with tempfile.TemporaryDirectory(prefix="optimiser-cbc-") as folder:
            log_path = os.path.join(folder, "cbc.log")
            solver = _bundled_cbc(
                mip=mip,
                msg=False,
                timeLimit=max(time_limit, _MIN_STAGE_S),
                gapRel=float(self.levers.mip_gap),
                warmStart=start is not None and mip,
                logPath=log_path,
            )
            clock = time.perf_counter()
            problem.solve(solver)
            seconds = time.perf_counter() - clock
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        if problem.status == pulp.LpStatusInfeasible:
            return StageResult(name, StageState.INFEASIBLE, seconds=seconds)
        if problem.status == pulp.LpStatusNotSolved:
            return StageResult(name, StageState.NO_PLAN, seconds=seconds)
        if problem.status != pulp.LpStatusOptimal:
            return StageResult(name, StageState.FAILED, seconds=seconds)
        values = np.array([v.varValue or 0.0 for v in variables], dtype=float)
        if not mip:
            # PuLP reads CBC's row duals into constraint.pi: d objective / d rhs
            self.pi = {id(c): float(c.pi or 0.0) for c in problem.constraints()}
        value = float(objective.value() or 0.0) if len(objective) else float(objective.constant)
        stopped = problem.sol_status == pulp.LpSolutionIntegerFeasible or "Stopped on" in text
        gap = 0.0
        found = re.search(r"^Gap:\s+(\S+)", text, re.MULTILINE)
        if found and mip:
            try:
                gap = abs(float(found.group(1)))
            except ValueError:
                gap = 0.0
        bound = value * (1 + gap) if maximise else value * (1 - gap)
        state = StageState.STOPPED if stopped else StageState.OPTIMAL
        return StageResult(name, state, values, value, bound, gap, seconds)

    def add_floor(self, expression, lower) -> None:
        floor = pulp.LpConstraint(
            pulp.LpAffineExpression(expression),
            pulp.LpConstraintGE,
            f"stage_floor_{len(self.floors)}",
            float(lower),
        )
        self.floors.append(floor)

    def drop_floors(self) -> None:
        self.floors = []

    def loosen_floors(self, relative: float) -> bool:
        for floor in self.floors:  # expression + constant >= 0, the constant minus the floor
            floor.constant += relative * max(abs(floor.constant), 1.0)
        return bool(self.floors)

    def bound(self, columns, lower, upper) -> None:
        columns = np.asarray(columns).tolist()
        for column, low, up in zip(
            columns, np.asarray(lower).tolist(), np.asarray(upper).tolist(), strict=True
        ):
            variable = self.model.variables[column]
            self.bounds.setdefault(column, (variable.lowBound, variable.upBound))
            variable.lowBound, variable.upBound = float(low), float(up)

    def unfix(self, columns) -> None:
        for column in np.asarray(columns).tolist():
            if column in self.bounds:
                variable = self.model.variables[column]
                variable.lowBound, variable.upBound = self.bounds.pop(column)

    def duals(self):
        pi = self.pi
        return lambda constraint: pi.get(id(constraint), 0.0)


def _bundled_cbc(**options) -> pulp.PULP_CBC_CMD:
    """PuLP's bundled CBC (PuLP 3 warns that PuLP 4 will drop it; we know)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


@functools.cache
def _cbc_version() -> str:
    path = _bundled_cbc(msg=False).path
    try:
        out = subprocess.run([path, "-quit"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    found = re.search(r"Version:\s*(\S+)", out)
    return found.group(1) if found else "unknown"


# -- the plan ----------------------------------------------------------------------------


MISSION_COLUMNS = [
    "mission_id",
    "period_id",
    "name",
    "zone_id",
    "region",
    "type",
    "priority",
    "must_fund",
    "coverage",
    "value",
    "cost",
]
ALLOCATION_COLUMNS = [
    "mission_id",
    "period_id",
    "resource_id",
    "kind",
    "needed",
    "units",
    "unit_cost",
    "cost",
]
FUNDING_COLUMNS = ["source_id", "mission_id", "period_id", "money"]
RESOURCE_COLUMNS = [
    "resource_id",
    "period_id",
    "kind",
    "used",
    "available",
    "reserve",
    "usable",
    "shadow_price",
]
BUDGET_COLUMNS = ["source_id", "period_id", "amount", "used", "shadow_price"]
ZONE_COLUMNS = ["zone_id", "period_id", "personnel", "cap", "shadow_price"]
UNMET_COLUMNS = [
    "mission_id",
    "period_id",
    "resource_id",
    "needed",
    "allocated",
    "shortfall",
    "shortfall_cost",
]
SENSITIVITY_COLUMNS = ["constraint", "id", "period_id", "shadow_price", "unit", "sentence", "step", "gain"]


def _make_plan(model: MissionModel, run: _Stages, info: SolverInfo, started: float) -> Plan:
    scenario = model.scenario
    levers = scenario.levers
    max_value = float(model.cells["max_value"].sum())
    money_available = float(scenario.budget["amount"].sum())
    if run.infeasible:
        info = dataclasses.replace(info, total_s=time.perf_counter() - started)
        return Plan(
            status=Status.INFEASIBLE,
            value=None,
            best_bound=None,
            max_value=max_value,
            value_by_priority={},
            gap=None,
            total_cost=0.0,
            money_available=money_available,
            levers=levers,
            missions=_empty(MISSION_COLUMNS),
            allocation=_empty(ALLOCATION_COLUMNS),
            funding=_empty(FUNDING_COLUMNS),
            resources=_empty(RESOURCE_COLUMNS),
            budgets=_empty(BUDGET_COLUMNS),
            zones=_empty(ZONE_COLUMNS),
            unmet=_empty(UNMET_COLUMNS),
            sensitivity=_empty(SENSITIVITY_COLUMNS),
            solver=info,
            portfolio=scenario.portfolio,
            message="No plan meets every commitment: the must-fund floors, on/off minimums, zone caps and "
            "policies cannot all hold together.",
        )

    values = run.incumbent
    for variable, x in zip(model.variables, values, strict=True):
        variable.varValue = float(x)
    tables = _Tables(model, values, run.duals or (lambda constraint: math.nan))
    missions = tables.missions()
    value_by_priority = {
        t: float(missions.loc[missions["priority"] == t, "value"].sum()) for t in range(1, 6)
    }
    first = run.value_stages[0]
    if levers.priority_mode == PriorityMode.STRICT:
        value = float(missions["value"].sum())
        gap = max((s.gap or 0.0) for s in run.value_stages)
        best_bound = value + sum(max((s.bound or 0.0) - (s.objective or 0.0), 0.0) for s in run.value_stages)
    else:
        value = float(first.objective or 0.0)
        gap = float(first.gap or 0.0)
        best_bound = float(first.bound if first.bound is not None else value)
    status = Status.FEASIBLE if run.out_of_time else Status.OPTIMAL
    total_cost = float(missions["cost"].sum())
    message = _message(status, value, max_value, gap, total_cost, money_available, levers.currency)
    if run.cost_capped and run.cost_stage is not None:
        message += (
            f" Money was minimised for {run.cost_stage.seconds:.1f} s: within "
            f"{run.cost_stage.gap or 0:.1%} of the least for this value."
        )
    plan = Plan(
        status=status,
        value=value,
        best_bound=best_bound,
        max_value=max_value,
        value_by_priority=value_by_priority,
        gap=gap,
        total_cost=total_cost,
        money_available=money_available,
        levers=levers,
        missions=missions,
        allocation=tables.allocation(),
        funding=tables.funding(),
        resources=tables.resources(),
        budgets=tables.budgets(),
        zones=tables.zones(),
        unmet=tables.unmet(),
        sensitivity=pd.DataFrame(),
        solver=info,
        portfolio=scenario.portfolio,
        message=message,
    )
    from optimiser.sensitivity import shadow_price_table  # the sentences live with the ranges

    sensitivity = shadow_price_table(plan)
    info = dataclasses.replace(info, total_s=time.perf_counter() - started)  # every table made
    return dataclasses.replace(plan, sensitivity=sensitivity, solver=info)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _message(status, value, max_value, gap, cost, available, currency) -> str:
    share = f" ({value / max_value:.0%})" if max_value > 0 else ""
    spend = f"spends {currency} {cost:,.0f} of {available:,.0f}"
    if status is Status.OPTIMAL:
        within = f" (within {gap:.2%} of the best possible)" if gap > 5e-5 else ""
        return f"Optimal plan: value {value:,.1f} of {max_value:,.1f} possible{share}{within}; {spend}."
    return (
        f"Time limit reached: the best plan found has value {value:,.1f} of {max_value:,.1f} "
        f"possible{share}, within {gap:.1%} of the best possible; {spend}."
    )


class _Tables:
    """The plan's tables from the chosen column values, noise cleaned, in input order."""

    def __init__(self, model: MissionModel, values: np.ndarray, dual: Callable[[pulp.LpConstraint], float]):
        self.model = model
        self.dual = dual
        self.portfolio = model.scenario.portfolio
        cells, needs = model.cells, model.needs
        cov_col = np.array([v.index for v in model.coverage.values()], dtype=np.int64)
        coverage = np.round(values[cov_col], 9) if len(cov_col) else np.zeros(0)
        self.coverage = np.clip(coverage, 0.0, cells["max_coverage"].to_numpy(float)) + 0.0
        column = needs["column"].to_numpy(np.int64)
        quantity = needs["quantity"].to_numpy(float)
        cell = needs["cell"].to_numpy(np.int64)
        whole = np.rint(values[np.maximum(column, 0)]) if len(column) else np.zeros(0)
        units = np.where(column >= 0, whole, np.round(quantity * self.coverage[cell], 9))
        self.units = np.maximum(units, 0.0) + 0.0
        self.unit_money = self.units * needs["unit_cost"].to_numpy(float)
        flows = model.flows
        money = values[flows["column"].to_numpy(np.int64)] * model.money_unit if len(flows) else np.zeros(0)
        self.money = np.where(money > 1e-6 * model.money_unit, money, 0.0)
        self.period_order = {p: i for i, p in enumerate(self.portfolio.period_ids)}
        self.positions = {
            "mission_id": {m: i for i, m in enumerate(self.portfolio.missions.index)},
            "period_id": self.period_order,
            "resource_id": {r: i for i, r in enumerate(self.portfolio.resources.index)},
            "source_id": {s: i for i, s in enumerate(self.portfolio.sources.index)},
        }

    def _workbook_order(self, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        """Rows in the planner's order (the model's is canonical, by id)."""
        if not len(frame):
            return frame.reset_index(drop=True)
        ranks = []
        for key in keys:  # each id's workbook position (an unknown id last), hashed in bulk
            known = self.positions[key]
            rank = pd.Index(list(known)).get_indexer(frame[key])
            ranks.append(np.where(rank < 0, len(known), rank))
        return frame.iloc[np.lexsort(ranks[::-1])].reset_index(drop=True)  # stable, first key first

    def _price(self, constraint: pulp.LpConstraint | None, scale: float = 1.0) -> float:
        """Value of one more unit of a <= row's right-hand side (0 when there is no row)."""
        if constraint is None:
            return 0.0
        price = self.dual(constraint)
        if math.isnan(price):
            return math.nan
        price = max(price, 0.0) / scale
        return 0.0 if price < 1e-9 / scale else price

    def missions(self) -> pd.DataFrame:
        cells = self.model.cells
        levers = self.model.scenario.levers
        names = self.portfolio.missions["name"]
        cost = (
            np.bincount(
                self.model.needs["cell"].to_numpy(np.int64), weights=self.unit_money, minlength=len(cells)
            )
            + cells["running_cost"].to_numpy(float) * self.coverage
        )
        value = cells["worth"].to_numpy(float) * value_of_coverage(self.coverage, levers.diminishing_returns)
        frame = pd.DataFrame(
            {
                "mission_id": cells["mission_id"],
                "period_id": cells["period_id"],
                "name": cells["mission_id"].map(names).to_numpy(),
                "zone_id": cells["zone_id"],
                "region": cells["region"],
                "type": cells["type"],
                "priority": cells["priority"].astype(int),
                "must_fund": cells["must_fund"].astype(bool),
                "coverage": self.coverage,
                "value": value,
                "cost": cost,
            }
        )
        return self._workbook_order(frame, ["mission_id", "period_id"])

    def allocation(self) -> pd.DataFrame:
        needs = self.model.needs
        frame = pd.DataFrame(
            {
                "mission_id": needs["mission_id"],
                "period_id": needs["period_id"],
                "resource_id": needs["resource_id"],
                "kind": needs["kind"],
                "needed": needs["quantity"].astype(float),
                "units": self.units,
                "unit_cost": needs["unit_cost"].astype(float),
                "cost": self.unit_money,
            }
        )
        return self._workbook_order(frame, ["mission_id", "period_id", "resource_id"])

    def funding(self) -> pd.DataFrame:
        flows = self.model.flows
        frame = pd.DataFrame(
            {
                "source_id": flows["source_id"],
                "mission_id": flows["mission_id"],
                "period_id": flows["period_id"],
                "money": self.money,
            }
        )
        if not len(frame):
            return _empty(FUNDING_COLUMNS)
        return self._workbook_order(frame[frame["money"] > 0], ["mission_id", "period_id", "source_id"])

    def resources(self) -> pd.DataFrame:
        needs = self.model.needs
        capacity = self.model.scenario.capacity
        used = pd.Series(self.units, index=pd.MultiIndex.from_frame(needs[["resource_id", "period_id"]]))
        used = used.groupby(level=[0, 1]).sum()
        key = pd.MultiIndex.from_frame(capacity[["resource_id", "period_id"]])
        rows = self.model.capacity
        return pd.DataFrame(
            {
                "resource_id": capacity["resource_id"],
                "period_id": capacity["period_id"],
                "kind": capacity["kind"],
                "used": used.reindex(key).fillna(0.0).to_numpy(float),
                "available": capacity["available"].astype(float),
                "reserve": capacity["reserve"].astype(float),
                "usable": capacity["usable"].astype(float),
                "shadow_price": [
                    self._price(rows.get(k))
                    for k in zip(capacity["resource_id"], capacity["period_id"], strict=True)
                ],
            }
        ).reset_index(drop=True)

    def budgets(self) -> pd.DataFrame:
        budget = self.model.scenario.budget.copy()
        source_order = {s: i for i, s in enumerate(self.portfolio.sources.index)}
        budget["_s"] = budget["source_id"].map(source_order)
        budget["_p"] = budget["period_id"].map(self.period_order)
        budget = budget.sort_values(["_s", "_p"]).reset_index(drop=True)
        flows = self.model.flows
        used = pd.Series(self.money, index=pd.MultiIndex.from_frame(flows[["source_id", "period_id"]]))
        used = used.groupby(level=[0, 1]).sum() if len(used) else used
        key = pd.MultiIndex.from_frame(budget[["source_id", "period_id"]])
        rows = self.model.budgets
        unit = self.model.money_unit
        return pd.DataFrame(
            {
                "source_id": budget["source_id"],
                "period_id": budget["period_id"],
                "amount": budget["amount"].astype(float),
                "used": used.reindex(key).fillna(0.0).to_numpy(float),
                "shadow_price": [
                    self._price(rows.get(k), unit)
                    for k in zip(budget["source_id"], budget["period_id"], strict=True)
                ],
            }
        )

    def zones(self) -> pd.DataFrame:
        zones = self.portfolio.zones
        periods = self.portfolio.period_ids
        needs = self.model.needs
        personnel = (needs["kind"] == "personnel").to_numpy()
        zone_of = self.model.cells["zone_id"].to_numpy()[needs["cell"].to_numpy(np.int64)]
        people = pd.Series(
            self.units[personnel],
            index=pd.MultiIndex.from_arrays([zone_of[personnel], needs["period_id"][personnel]]),
        )
        people = people.groupby(level=[0, 1]).sum() if len(people) else people
        key = pd.MultiIndex.from_product([zones.index, periods], names=["zone_id", "period_id"])
        rows = self.model.zone_caps
        frame = key.to_frame(index=False)
        frame["personnel"] = people.reindex(key).fillna(0.0).to_numpy(float)
        frame["cap"] = frame["zone_id"].map(zones["personnel_cap"]).astype(float)
        frame["shadow_price"] = [self._price(rows.get(k)) for k in key]
        return frame

    def unmet(self) -> pd.DataFrame:
        needs = self.model.needs
        needed = needs["quantity"].to_numpy(float)
        short = self.units < needed - 1e-9 * np.maximum(needed, 1.0)
        shortfall = (needed - self.units)[short]
        frame = pd.DataFrame(
            {
                "mission_id": needs["mission_id"][short],
                "period_id": needs["period_id"][short],
                "resource_id": needs["resource_id"][short],
                "needed": needed[short],
                "allocated": self.units[short],
                "shortfall": shortfall,
                "shortfall_cost": shortfall * needs["unit_cost"].to_numpy(float)[short],
            }
        )
        return self._workbook_order(frame, ["mission_id", "period_id", "resource_id"])
