"""The staged search of SPEC 3: value (or tier by tier), cost, shadow prices.

:class:`Stages` runs a built model's stages on an engine (:mod:`optimiser.solvers`,
through its interface only) and keeps the incumbent plan as column values; turning
those into the plan's tables is :mod:`optimiser.tables`' job.

Stages (SPEC 3)
---------------
- ``weighted``: maximise total value (stage "value"); then keep that value (at least
  the incumbent's value; CBC: less a relative 1e-9) and spend the least
  money (stage "cost"), starting the integer search from the value stage's plan.
- ``strict``: maximise the value of tier 1 ("tier1"), keep it, then tier 2, ... up to
  the lowest tier present; then spend the least money ("cost"). Each tier is kept at
  ``(1 - tier_tolerance)`` x its value (``Levers.tier_tolerance_for``: 0 for a pure LP,
  whose tiers are then the lexicographic optimum; else ``mip_gap``). With integer
  decisions the search first makes the weighted plan (stage "weighted") and every tier
  starts from the plan in hand, so the strict plan is never behind the weighted one in
  priority order (a tier's floor is also never below the weighted plan's value of that
  tier until some tier's floor is above it: from there every plan is ahead). A tier's
  bound is its relaxation with the tiers above held at their values in the plan in hand
  (the best possible given the tiers above); its searches may take from them within
  their tolerance, which the rounding needs (the relaxation sits on whatever floors it
  is given): each rounding first takes half of what the tolerance above has left, then
  the rest (``_TAKES``), so the tiers below keep room to round too. A tier searches with
  the tiers below and above as small tie-breaks (``_GUIDE``): the next tier starts from
  a plan that serves it, and takes no more from above than it must. The cost stage holds every tier at its
  value in the plan: a tier gives up its tolerance for the tiers below, never for money.
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
- Plans over time (SPEC 3.1): every mission-period under a rule has a running decision.
  The relaxed dive rounds them to the nearest pattern per mission that keeps continuity
  and min_run (:func:`optimiser.model.keep_rules`). With whole units (and any on/off
  decisions) the value stage first rounds the running decisions alone (up to three patterns,
  :meth:`Stages._patterns`), solves the LP with that pattern fixed ("pattern-lp", a few
  hundredths of a second) and searches the whole units between the floors and ceilings
  of that LP's ("pattern"), stopped at the first plan within the gap of the
  relaxation's bound: on the national sample this accepts every one of the 12 bench
  settings in well under a second. Failing that, the rounded plan's search fixes the
  pattern rounded from the relaxation, letting only the ends of each stretch go off
  ("round"), then any period ("round2"), before the neighbourhood and full searches; a
  mission keeps its relaxed coverage and money only when all its periods may. Fixing
  the running decisions (cost stage, duals, ranging) fixes the starts and stops they
  imply.
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

A time limit that stops an integer search before it found any plan does not end in "no
plan": the relaxation (or, when the limit stopped it too, the coverage relaxation's
guide, :mod:`optimiser.bound`) is rounded to whole units and repaired
(``Stages._repair``: units down, on/off missions run where their rounded units still
reach the minimum, must-fund floors kept, the rest solved as an LP), status
``feasible`` with its gap to the relaxation's bound. The repair's runs together end at
most ``_REPAIR_MIN_S`` (5 s) past the time limit. Only when no rounded plan keeps every
rule (a policy the rounding moved, say) does :class:`SolveError` remain. A search
stopped with a plan whose relaxation had not finished takes the coverage relaxation's
bound when it proves more than the search's own.

Large models (whole units or on/off decisions, :data:`LARGE_COLUMNS` columns and more:
20,000 missions x 4 quarters in whole units has 870,000 columns and 1.6 million rows,
whose relaxation does not finish in a minute): each value stage (not strict mode's
tiers below the first) solves the coverage relaxation (a genuine bound, about 2 s),
then its guide (budget-share policies kept, 100%, then 90%, 75%, 60% of the money,
until its rounding is a plan), rounds and repairs it (each LP started afresh, interior
point), and searches from that plan in the time left; the stage's bound is the lesser
of the coverage relaxation's and the search's. At 20,000 missions and 60 s:
``feasible``, 13.9% from the bound, 65 s; a relaxed plan of 10,000 missions x 8
quarters within 0.17% of its bound in 64 s.

Status: ``optimal`` when the value stages proved their optimum (within ``mip_gap``);
``feasible`` when the time limit stopped a search with a plan in hand; ``infeasible``
when the commitments (must-fund floors, policies, zone caps, on/off minimums) cannot
all hold. ``gap`` is the value stage's (bound - value) / bound, the bound read from
HiGHS's ``mip_dual_bound`` (0 for a continuous plan); "within 1.2% of the best
possible" means the value is at least 98.8% of the bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import pulp

from optimiser.bound import coverage_point, coverage_relaxation
from optimiser.levers import PriorityMode
from optimiser.model import HALF, MissionModel, in_scope, keep_rules
from optimiser.solvers import (
    MIN_RUN_S,
    Engine,
    SolveError,
    StageResult,
    StageState,
    evaluate,
    relative_gap,
)

log = logging.getLogger(__name__)

TIDY_COST = 1e-6  # money-unit cost of one unit of a free integer resource in the cost stage
_STAGE_SHARE = 3.0  # a value stage's weight in sharing the time limit (a cost stage: 1)
_DUALS_FLOOR_S = 1.0  # the duals LP may run this long even when the time limit is spent
_COST_SHARE = 0.1  # the integer cost searches may each take this share of the value search's time
_COST_MIN_S = 0.2  # ... and at least this long
_ROUND_SHARE = 0.25  # the rounded plan's search may take this share of a value stage's time
_ROUND_MAX_S = 2.0  # ... and at most this long
_ROUND_GAP = 1e-3  # the rounded plan's search stops within this of its own (restricted) bound
_TAKES = (0.5, 1.0)  # strict mode: shares of the tolerance left above a tier's rounding takes, in turn
_GUIDE = 0.1  # strict mode: the tiers below may sway a tier's search by this share of its gap
_REPAIR_SHRINK = (1.0, 0.98, 0.95, 0.9, 0.8)  # units in a maximum policy's scope, before rounding down
_REPAIR_MIN_S = 5.0  # the repair of a rounded relaxation may end this long past the time limit (all its runs)
LARGE_COLUMNS = 300_000  # from this many columns whole units start from the coverage relaxation
_GUIDE_MONEY = (1.0, 0.9, 0.75, 0.6)  # the shares of the money the coverage guide may spend, in turn
_LARGE_SEARCH_MIN_S = 2.0  # ... and search from its repaired plan only with this much time left
_FLOOR_RETRY = 1e-9  # relative loosening of the value floors when the cost stage finds them infeasible




class Stages:
    """Runs the value, cost and duals stages and keeps the incumbent plan."""

    def __init__(self, model: MissionModel, engine: Engine, deadline: float, value_only: bool = False):
        self.model = model
        self.value_only = value_only  # no cost stage, no shadow prices (NaN)
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
        # the duals LP left for :meth:`prices` (the page draws the plan's headline first)
        self.prices_later = False
        self.prices_pending = False  # ... and it was left: duals is None until prices()
        self.floor_exprs: list[pulp.LpAffineExpression] = []  # strict mode's tiers held, with a tolerance
        self.floor_loose: list[float] = []  # ... and their floors (the tolerance taken)
        self.relaxed: StageResult | None = None  # the last value stage's relaxation, when solved
        # the solver columns of each mission-period (model.cells) and of each whole-units
        # need, as arrays (-1: none)
        cells, needs, flows = model.cells, model.needs, model.flows
        coverage = cells["coverage_column"].to_numpy(np.int64)
        excess = cells["excess_column"].to_numpy(np.int64)
        run_of_cell = cells["running_column"].to_numpy(np.int64)
        on_off = np.flatnonzero(run_of_cell >= 0)
        self.running_cols = run_of_cell[on_off]
        self.running_cov = coverage[on_off]
        self.running_min = cells["running_floor"].to_numpy(float)[on_off]
        self.running_cells = on_off
        # the running decisions with the starts and stops they imply (plans over time)
        self.running_fixable = model.running_columns
        self.cell_running = run_of_cell
        has_excess = np.flatnonzero(excess >= 0)
        self.excess_cols, self.excess_cover = excess[has_excess], coverage[has_excess]
        column = needs["column"].to_numpy(np.int64)
        whole = column >= 0
        self.unit_cols = column[whole]
        self.unit_cell = needs["cell"].to_numpy(np.int64)[whole]
        self.unit_running = run_of_cell[self.unit_cell]  # the on/off column of its mission-period
        self.unit_quantity = needs["quantity"].to_numpy(float)[whole]
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
        start = np.zeros(len(model.variables)) if model.is_mip else None  # doing nothing is often a plan
        if self.start is not None and model.is_mip:
            start = self.start
        strict = self.levers.priority_mode == PriorityMode.STRICT
        weighted: dict[int, float] = {}  # strict mode: the weighted plan's value of each tier
        if strict and model.is_mip:
            # the weighted plan has the time it would have in weighted mode: the strict
            # plan is to be at least as good in priority order as that plan
            result = self._weighted_start(self._share(_STAGE_SHARE, _STAGE_SHARE + 1), start)
            if result.state is StageState.NO_PLAN:
                result = self._repair("weighted", model.value) or result
            if result.state is StageState.INFEASIBLE:
                self.infeasible = True
                return
            if result.values is not None and result.state in (StageState.OPTIMAL, StageState.STOPPED):
                self.incumbent = start = self._tidy_excess(result.values)
                weighted = {t: evaluate(model.tier_value[t], start) for t in model.tier_value}
        tolerance = self.levers.tier_tolerance_for(model.is_mip) if strict else 0.0
        for i, (name, objective) in enumerate(objectives):
            share = self._share(_STAGE_SHARE, _STAGE_SHARE * (len(objectives) - i) + 1)
            if strict and model.is_mip:
                result = self._tier_stage(name, objective, share, start)
            else:
                result = self._value_stage(name, objective, share, start)
            if result.state is StageState.NO_PLAN and self.incumbent is None:
                result = self._repair(name, objective) or result
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
            floor = result.objective
            if strict:  # less the tier's tolerance (SPEC 3)
                tier = int(name[4:])
                floor = self._tier_floor(result.objective, tolerance, weighted.get(tier))
                if tier in weighted and floor > weighted[tier] + 1e-9 * max(abs(floor), 1.0):
                    # every plan from here on beats the weighted plan in priority order
                    # at this tier already: the tiers below need not keep its values
                    weighted = {}
            self.engine.add_floor(objective, floor - slack)
            if strict and tolerance > 0:
                self.floor_exprs.append(objective)
                self.floor_loose.append(floor - slack)
        if self.floor_exprs and self.incumbent is not None:
            # a tier gives up its tolerance for the tiers below, never for money: the
            # cost stage keeps every tier at its value in the plan
            self.engine.set_floors(self._held())
        if self.value_only:
            self.duals = lambda constraint: math.nan
            return
        self._cost()
        self._duals()

    def _value_stage(self, name: str, objective, share: float, start) -> StageResult:
        """One value stage (the total value, a tier, or strict mode's weighted start) by
        the search that suits the model."""
        if self._is_large() and not self.floor_exprs:
            return self._large_stage(name, objective, share, start)
        if self.model.running and not self.model.units:
            return self._dive(name, objective, share)
        if self.model.units and self.engine.can_round:
            return self._round_then_search(name, objective, share, start)
        return self._run(name, objective, True, share, start)

    def _tier_stage(self, name: str, objective, share: float, start) -> StageResult:
        """Strict mode with integer decisions: one tier's value stage, searched with the
        tiers below as a tie-break worth a small share of the gap (``_GUIDE`` x
        ``mip_gap`` of this tier's largest value at most), so that the plan the next
        tier starts from is a good one for it (a plan of this tier alone leaves the tiers
        below wherever the search put them: seen at 40 of 680); and the tiers above
        likewise, so that of two plans as good for this tier the search keeps the one
        that takes less of the tolerance above, which the tiers below need for rounding
        (without it the fourth tier of the national sample found 177 against a bound of
        178, 0.65%; with it 184 against 185, within the gap). The search's bound, less
        the least the tiers above may be worth (their floors), bounds this tier's value
        (the tiers below are worth at least 0), so the stage reports this tier's own
        value, against that bound."""
        model, tier = self.model, int(name[4:])
        below = [model.tier_value[t] for t in model.tier_value if t > tier]
        cells = model.cells
        top = float(cells.loc[cells["priority"] == tier, "max_value"].sum())
        rest = float(cells.loc[cells["priority"] > tier, "max_value"].sum())
        if not below or rest <= 0 or top <= 0:
            return self._value_stage(name, objective, share, start)
        guided = objective + (_GUIDE * self.gap_target * top / rest) * pulp.lpSum(below)
        peak = float(cells.loc[cells["priority"] < tier, "max_value"].sum())
        above_weight = _GUIDE * self.gap_target * top / peak if self.floor_exprs and peak > 0 else 0.0
        if above_weight:
            guided = guided + above_weight * pulp.lpSum(self.floor_exprs)
        result = self._value_stage(name, guided, share, start)
        if result.values is None or result.objective is None:
            return result
        worth = evaluate(objective, result.values)
        bound = result.bound if result.bound is not None else worth
        bound = max(bound - above_weight * sum(self.floor_loose), worth)
        return dataclasses.replace(result, objective=worth, bound=bound, gap=relative_gap(worth, bound))

    @contextlib.contextmanager
    def _held_floors(self, take: float = 0.0) -> Iterator[None]:
        """Strict mode with tier tolerances: within this block, the tiers above are held
        at their values in the plan in hand rather than at their tolerance floors. A
        tier's bound is the best possible given the tiers above (SPEC 3) as the plan in
        hand has them; its search may still take from them within their tolerance (and
        needs that room: the relaxation sits on the floors it is given, and no rounding
        of it keeps them). ``take``: hold them instead that share of the way down from
        their values in the plan in hand to their floors (1: the floors themselves)."""
        if not self.floor_exprs or self.incumbent is None:
            yield
            return
        held = zip(self._held(), self.floor_loose, strict=True)
        self.engine.set_floors([value - take * (value - loose) for value, loose in held])
        try:
            yield
        finally:
            self.engine.set_floors(self.floor_loose)

    def _held(self) -> list[float]:
        """The tiers held (strict mode) at their values in the plan in hand."""
        return [
            max(evaluate(expression, self.incumbent) - self.engine.floor_slack * max(abs(loose), 1.0), loose)
            for expression, loose in zip(self.floor_exprs, self.floor_loose, strict=True)
        ]

    def _above_columns(self, name: str) -> np.ndarray:
        """Strict mode: the whole-number columns (units, on/off) of the mission-periods of
        the tiers above the tier of stage ``name`` ("tier3")."""
        tier = int(name[4:])
        above = self.model.cells["priority"].to_numpy(np.int64) < tier
        units = self.unit_cols[above[self.unit_cell]]
        running = self.cell_running[above & (self.cell_running >= 0)]
        return np.unique(np.concatenate([units, running]).astype(np.int64))

    def _weighted_start(self, share: float, start) -> StageResult:
        """Strict mode with integer decisions: the weighted plan first (stage
        "weighted"), the tiers' start. Every tier then starts from a plan at least as
        good in priority order, so a time limit that stops a tier's search still leaves
        a plan no worse in that order than the weighted one; and the weighted plan is
        often within the gap of a tier's bound already, which ends that tier's search.
        Its time does not count as the planner's limit stopping a search."""
        stopped = self.out_of_time
        result = self._value_stage("weighted", self.model.value, share, start)
        self.out_of_time = stopped
        if self.engine.running_fixed:  # the dive's decisions: the tiers decide again
            self.engine.free_running(self.running_fixable)
        return result

    @staticmethod
    def _tier_floor(found: float, tolerance: float, weighted: float | None) -> float:
        """Strict mode: the floor that keeps a tier for the tiers below, ``(1 -
        tier_tolerance) x`` the value found, but never below the weighted plan's value of
        that tier (the weighted plan stays a plan for the tiers below while it is as good
        as the strict one so far) and never above the value found (the plan in hand stays
        a plan)."""
        floor = found - tolerance * abs(found)
        if weighted is not None:
            floor = max(floor, min(weighted, found))
        return floor

    def _repair(self, name: str, objective, relaxed: StageResult | None = None, final: bool = True,
                large: bool = False) -> StageResult | None:
        """A plan when a limit stopped the integer search before it found any: the
        relaxation's plan rounded to whole numbers (:meth:`_rounded`), those fixed, and
        the rest (coverage, money) solved as a linear programme. Rounding down breaks no
        capacity or budget, but can break a policy (an average coverage, a budget share):
        then the units round up in a minimum's scope and, in a maximum's, from a
        little less than the relaxation's (``_REPAIR_SHRINK``). Its gap is against
        the relaxation's bound. None when there is no relaxed plan or no rounding of it
        is a plan. ``final`` False: a start for the searches (the relaxation given, the
        time limit not reached). ``large``: no LPs of the running patterns first (a
        model too large for them in the time), and each LP from a fresh start."""
        if not len(self.engine.integer):
            return None
        # the repair ends at most _REPAIR_MIN_S past the planner's time limit, all its runs together
        end = max(self.deadline, time.perf_counter()) + _REPAIR_MIN_S

        def until_end() -> float:
            return max(end - time.perf_counter(), MIN_RUN_S)

        relaxed = relaxed if relaxed is not None else self.relaxed
        if final and (relaxed is None or relaxed.values is None):  # the limit stopped it too
            # the coverage relaxation (a bound, and a guide to round from, in seconds where
            # the relaxation takes minutes; :mod:`optimiser.bound`), else the relaxation
            # in the time left
            relaxed = self._quick_guide(name, objective, until_end(), guide=True)
            if relaxed is not None:  # the guide's plan, the relaxation's bound
                quick = self._quick_bound(name, objective, until_end())
                relaxed = None if quick is None else dataclasses.replace(relaxed, objective=quick.objective)
            if relaxed is None:
                relaxed = self._run(f"{name}-bound", objective, True, until_end(), None, relaxed=True)
            if relaxed.state is not StageState.OPTIMAL:
                return None
        if relaxed is None or relaxed.values is None:
            return None
        engine, cells = self.engine, self.model.cells
        columns = engine.integer
        # rounding that helps a policy: up in a minimum's scope, further down in a
        # maximum's (its share of the money falls, and capacity is freed)
        up = np.zeros(len(cells), dtype=bool)
        capped = np.zeros(len(cells), dtype=bool)
        policies = self.model.scenario.portfolio.policies[["rule", "scope_type", "scope_value"]]
        for rule, scope_type, scope_value in policies.itertuples(index=False, name=None):
            scope = in_scope(cells, str(scope_type), str(scope_value))
            if str(rule).startswith("max_"):
                capped |= scope
            else:
                up |= scope
        none = np.zeros(len(cells), dtype=bool)
        attempts = [(none, none, 1.0)]
        if up.any() or capped.any():
            attempts += [(up & ~capped, capped, shrink) for shrink in _REPAIR_SHRINK]
        # plans over time: first the LPs of the running patterns rounded from the
        # relaxation (each keeps every rule with its decisions whole), then the relaxation
        points = []
        if len(self.running_cols) and not engine.running_fixed and not large:
            for decisions in self._patterns(relaxed.values):
                if time.perf_counter() >= end:
                    break
                engine.fix_running(*self.model.fixed_running(decisions))
                try:
                    pattern = self._run(f"{name}-repair-lp", objective, True, until_end(), None, relaxed=True)
                finally:
                    engine.free_running(self.running_fixable)
                if pattern.state is StageState.OPTIMAL and pattern.values is not None:
                    points.append(pattern.values)
        points.append(relaxed.values)
        tries = [(point, *attempt) for point in points for attempt in attempts]
        for attempt, (point, rounded_up, shrunk, shrink) in enumerate(tries):
            if attempt and time.perf_counter() >= end:
                log.info("the repair of the rounded relaxation ran out of time")
                break
            x = point.copy()
            x[self.unit_cols[shrunk[self.unit_cell]]] *= shrink
            fixed = self._rounded(x, rounded_up)
            engine.fix(columns, np.clip(fixed[columns], engine.lower[columns], engine.upper[columns]))
            if large:
                engine.forget_basis()
            try:
                result = self._run(f"{name}-repair", objective, True, until_end(), None, relaxed=True)
            finally:
                engine.unfix(columns)
            if result.state in (StageState.OPTIMAL, StageState.STOPPED) and result.values is not None:
                self.out_of_time = self.out_of_time or final
                bound = relaxed.objective if relaxed.objective is not None else result.objective
                gap = relative_gap(result.objective, bound)
                return StageResult(
                    name, StageState.STOPPED, result.values, result.objective, bound, gap, result.seconds
                )
            log.info("the relaxation rounded (attempt %d) is not a plan (%s)", attempt + 1, result.state)
        return None

    def _quick_bound(
        self, name: str, objective, limit: float, guide: bool = False, money: float = 1.0
    ) -> StageResult | None:
        """The coverage relaxation of :mod:`optimiser.bound` for ``objective`` (a genuine
        upper bound, in seconds at 20,000 missions where the model's own relaxation takes
        minutes), as the stage ``{name}-quick-bound``; its values are that LP's columns.
        None when the engine cannot solve it or it did not finish."""
        lp = coverage_relaxation(self.model, objective, guide=guide, money=money)
        result = self.engine.solve_lp(f"{name}-quick-{'guide' if guide else 'bound'}", lp, limit)
        if result is None:
            return None
        self.stages.append(result)
        log.debug("stage %s: %s objective=%s in %.3fs", result.name, result.state, result.objective,
                  result.seconds)
        if result.state is not StageState.OPTIMAL or result.values is None:
            return None
        result.values = lp.coverage_of(result.values)  # each mission-period's coverage
        return result

    def _is_large(self) -> bool:
        """Whole units or on/off decisions on HiGHS at a size where the model's
        relaxation does not finish in the time limit (:data:`LARGE_COLUMNS`)."""
        decisions = bool(self.model.units) or bool(self.model.running)
        return decisions and self.engine.can_round and len(self.model.variables) >= LARGE_COLUMNS

    def _large_stage(self, name: str, objective, limit: float, start) -> StageResult:
        """Whole units at a size where the relaxation takes minutes (20,000 missions): the
        coverage relaxation's bound (:mod:`optimiser.bound`, seconds), its guide (the
        same LP keeping the budget-share policies too) rounded to whole units and
        repaired (:meth:`_repair`, the rest an LP: a plan of every row), then, in the time
        left, the integer search from that plan. The stage's bound is the coverage
        relaxation's or the search's, the lesser; a plan beyond ``mip_gap`` of it is
        ``feasible`` with that gap. Without the coverage LP: :meth:`_round_then_search`."""
        clock = time.perf_counter()

        def left() -> float:
            return max(limit - (time.perf_counter() - clock), MIN_RUN_S)

        quick = self._quick_bound(name, objective, left())
        if quick is None or quick.objective is None:
            return self._round_then_search(name, objective, left(), start)
        bound = float(quick.objective)
        repaired = None
        runs = [quick]
        for money in _GUIDE_MONEY:  # less of the money, if rounding the guide breaks a budget
            guide = self._quick_guide(name, objective, left(), guide=True, money=money)
            if guide is None:
                break
            runs.append(guide)
            guide = dataclasses.replace(guide, objective=bound)
            repaired = self._repair(name, objective, guide, final=False, large=True)
            if repaired is None:  # the LPs of its running patterns first, then their rounding
                repaired = self._repair(name, objective, guide, final=False)
            if repaired is not None or time.perf_counter() - clock >= limit:
                break
        if repaired is not None:
            runs.append(repaired)
            if start is None or repaired.objective > evaluate(objective, start):
                start = repaired.values
        stopped = self.out_of_time
        proven = repaired is not None and relative_gap(repaired.objective, bound) <= self.gap_target
        if not proven and (left() >= _LARGE_SEARCH_MIN_S or repaired is None):
            result = self._run(name, objective, True, left(), start)
        else:
            result = StageResult(name, StageState.NO_PLAN)
        self.out_of_time = stopped
        if result.state in (StageState.OPTIMAL, StageState.STOPPED) and result.values is not None:
            if repaired is not None and repaired.objective > result.objective:
                result = dataclasses.replace(result, values=repaired.values, objective=repaired.objective)
        elif repaired is not None:  # the search found nothing better in its time
            result = dataclasses.replace(repaired, state=StageState.STOPPED)
        result = dataclasses.replace(result, name=name, seconds=time.perf_counter() - clock)
        if result.values is not None and result.objective is not None:
            held = bound if result.bound is None else min(bound, float(result.bound))
            result.bound, result.gap = held, relative_gap(result.objective, held)
            result.state = StageState.OPTIMAL if result.gap <= self.gap_target else StageState.STOPPED
            self.out_of_time = self.out_of_time or result.state is StageState.STOPPED
        log.debug("stage %s: %s objective=%s bound=%s gap=%s (%d runs before the search)",
                  name, result.state, result.objective, result.bound, result.gap, len(runs))
        return result

    def _stopped_bound(self, name: str, objective) -> float | None:
        """A search stopped with a plan when the relaxation had not finished: the
        coverage relaxation's bound (often far below the search's own then), in at most
        ``_REPAIR_MIN_S`` past the time limit."""
        quick = self._quick_bound(name, objective, max(self.deadline - time.perf_counter(), _REPAIR_MIN_S))
        return None if quick is None else quick.objective

    def _quick_guide(
        self, name: str, objective, limit: float, guide: bool = False, money: float = 1.0
    ) -> StageResult | None:
        """The coverage relaxation's plan as column values of the model, to round and
        repair (:meth:`_repair`), with its optimum as the bound (``guide``: the guide
        LP's plan, whose optimum bounds nothing); None as :meth:`_quick_bound`."""
        result = self._quick_bound(name, objective, limit, guide, money)
        if result is None or result.values is None:
            return None
        return dataclasses.replace(result, values=coverage_point(self.model, result.values))

    def _rounded(self, x: np.ndarray, up: np.ndarray) -> np.ndarray:
        """Whole numbers from a continuous plan ``x``: units down (up in the mission-periods
        ``up``); a must-fund mission keeps the units its floor needs; an on/off mission
        runs where the relaxation ran it and its rounded units still reach its minimum,
        else it is off with no units."""
        cells, needs = self.model.cells, self.model.needs
        fixed = np.zeros(len(self.model.variables))
        units = x[self.unit_cols]
        fixed[self.unit_cols] = np.where(up[self.unit_cell], np.ceil(units - 1e-6), np.floor(units + 1e-6))
        quantity = needs["quantity"].to_numpy(float)[needs["column"].to_numpy(np.int64) >= 0]
        min_cov = cells["min_coverage"].to_numpy(float)
        must = cells["must_fund"].to_numpy(bool) & (min_cov > 0)
        least = np.ceil(quantity * min_cov[self.unit_cell] - 1e-6)  # units at the minimum
        floor_units = must[self.unit_cell]
        floored = self.unit_cols[floor_units]
        fixed[floored] = np.maximum(fixed[floored], least[floor_units])
        if len(self.running_cols):
            # running decisions that keep continuity and min_run (plans over time)
            on = self._rounded_runs(x) > 0.5
            floor = cells["running_floor"].to_numpy(float)
            least = np.maximum(least, np.ceil(quantity * floor[self.unit_cell] - 1e-6))
            short = np.zeros(len(cells), dtype=bool)
            on_off_unit = self.unit_running >= 0
            np.logical_or.at(
                short, self.unit_cell[on_off_unit], fixed[self.unit_cols[on_off_unit]] < least[on_off_unit]
            )
            cell_of_running = np.flatnonzero(self.cell_running >= 0)
            # a mission under a rule keeps its pattern, its units raised to the minimum;
            # another on/off mission whose rounded units fall short is off
            ruled = cells["timeline"].to_numpy(bool)[cell_of_running]
            raised = np.zeros(len(cells), dtype=bool)
            raised[cell_of_running[on & ruled & short[cell_of_running]]] = True
            lift = raised[self.unit_cell]
            fixed[self.unit_cols[lift]] = np.maximum(fixed[self.unit_cols[lift]], least[lift])
            on &= ~(short[cell_of_running] & ~ruled)
            fixed[self.running_cols] = on.astype(float)
            off_cell = np.zeros(len(cells), dtype=bool)
            off_cell[cell_of_running[~on]] = True
            fixed[self.unit_cols[off_cell[self.unit_cell]]] = 0.0
        return fixed

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
            self.engine.free_running(self.running_fixable)
        with self._held_floors():
            relaxed = self._run(f"{name}-bound", objective, True, limit, None, relaxed=True)
        self.relaxed = relaxed if relaxed.state is StageState.OPTIMAL else None  # for _repair
        if relaxed.state is StageState.INFEASIBLE:
            return relaxed  # the relaxation has no plan: neither has the model
        if relaxed.state is not StageState.OPTIMAL:  # a limit hit: search from the last plan
            start = fallback
            return self._run(
                name, objective, True, max(limit - (time.perf_counter() - clock), MIN_RUN_S), start
            )
        decisions = self._rounded_runs(relaxed.values)  # plans over time: keeps the rules
        self.engine.fix_running(*self.model.fixed_running(decisions))
        fixed = self._run(
            name,
            objective,
            True,
            max(limit - (time.perf_counter() - clock), MIN_RUN_S),
            None,
            relaxed=True,
        )
        accept = relaxed.objective - self.gap_target * max(abs(relaxed.objective), 1e-9)
        if fixed.state is StageState.OPTIMAL and fixed.objective >= accept:
            # (above the bound only in strict mode, taking from the tiers above)
            fixed.bound = max(float(relaxed.objective), float(fixed.objective))
            fixed.gap = relative_gap(fixed.objective, fixed.bound)
            if self.levers.priority_mode == PriorityMode.WEIGHTED:
                self.duals = self.engine.duals()  # continuous, on/off fixed: the duals LP itself
            return fixed
        self.engine.free_running(self.running_fixable)
        start = fixed.values if fixed.state is StageState.OPTIMAL else fallback
        limit = max(limit - (time.perf_counter() - clock), MIN_RUN_S)
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
            return max(limit - (time.perf_counter() - clock), MIN_RUN_S)

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
                found = StageResult(label, StageState.INFEASIBLE)
                takes = _TAKES if self.floor_exprs and self.incumbent is not None else (1.0,)
                for take in takes:
                    # strict mode: first take from the tiers above only part of what their
                    # tolerance has left, keeping the rest for the tiers below
                    with self._held_floors(take):
                        found = run(label if take == 1.0 else f"{label}-{take:g}",
                                    min(left() * _ROUND_SHARE, _ROUND_MAX_S), begin, target=accept, **options)
                    if found.objective is not None and found.objective >= accept:
                        break
            finally:
                for narrow in narrowed:
                    engine.unfix(narrow[0])
            if found.state not in (StageState.OPTIMAL, StageState.STOPPED):
                return None
            if found.objective >= accept:
                # above the bound only in strict mode, taking from the tiers above
                held = max(float(bound), float(found.objective))
                gap = relative_gap(found.objective, held)
                return done(StageResult(name, StageState.OPTIMAL, found.values, found.objective, held, gap))
            if start is None or found.objective > evaluate(objective, start):
                start = found.values
            return None

        with self._held_floors():
            relaxed = run(f"{name}-bound", left(), None, relaxed=True)
        self.relaxed = relaxed if relaxed.state is StageState.OPTIMAL else None  # for _repair
        if relaxed.state is StageState.INFEASIBLE:
            return done(relaxed)  # the relaxation has no plan: neither has the model
        bound = relaxed.objective if relaxed.state is StageState.OPTIMAL else None
        if bound is not None:
            accept = bound - self.gap_target * max(abs(bound), 1e-9)
            if start is not None and start is self.incumbent and evaluate(objective, start) >= accept:
                # the plan in hand (an earlier stage's, so a plan of this model) is
                # within the gap of this stage's bound already (strict mode's tiers)
                worth = evaluate(objective, start)
                gap = relative_gap(worth, bound)
                return done(StageResult(name, StageState.OPTIMAL, start, worth, bound, gap))
            point = relaxed.values
            columns = engine.integer
            if len(self.running_cols) and not engine.running_fixed:
                # on/off decisions: round them first, then the units of that pattern's LP
                for decisions in self._patterns(point):
                    engine.fix_running(*self.model.fixed_running(decisions))
                    try:
                        with self._held_floors():
                            fixed = run(f"{name}-pattern-lp", left(), None, relaxed=True)
                        accepted = None
                        if fixed.state is StageState.OPTIMAL:
                            box = (columns, *engine.rounding_box(columns, fixed.values[columns]))
                            gap = min(_ROUND_GAP, self.gap_target)
                            accepted = restricted(f"{name}-pattern", [box], None, gap=gap)
                    finally:
                        engine.free_running(self.running_fixable)
                    if accepted is not None:
                        return accepted
            x = point[columns]
            low = np.maximum(np.floor(x + 1e-6), engine.lower[columns])
            high = np.minimum(np.ceil(x - 1e-6), engine.upper[columns])
            # a mission half on in the relaxation may run at its minimum, which takes
            # more whole units than the ceilings of its fractional ones: free its units
            on = point[np.maximum(self.unit_running, 0)]
            undecided = (self.unit_running >= 0) & (on > 1e-6) & (on < 1 - 1e-6)
            if undecided.any():
                free = np.isin(columns, self.unit_cols[undecided])
                low[free], high[free] = engine.lower[columns][free], engine.upper[columns][free]
            low_all, high_all = low.copy(), high.copy()
            settled = self._round_timeline(relaxed.values, columns, low, high)
            high = np.maximum(high, low)
            # mission-periods the relaxation left whole (every unit count whole, on or
            # off) keep their coverage and money: the search is only over the others
            whole_cell = np.ones(len(self.model.cells), dtype=bool)
            fractional = high > low
            whole_cell[self.unit_cell[np.isin(self.unit_cols, columns[fractional])]] = False
            on_off = np.flatnonzero(self.cell_running >= 0)
            running = point[self.cell_running[on_off]]
            whole_cell[on_off[np.abs(running - np.round(running)) > 1e-6]] = False
            # plans over time: a mission under a rule keeps the relaxation's coverage and
            # money only when every one of its mission-periods may (continuity ties them)
            whole_cell[settled] = True
            whole_cell[self.unit_cell[np.isin(self.unit_cols, columns[fractional])]] = False
            mission = self.model.cells["mission_id"].to_numpy()
            timeline = self.model.cells["timeline"].to_numpy(bool)
            loose = np.unique(mission[timeline & ~whole_cell])
            whole_cell[timeline & np.isin(mission, loose)] = False
            kept = np.unique(self.owned_col[whole_cell[self.owned_cell]])
            narrowed = [(columns, low, high), (kept, point[kept], point[kept])]
            accepted = restricted(f"{name}-round", narrowed, None, gap=min(_ROUND_GAP, self.gap_target))
            if accepted is not None:
                return accepted
            if len(settled) or self.model.cells["timeline"].any():
                # plans over time: again, any running period of a stretch may go off
                low, high = low_all.copy(), high_all.copy()
                self._round_timeline(relaxed.values, columns, low, high, trim=False)
                narrowed = [(columns, np.minimum(low, high), high), narrowed[1]]
                accepted = restricted(f"{name}-round2", narrowed, start, gap=min(_ROUND_GAP, self.gap_target))
                if accepted is not None:
                    return accepted
            if self.floor_exprs and self.incumbent is not None and runs[-1].state is StageState.INFEASIBLE:
                # strict mode: no rounding keeps the tiers above at their floors. Keep
                # their whole numbers as the plan in hand has them, solve the rest
                # continuously and round that (the tiers above keep their values)
                above = self._above_columns(name)
                engine.fix(above, self.incumbent[above])
                try:
                    guide = run(f"{name}-below", left(), None, relaxed=True)
                finally:
                    engine.unfix(above)
                if guide.state is StageState.OPTIMAL:
                    x = guide.values[columns]  # (and the neighbourhood below is of this LP's)
                    box = (columns, *engine.rounding_box(columns, x))
                    gap = min(_ROUND_GAP, self.gap_target)
                    accepted = restricted(f"{name}-round-below", [box], None, gap=gap)
                    if accepted is not None:
                        return accepted
            if not self.floor_exprs and (start is None or evaluate(objective, start) < accept):
                # (not for strict mode's tiers: rounding their relaxation breaks the floors)
                # the relaxation rounded and repaired, when better than the plan in hand:
                # no rounding box is a plan (seen from 1,000 missions) and the searches
                # would otherwise start from little (a plan 64% below the bound)
                repaired = self._repair(name, objective, relaxed, final=False)
                if repaired is not None and repaired.objective is not None:
                    if repaired.objective >= accept:
                        return done(dataclasses.replace(repaired, state=StageState.OPTIMAL))
                    if start is None or repaired.objective > evaluate(objective, start):
                        start = repaired.values
            if start is not None and evaluate(objective, start) < accept:
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
        if bound is None and result.state is StageState.STOPPED:
            bound = self._stopped_bound(name, objective)
        # the relaxation's bound, where it proves more than the search's own
        proves_more = bound is not None and (result.bound is None or bound < result.bound)
        if proves_more and result.state in (StageState.OPTIMAL, StageState.STOPPED):
            result.bound = bound
            result.gap = relative_gap(result.objective, bound)
            if result.state is StageState.STOPPED and result.gap <= self.gap_target:
                result.state = StageState.OPTIMAL
        return done(result)

    def _patterns(self, values: np.ndarray) -> list[np.ndarray]:
        """Running decisions (one per :attr:`running_cells`) to try from a relaxation's
        plan, each keeping continuity and min_run: on where its coverage reached the
        running floor (:meth:`_rounded_runs`), and on where its running decision is at
        least one half (a relaxation running a battalion at 0.48 that needs a start-up of
        USD 5.9m rarely pays in whole; one keeping a mission at 0.49 of its minimum to
        spare a closure cost does). Either is often within the gap where the other is not.
        Then on wherever the relaxation runs it at all: it pays no closure and no start-up
        the relaxation did not half pay, a plan where the others have none (a budget too
        tight for a closure the relaxation paid a fraction of). Last, the cautious one: a
        mission running now as in the one before, any other only where the relaxation
        runs it whole (one run in fractions, 0.28, 0.55, 0.28, 0.55, takes a minimum
        spending a cut budget may not have)."""
        cells = self.model.cells
        by_coverage = self._rounded_runs(values)
        on, lean = np.zeros(len(cells)), np.zeros(len(cells))
        decided = values[self.running_cols]
        on[self.running_cells] = decided >= 0.5
        lean[self.running_cells] = decided
        by_decision = keep_rules(cells, on, lean)[self.running_cells]
        on[self.running_cells] = decided > 1e-6
        anywhere = keep_rules(cells, on, lean)[self.running_cells]
        now = cells["running_now"].to_numpy(bool)[self.running_cells]
        on[self.running_cells] = np.where(now, decided > 1e-6, decided >= 1 - 1e-6)
        cautious = keep_rules(cells, on, lean)[self.running_cells]
        patterns: list[np.ndarray] = []
        for pattern in (by_coverage, by_decision, anywhere, cautious):
            if not any(np.array_equal(pattern, p) for p in patterns):
                patterns.append(pattern)
        return patterns

    def _rounded_runs(self, values: np.ndarray) -> np.ndarray:
        """Plans over time: the running decisions (one per :attr:`running_cells`) rounded
        from a relaxation's plan, on where its coverage reached the running floor, then
        moved to the nearest pattern that keeps continuity and min_run."""
        cells = self.model.cells
        coverage = values[self.running_cov]
        on, lean = np.zeros(len(cells)), np.zeros(len(cells))
        on[self.running_cells] = coverage >= self.running_min - 1e-6
        top = np.maximum(cells["max_coverage"].to_numpy(float)[self.running_cells], 1e-9)
        lean[self.running_cells] = coverage / top
        return keep_rules(cells, on, lean)[self.running_cells]

    def _round_timeline(self, values, columns, low, high, trim: bool = True) -> np.ndarray:
        """Plans over time, in the rounded plan's search: the running decisions of missions
        under a rule of SPEC 3.1 are fixed at the relaxation's pattern rounded to keep the
        rules (a relaxation runs them fractionally; left free they make the search slow):
        with ``trim`` each stretch may only lose its first or last periods, else any
        period (the fallback). Units of a mission-period kept on span the floor and
        ceiling of the relaxation's (at least what running takes), of one the relaxation
        did not run at its floor are free, of one off none (narrows ``low``/``high``).
        Returns the mission-periods whose relaxed coverage and money still hold with their
        decision fixed (on at or above the running floor, or off at 0, and any start-up or
        closure money already whole), which the search may keep as they are."""
        model = self.model
        timeline = model.cells["timeline"].to_numpy(bool)[self.running_cells]
        if not timeline.any():
            return np.zeros(0, dtype=np.int64)
        decisions = self._rounded_runs(values)
        runs = self.running_cols[timeline]
        coverage = values[self.running_cov[timeline]]
        on = decisions[timeline] > 0.5
        at = np.searchsorted(columns, runs)  # engine.integer is ascending
        # runs as rounded; with ``trim`` only the ends of each stretch may go off, else
        # any (continuity then keeps what runs one stretch)
        low[at], high[at] = decisions[timeline], decisions[timeline]
        if trim:
            cells_all = model.cells
            on_all = np.zeros(len(cells_all))
            on_all[self.running_cells] = decisions
            prev = cells_all["previous"].to_numpy(np.int64)
            nxt = np.full(len(cells_all), -1)
            nxt[prev[prev >= 0]] = np.flatnonzero(prev >= 0)
            before = np.where(prev >= 0, on_all[np.maximum(prev, 0)], 0.0)
            after = np.where(nxt >= 0, on_all[np.maximum(nxt, 0)], 0.0)
            end = ((before < 0.5) | (after < 0.5))[self.running_cells][timeline]
            low[at] = np.where(end, 0.0, decisions[timeline])
        else:
            low[at] = 0.0
        holds = np.where(on, coverage >= self.running_min[timeline] - 1e-6, coverage <= 1e-9)
        # units: on where the relaxation's coverage holds, its floors and ceilings; on where
        # it does not, free; off, none
        cells = self.running_cells[timeline]
        x = values[columns]
        # a relaxation running a mission-period fractionally may give it fewer whole units
        # than running it takes (a battalion at 1% needs 2 of 150): at least those
        least = np.zeros(len(columns))
        need_at = np.searchsorted(columns, self.unit_cols)
        least[need_at] = np.ceil(
            self.unit_quantity * model.cells["running_floor"].to_numpy(float)[self.unit_cell] - 1e-6
        )
        short = self.unit_cell[x[need_at] < least[need_at] - 1e-6]
        holds &= ~np.isin(cells, short)
        for chosen, lower, upper in (
            (on & holds, np.floor(x + 1e-6), np.maximum(np.ceil(x - 1e-6), least)),
            (on & ~holds, self.engine.lower[columns], self.engine.upper[columns]),
            (~on, self.engine.lower[columns], self.engine.lower[columns]),
        ):
            free = np.isin(columns, self.unit_cols[np.isin(self.unit_cell, cells[chosen])])
            low[free] = np.maximum(lower[free], self.engine.lower[columns][free])
            high[free] = np.minimum(upper[free], self.engine.upper[columns][free])
        fixed_cols, fixed_values = model.fixed_running(decisions)
        money_col = np.concatenate(
            [model.cells[c].to_numpy(np.int64) for c in ("start_column", "stop_column")]
        )
        money_cell = np.concatenate([np.arange(len(model.cells))] * 2)
        pays = np.concatenate([model.cells[c].to_numpy(float) > 0 for c in ("startup_cost", "closure_cost")])
        implied = dict(zip(fixed_cols.tolist(), fixed_values.tolist(), strict=True))
        moved = [
            cell
            for column, cell, paid in zip(money_col.tolist(), money_cell.tolist(), pays.tolist(), strict=True)
            if column >= 0 and paid and abs(values[column] - implied[column]) > 1e-6
        ]
        whole = self.running_cells[timeline][holds]
        return np.setdiff1d(whole, np.asarray(moved, dtype=np.int64))

    def _cost(self) -> None:
        """Spend the least money for the value reached, keeping the on/off decisions."""
        model = self.model
        if len(self.running_cols) and not self.engine.running_fixed:
            self.engine.fix_running(*self.model.fixed_running(np.round(self.incumbent[self.running_cols])))
        cost = model.spending + TIDY_COST * model.tidy_units if len(model.tidy_units) else model.spending
        searched = sum(s.seconds for s in self.stages)
        if model.units:
            remaining = self.deadline - time.perf_counter()
            self._polish(cost, min(max(remaining, MIN_RUN_S), max(_COST_MIN_S, _COST_SHARE * searched)))
        remaining = self.deadline - time.perf_counter()
        if model.units:  # an integer search: a share of the time the value search took
            limit = min(max(remaining, MIN_RUN_S), max(_COST_MIN_S, _COST_SHARE * searched))
            capped = limit < remaining
        else:
            limit, capped = max(remaining, MIN_RUN_S), False
        result = self._run("cost", cost, False, limit, self.incumbent, relaxed=not model.units)
        if result.state is StageState.INFEASIBLE and self.engine.loosen_floors(_FLOOR_RETRY):
            # the value floor sits exactly at the plan's own value, and a solver's
            # tolerances can find even that plan a hair short of it: try once more with
            # the floor a relative 1e-9 lower (large models, seen at 1,000 missions)
            log.info("cost stage found its value floor infeasible; retrying a hair below it")
            limit = max(self.deadline - time.perf_counter(), MIN_RUN_S) if not capped else limit
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
        """Shadow prices: the continuous model, on/off decisions fixed, total value (with
        :attr:`prices_later`, left for :meth:`prices`)."""
        if self.duals is not None:
            return
        if self.prices_later:
            self.prices_pending = True
            return
        self.engine.drop_floors()
        limit = max(self.deadline - time.perf_counter(), _DUALS_FLOOR_S)
        result = self._run("duals", self.model.value, True, limit, None, relaxed=True)
        self.duals = self.engine.duals() if result.state is StageState.OPTIMAL else None
        if self.duals is None:
            log.warning("shadow prices not available: the duals LP ended %s", result.state)
            self.duals = lambda constraint: math.nan

    def prices(self) -> None:
        """The shadow prices :attr:`prices_later` left out, on the same engine (the plan in
        hand is unchanged: only ``duals`` is set)."""
        self.prices_later = self.prices_pending = False
        self._duals()

    def _share(self, mine: float, total: float) -> float:
        remaining = self.deadline - time.perf_counter()
        return max(remaining * mine / total, MIN_RUN_S)

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
