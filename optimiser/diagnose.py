"""Why no plan is possible (SPEC section 4), and the plan that is possible.

When the hard commitments cannot all hold, :func:`diagnose` solves an *elastic* copy of
the model: the must-fund floors stay, and every limit they can run into may be
stretched at a price:

- a resource's usable units in a period (``capacity``): "extra units";
- a funding source's money in a period (``budget``): "extra money";
- a zone's personnel cap in a period (``zone_cap``): "extra personnel";
- a policy row (``policy``): a looser share or mean coverage;
- a Baseline change limit (``change_limit``, with ``max_change``): a larger move;
- a must-fund mission-period that no funding source may pay for (``no_funding``):
  money from outside the portfolio.

The elastic model minimises the *relative* size of the stretches, each divided by its
limit (a 250-person shortfall in a pool of 600 weighs 0.42; USD 1m more in a budget of
USD 100m weighs 0.01), so that people, equipment, money and policies are comparable and
the slack lands where the scarcity is. Extra units of a whole-unit resource are whole.
Each stretch is then worded by naming the must-fund missions that use that resource,
money or zone in that period::

    Must-fund UNIFIL-CMD needs 850 Infantry in 2027-Q1; 600 are available after the
    10% reserve (short 250)

:func:`solve_relaxed` solves the real model with exactly those stretches granted: the
plan that is possible, with status ``relaxed`` and the stretches as its diagnosis.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from optimiser import formats, wording
from optimiser.levers import Levers
from optimiser.model import MissionModel, build_model, in_scope
from optimiser.plan import Plan, Status
from optimiser.portfolio import Portfolio
from optimiser.scenario import Scenario, apply_levers
from optimiser.solve import solve
from optimiser.solvers import MIN_RUN_S, StageResult, StageState, make_engine

log = logging.getLogger(__name__)

RELAXATION_COLUMNS = [
    "kind",
    "id",
    "period_id",
    "needed",
    "available",
    "shortfall",
    "unit",
    "missions",
    "sentence",
    "weight",
]
"""Columns of :attr:`Diagnosis.relaxations`; see there."""

KIND_ORDER = {"capacity": 0, "zone_cap": 1, "budget": 2, "no_funding": 3, "policy": 4, "change_limit": 5}
_TIE = 1e-7  # weight of one unit of coverage in the elastic objective: keeps optional missions off
_ZERO = 1e-6  # slack below this many units, people, shares or coverage is no slack
_ZERO_MONEY = 0.5  # money slack below this (in currency) is no slack
_DIAGNOSIS_GAP = 1e-6  # the elastic search proves its minimum this closely
_BOX_S = 2.0  # the elastic search restricted to the relaxation's rounding may run this long


@dataclass(frozen=True, eq=False)
class Diagnosis:
    """What the commitments need beyond what exists: the smallest relaxation found.

    Attributes
    ----------
    feasible : True when no relaxation is needed (every commitment can hold).
    relaxations : one row per stretched commitment, largest relative stretch first:
        ``kind`` (capacity, budget, zone_cap, policy, change_limit, no_funding), ``id``
        (resource, source, zone, policy row number as text, or mission), ``period_id``
        (None for a budget-share policy, which spans every period), ``needed``,
        ``available``, ``shortfall`` (units, money, personnel, a share or coverage;
        whole units for whole-unit resources), ``unit`` (the resource's unit, the
        currency, "person", "share" or "coverage"), ``missions`` (the must-fund
        missions involved, a tuple), ``sentence`` (the planner's words) and ``weight``
        (the stretch relative to its limit, by which rows are ranked).
    seconds : time taken (building and solving the elastic model).
    proven : False when the time limit stopped the search: the relaxation is enough but
        may not be the smallest.
    message : one line for a planner.
    scenario : the scenario diagnosed.
    """

    feasible: bool
    relaxations: pd.DataFrame
    seconds: float
    proven: bool
    message: str
    scenario: Scenario = field(repr=False)

    @property
    def sentences(self) -> tuple[str, ...]:
        """One sentence per relaxation; the same clash in several periods is one sentence
        ("... in every period; ...")."""
        return _merged_sentences(self.relaxations, self.scenario.portfolio)

    def relaxed_scenario(self) -> Scenario:
        """The scenario with every stretch granted: more units, money, a higher cap, a
        looser policy, a baseline moved, or a funding source for an unfunded mission."""
        return _relax(self.scenario, self.relaxations)

    def __repr__(self) -> str:
        if self.feasible:
            return f"Diagnosis(feasible, {self.seconds:.2f}s)"
        return f"Diagnosis({len(self.relaxations)} relaxation(s), {self.seconds:.2f}s: {self.message!r})"


def diagnose(scenario: Scenario, time_limit_s: float | None = None) -> Diagnosis:
    """Find the smallest relaxation of the commitments that makes a plan possible.

    Parameters
    ----------
    scenario : a portfolio with levers applied (:func:`optimiser.levers.apply_levers`).
    time_limit_s : the elastic search's limit (default: the scenario's ``time_limit_s``).

    Returns
    -------
    Diagnosis
        ``feasible`` when nothing needs relaxing; otherwise the relaxations, one sentence
        each, in the planner's words.
    """
    started = time.perf_counter()
    levers = scenario.levers
    model = build_model(scenario, name="elastic")
    elastic = _Elastic(model)
    engine = make_engine(model, levers.changed(mip_gap=_DIAGNOSIS_GAP))
    limit = float(time_limit_s if time_limit_s is not None else levers.time_limit_s)
    slacks = np.array([slack.variable.index for slack in elastic.slacks], dtype=np.int64)
    result = _least_stretch(engine, elastic.objective, started + limit, slacks)
    seconds = time.perf_counter() - started
    if result.state not in (StageState.OPTIMAL, StageState.STOPPED) or result.values is None:
        message = (
            "The search for what clashes found no answer within the time limit; raise time_limit_s"
            if result.state is StageState.NO_PLAN
            else "The commitments clash in a way the diagnosis cannot stretch (a solver problem?)"
        )
        log.warning("diagnosis ended %s", result.state)
        return Diagnosis(False, _empty(), seconds, False, message, scenario)
    relaxations = elastic.relaxations(result.values)
    proven = result.state is StageState.OPTIMAL
    if not len(relaxations):
        return Diagnosis(True, relaxations, seconds, proven, "Every commitment can hold.", scenario)
    count = len(relaxations)
    limits = f"{count} limit" + ("" if count == 1 else "s")
    smallest = (
        "the smallest relaxation" if proven else "a relaxation (time ran out before the smallest was proven)"
    )
    message = (
        "No plan keeps every commitment (must-fund floors, zone caps, policies): "
        f"{smallest} that makes one possible stretches {limits}, grouped below by the commitment they hold."
    )
    log.info("diagnosis: %d relaxation(s) in %.2fs", count, seconds)
    return Diagnosis(False, relaxations, seconds, proven, message, scenario)


def _least_stretch(engine, objective, deadline: float, slacks: np.ndarray) -> StageResult:
    """The elastic search: the least weighted stretch of the commitments.

    With whole numbers (units, on/off decisions) its relaxation is solved first and, on
    engines that can round, the search restricted to the floors and ceilings of the
    relaxation's whole numbers (the stretches themselves left free, so that the box
    always holds a plan): a plan of that box as small as the relaxation's minimum
    (within ``_DIAGNOSIS_GAP``) is proven the least, and the full search is spared (the
    national sample with personnel at 0.2: about 0.5 s where the full search takes
    2.5 s). Otherwise the full search starts from the best plan found."""
    def left() -> float:
        return max(deadline - time.perf_counter(), MIN_RUN_S)

    start = None
    if len(engine.integer) and engine.can_round:
        relaxed = engine.run("diagnose-bound", objective, False, left(), None, relaxed=True)
        if relaxed.state is StageState.INFEASIBLE:
            return relaxed
        if relaxed.state is StageState.OPTIMAL:
            columns = np.setdiff1d(engine.integer, slacks).astype(engine.integer.dtype)
            engine.bound(columns, *engine.rounding_box(columns, relaxed.values[columns]))
            try:
                boxed = engine.run("diagnose-round", objective, False, min(left(), _BOX_S), None,
                                   gap=_DIAGNOSIS_GAP)
            finally:
                engine.unfix(columns)
            if boxed.state in (StageState.OPTIMAL, StageState.STOPPED) and boxed.values is not None:
                least = float(relaxed.objective)
                if boxed.objective <= least + _DIAGNOSIS_GAP * max(abs(least), 1.0):
                    return dataclasses.replace(boxed, state=StageState.OPTIMAL, bound=least, gap=0.0)
                start = boxed.values
    return engine.run("diagnose", objective, False, left(), start)


def explain_infeasible(plan: Plan, scenario: Scenario) -> Plan:
    """An infeasible plan with its diagnosis: the sentences in ``plan.diagnosis`` and the
    message saying how many commitments clash. Called by :func:`optimiser.entry.optimise`."""
    if plan.has_plan:
        return plan
    found = diagnose(scenario)
    if len(found.relaxations):
        sentences, message = found.sentences, found.message
    elif found.feasible:  # the elastic model keeps every commitment: a numerical edge
        sentences = (
            "Every commitment can hold when the diagnosis stretches nothing, so the clash is within the "
            "solver's tolerances; try integer = no, or the other solver",
        )
        message = plan.message
    else:
        sentences, message = (found.message,), plan.message
    solver = dataclasses.replace(
        plan.solver,
        total_s=plan.solver.total_s + found.seconds,
        stages=(*plan.solver.stages, "diagnose"),
    )
    return dataclasses.replace(plan, diagnosis=sentences, message=message, solver=solver)


def solve_relaxed(scenario: Scenario, diagnosis: Diagnosis | None = None) -> Plan:
    """The plan that is possible: the commitments relaxed by the smallest amounts that
    make a plan possible (:func:`diagnose`), then solved as usual.

    Returns
    -------
    Plan
        status ``relaxed`` with the relaxations as ``diagnosis`` when some were needed;
        otherwise the ordinary plan (``optimal`` or ``feasible``).
    """
    diagnosis = diagnosis or diagnose(scenario)
    if diagnosis.feasible:
        return solve(scenario)
    if not len(diagnosis.relaxations):  # nothing to grant: say why there is no plan
        return explain_infeasible(solve(scenario), scenario)
    plan = solve(diagnosis.relaxed_scenario())
    if not plan.has_plan:
        return dataclasses.replace(plan, diagnosis=diagnosis.sentences)
    granted = len(diagnosis.relaxations)
    message = (
        f"Plan with relaxed commitments: no plan meets every commitment, so {granted} "
        f"{'was' if granted == 1 else 'were'} relaxed by the least needed (listed below). " + plan.message
    )
    return dataclasses.replace(
        plan,
        status=Status.RELAXED,
        message=message,
        diagnosis=diagnosis.sentences,
        solver=dataclasses.replace(plan.solver, total_s=plan.solver.total_s + diagnosis.seconds),
    )


def relax_commitments(portfolio: Portfolio, levers: Levers | None = None) -> Plan:
    """:func:`solve_relaxed` of a portfolio under levers (``None``: its Settings)."""
    return solve_relaxed(apply_levers(portfolio, levers))


# -- the elastic model -------------------------------------------------------------------


@dataclass
class _Slack:
    kind: str
    key: tuple  # (id, period_id) or (policy row, period_id or None) or (mission, period)
    variable: pulp.LpVariable
    weight: float  # objective weight: 1 / the limit it stretches
    row: pulp.LpConstraint | None = None
    side: str = ""  # change limits: "down" or "up"
    tolerance: float = _ZERO  # slack at most this is no slack (model units)


class _Elastic:
    """Adds a penalised slack to every limit the commitments may run into."""

    def __init__(self, model: MissionModel):
        self.model = model
        self.scenario = model.scenario
        self.portfolio = model.scenario.portfolio
        self.levers = model.scenario.levers
        self.slacks: list[_Slack] = []
        resources = self.portfolio.resources
        whole = resources["integer"].astype(bool) & bool(self.levers.integer)
        money_unit = model.money_unit
        amounts = self.scenario.budget["amount"].to_numpy(float)
        positive = amounts[np.isfinite(amounts) & (amounts > 0)]
        self.typical_money = float(np.median(positive)) / money_unit if len(positive) else 1.0

        # People and equipment: units used may exceed what is usable after the reserve.
        usable = self.scenario.capacity.set_index(["resource_id", "period_id"])["usable"]
        for (resource_id, period_id), row in model.capacity.items():
            limit = float(usable[(resource_id, period_id)])
            integer = bool(whole[resource_id])
            self._stretch("capacity", (resource_id, period_id), row, -1.0, max(limit, 1.0), integer)

        # Money: a source may pay more than it holds in the period.
        amount = self.scenario.budget.set_index(["source_id", "period_id"])["amount"]
        for (source_id, period_id), row in model.budgets.items():
            limit = float(amount[(source_id, period_id)]) / money_unit
            scale = max(limit, 0.01 * self.typical_money)
            self._stretch("budget", (source_id, period_id), row, -1.0, scale, money=True)

        # Zone caps: more personnel than the cap.
        personnel = resources["kind"] == "personnel"
        whole_people = bool(whole[personnel].all()) if personnel.any() else True
        caps = self.portfolio.zones["personnel_cap"].astype(float)
        for (zone_id, period_id), row in model.zone_caps.items():
            limit = float(caps[zone_id])
            self._stretch("zone_cap", (zone_id, period_id), row, -1.0, max(limit, 1.0), whole_people)

        # Policies: a looser share or mean coverage. A budget-share row's slack is money,
        # weighed against what the must-fund floors spend (the money the share is about).
        total_money = max(float(np.nansum(amounts)) / money_unit, 1e-9)
        committed = max(self._committed_money(), 0.01 * total_money)
        policies = self.portfolio.policies
        for (index, when), row in model.policies.items():
            rule, share = str(policies["rule"].iloc[index]), float(policies["value"].iloc[index])
            if rule == "min_average_coverage":  # rows: sum of coverage >= value x missions in scope
                scale = max(float(row.getLb() or 0.0), 1e-3)
            else:
                scale = max(min(share, 1.0 - share), 0.05) * committed
            sign = 1.0 if row.sense == pulp.LpConstraintGE else -1.0
            money = rule != "min_average_coverage"
            self._stretch("policy", (index, when), row, sign, scale, money=money)

        # Baseline change limits: a larger move than max_change.
        limit = max(float(self.levers.max_change or 0.0), 0.01)
        for key, (down, up) in model.change_limits.items():
            for side, row, sign in (("down", down, 1.0), ("up", up, -1.0)):
                if row is not None:
                    self._stretch("change_limit", key, row, sign, limit, side=side)

        # Must-fund mission-periods that no funding source may pay: money from outside.
        self._unfunded()

        tie = pulp.LpAffineExpression([(v, _TIE) for v in model.coverage.values()])
        self.objective = pulp.LpAffineExpression([(s.variable, s.weight) for s in self.slacks]) + tie

    def _stretch(
        self,
        kind: str,
        key: tuple,
        row: pulp.LpConstraint,
        sign: float,
        scale: float,
        integer: bool = False,
        side: str = "",
        money: bool = False,
    ) -> None:
        name = f"stretch_{kind}_{len(self.slacks)}"
        variable = self.model.add_variable(name, 0.0, None, pulp.LpInteger if integer else pulp.LpContinuous)
        row.expr.addterm(variable, sign)
        tolerance = _ZERO_MONEY / self.model.money_unit if money else _ZERO
        self.slacks.append(_Slack(kind, key, variable, 1.0 / scale, row, side, tolerance))

    def _committed_money(self) -> float:
        """What the must-fund floors cost over every period, in model money units."""
        cells, needs = self.model.cells, self.model.needs
        full = np.bincount(
            needs["cell"].to_numpy(np.int64),
            weights=needs["unit_cost"].to_numpy(float) * needs["quantity"].to_numpy(float),
            minlength=len(cells),
        ) + cells["running_cost"].to_numpy(float)
        floors = np.where(cells["must_fund"].to_numpy(bool), cells["min_coverage"].to_numpy(float), 0.0)
        return float((full * floors).sum()) / self.model.money_unit

    def _unfunded(self) -> None:
        model = self.model
        cells = model.cells
        floors = cells[cells["must_fund"] & (cells["min_coverage"] > 0)]
        funded = set(zip(model.flows["mission_id"], model.flows["period_id"], strict=True))
        lonely = [
            (m, p)
            for m, p in zip(floors["mission_id"], floors["period_id"], strict=True)
            if (m, p) not in funded
        ]
        if not lonely:
            return
        wanted = {id(model.coverage[key]): key for key in lonely}
        for row in model.constraints:
            if not row.name.startswith("paid_"):
                continue
            for variable in row.expr:
                key = wanted.get(id(variable))
                if key is not None:  # this mission-period's "cost is paid" row
                    self._stretch("no_funding", key, row, 1.0, self.typical_money, money=True)
                    break

    # -- reading the answer ------------------------------------------------------------

    def relaxations(self, values: np.ndarray) -> pd.DataFrame:
        words = _Words(self.model, _ElasticPlan(self.model, values))
        rows = []
        for slack in self.slacks:
            amount = float(values[slack.variable.index])
            if slack.variable.cat == pulp.LpInteger:
                amount = float(round(amount))
            if amount <= slack.tolerance:
                continue
            row = getattr(words, slack.kind)(slack, amount)
            row["weight"] = amount * slack.weight
            rows.append(row)
        if not rows:
            return _empty()
        frame = pd.DataFrame(rows)
        frame["_k"] = frame["kind"].map(KIND_ORDER)
        frame = frame.sort_values(["weight", "_k"], ascending=[False, True], kind="stable")
        return frame[RELAXATION_COLUMNS].reset_index(drop=True)


class _ElasticPlan:
    """The elastic model's plan: units by need, money by flow, coverage by cell."""

    def __init__(self, model: MissionModel, values: np.ndarray):
        cells, needs = model.cells, model.needs
        cov_col = np.array([v.index for v in model.coverage.values()], dtype=np.int64)
        self.coverage = np.clip(values[cov_col], 0.0, None) if len(cov_col) else np.zeros(0)
        column = needs["column"].to_numpy(np.int64)
        quantity = needs["quantity"].to_numpy(float)
        cell = needs["cell"].to_numpy(np.int64)
        whole = np.rint(values[np.maximum(column, 0)]) if len(column) else np.zeros(0)
        units = np.where(column >= 0, whole, quantity * self.coverage[cell])
        self.needs = needs.assign(
            units=np.maximum(units, 0.0),
            must_fund=cells["must_fund"].to_numpy(bool)[cell],
            zone_id=cells["zone_id"].to_numpy()[cell],
        )
        flows = model.flows
        money = values[flows["column"].to_numpy(np.int64)] * model.money_unit if len(flows) else np.zeros(0)
        self.flows = flows.assign(
            money=np.where(money > 1e-6 * model.money_unit, money, 0.0),
            must_fund=cells["must_fund"].to_numpy(bool)[flows["cell"].to_numpy(np.int64)]
            if len(flows)
            else np.zeros(0, dtype=bool),
        )
        self.cells = cells.assign(coverage=self.coverage)


class _Words:
    """One relaxation as a row of :attr:`Diagnosis.relaxations`, worded for a planner."""

    def __init__(self, model: MissionModel, plan: _ElasticPlan):
        self.model = model
        self.plan = plan
        self.scenario = model.scenario
        self.portfolio = model.scenario.portfolio
        self.levers = model.scenario.levers
        self.currency = self.levers.currency
        self.period_name = self.portfolio.periods["name"].to_dict()

    def _period(self, period_id: str | None) -> str:
        return str(self.period_name.get(period_id, period_id))

    @staticmethod
    def _who(parts: list[tuple[str, float]], show) -> tuple[str, tuple[str, ...]]:
        """``"Must-fund A (500) and B (350)"`` (one mission: no figure); the ids."""
        ids = tuple(m for m, _ in parts)
        if len(parts) == 1:
            return f"Must-fund {ids[0]}", ids
        return "Must-fund " + wording.listing([f"{m} ({show(x)})" for m, x in parts], most=len(parts)), ids

    def _users(self, frame: pd.DataFrame, amount: str) -> tuple[list[tuple[str, float]], float]:
        """Must-fund users (mission, amount), largest first, and what other missions use."""
        must = frame[frame["must_fund"]].groupby("mission_id", sort=False)[amount].sum()
        must = must[must > 1e-9].sort_values(ascending=False, kind="stable")
        others = float(frame.loc[~frame["must_fund"], amount].sum())
        return [(str(m), float(x)) for m, x in must.items()], others

    def _others(self, frame: pd.DataFrame, amount: str, period_id: str, show) -> tuple[str, str]:
        """What the missions that are not must-fund use here, in the planner's words: those
        the rules of plans over time hold (SPEC 3.1: min_run, running now with continuity,
        a closure to pay) by name, the rest as kept running by policies or max_change; and
        the rules that hold them, in words ("" when none)."""
        rest = frame[~frame["must_fund"]]
        used = rest.groupby("mission_id", sort=False)[amount].sum()
        used = used[used > 1e-9].sort_values(ascending=False, kind="stable")
        held, reasons, other = [], [], 0.0
        for mission_id, value in used.items():
            reason = self._held_by_time(str(mission_id), period_id)
            if reason:
                held.append(f"{mission_id} ({show(float(value))})")
                reasons.append(reason)
            else:
                other += float(value)
        if len(held) == 1 and other <= 1e-6:
            held = [held[0].split(" (")[0]]  # one mission: no figure
        parts = held + (
            [f"missions kept running by policies or max_change ({show(other)})"] if other > 1e-6 else []
        )
        return wording.listing(parts), "; ".join(reasons)

    def _held_by_time(self, mission_id: str, period_id: str) -> str:
        """Why a mission runs (or pays) in a period under SPEC 3.1, or "" when no rule says so."""
        cells = self.plan.cells
        mine = cells[cells["mission_id"] == mission_id]
        if not len(mine) or not bool(mine["timeline"].iloc[0]):
            return ""
        periods = mine["period_id"].tolist()
        runs = (mine["coverage"].to_numpy(float) > 1e-9).tolist()
        if period_id not in periods:
            return ""
        at = periods.index(period_id)
        first = mine.iloc[0]
        before = [bool(first["running_now"]), *runs]
        money = self.currency
        if not runs[at] and before[at] and float(first["closure_cost"]) > 0:
            cost = formats.money(float(first["closure_cost"]), money)
            return f"{mission_id} stops in {self._period(period_id)} and pays its closure cost of {cost}"
        min_run = int(first["min_run"])
        for s in range(at, -1, -1):
            if runs[s] and not before[s]:
                if min_run > 1 and at < s + min_run:
                    return (
                        f"{mission_id} runs from {self._period(periods[s])} and must run {min_run} "
                        "periods (min_run)"
                    )
                break
            if not runs[s]:
                break
        if all(runs[: at + 1]) and bool(first["running_now"]):
            closure = float(first["closure_cost"])
            if bool(first["continuity"]) and closure > 0:
                cost = formats.money(closure, money)
                return (
                    f"{mission_id} is running now: stopping would cost its closure of {cost}, and once "
                    "stopped it may not restart (continuity)"
                )
            if bool(first["continuity"]):
                return f"{mission_id} is running now and, once stopped, may not restart (continuity)"
            if float(first["closure_cost"]) > 0:
                cost = formats.money(float(first["closure_cost"]), money)
                return f"{mission_id} is running now and stopping would cost its closure of {cost}"
        if bool(first["continuity"]) and runs[at] and any(runs[at + 1 :]) and not all(runs[:at]):
            return f"{mission_id} runs on to a later period and may not stop and restart (continuity)"
        return ""

    def capacity(self, slack: _Slack, shortfall: float) -> dict:
        resource_id, period_id = slack.key
        resources = self.portfolio.resources
        name, unit = str(resources.at[resource_id, "name"]), str(resources.at[resource_id, "unit"])
        whole = bool(resources.at[resource_id, "integer"]) and bool(self.levers.integer)
        capacity = self.scenario.capacity.set_index(["resource_id", "period_id"]).loc[
            (resource_id, period_id)
        ]
        usable, available = float(capacity["usable"]), float(capacity["available"])
        if whole:
            usable = math.floor(usable + 1e-9)
        needed = usable + shortfall
        needs = self.plan.needs
        users = needs[(needs["resource_id"] == resource_id) & (needs["period_id"] == period_id)]
        parts, others = self._users(users, "units")
        subject, ids = self._who(parts, formats.units)
        because = ""
        if others > 1e-6:
            extra, because = self._others(users, "units", period_id, formats.units)
            subject = f"{subject} and {extra}" if parts else extra[0].upper() + extra[1:]
        verb = "needs" if len(parts) + (others > 1e-6) == 1 and " (" not in subject else "need"
        qualifiers = []
        kind = str(resources.at[resource_id, "kind"])
        scale = self.levers.personnel_scale if kind == "personnel" else self.levers.equipment_scale
        if abs(scale - 1.0) > 1e-12:
            qualifiers.append(f"at {kind}_scale {scale:g}")
        reserve = float(capacity["reserve"])
        if reserve > 0 and available > 0:
            qualifiers.append(f"after the {formats.percent(reserve / available, 1)} reserve")
        have = (
            "none is"
            if usable <= 1e-9
            else f"{formats.units(usable)} {'is' if wording.is_one(usable) else 'are'}"
        )
        sentence = (
            f"{subject} {verb} {wording.count_of(needed, name, unit)} in {self._period(period_id)}; "
            f"{have} available{(' ' + ' '.join(qualifiers)) if qualifiers else ''} "
            f"(short {formats.units(shortfall)})"
        )
        if because:  # plans over time: the rules that hold them (SPEC 3.1)
            sentence += f": {because}"
        return self._row("capacity", resource_id, period_id, needed, usable, shortfall, unit, ids, sentence)

    def budget(self, slack: _Slack, shortfall_units: float) -> dict:
        source_id, period_id = slack.key
        shortfall = shortfall_units * self.model.money_unit
        amount = float(
            self.scenario.budget.set_index(["source_id", "period_id"]).loc[(source_id, period_id), "amount"]
        )
        needed = amount + shortfall
        flows = self.plan.flows
        drawn = flows[(flows["source_id"] == source_id) & (flows["period_id"] == period_id)]
        parts, others = self._users(drawn, "money")

        def money(amount: float) -> str:
            return formats.money(amount, self.currency)

        subject, ids = self._who(parts, money)
        because = ""
        if others > 1e-6:
            extra, because = self._others(drawn, "money", period_id, money)
            subject = f"{subject} and {extra}" if parts else extra[0].upper() + extra[1:]
        verb = "needs" if len(parts) + (others > 1e-6) == 1 and " (" not in subject else "need"
        eligible = self.model.flows.groupby(["mission_id", "period_id"]).size()
        shared = any(eligible.get((m, period_id), 1) > 1 for m in ids)
        source = str(self.portfolio.sources.at[source_id, "name"])
        scale = self.levers.budget_scale * float(self.levers.source_scale.get(source_id, 1.0))
        scaled = f" at a budget scale of {scale:g}" if abs(scale - 1.0) > 1e-12 else ""
        sentence = (
            f"{subject} {verb} {money(needed)} from {source} in {self._period(period_id)}"
            f"{' (the other funds they may use are spent)' if shared else ''}; "
            f"it holds {money(amount)}{scaled} (short {money(shortfall)})"
        )
        if because:  # plans over time: the rules that hold them (SPEC 3.1)
            sentence += f": {because}"
        return self._row(
            "budget", source_id, period_id, needed, amount, shortfall, self.currency, ids, sentence
        )

    def zone_cap(self, slack: _Slack, shortfall: float) -> dict:
        zone_id, period_id = slack.key
        cap = float(self.portfolio.zones["personnel_cap"].astype(float).to_dict()[zone_id])
        needs = self.plan.needs
        people = needs[
            (needs["zone_id"] == zone_id) & (needs["period_id"] == period_id) & (needs["kind"] == "personnel")
        ]
        parts, others = self._users(people, "units")
        subject, ids = self._who(parts, formats.units)
        because = ""
        if others > 1e-6:
            extra, because = self._others(people, "units", period_id, formats.units)
            subject = f"{subject} and {extra}" if parts else extra[0].upper() + extra[1:]
        verb = "needs" if len(parts) + (others > 1e-6) == 1 and " (" not in subject else "need"
        needed = cap + shortfall
        zone = str(self.portfolio.zones.at[zone_id, "name"])
        sentence = (
            f"{subject} {verb} {formats.units(needed)} personnel in {zone} in {self._period(period_id)}; "
            f"the zone's cap is {formats.units(cap)} (short {formats.units(shortfall)})"
        )
        if because:  # plans over time: the rules that hold them (SPEC 3.1)
            sentence += f": {because}"
        return self._row("zone_cap", zone_id, period_id, needed, cap, shortfall, "person", ids, sentence)

    def policy(self, slack: _Slack, amount: float) -> dict:
        index, period_id = slack.key
        policy = self.portfolio.policies.iloc[index]
        rule, share = str(policy["rule"]), float(policy["value"])
        scope = _scope_words(str(policy["scope_type"]), str(policy["scope_value"]), self.portfolio)
        cells = self.plan.cells
        scoped = in_scope(cells, str(policy["scope_type"]), str(policy["scope_value"]))
        ids = tuple(dict.fromkeys(cells.loc[scoped & cells["must_fund"], "mission_id"]))
        if rule == "min_average_coverage":
            chosen = scoped & (cells["period_id"] == period_id).to_numpy()
            reached = float(cells.loc[chosen, "coverage"].mean()) if chosen.any() else 0.0
            reached = min(reached, share)
            sentence = (
                f"Policy: the mean coverage of {scope} must be at least {formats.percent(share)} in "
                f"{self._period(period_id)}; the people, equipment and money available allow "
                f"{formats.percent(reached, 1)} (short {formats.points(share - reached)})"
            )
            return self._row(
                "policy", str(index), period_id, share, reached, share - reached, "share", ids, sentence
            )
        flows = self.plan.flows
        scope_of_flow = scoped[flows["cell"].to_numpy(np.int64)] if len(flows) else np.zeros(0, dtype=bool)
        total = float(flows["money"].sum())
        spent = float(flows.loc[scope_of_flow, "money"].sum())
        reached = spent / total if total > 0 else 0.0
        if rule == "min_budget_share":
            reached = min(reached, share)
            sentence = (
                f"Policy: at least {formats.percent(share, 1)} of spending must go to {scope}; with the "
                "must-fund commitments and what those missions can use, at most "
                f"{formats.percent(reached, 1)} can (short {formats.points(share - reached)})"
            )
        else:
            reached = max(reached, share)
            sentence = (
                f"Policy: at most {formats.percent(share, 1)} of spending may go to {scope}; the must-fund "
                f"commitments put at least {formats.percent(reached, 1)} there "
                f"(over by {formats.points(reached - share)})"
            )
        return self._row(
            "policy", str(index), None, share, reached, abs(reached - share), "share", ids, sentence
        )

    def change_limit(self, slack: _Slack, amount: float) -> dict:
        mission_id, period_id = slack.key
        baseline = self.portfolio.baseline.set_index(["mission_id", "period_id"])["coverage"]
        today = float(baseline[(mission_id, period_id)])
        limit = float(self.levers.max_change or 0.0)
        if slack.side == "down":  # coverage >= today - limit, stretched down to what is possible
            cause = "the people, equipment and money available allow only"
            needed, available = today - limit, today - limit - amount
            reached = available
        else:  # coverage <= today + limit, stretched up to what floors or policies need
            cause = "its must-fund floor or the policies need"
            needed, available = today + limit + amount, today + limit
            reached = needed
        sentence = (
            f"max_change: {mission_id} may move at most {formats.points(limit)} from today's "
            f"{formats.percent(today, 1)} in {self._period(period_id)}, but {cause} "
            f"{formats.percent(reached, 1)} (a move of {formats.points(reached - today)}, "
            f"{formats.points(amount)} more than allowed)"
        )
        return self._row(
            "change_limit",
            mission_id,
            period_id,
            needed,
            available,
            amount,
            "coverage",
            (mission_id,),
            sentence,
        )

    def no_funding(self, slack: _Slack, amount_units: float) -> dict:
        mission_id, period_id = slack.key
        amount = amount_units * self.model.money_unit
        cells = self.model.cells
        cell = cells[(cells["mission_id"] == mission_id) & (cells["period_id"] == period_id)].iloc[0]
        floor = formats.percent(float(cell["min_coverage"]), 1)
        where = f"type {cell['type']}, zone {cell['zone_id']}, region {cell['region']}"
        sentence = (
            f"Must-fund {mission_id} costs {formats.money(amount, self.currency)} in "
            f"{self._period(period_id)} at its {floor} floor, but no funding source may pay for it "
            f"({where}; see the Funding sheet's eligible_types, eligible_zones and eligible_regions)"
        )
        return self._row(
            "no_funding", mission_id, period_id, amount, 0.0, amount, self.currency, (mission_id,), sentence
        )

    @staticmethod
    def _row(kind, id_, period_id, needed, available, shortfall, unit, missions, sentence) -> dict:
        return {
            "kind": kind,
            "id": id_,
            "period_id": period_id,
            "needed": float(needed),
            "available": float(available),
            "shortfall": float(shortfall),
            "unit": unit,
            "missions": tuple(missions),
            "sentence": sentence,
        }


def _merged_sentences(relaxations: pd.DataFrame, portfolio: Portfolio) -> tuple[str, ...]:
    """Sentences, one per clash: rows equal but for their period share one sentence."""
    names = {str(k): str(v) for k, v in portfolio.periods["name"].items()}
    groups: dict[tuple, list[tuple[str, str, str]]] = {}
    for row in _records(relaxations):
        sentence, period_id = str(row["sentence"]), row["period_id"]
        if period_id is None:
            groups.setdefault((sentence,), []).append(("", "", sentence))
            continue
        period = names.get(str(period_id), str(period_id))
        template = sentence.replace(f" in {period}", " in \x00", 1)
        key = (
            row["kind"],
            row["id"],
            row["needed"],
            row["available"],
            row["shortfall"],
            row["missions"],
            template,
        )
        groups.setdefault(key, []).append((str(period_id), period, sentence))
    sentences: list[str] = []
    order = {p: i for i, p in enumerate(portfolio.period_ids)}
    for key, members in groups.items():
        template = str(key[-1])
        if len(members) == 1 or "\x00" not in template:
            sentences.extend(sentence for _, _, sentence in members)
            continue
        members.sort(key=lambda m: order.get(m[0], 0))
        if len(members) == len(order):
            when = "every period"
        else:
            when = wording.listing([name for _, name, _ in members], most=len(members))
        sentences.append(template.replace("\x00", when, 1))
    return tuple(sentences)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _scope_words(scope_type: str, scope_value: str, portfolio: Portfolio) -> str:
    if scope_type == "priority":
        return f"priority-{scope_value} missions"
    if scope_type == "zone":
        name = portfolio.zones["name"].get(scope_value, scope_value)
        return f"missions in {name}"
    if scope_type == "region":
        return f"missions in the region {scope_value}"
    return f"{scope_value.replace('_', ' ')} missions"


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RELAXATION_COLUMNS})


# -- the relaxed scenario ----------------------------------------------------------------


def _relax(scenario: Scenario, relaxations: pd.DataFrame) -> Scenario:
    """Grant every relaxation: the elastic plan is then a plan of the relaxed scenario."""
    portfolio = scenario.portfolio
    capacity = scenario.capacity.copy()
    budget = scenario.budget.copy()
    zones = portfolio.zones.copy()
    policies = portfolio.policies.copy()
    baseline = portfolio.baseline.copy()
    sources, funding = portfolio.sources, portfolio.funding
    usable, available = (
        capacity["usable"].to_numpy(float).copy(),
        capacity["available"].to_numpy(float).copy(),
    )
    amounts = budget["amount"].to_numpy(float).copy()
    caps = zones["personnel_cap"].astype(float).to_dict()
    shares = policies["value"].astype(float).tolist()
    today = baseline["coverage"].to_numpy(float).copy()
    extra_sources: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}
    extra_funding: dict[tuple[str, str], float] = {}
    for row in _records(relaxations):
        kind, item, period = str(row["kind"]), str(row["id"]), row["period_id"]
        shortfall, needed = float(row["shortfall"]), float(row["needed"])
        if kind == "capacity":
            at = ((capacity["resource_id"] == item) & (capacity["period_id"] == period)).to_numpy()
            usable[at] += shortfall
            available[at] += shortfall
        elif kind == "budget":
            at = ((budget["source_id"] == item) & (budget["period_id"] == period)).to_numpy()
            amounts[at] += _outward(shortfall)
        elif kind == "zone_cap":
            caps[item] = float(caps[item]) + shortfall
        elif kind == "policy":  # the share reached in the elastic plan, a hair looser
            index = int(item)
            rule = str(policies["rule"].iloc[index])
            if rule == "max_budget_share":
                shares[index] = min(max(shares[index], float(row["available"]) + 1e-6), 1.0)
            else:
                shares[index] = max(min(shares[index], float(row["available"]) - 1e-6), 0.0)
        elif kind == "change_limit":  # move today's coverage by the stretch
            at = ((baseline["mission_id"] == item) & (baseline["period_id"] == period)).to_numpy()
            now = float(today[at][0])
            down = needed <= now + 1e-12  # the row was coverage >= today - max_change
            today[at] = min(max(now + (-1.0 if down else 1.0) * (shortfall + 1e-9), 0.0), 1.0)
        elif kind == "no_funding":  # a source of its own, from outside the portfolio
            source_id = f"EXTRA-{item}"
            mission_type = str(portfolio.missions["type"].get(item, ""))
            zone = str(portfolio.missions["zone_id"].get(item, ""))
            name = f"Money from outside the portfolio for {item}"
            extra_sources[source_id] = (name, (mission_type,), (zone,), ())
            key = (source_id, str(period))
            extra_funding[key] = extra_funding.get(key, 0.0) + _outward(shortfall)
    capacity = capacity.assign(usable=usable, available=available)
    budget = budget.assign(amount=amounts)
    zones = zones.assign(personnel_cap=zones.index.map(caps).astype(float))
    policies = policies.assign(value=shares) if len(policies) else policies
    baseline = baseline.assign(coverage=today) if len(baseline) else baseline
    if extra_sources:
        added = pd.DataFrame(
            list(extra_sources.values()),
            columns=["name", "eligible_types", "eligible_zones", "eligible_regions"],
            index=pd.Index(list(extra_sources), name=sources.index.name),
        )
        sources = pd.concat([sources, added])
        rows = [
            (source_id, period, extra_funding.get((source_id, period), 0.0))
            for source_id in extra_sources
            for period in portfolio.period_ids
        ]
        more = pd.DataFrame(rows, columns=["source_id", "period_id", "amount"])
        funding = pd.concat([funding, more], ignore_index=True)
        budget = pd.concat([budget, more], ignore_index=True)
    relaxed = dataclasses.replace(
        portfolio, zones=zones, policies=policies, baseline=baseline, sources=sources, funding=funding
    )
    return dataclasses.replace(scenario, portfolio=relaxed, capacity=capacity, budget=budget)


def _outward(money: float) -> float:
    """Money granted: the shortfall rounded up to a whole unit of currency."""
    return float(math.ceil(money * (1 + 1e-9) + 1e-6))
