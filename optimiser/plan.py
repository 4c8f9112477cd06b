"""The result of a solve: a typed plan with its tables as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from optimiser.levers import Levers
from optimiser.portfolio import Portfolio


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven within the accepted gap
    FEASIBLE = "feasible"  # a time limit stopped the search with a plan in hand
    INFEASIBLE = "infeasible"  # the hard commitments cannot all hold
    RELAXED = "relaxed"  # a plan only with some commitments relaxed (listed in ``diagnosis``)


@dataclass(frozen=True)
class SolverInfo:
    """What solved the plan and how long each step took (seconds)."""

    name: str  # "highs" or "cbc"
    version: str
    build_s: float = 0.0  # building the model(s)
    solve_s: float = 0.0  # inside the solver, all stages
    total_s: float = 0.0  # levers applied -> plan
    stages: tuple[str, ...] = ()  # e.g. ("value", "cost", "duals")


@dataclass(frozen=True, eq=False, repr=False)
class Plan:
    """An allocation of people, equipment and money to missions (SPEC sections 3 and 5).

    Attributes
    ----------
    status : optimal, feasible (time limit hit with a plan), infeasible, or relaxed (no
        plan keeps every commitment; this one keeps them relaxed by the least needed,
        :func:`optimiser.diagnose.solve_relaxed`).
    value : the first stage's objective (total value); ``None`` when infeasible.
    best_bound : the solver's bound on the value (equals ``value`` for an LP).
    max_value : value if every active mission were fully covered (for "share of the
        most possible").
    value_by_priority : tier (1..5) -> value reached in that tier.
    gap : relative gap reached by the integer search (0 for an LP; None if infeasible).
    total_cost : money spent over all periods.
    money_available : money in all funding sources over all periods (levers applied).
    levers : the levers this plan was made under.
    missions : one row per active (mission, period): ``mission_id``, ``period_id``,
        ``name``, ``zone_id``, ``region``, ``type``, ``priority``, ``must_fund``,
        ``coverage`` (0-1), ``value``, ``cost`` (money); and over time (SPEC 3.1,
        :func:`optimiser.runs.run_changes`) ``runs`` (coverage above zero), ``starts``
        (runs, and did not in the period before; before the first is ``running_now``),
        ``stops`` (does not run, but did in the period before), ``startup_cost`` and
        ``closure_cost`` (the money of that start or stop, in its period).
    allocation : one row per (mission, resource, period) required: ``mission_id``,
        ``period_id``, ``resource_id``, ``kind``, ``needed`` (units at full coverage),
        ``units`` (allocated), ``unit_cost`` (hazard-adjusted), ``cost``.
    funding : one row per money flow above zero: ``source_id``, ``mission_id``,
        ``period_id``, ``money``.
    resources : one row per (resource, period): ``resource_id``, ``period_id``,
        ``kind``, ``used``, ``available`` (NaN unlimited), ``reserve``, ``usable``,
        ``shadow_price`` (value of one more usable unit).
    budgets : one row per (source, period): ``source_id``, ``period_id``,
        ``amount``, ``used``, ``shadow_price`` (value of one more unit of money).
    zones : one row per (zone, period): ``zone_id``, ``period_id``, ``personnel``,
        ``cap`` (NaN: none), ``shadow_price``.
    unmet : one row per (mission, period, resource) short of full coverage:
        ``mission_id``, ``period_id``, ``resource_id``, ``needed``, ``allocated``,
        ``shortfall`` (units), ``shortfall_cost`` (money to close it).
    sensitivity : every shadow price above zero, largest first: ``constraint``
        ("resource", "budget" or "zone_cap"), ``id``, ``period_id``,
        ``shadow_price``, ``unit`` (e.g. "person", "USD"), ``sentence``; and ``step``
        (what the sentence adds: 1 unit, or a round sum of money such as 1,000,000)
        and ``gain`` (shadow_price x step), by which the rows are ranked, since a
        price per person and a price per dollar are not comparable.
    solver : solver name, version and timings.
    message : one line for a planner ("Optimal plan: value 812.4 ...").
    diagnosis : for an infeasible plan, sentences naming what clashes and by how much
        (SPEC 4); for a relaxed plan, the relaxations granted.
    portfolio : the portfolio as planned (per-item levers applied), for reports.
    ranges : filled by :func:`optimiser.sensitivity.explain` (else empty): how far each
        availability, budget and cap can move before its shadow price changes
        (columns in :data:`optimiser.sensitivity.RANGE_COLUMNS`).
    what_if : filled by :func:`optimiser.sensitivity.explain` for integer plans (else
        empty): the value 10% more of the resources and sources that matter most adds,
        measured by solving again (:data:`optimiser.sensitivity.WHAT_IF_COLUMNS`).
    objective_ranges : filled by :func:`optimiser.sensitivity.explain` for relaxed plans
        (else empty): how far each mission's value per unit of coverage (and weight) may
        move before the plan changes shape
        (:data:`optimiser.sensitivity.OBJECTIVE_RANGE_COLUMNS`).
    alternatives : filled by ``optimiser solve --alternatives N`` (else empty): plans nearly
        as good that run other missions, one row each
        (:data:`optimiser.alternatives.ALTERNATIVE_COLUMNS`).
    explanations : filled by ``optimiser solve --explain`` (else empty): the full answer of
        :func:`optimiser.why.why` for the ten most important short missions
        (:data:`optimiser.why.SHORT_COLUMNS`), for the report's "Why short" sheet.
    """

    status: Status
    value: float | None
    best_bound: float | None
    max_value: float
    value_by_priority: dict[int, float]
    gap: float | None
    total_cost: float
    money_available: float
    levers: Levers
    missions: pd.DataFrame
    allocation: pd.DataFrame
    funding: pd.DataFrame
    resources: pd.DataFrame
    budgets: pd.DataFrame
    zones: pd.DataFrame
    unmet: pd.DataFrame
    sensitivity: pd.DataFrame
    solver: SolverInfo
    message: str = ""
    diagnosis: tuple[str, ...] = field(default_factory=tuple)
    portfolio: Portfolio | None = None
    ranges: pd.DataFrame = field(default_factory=pd.DataFrame)
    what_if: pd.DataFrame = field(default_factory=pd.DataFrame)
    objective_ranges: pd.DataFrame = field(default_factory=pd.DataFrame)
    alternatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    explanations: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def has_plan(self) -> bool:
        return self.status is not Status.INFEASIBLE

    def __repr__(self) -> str:
        if not self.has_plan:
            return f"Plan(status=infeasible, {self.message!r})"
        return (
            f"Plan(status={self.status}, value={self.value:,.2f}, gap={self.gap or 0:.2%}, "
            f"cost={self.total_cost:,.0f} of {self.money_available:,.0f} {self.levers.currency}, "
            f"{len(self.missions)} mission-periods, solved in {self.solver.total_s:.2f}s)"
        )
