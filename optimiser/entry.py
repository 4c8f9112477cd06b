"""The one public entry point: :func:`optimise` a portfolio under scenario levers.

Levers applied (:mod:`optimiser.scenario`), the scenario solved (:mod:`optimiser.solve`),
and, when no plan keeps every commitment, the diagnosis of what clashes and by how much
(:mod:`optimiser.diagnose`, SPEC 4). The command line, the page and sweeps all plan
through here.
"""

from __future__ import annotations

from collections.abc import Callable

from optimiser.diagnose import explain_infeasible
from optimiser.levers import Levers
from optimiser.plan import Plan
from optimiser.portfolio import Portfolio
from optimiser.scenario import apply_levers
from optimiser.solve import WarmStart, solve


def optimise(
    portfolio: Portfolio,
    levers: Levers | None = None,
    *,
    early: Callable[[Plan], None] | None = None,
    warm: WarmStart | None = None,
) -> Plan:
    """Plan a portfolio under scenario levers (SPEC 3, 4 and 5).

    Parameters
    ----------
    portfolio : a validated portfolio.
    levers : :class:`~optimiser.levers.Levers`; ``None`` uses the workbook's Settings.
    early : called with the plan before its shadow prices are worked out, when they take a
        solver run of their own (:func:`optimiser.solve.solve`'s ``early``); never for an
        infeasible scenario.
    warm : a :class:`~optimiser.solvers.WarmStart` kept between solves of nearby
        scenarios (:func:`optimiser.solve.solve`'s ``warm``).

    Returns
    -------
    Plan
        ``optimal`` or ``feasible``; or ``infeasible`` with ``diagnosis``: which
        commitments clash and by how much, in the planner's words.
    """
    scenario = apply_levers(portfolio, levers)
    plan = solve(scenario, early=early, warm=warm)
    if not plan.has_plan:  # say which commitments clash and by how much (SPEC 4)
        plan = explain_infeasible(plan, scenario)
    return plan
