"""The one public entry point: :func:`optimise` a portfolio under scenario levers.

Levers applied (:mod:`optimiser.scenario`), the scenario solved (:mod:`optimiser.solve`),
and, when no plan keeps every commitment, the diagnosis of what clashes and by how much
(:mod:`optimiser.diagnose`, SPEC 4). The command line, the page and sweeps all plan
through here.
"""

from __future__ import annotations

from optimiser.diagnose import explain_infeasible
from optimiser.levers import Levers
from optimiser.plan import Plan
from optimiser.portfolio import Portfolio
from optimiser.scenario import apply_levers
from optimiser.solve import solve


def optimise(portfolio: Portfolio, levers: Levers | None = None) -> Plan:
    """Plan a portfolio under scenario levers (SPEC 3, 4 and 5).

    Parameters
    ----------
    portfolio : a validated portfolio.
    levers : :class:`~optimiser.levers.Levers`; ``None`` uses the workbook's Settings.

    Returns
    -------
    Plan
        ``optimal`` or ``feasible``; or ``infeasible`` with ``diagnosis``: which
        commitments clash and by how much, in the planner's words.
    """
    scenario = apply_levers(portfolio, levers)
    plan = solve(scenario)
    if not plan.has_plan:  # say which commitments clash and by how much (SPEC 4)
        plan = explain_infeasible(plan, scenario)
    return plan
