"""Solve a scenario: build its model, run the staged search, make the plan's tables.

The stage between the model and the plan (STYLE: one stage per module):

    Scenario ─► build_model (model.py) ─► make_engine (solvers/) ─► Stages (stages.py)
             ─► make_plan (tables.py) ─► Plan

:func:`solve` knows nothing of what explains a plan: an infeasible scenario gives a plan
with status ``infeasible``; :func:`optimiser.entry.optimise`, the public entry point,
adds the diagnosis (SPEC 4).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from optimiser.model import MissionModel, build_model
from optimiser.plan import Plan, SolverInfo
from optimiser.scenario import Scenario
from optimiser.solvers import Engine, SolveError, WarmStart, make_engine
from optimiser.stages import Stages
from optimiser.tables import make_plan

__all__ = ["SolveError", "WarmStart", "solve", "start_values"]

log = logging.getLogger(__name__)


def solve(
    scenario: Scenario,
    *,
    start: Plan | None = None,
    value_only: bool = False,
    early: Callable[[Plan], None] | None = None,
    warm: WarmStart | None = None,
) -> Plan:
    """Build and solve the model of a scenario and return the plan (SPEC 3 and 5).

    Parameters
    ----------
    scenario : a portfolio with levers applied (:func:`optimiser.scenario.apply_levers`).
    start : a plan to start the integer search from, e.g. the plan of the same
        portfolio before a limit was loosened (:func:`optimiser.sensitivity.what_if_more`).
    value_only : stop after the value stage(s): the plan's value, bound, gap and coverage
        as the full solve finds them, its money not minimised and no shadow prices (NaN);
        for re-solves that ask only what value a scenario reaches (:mod:`optimiser.why`).
    early : called with the plan before its shadow prices are worked out, when they take
        a solver run of their own (integer plans; strict mode): the same plan (status,
        value, bound, gap, money and every table) with every shadow price NaN and no
        sensitivity rows; the plan returned then has them. For the what-if page, which
        draws the headline figures while the prices are found.
    warm : a :class:`~optimiser.solvers.WarmStart` kept between solves of nearby
        scenarios (the page's lever moves): each continuous run starts from the basis
        the same run of the last one left when the models have the same shape, and
        leaves its own for the next. Every run still proves its own optimum; only the
        simplex's path is shorter.

    Returns
    -------
    Plan
        Status ``optimal``, ``feasible`` (a time limit stopped the search with a plan
        in hand) or ``infeasible`` (then ``value`` is None and the tables are empty; the
        diagnosis of what clashes is :func:`optimiser.entry.optimise`'s to add).

    Raises
    ------
    SolveError
        when the solver fails or finds no plan at all within the time limit.
    """
    started = time.perf_counter()
    levers = scenario.levers
    model = build_model(scenario)
    engine = make_engine(model, levers)
    engine.warm = warm
    build_s = time.perf_counter() - started
    log.info("built %r in %.3fs", model, build_s)
    run = Stages(model, engine, deadline=started + float(levers.time_limit_s), value_only=value_only)
    run.prices_later = early is not None
    if start is not None and model.is_mip:
        run.start = start_values(model, start)
    run.go()
    if run.prices_pending and early is not None:
        early(make_plan(model, run, _info(run, engine, build_s), started))
        run.prices()
    plan = make_plan(model, run, _info(run, engine, build_s), started)
    log.info("%s", plan.message)
    return plan


def _info(run: Stages, engine: Engine, build_s: float) -> SolverInfo:
    return SolverInfo(
        name=str(run.levers.solver),
        version=engine.version(),
        build_s=build_s,
        solve_s=sum(stage.seconds for stage in run.stages),
        total_s=0.0,
        stages=tuple(stage.name for stage in run.stages),
    )


def start_values(model: MissionModel, plan: Plan) -> np.ndarray:
    """A plan as column values of a model of the same portfolio (the integer search's
    start): coverage, excess, on/off, whole units, money flows and Baseline moves."""
    x = np.zeros(len(model.variables))
    coverage = plan.missions.set_index(["mission_id", "period_id"])["coverage"].astype(float).to_dict()
    for key, variable in model.coverage.items():
        x[variable.index] = coverage.get(key, 0.0)
    for key, variable in model.excess.items():
        x[variable.index] = max(coverage.get(key, 0.0) - 0.5, 0.0)
    for key, variable in model.running.items():
        x[variable.index] = 1.0 if coverage.get(key, 0.0) > 1e-9 else 0.0
    runs = np.array([x[v.index] for v in model.running.values()])
    columns, values = model.fixed_running(runs)  # the starts and stops they imply
    x[columns] = values
    given = plan.allocation.set_index(["mission_id", "resource_id", "period_id"])["units"].to_dict()
    for triple, variable in model.units.items():
        x[variable.index] = given.get(triple, 0.0)
    if len(plan.funding):
        paid = plan.funding.groupby(["source_id", "mission_id", "period_id"])["money"].sum().to_dict()
        for triple, variable in model.flow.items():
            x[variable.index] = paid.get(triple, 0.0) / model.money_unit
    for row in model.constraints:  # coverage - up + down = baseline (change_penalty)
        if row.name.startswith("moved_"):
            terms = list(row.expr.items())
            cover = next(v for v, c in terms if c == 1.0 and v.name.startswith("coverage_"))
            up = next(v for v, c in terms if c == -1.0)
            down = next(v for v, c in terms if c == 1.0 and v is not cover)
            change = x[cover.index] - float(row.getLb())
            x[up.index], x[down.index] = max(change, 0.0), max(-change, 0.0)
    return x
