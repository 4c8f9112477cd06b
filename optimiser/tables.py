"""The plan's tables (SPEC 5) from a finished staged search.

:func:`make_plan` turns the incumbent column values and shadow prices of
:class:`~optimiser.stages.Stages` into a :class:`~optimiser.plan.Plan`: its status,
value, gap and message, and the tables :class:`Tables` builds, each in the planner's
order (the workbook's) with solver noise cleaned: missions (coverage, value and cost per
mission-period), allocation (units per mission, resource and period), funding (money per
source and mission), resources, budgets and zones (use against limits, with shadow
prices), unmet needs, and the shadow prices in words (:mod:`optimiser.prices`).

The missions table also says, per mission-period, whether the mission runs, starts or
stops and what that start or stop costs (SPEC 3.1), from the plan's coverage and the
Missions columns alone (:func:`optimiser.runs.run_changes`), so it is right whatever the model does.

Reported value: weighted mode, the value stage's optimum (SPEC 3); strict mode, the
total weighted value of the final plan (its tiers are in ``value_by_priority``), with
``gap`` the largest tier gap. ``max_value`` is the value if every active mission ran at
its ``max_coverage`` in every active period.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pulp

from optimiser import wording
from optimiser.levers import PriorityMode
from optimiser.model import MissionModel, starts_and_stops, value_of_coverage
from optimiser.plan import Plan, SolverInfo, Status
from optimiser.prices import SENSITIVITY_COLUMNS, shadow_price_table
from optimiser.runs import run_changes
from optimiser.stages import Stages

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
    "runs",
    "starts",
    "stops",
    "startup_cost",
    "closure_cost",
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


def make_plan(model: MissionModel, run: Stages, info: SolverInfo, started: float) -> Plan:
    """The :class:`Plan` of a finished staged search: status, value, gap, message and
    every table (SPEC 5), or the empty infeasible plan."""
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
    tables = Tables(model, values, run.duals or (lambda constraint: math.nan))
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
        message += " " + wording.money_note(run.cost_stage.seconds, run.cost_stage.gap or 0.0)
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
    sensitivity = shadow_price_table(plan)
    info = dataclasses.replace(info, total_s=time.perf_counter() - started)  # every table made
    return dataclasses.replace(plan, sensitivity=sensitivity, solver=info)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _message(status, value, max_value, gap, cost, available, currency) -> str:
    return wording.plan_headline(status is Status.OPTIMAL, value, max_value, gap, cost, available, currency)


class Tables:
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
        # start-up and closure money, in the period it falls (SPEC 3.1)
        starts, stops = starts_and_stops(cells, self.coverage)
        cost = (
            cost
            + cells["startup_cost"].to_numpy(float) * starts
            + cells["closure_cost"].to_numpy(float) * stops
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
        frame = self._workbook_order(frame, ["mission_id", "period_id"])
        return run_changes(frame, self.portfolio.missions, self.portfolio.period_ids)

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
