"""How well a mission is covered: the one definition of SPEC section 5.

A mission is *fully covered* when it reaches its ``max_coverage`` in every active period,
*not covered* when it is at 0 in every one, and *partly covered* otherwise; what it
*lacks* is measured up to its ``max_coverage`` (a mission that wants at most 60% lacks
nothing at 60%). The report, the JSON result, the terminal summary and the page all
classify missions through :func:`coverage_class` and measure shortfalls through
:func:`lacking`, so that no two of them can disagree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from optimiser.plan import Plan

FULLY = "fully"
PARTLY = "partly"
NOT = "not"
CLASSES = (FULLY, PARTLY, NOT)
# In planners' words, for headers and legends.
CLASS_WORDS = {FULLY: "fully covered", PARTLY: "partly covered", NOT: "not covered"}
# Coverage within this of the ceiling counts as reaching it, within this of 0 as none.
TOLERANCE = 1e-6
LACKING_COLUMNS = ("mission_id", "period_id", "resource_id", "needed", "allocated", "shortfall",
                   "shortfall_cost")


def coverage_class(coverages: Iterable[float], ceiling: float = 1.0) -> str:
    """``"fully"``, ``"partly"`` or ``"not"`` for one mission's coverage in each of its
    active periods, against its ``max_coverage`` (``ceiling``).

    >>> coverage_class([0.6, 0.6], ceiling=0.6), coverage_class([1.0, 0.5]), coverage_class([0, 0])
    ('fully', 'partly', 'not')
    """
    values = [float(c) for c in coverages if c is not None and not math.isnan(float(c))]
    if not values or max(values) <= TOLERANCE:
        return NOT
    if min(values) >= float(ceiling) - TOLERANCE:
        return FULLY
    return PARTLY


def ceilings(plan: Plan) -> pd.Series:
    """Each mission's ``max_coverage`` (1 when the plan has no portfolio to say)."""
    portfolio = plan.portfolio
    if portfolio is None or "max_coverage" not in portfolio.missions:
        return pd.Series(dtype=float)
    ceiling = pd.to_numeric(portfolio.missions["max_coverage"], errors="coerce").fillna(1.0)
    ceiling.index = ceiling.index.astype(str)
    return ceiling


def mission_classes(plan: Plan) -> pd.Series:
    """:func:`coverage_class` of every mission of the plan, indexed by ``mission_id`` in
    the plan's order."""
    missions = plan.missions
    if missions is None or missions.empty or "coverage" not in missions:
        return pd.Series(dtype=object)
    ceiling = ceilings(plan)
    coverage = pd.to_numeric(missions["coverage"], errors="coerce").fillna(0.0)
    ids = missions["mission_id"].astype(str)
    classes = {
        mission_id: coverage_class(values, float(ceiling.get(mission_id, 1.0)))
        for mission_id, values in coverage.groupby(ids, sort=False)
    }
    return pd.Series(classes, dtype=object)


def lacking(plan: Plan) -> pd.DataFrame:
    """What each mission lacks to reach its ``max_coverage``: one row per (mission, period,
    resource) short of it.

    Columns ``mission_id``, ``period_id``, ``resource_id``, ``needed`` (units at the
    mission's max_coverage, whole where the resource comes in whole units), ``allocated``,
    ``shortfall`` (units) and ``shortfall_cost`` (money to close it, at the unit cost the
    plan pays). Rows in the plan's allocation order.
    """
    allocation = plan.allocation
    needed_columns = {"mission_id", "period_id", "resource_id", "needed", "units"}
    if allocation is None or allocation.empty or not needed_columns <= set(allocation.columns):
        return pd.DataFrame({c: pd.Series(dtype=object if c.endswith("_id") else float)
                             for c in LACKING_COLUMNS})
    ids = allocation["mission_id"].astype(str)
    ceiling = ids.map(ceilings(plan)).fillna(1.0).to_numpy(float)
    wanted = pd.to_numeric(allocation["needed"], errors="coerce").fillna(0.0).to_numpy(float) * ceiling
    whole = _whole_resources(plan)
    if whole:
        is_whole = allocation["resource_id"].astype(str).isin(whole).to_numpy()
        wanted = np.where(is_whole, np.ceil(wanted - 1e-6), wanted)
    units = pd.to_numeric(allocation["units"], errors="coerce").fillna(0.0).to_numpy(float)
    short = units < wanted - 1e-6 * np.maximum(wanted, 1.0)
    unit_cost = (pd.to_numeric(allocation["unit_cost"], errors="coerce").fillna(0.0).to_numpy(float)
                 if "unit_cost" in allocation else np.zeros(len(allocation)))
    shortfall = (wanted - units)[short]
    return pd.DataFrame({
        "mission_id": ids[short].to_numpy(),
        "period_id": allocation["period_id"].astype(str)[short].to_numpy(),
        "resource_id": allocation["resource_id"].astype(str)[short].to_numpy(),
        "needed": wanted[short],
        "allocated": units[short],
        "shortfall": shortfall,
        "shortfall_cost": shortfall * unit_cost[short],
    })


def _whole_resources(plan: Plan) -> set[str]:
    """Resources allocated in whole units in this plan."""
    if not plan.levers.integer or plan.portfolio is None or "integer" not in plan.portfolio.resources:
        return set()
    flags = plan.portfolio.resources["integer"]
    return {str(r) for r, whole in flags.items() if bool(whole)}
