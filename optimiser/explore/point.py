"""One point of a sweep: plan a scenario and keep only the figures a sweep reports.

A sweep may run its points in other processes or on other machines, so what comes
back must be small and picklable: a :class:`PointOutcome` (headline numbers, mean
coverage per tier, and coverage, cost and value per mission), not the whole plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import pandas as pd

from optimiser.entry import optimise
from optimiser.levers import Levers
from optimiser.plan import Plan
from optimiser.portfolio import Portfolio
from optimiser.report.derived import TIERS, mission_coverage, number, tier_coverage

log = logging.getLogger(__name__)

FAILED = "failed"  # the solver failed, or a time limit stopped it before any plan
MISSION_COLUMNS = ["mission_id", "name", "priority", "coverage", "cost", "value"]


@dataclass(frozen=True)
class PointOutcome:
    """What a sweep keeps of one scenario's plan.

    Attributes
    ----------
    index : the point's position in the sweep (0-based).
    status : "optimal", "feasible", "infeasible" or "failed".
    value, max_value, gap, total_cost, money_available : as on
        :class:`~optimiser.plan.Plan` (``None`` when there is no plan; money available
        is known for an infeasible plan too).
    tier_coverage : mean coverage of each tier 1..5 over its mission-periods
        (``None`` for a tier without missions or without a plan).
    missions : one row per mission: ``mission_id``, ``name``, ``priority``,
        ``coverage`` (mean over its active periods, 0-1), ``cost`` (money, all
        periods), ``value``. Empty without a plan.
    seconds : wall time of the solve.
    message : the plan's one-line message, or why the point failed.
    """

    index: int
    status: str
    value: float | None = None
    max_value: float | None = None
    gap: float | None = None
    total_cost: float | None = None
    money_available: float | None = None
    tier_coverage: tuple[float | None, ...] = (None,) * len(TIERS)
    missions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISSION_COLUMNS))
    seconds: float = 0.0
    message: str = ""

    @property
    def has_plan(self) -> bool:
        return self.status not in ("infeasible", FAILED)


def plan_point(portfolio: Portfolio, levers: Levers, index: int) -> PointOutcome:
    """Plan one scenario; a solver failure becomes an outcome with status ``failed``."""
    started = time.perf_counter()
    try:
        plan = optimise(portfolio, levers)
    except Exception as error:  # one failed point is a row of the sweep, not the sweep's end
        log.warning("sweep point %d failed: %s", index + 1, error, exc_info=log.isEnabledFor(logging.DEBUG))
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        return PointOutcome(index, FAILED, seconds=time.perf_counter() - started, message=reason)
    return outcome_of(plan, index, time.perf_counter() - started)


def outcome_of(plan: Plan, index: int, seconds: float) -> PointOutcome:
    """The figures of ``plan`` that a sweep keeps."""
    if not plan.has_plan:
        message = " ".join([plan.message, *plan.diagnosis[:1]]).strip()
        return PointOutcome(index, str(plan.status), max_value=plan.max_value,
                            money_available=plan.money_available, seconds=seconds, message=message)
    per_mission = mission_coverage(plan).rename(columns={"mean_coverage": "coverage"})
    tiers = tier_coverage(plan)
    return PointOutcome(
        index=index,
        status=str(plan.status),
        value=number(plan.value),
        max_value=number(plan.max_value),
        gap=number(plan.gap),
        total_cost=number(plan.total_cost),
        money_available=number(plan.money_available),
        tier_coverage=tuple(number(v) for v in tiers["mean_coverage"]),
        missions=per_mission[MISSION_COLUMNS].reset_index(drop=True),
        seconds=seconds,
        message=plan.message,
    )
