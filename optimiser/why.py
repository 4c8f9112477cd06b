"""Why is this mission short? (SPEC 4.1), in the planner's words and with numbers.

:func:`why` answers, for one mission below its max_coverage in some period:

- ``lacks``: what it lacks and in which periods, measured up to its max_coverage;
- ``held_back_by``: the limits its requirements meet there (a resource used up, a fund
  spent, a zone cap, an on/off minimum, a policy, max_change), each with what one more
  unit of it is worth (the plan's shadow prices: the continuous model with the on/off
  decisions fixed, SPEC 3); and the rules of plans over time (SPEC 3.1: continuity,
  running_now, min_run, start-up and closure costs, max_step, the 1% running floor),
  read from its running pattern and confirmed by one solve with the rule lifted for it
  alone (:func:`_lift_rules`), with the value that lifting adds;
- ``competitors``: the missions using that resource or money there, with their value
  per unit of it against this mission's;
- ``value_given_up`` and ``losers``: the plan made again with this mission at its
  max_coverage in every period (``must_fund`` and ``min_coverage`` levers): the value
  given up and the missions that lose coverage;
- ``weight_needed`` and ``priority_needed``: how far its weight would have to rise (or
  to which priority it would have to move) for it to be fully covered, found by solving
  again (see :func:`weight_search`), with the precision stated.

For a plan in whole units the last four come from solving again, never from the
continuous model alone. The module sits above solving and uses only public functions
(:func:`optimiser.solve.solve`, :func:`optimiser.scenario.apply_levers`, the plan's
tables).
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

from optimiser import formats, wording
from optimiser.coverage import FULLY, coverage_class
from optimiser.diagnose import explain_infeasible
from optimiser.levers import Levers, PriorityMode
from optimiser.model import HALF, MissionModel, build_model, in_scope, value_of_coverage
from optimiser.plan import Plan
from optimiser.portfolio import Portfolio
from optimiser.prices import money_step, texts_of, typical_amount
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.runs import RUN_TOLERANCE
from optimiser.scenario import Scenario, apply_levers
from optimiser.solve import solve

log = logging.getLogger(__name__)

PRECISION = 0.01  # the weight needed is found within 1% (relative)
COVERED = 1e-6  # coverage within this of max_coverage counts as reached
MAX_ROUNDS = 8  # weight search: re-solves at most
TOP_COMPETITORS = 6  # missions named per limit
TEXT_COMPETITORS = 3  # ... of which the terminal shows


@dataclass(frozen=True)
class Why:
    """The answer to "why is this mission short?" (SPEC 4.1).

    Attributes
    ----------
    mission_id, name, priority, weight : the mission as planned (levers applied).
    covered : "fully", "partly" or "not" (against max_coverage, SPEC 5).
    coverage : period -> coverage in the plan.
    max_coverage : its ceiling.
    lacks : one dict per short period: ``period_id``, ``coverage``, ``max_coverage``,
        ``missing`` (list of ``resource_id``, ``name``, ``unit``, ``needed`` at
        max_coverage, ``allocated``, ``shortfall``), ``shortfall_cost`` (money).
    held_back_by : one dict per limit met: ``kind`` ("resource", "budget", "zone_cap",
        "on_off", "policy", "max_change", "whole_units", and the rules of plans over time,
        SPEC 3.1: "continuity", "running_now", "min_run", "startup_cost",
        "closure_cost", "max_step", "running_floor"; "search_gap": in whole units, what it
        lacks is left over and the search stopped within its accepted gap), ``id``, ``period_id``,
        ``limit``, ``used``, ``unit``, ``value_per_unit`` (what one more unit is worth,
        NaN when no price applies), ``this_value_per_unit`` (what this mission would make
        of one more unit), ``value_if_lifted`` and ``coverage_if_lifted`` (a rule of plans
        over time solved again lifted for this mission alone: the value that adds and its
        coverage in that period then; NaN otherwise), ``sentence``.
    competitors : one dict per (limit, mission) using it: ``limit`` ("resource:R",
        "budget:S", "zone_cap:Z"), ``limit_name``, ``period_id``, ``mission_id``, ``name``,
        ``priority``, ``must_fund``, ``uses`` (units or money), ``unit``,
        ``value_per_unit``, ``this_value_per_unit``.
    value_given_up : value lost by planning again with this mission at max_coverage in
        every active period (None: no such plan); ``value_given_up_range`` its bounds
        from the searches' gaps.
    losers : missions losing value in that plan: ``mission_id``, ``name``,
        ``priority``, ``coverage_before``, ``coverage_after`` (mean over periods),
        ``value_lost``.
    weight_needed : the weight at which it is fully covered (found by re-solving;
        fully covered at this weight, not below ``weight_needed_low``); None when no
        weight is enough. ``precision``: relative width of that bracket.
    priority_needed : the lowest-numbered move up (nearest tier) at which it is fully
        covered with its weight unchanged; None when no tier is enough.
    notes : further sentences (no plan, infeasible forcing, ...).
    seconds : time taken.
    """

    mission_id: str
    name: str
    priority: int
    weight: float
    covered: str
    coverage: dict[str, float]
    max_coverage: float
    lacks: list[dict[str, Any]] = field(default_factory=list)
    held_back_by: list[dict[str, Any]] = field(default_factory=list)
    competitors: list[dict[str, Any]] = field(default_factory=list)
    value_given_up: float | None = None
    value_given_up_range: tuple[float, float] | None = None
    losers: list[dict[str, Any]] = field(default_factory=list)
    weight_needed: float | None = None
    weight_needed_low: float | None = None
    precision: float = PRECISION
    priority_needed: int | None = None
    notes: list[str] = field(default_factory=list)
    currency: str = "USD"
    money_step: float = 1e6  # the round sum money is spoken of per
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready fields (NaN as None)."""
        return _clean(dataclasses.asdict(self))

    def __repr__(self) -> str:
        return (
            f"Why({self.mission_id}: {self.covered} covered, {len(self.lacks)} short period(s), "
            f"{len(self.held_back_by)} limit(s), value given up {self.value_given_up}, "
            f"weight needed {self.weight_needed})"
        )


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# -- the answer -------------------------------------------------------------------------------


def why(
    portfolio: Portfolio,
    mission_id: str,
    levers: Levers | None = None,
    *,
    plan: Plan | None = None,
    search: bool = True,
) -> Why:
    """Why is ``mission_id`` short in the plan of these levers? (SPEC 4.1)

    Parameters
    ----------
    portfolio : the validated portfolio.
    mission_id : a Missions.mission_id.
    levers : the scenario (``None``: the workbook's Settings).
    plan : the plan of this scenario if already solved (saves one solve).
    search : False: only what the plan's tables say (lacks, limits, competitors), no
        re-solves (the report's Unmet column).

    Raises
    ------
    InvalidInput
        when the mission is not in the portfolio.
    """
    started = time.perf_counter()
    levers = portfolio.levers if levers is None else levers
    if mission_id not in portfolio.missions.index:
        known = wording.listing([str(m) for m in portfolio.missions.index], most=8)
        raise InvalidInput(
            [
                Problem(
                    Severity.ERROR,
                    "why",
                    f"'{mission_id}' is not a mission; known: {known}",
                    value=mission_id,
                )
            ]
        )
    scenario = apply_levers(portfolio, levers)
    if plan is None:
        plan = solve(scenario)
    mission = scenario.portfolio.missions.loc[mission_id]
    base: dict[str, Any] = dict(
        mission_id=str(mission_id),
        name=str(mission["name"]),
        priority=int(mission["priority"]),
        weight=float(mission["weight"]),
        max_coverage=float(mission["max_coverage"]),
        currency=levers.currency,
    )
    if not plan.has_plan:
        notes = [
            "No plan keeps every commitment, so no mission's coverage can be explained yet.",
            *explain_infeasible(plan, scenario).diagnosis,
        ]
        return Why(**base, covered="not", coverage={}, notes=notes, seconds=time.perf_counter() - started)
    rows = plan.missions[plan.missions["mission_id"] == mission_id]
    coverage = {str(p): float(c) for p, c in zip(rows["period_id"], rows["coverage"], strict=True)}
    max_cov = float(mission["max_coverage"])
    covered = coverage_class(coverage.values(), max_cov)  # SPEC 5's one definition
    if not coverage:
        return Why(
            **base,
            covered="not",
            coverage={},
            notes=["It has no active period."],
            seconds=time.perf_counter() - started,
        )
    if covered == FULLY or max_cov <= 0:
        note = (
            "It is cancelled (coverage 0 in every period)."
            if max_cov <= 0
            else f"It is fully covered: {formats.percent(max_cov)} (its max_coverage) in every period."
        )
        return Why(
            **base, covered=covered, coverage=coverage, notes=[note], seconds=time.perf_counter() - started
        )

    reading = _Reading(scenario, plan, mission_id)
    answer = Why(
        **base,
        covered=covered,
        coverage=coverage,
        money_step=reading.step,
        lacks=reading.lacks(),
        held_back_by=reading.limits(),
        competitors=reading.competitors(),
    )
    answer = dataclasses.replace(answer, notes=[*answer.notes, *reading.gap_note(answer.competitors)])
    if search:
        answer = _resolve(answer, portfolio, levers, plan, scenario)
    return dataclasses.replace(answer, seconds=time.perf_counter() - started)


def is_fully_covered(plan: Plan, mission_id: str, max_coverage: float) -> bool:
    """Whether a plan covers the mission at its max_coverage in every active period."""
    if not plan.has_plan:
        return False
    rows = plan.missions[plan.missions["mission_id"] == mission_id]
    return bool(len(rows)) and bool((rows["coverage"].astype(float) >= max_coverage - COVERED).all())


def _slope_up(c: float, diminishing: bool) -> float:
    """Value per unit of coverage gained above c (g's right derivative)."""
    if not diminishing:
        return 1.0
    return 4.0 / 3.0 if c < HALF - 1e-9 else 2.0 / 3.0


def _slope_down(c: float, diminishing: bool) -> float:
    """Value per unit of coverage given up below c (g's left derivative)."""
    if not diminishing:
        return 1.0
    return 4.0 / 3.0 if c <= HALF + 1e-9 else 2.0 / 3.0


def _binding(
    kind: str,
    id: str,
    period_id: str,
    sentence: str,
    *,
    limit: float = math.nan,
    used: float = math.nan,
    unit: str = "",
    value_per_unit: float = math.nan,
    this_value_per_unit: float = math.nan,
) -> dict[str, Any]:
    """One row of what binds a mission (SPEC 4.1): the limit (``kind``, ``id``) in a
    period, how much of it there is and is used, in what unit, what one more is worth to
    the plan and to this mission (NaN: not priced), and the sentence a planner reads."""
    return dict(
        kind=kind,
        id=id,
        period_id=period_id,
        limit=limit,
        used=used,
        unit=unit,
        value_per_unit=value_per_unit,
        this_value_per_unit=this_value_per_unit,
        sentence=sentence,
    )


class _Context:
    """What every mission's reading of one plan shares, indexed once: the model's cells,
    needs and eligibility (built, never solved), the plan's coverage and limits."""

    def __init__(self, scenario: Scenario, plan: Plan, model: MissionModel | None = None):
        self.scenario, self.plan = scenario, plan
        self.model = model if model is not None else build_model(scenario, name="why")
        cells = self.model.cells
        keys = list(zip(cells["mission_id"].astype(str), cells["period_id"].astype(str), strict=True))
        self.worth = dict(zip(keys, cells["worth"].astype(float), strict=True))
        self.running_cost = dict(zip(keys, cells["running_cost"].astype(float), strict=True))
        needs = self.model.needs
        # rows of model.needs per (mission, period), taken when a mission is read
        self.need_rows = {
            (str(m), str(p)): rows
            for (m, p), rows in needs.groupby(["mission_id", "period_id"], sort=False).indices.items()
        }
        cost = (
            (needs["quantity"] * needs["unit_cost"]).groupby([needs["mission_id"], needs["period_id"]]).sum()
        )
        self.cost_per_coverage = {k: self.running_cost[k] + float(cost.get(k, 0.0)) for k in keys}
        flows = self.model.flows
        self.eligible: dict[tuple[str, str], list[str]] = {}
        for s, m, p in zip(flows["source_id"], flows["mission_id"], flows["period_id"], strict=True):
            self.eligible.setdefault((str(m), str(p)), []).append(str(s))
        missions = plan.missions
        self.coverage = {
            (str(m), str(p)): float(c)
            for m, p, c in zip(
                missions["mission_id"], missions["period_id"], missions["coverage"], strict=True
            )
        }

        def by_key(frame: pd.DataFrame, keys: list[str], values: list[str]) -> dict:
            columns = [frame[c].astype(str) for c in keys] + [frame[c].astype(float) for c in values]
            return {
                (row[0], row[1]): dict(zip(values, row[2:], strict=True))
                for row in zip(*columns, strict=True)
            }

        self.resources = by_key(
            plan.resources, ["resource_id", "period_id"], ["usable", "used", "shadow_price"]
        )
        self.zones = by_key(plan.zones, ["zone_id", "period_id"], ["cap", "personnel", "shadow_price"])
        self.budgets = by_key(plan.budgets, ["source_id", "period_id"], ["amount", "used", "shadow_price"])
        whole = scenario.portfolio.resources["integer"].astype(bool)
        self.integer = {str(k): bool(v) and bool(scenario.levers.integer) for k, v in whole.items()}
        self.policies = self._policies(scenario, plan)
        self.step = money_step(typical_amount(plan.budgets))
        portfolio = scenario.portfolio
        self.period_name = {str(k): str(v) for k, v in portfolio.periods["name"].items()}
        self.resource_name = texts_of(portfolio.resources, "name")
        self.resource_unit = texts_of(portfolio.resources, "unit")
        self.source_name = texts_of(portfolio.sources, "name")
        self.mission_name = texts_of(portfolio.missions, "name")
        # the rules of plans over time per mission, its active periods in order (SPEC 3.1)
        self.rules = {str(m): frame for m, frame in cells.groupby("mission_id", sort=False)}

    def _policies(self, scenario: Scenario, plan: Plan) -> list[tuple[str, str, str, float, float, set[str]]]:
        """Each budget-share policy that binds: (rule, scope_type, scope_value, share,
        spending share, missions in scope)."""
        policies = scenario.portfolio.policies
        if not len(policies):
            return []
        missions = plan.missions
        cells = (
            self.model.cells.set_index(["mission_id", "period_id"])
            .reindex(pd.MultiIndex.from_frame(missions[["mission_id", "period_id"]]))
            .reset_index()
        )
        total = float(missions["cost"].sum())
        tol = max(1e-6 * total, 1.0)
        binding = []
        for rule, scope_type, scope_value, share in policies[
            ["rule", "scope_type", "scope_value", "value"]
        ].itertuples(index=False, name=None):
            if rule not in ("max_budget_share", "min_budget_share"):
                continue
            scoped = in_scope(cells, str(scope_type), str(scope_value))
            spend = float(missions["cost"].to_numpy(float)[scoped].sum())
            share = float(share)
            at_max = rule == "max_budget_share" and spend >= share * total - tol
            at_min = rule == "min_budget_share" and spend <= share * total + tol
            if at_max or at_min:
                inside = {str(m) for m in cells["mission_id"][scoped]}
                binding.append(
                    (
                        rule,
                        str(scope_type),
                        str(scope_value),
                        share,
                        spend / total if total > 0 else 0.0,
                        inside,
                    )
                )
        return binding


class _Reading:
    """What the plan's tables say about one mission: its lacks, the limits it meets and
    who else uses them."""

    def __init__(self, scenario: Scenario, plan: Plan, mission_id: str, context: _Context | None = None):
        self.scenario, self.plan, self.mission_id = scenario, plan, mission_id
        self.context = context = context if context is not None else _Context(scenario, plan)
        self.portfolio = scenario.portfolio
        self.levers = scenario.levers
        self.model = context.model
        self.mission = self.portfolio.missions.loc[mission_id]
        self.max_cov = float(self.mission["max_coverage"])
        self.diminishing = bool(self.levers.diminishing_returns)
        self.coverage = context.coverage
        order = {p: i for i, p in enumerate(self.portfolio.period_ids)}
        self.short = sorted(
            (p for (m, p), c in context.coverage.items() if m == mission_id and c < self.max_cov - COVERED),
            key=lambda p: order.get(p, 0),
        )
        self.step = context.step
        self.currency = self.levers.currency
        self.period_name = context.period_name
        self.resource_name = context.resource_name
        self.resource_unit = context.resource_unit
        self.source_name = context.source_name
        self.mission_name = context.mission_name
        self.found: list[dict[str, Any]] = []

    def needs_of(self, period: str) -> pd.DataFrame:
        """This mission's requirements in a period (model.needs rows)."""
        empty = self.model.needs.iloc[0:0]
        rows = self.context.need_rows.get((self.mission_id, period))
        return empty if rows is None else self.model.needs.take(rows)

    # -- per-unit worth ------------------------------------------------------------------

    def worth(self, mission_id: str, period_id: str) -> float:
        return float(self.context.worth.get((mission_id, period_id), 0.0))

    def cov(self, mission_id: str, period_id: str) -> float:
        return float(self.coverage.get((mission_id, period_id), 0.0))

    def full_cost(self, mission_id: str, period_id: str) -> float:
        """Money per unit of coverage: its units at full coverage plus running cost."""
        return float(self.context.cost_per_coverage.get((mission_id, period_id), 0.0))

    def per_unit(self, mission_id: str, period_id: str, per: float, giving: bool) -> float:
        """Value one unit of something makes in a mission that needs ``per`` of it per
        unit of coverage (gaining: this mission; giving: a competitor giving way)."""
        if per <= 0:
            return math.nan
        c = self.cov(mission_id, period_id)
        slope = _slope_down(c, self.diminishing) if giving else _slope_up(c, self.diminishing)
        return self.worth(mission_id, period_id) * slope / per

    def name_of(self, mission_id: str) -> str:
        name = self.mission_name.get(mission_id, mission_id)
        return mission_id if name == mission_id else f"{mission_id} ({name})"

    # -- lacks ---------------------------------------------------------------------------

    def lacks(self) -> list[dict[str, Any]]:
        allocation = self.plan.allocation
        mine = allocation[allocation["mission_id"] == self.mission_id]
        integer = self.portfolio.resources["integer"].astype(bool) & bool(self.levers.integer)
        out = []
        for period in self.short:
            rows = mine[mine["period_id"] == period]
            missing, cost = [], 0.0
            for r in rows.itertuples(index=False):
                needed = float(r.needed) * self.max_cov
                if integer.get(r.resource_id, False):
                    needed = math.ceil(needed - 1e-6)
                short = needed - float(r.units)
                if short > 1e-6:
                    missing.append(
                        dict(
                            resource_id=str(r.resource_id),
                            name=self.resource_name[str(r.resource_id)],
                            unit=self.resource_unit[str(r.resource_id)],
                            needed=needed,
                            allocated=float(r.units),
                            shortfall=short,
                        )
                    )
                    cost += short * float(r.unit_cost)
            c = self.cov(self.mission_id, period)
            cost += self.context.running_cost.get((self.mission_id, period), 0.0) * (self.max_cov - c)
            out.append(
                dict(
                    period_id=period,
                    coverage=c,
                    max_coverage=self.max_cov,
                    missing=missing,
                    shortfall_cost=cost,
                )
            )
        return out

    # -- limits --------------------------------------------------------------------------

    def limits(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for period in self.short:
            before = len(found)
            found += self._resources(period)
            found += self._zone(period)
            found += self._funds(period)
            found += self._on_off(period)
            found += self._max_change(period)
            found += self._over_time(period)
            if not any(f["kind"] in RULE_KINDS for f in found[before:]):
                found += self._search_gap(period)
            if len(found) == before and bool(self.levers.integer):
                found.append(self._whole_units(period))
        found += self._policies()
        for limit in found:  # what lifting a rule of plans over time adds: see _lift_rules
            limit.setdefault("value_if_lifted", math.nan)
            limit.setdefault("coverage_if_lifted", math.nan)
        self.found = found
        return found

    def _where(self, period: str) -> str:
        return self.period_name.get(period, period)

    def _resources(self, period: str) -> list[dict[str, Any]]:
        table = self.context.resources
        rows = self.needs_of(period)
        rows = rows[rows["quantity"] > 0]
        out = []
        for resource_id, q in zip(rows["resource_id"], rows["quantity"], strict=True):
            r = table.get((str(resource_id), period))
            if r is None:
                continue
            usable, used, price = r["usable"], r["used"], r["shadow_price"]
            if not math.isfinite(usable):
                continue
            whole = self.context.integer.get(str(resource_id), False)
            room = math.floor(usable + 1e-6) if whole else usable
            if not (price > 1e-9 or used >= room - (0.5 if whole else 1e-6)):
                continue
            name, unit = self.resource_name[resource_id], self.resource_unit[resource_id]
            mine = self.per_unit(self.mission_id, period, float(q), giving=False)
            state = "are used up" if used >= room - (0.5 if whole else 1e-6) else "are not all in use"
            sentence = (
                f"{name} in {self._where(period)} {state} ({formats.units(used)} of "
                f"{formats.units(usable)} usable after the reserve): one more "
                f"{wording.singular(name, unit)} "
                f"is worth {formats.per_unit(price)} value to the plan; to this mission "
                f"{formats.per_unit(mine)}"
            )
            out.append(
                _binding(
                    "resource",
                    str(resource_id),
                    period,
                    sentence,
                    limit=usable,
                    used=used,
                    unit=unit,
                    value_per_unit=price,
                    this_value_per_unit=mine,
                )
            )
        return out

    def _zone(self, period: str) -> list[dict[str, Any]]:
        zone = str(self.mission["zone_id"])
        zones = self.context.zones
        z = zones.get((zone, period))
        if z is None:
            return []
        cap, people, price = z["cap"], z["personnel"], z["shadow_price"]
        rows = self.needs_of(period)
        rows = rows[rows["kind"] == "personnel"]
        per = float(rows["quantity"].sum())
        if not math.isfinite(cap) or per <= 0 or not (price > 1e-9 or people >= cap - 1e-6):
            return []
        mine = self.per_unit(self.mission_id, period, per, giving=False)
        zone_name = str(self.portfolio.zones.at[zone, "name"])
        sentence = (
            f"The personnel cap of {zone_name} in {self._where(period)} is reached ({formats.units(people)} "
            f"of {formats.units(cap)} people): one more person allowed is worth "
            f"{formats.per_unit(price)} value; "
            f"to this mission {formats.per_unit(mine)}"
        )
        return [
            _binding(
                "zone_cap",
                zone,
                period,
                sentence,
                limit=cap,
                used=people,
                unit="person",
                value_per_unit=price,
                this_value_per_unit=mine,
            )
        ]

    def _eligible(self, period: str) -> list[str]:
        return list(dict.fromkeys(self.context.eligible.get((self.mission_id, period), [])))

    def _funds(self, period: str) -> list[dict[str, Any]]:
        eligible = self._eligible(period)
        cost = self.full_cost(self.mission_id, period)
        if cost <= 0:
            return []
        if not eligible:
            return [
                _binding(
                    "budget",
                    "",
                    period,
                    f"No funding source may pay for it in {self._where(period)} "
                    "(check the sources' eligible types, zones and regions)",
                    limit=0.0,
                    used=0.0,
                    unit=self.currency,
                )
            ]
        budgets = self.context.budgets
        spent = []
        for source in eligible:
            b = budgets.get((source, period))
            if b is None:
                return []
            amount, used = float(b["amount"]), float(b["used"])
            if used < amount - max(1e-6 * amount, 1.0) and float(b["shadow_price"]) <= 1e-12:
                return []  # money is left in a source it may draw on: money is not the limit
            spent.append((source, amount, used, float(b["shadow_price"])))
        step = self.step
        mine = self.per_unit(self.mission_id, period, cost, giving=False)
        out = []
        for source, amount, used, price in spent:
            per = f"{self.currency} {formats.money_step(step)}"
            state = "binds" if used >= amount - max(1e-6 * amount, 1.0) else "is not all spent"
            sentence = (
                f"{self.source_name[source]} in {self._where(period)} {state} "
                f"({formats.money(used, self.currency)} of {formats.money(amount, self.currency)} spent): "
                f"{per} more is worth {formats.per_unit(price * step)} "
                f"value to the plan; to this mission {formats.per_unit(mine * step)}"
            )
            if amount <= 0:
                sentence = (
                    f"{self.source_name[source]} has no money in {self._where(period)}: "
                    f"{per} there would be worth {formats.per_unit(mine * step)} value to this mission"
                )
            out.append(
                _binding(
                    "budget",
                    source,
                    period,
                    sentence,
                    limit=amount,
                    used=used,
                    unit=self.currency,
                    value_per_unit=price,
                    this_value_per_unit=mine,
                )
            )
        return out

    def _on_off(self, period: str) -> list[dict[str, Any]]:
        low = float(self.mission["min_coverage"])
        if bool(self.mission["must_fund"]) or low <= 0 or self.cov(self.mission_id, period) > COVERED:
            return []
        rows = self.needs_of(period)
        rows = rows[rows["quantity"] > 0]
        takes = [
            wording.count_of(math.ceil(q * low - 1e-6), self.resource_name[r], self.resource_unit[r])
            for r, q in zip(rows["resource_id"], rows["quantity"], strict=True)
        ]
        cost = self.full_cost(self.mission_id, period) * low
        sentence = (
            f"Its on/off minimum: in {self._where(period)} it runs at {formats.percent(low)} or not at all, "
            f"and {formats.percent(low)} takes {wording.listing(takes)} "
            f"({formats.money(cost, self.currency)})"
        )
        return [
            _binding(
                "on_off",
                self.mission_id,
                period,
                sentence,
                limit=low,
                used=0.0,
                unit="coverage",
            )
        ]

    def _max_change(self, period: str) -> list[dict[str, Any]]:
        limit = self.levers.max_change
        baseline = getattr(self.portfolio, "baseline", None)
        if limit is None or baseline is None or not len(baseline):
            return []
        rows = baseline[(baseline["mission_id"] == self.mission_id) & (baseline["period_id"] == period)]
        if not len(rows):
            return []
        today = float(rows["coverage"].iloc[0])
        c = self.cov(self.mission_id, period)
        if c < today + float(limit) - 1e-6:
            return []
        sentence = (
            f"max_change: in {self._where(period)} its coverage may move at most "
            f"{formats.percent(limit)} from "
            f"today's {formats.percent(today)} (Baseline sheet)"
        )
        return [
            _binding(
                "max_change",
                self.mission_id,
                period,
                sentence,
                limit=today + float(limit),
                used=c,
                unit="coverage",
            )
        ]

    # -- plans over time (SPEC 3.1) ------------------------------------------------------

    def _over_time(self, period: str) -> list[dict[str, Any]]:
        """The rules of plans over time that hold it in this period, read from its running
        pattern: continuity (stopped earlier, may not restart; ``running_now`` when the
        stop was of a run going today), min_run (a start commits it), startup_cost and
        closure_cost (money in the period they fall), max_step (its build-up or wind-down)
        and the running floor (what is left would cover less than a running mission must)."""
        rules = self.context.rules.get(self.mission_id)
        if rules is None or not bool(rules["timeline"].iloc[0]):
            return []
        periods = [str(p) for p in rules["period_id"]]
        if period not in periods:
            return []
        i = periods.index(period)
        row = rules.iloc[i]
        cov = [self.cov(self.mission_id, p) for p in periods]
        history = [bool(row["running_now"])] + [c > RUN_TOLERANCE for c in cov]  # [today, p1, ...]
        runs, before = history[i + 1], history[i]
        ran = [j for j in range(i + 1) if history[j]]  # history index j: it ran in the period before j
        stop = ran[-1] if ran else -1  # the period it stopped in, if it stopped before this one
        stopped_earlier = bool(ran) and not before
        out: list[dict[str, Any]] = []

        def entry(kind: str, sentence: str, limit: float = math.nan, used: float = math.nan,
                  unit: str = "") -> None:
            row = _binding(kind, self.mission_id, period, sentence, limit=limit, used=used, unit=unit)
            out.append({**row, "value_if_lifted": math.nan, "coverage_if_lifted": math.nan})

        startup, closure = float(row["startup_cost"]), float(row["closure_cost"])
        min_run, step = int(row["min_run"]), float(row["max_step"])
        where = self._where
        if not runs:
            if bool(row["continuity"]) and stopped_earlier:
                if stop == 0 and bool(row["running_now"]):
                    entry(
                        "running_now",
                        f"It runs today (running_now) and stopped in {where(periods[0])}; with continuity a "
                        f"mission running now that stops never restarts, so it stays at 0 in {where(period)}",
                    )
                else:
                    entry(
                        "continuity",
                        f"It stopped in {where(periods[stop])} and, with continuity, may not restart in "
                        f"{where(period)}",
                    )
                return out
            if not before and min_run > 1 and i + 1 < len(periods):
                last = min(i + min_run - 1, len(periods) - 1)
                cut = " (its end_period comes first)" if i + min_run - 1 > len(periods) - 1 else ""
                entry(
                    "min_run",
                    f"min_run {min_run}: a start in {where(period)} commits it to run {last - i + 1} "
                    f"periods, through {where(periods[last])}{cut}",
                    limit=float(min_run),
                    unit="periods",
                )
            if not before and startup > 0:
                entry(
                    "startup_cost",
                    f"startup_cost: starting it in {where(period)} would cost "
                    f"{formats.money(startup, self.currency)} there, paid from its sources in that period "
                    "with the rest of its cost",
                    limit=startup,
                    unit=self.currency,
                )
            if before and closure > 0:
                entry(
                    "closure_cost",
                    f"closure_cost: it stops in {where(period)}, and its "
                    f"{formats.money(closure, self.currency)} closure cost falls there (paid from its "
                    "sources in that period)",
                    limit=closure,
                    unit=self.currency,
                )
            floor = float(row["running_floor"])
            if floor > float(row["min_coverage"]) + 1e-12 or bool(self.mission["must_fund"]):
                possible, left = self._room(period, startup if not before else 0.0)
                if 1e-9 < possible < floor - 1e-9:
                    worth = self.worth(self.mission_id, period)
                    gained = float(value_of_coverage(possible, self.diminishing)) * worth
                    entry(
                        "running_floor",
                        f"A running mission covers at least {formats.percent(floor)} (a rule of plans over "
                        f"time applies to it): what is left in {where(period)} ({left}) would cover only "
                        f"{formats.percent(possible, 1)}, worth {formats.per_unit(gained)} value",
                        limit=floor,
                        used=possible,
                        unit="coverage",
                    )
            return out
        if not before and startup > 0:
            entry(
                "startup_cost",
                f"startup_cost: it starts in {where(period)}, and its "
                f"{formats.money(startup, self.currency)} start-up is paid from its sources there, with "
                "the rest of its cost",
                limit=startup,
                unit=self.currency,
            )
        if math.isfinite(step):
            c = cov[i]
            if before and i > 0 and c >= cov[i - 1] + step - 1e-6:
                entry(
                    "max_step",
                    f"max_step {step:g} limits its build-up: it can reach at most "
                    f"{formats.percent(cov[i - 1] + step)} in {where(period)} from "
                    f"{formats.percent(cov[i - 1])} in {where(periods[i - 1])}",
                    limit=cov[i - 1] + step,
                    used=c,
                    unit="coverage",
                )
            if i + 1 < len(periods) and history[i + 2] and c >= cov[i + 1] + step - 1e-6:
                entry(
                    "max_step",
                    f"max_step {step:g} limits it ahead of a fall: it can be at most "
                    f"{formats.percent(cov[i + 1] + step)} in {where(period)} with "
                    f"{formats.percent(cov[i + 1])} in {where(periods[i + 1])}",
                    limit=cov[i + 1] + step,
                    used=c,
                    unit="coverage",
                )
        return out

    def _room(self, period: str, extra_money: float) -> tuple[float, str]:
        """The coverage what is left in a period (units, zone room, money in its sources)
        would give this mission, and what is left of the scarcest, in words."""
        best, what = self.max_cov, ""
        rows = self.needs_of(period)
        rows = rows[rows["quantity"] > 0]
        for resource_id, q in zip(rows["resource_id"], rows["quantity"], strict=True):
            r = self.context.resources.get((str(resource_id), period))
            if r is None or not math.isfinite(r["usable"]):
                continue
            whole = self.context.integer.get(str(resource_id), False)
            room = max((math.floor(r["usable"] + 1e-6) if whole else r["usable"]) - r["used"], 0.0)
            if room / float(q) < best:
                name, unit = self.resource_name[str(resource_id)], self.resource_unit[str(resource_id)]
                best, what = room / float(q), wording.count_of(room, name, unit)
        zone = self.context.zones.get((str(self.mission["zone_id"]), period))
        per = float(rows.loc[rows["kind"] == "personnel", "quantity"].sum())
        if zone is not None and math.isfinite(zone["cap"]) and per > 0:
            room = max(zone["cap"] - zone["personnel"], 0.0)
            if room / per < best:
                best, what = room / per, f"{formats.units(room)} people under the zone's cap"
        cost = self.full_cost(self.mission_id, period)
        if cost > 0:
            left = 0.0
            for source in self._eligible(period):
                b = self.context.budgets.get((source, period))
                if b is not None:
                    left += max(float(b["amount"]) - float(b["used"]), 0.0)
            share = max(left - extra_money, 0.0) / cost
            if share < best:
                best, what = share, f"{formats.money(left, self.currency)} in its sources"
        return best, what

    def _search_gap(self, period: str) -> list[dict[str, Any]]:
        """In whole units, where what it lacks in a period is left over in the plan (units
        unused, zone room, money unspent in its sources): the integer search stopped within
        its accepted gap (mip_gap) before covering it, and closing the step is worth less
        than that gap."""
        gap = float(self.plan.gap or 0.0)
        if not bool(self.levers.integer) or gap <= 0:
            return []
        lack = next((x for x in self.lacks() if x["period_id"] == period), None)
        if lack is None:
            return []
        left_words = []
        kind = self.portfolio.resources["kind"].astype(str)
        people = 0.0
        for m in lack["missing"]:
            if kind.get(m["resource_id"]) == "personnel":
                people += m["shortfall"]
            r = self.context.resources.get((m["resource_id"], period))
            if r is not None and math.isfinite(r["usable"]):
                whole = self.context.integer.get(m["resource_id"], False)
                room = (math.floor(r["usable"] + 1e-6) if whole else r["usable"]) - r["used"]
                if room < m["shortfall"] - 1e-6:
                    return []
                left_words.append(f"{wording.count_of(room, m['name'], m['unit'])} unused")
        zone = self.context.zones.get((str(self.mission["zone_id"]), period))
        zone_room = zone["cap"] - zone["personnel"] if zone is not None else math.inf
        if math.isfinite(zone_room) and zone_room < people - 1e-6:
            return []
        left = 0.0
        for source in self._eligible(period):
            b = self.context.budgets.get((source, period))
            if b is not None:
                left += max(float(b["amount"]) - float(b["used"]), 0.0)
        if left < lack["shortfall_cost"] - 1e-6:
            return []
        left_words.append(f"{formats.money(left, self.currency)} unspent in its sources")
        c = self.cov(self.mission_id, period)
        worth = self.worth(self.mission_id, period)
        adds = worth * float(
            value_of_coverage(self.max_cov, self.diminishing) - value_of_coverage(c, self.diminishing)
        )
        gap_value = gap * abs(float(self.plan.value or 0.0))
        if adds >= gap_value:
            return []
        sentence = (
            f"What it lacks in {self._where(period)} is left over in the plan "
            f"({wording.listing(left_words)}): closing it would add {formats.per_unit(adds)} value, "
            f"less than this plan's proven gap to the best possible ({formats.percent(gap, 2)}, "
            f"{formats.per_unit(gap_value)} value), so the integer search stopped before covering it"
        )
        return [
            _binding(
                "search_gap",
                self.mission_id,
                period,
                sentence,
                limit=gap_value,
                used=adds,
                unit="value",
            )
        ]

    def _whole_units(self, period: str) -> dict[str, Any]:
        sentence = (
            f"No limit binds in {self._where(period)} in the continuous model: the shortfall comes "
            "from whole "
            "units (the next step of coverage needs a whole unit that is worth more elsewhere or costs "
            "more than the step adds)"
        )
        return _binding("whole_units", self.mission_id, period, sentence)

    def _policies(self) -> list[dict[str, Any]]:
        out = []
        for rule, scope_type, scope_value, share, used, inside in self.context.policies:
            if rule == "max_budget_share" and self.mission_id in inside:
                text = (
                    f"Policy max_budget_share {scope_type}={scope_value}: spending on its scope is at the "
                    f"ceiling of {formats.percent(share)} of all spending"
                )
            elif rule == "min_budget_share" and self.mission_id not in inside:
                text = (
                    f"Policy min_budget_share {scope_type}={scope_value}: {formats.percent(share)} of all "
                    "spending must go to missions in that scope, and this mission is outside it"
                )
            else:
                continue
            out.append(
                _binding(
                    "policy",
                    f"{rule} {scope_type}={scope_value}",
                    "",
                    text,
                    limit=share,
                    used=used,
                    unit="share",
                )
            )
        return out

    def gap_note(self, competitors: list[dict[str, Any]]) -> list[str]:
        """In whole units, when some mission uses what this one lacks for less value per unit
        than this one would make of it, yet the steps it lacks are worth less than the
        plan's proven gap: the integer search stopped before making that move."""
        gap = float(self.plan.gap or 0.0)
        if not bool(self.levers.integer) or gap <= 0 or not self.short:
            return []
        cheaper = [
            c for c in competitors
            if c["limit"].startswith("resource:") and math.isfinite(c["value_per_unit"])
            and math.isfinite(c["this_value_per_unit"]) and c["value_per_unit"] < c["this_value_per_unit"]
        ]
        if not cheaper:
            return []
        adds = sum(
            self.worth(self.mission_id, p)
            * float(
                value_of_coverage(self.max_cov, self.diminishing)
                - value_of_coverage(self.cov(self.mission_id, p), self.diminishing)
            )
            for p in self.short
        )
        gap_value = gap * abs(float(self.plan.value or 0.0))
        if adds >= gap_value:
            return []
        c = cheaper[0]
        unit = c["unit"]
        return [
            f"{c['mission_id']} uses {c['limit_name']} in {c['period_id']} for "
            f"{formats.per_unit(c['value_per_unit'])} value per {unit}, less than the "
            f"{formats.per_unit(c['this_value_per_unit'])} this mission would make of one; "
            f"but all it lacks is worth {formats.per_unit(adds)} value, "
            "within this plan's proven gap to the best possible "
            f"({formats.percent(gap, 2)}, {formats.per_unit(gap_value)} value), "
            "so the integer search stopped before making such a move"
        ]

    # -- competitors ---------------------------------------------------------------------

    def competitors(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        allocation, funding = self.plan.allocation, self.plan.funding
        must = self.portfolio.missions["must_fund"].astype(bool)
        priority = self.portfolio.missions["priority"].astype(int)
        for limit in self.found:
            kind, item, period = limit["kind"], limit["id"], limit["period_id"]
            mine = limit["this_value_per_unit"]
            users: list[tuple[str, float, float]] = []  # (mission, uses, value per unit)
            if kind == "resource":
                rows = allocation[
                    (allocation["resource_id"] == item)
                    & (allocation["period_id"] == period)
                    & (allocation["units"] > 0)
                    & (allocation["mission_id"] != self.mission_id)
                ]
                for m, units, q in zip(rows["mission_id"], rows["units"], rows["needed"], strict=True):
                    users.append((str(m), float(units), self.per_unit(str(m), period, float(q), giving=True)))
            elif kind == "budget" and item:
                rows = funding[
                    (funding["source_id"] == item)
                    & (funding["period_id"] == period)
                    & (funding["mission_id"] != self.mission_id)
                ]
                for m, money in zip(rows["mission_id"], rows["money"], strict=True):
                    per = self.full_cost(str(m), period)
                    users.append((str(m), float(money), self.per_unit(str(m), period, per, giving=True)))
            elif kind == "zone_cap":
                rows = allocation[
                    (allocation["kind"] == "personnel")
                    & (allocation["period_id"] == period)
                    & (allocation["units"] > 0)
                    & (allocation["mission_id"] != self.mission_id)
                ]
                zone_of = self.portfolio.missions["zone_id"].astype(str)
                rows = rows[rows["mission_id"].map(zone_of) == item]
                grouped = rows.groupby("mission_id", sort=False).agg(
                    units=("units", "sum"), needed=("needed", "sum")
                )
                for m, r in grouped.iterrows():
                    users.append(
                        (
                            str(m),
                            float(r["units"]),
                            self.per_unit(str(m), period, float(r["needed"]), giving=True),
                        )
                    )
            else:
                continue
            users.sort(
                key=lambda u: (u[2] if math.isfinite(u[2]) else math.inf, u[0])
            )  # least valuable use first
            if kind == "resource":
                limit_name = self.resource_name.get(item, item)
            elif kind == "budget":
                limit_name = self.source_name.get(item, item)
            else:
                limit_name = f"personnel cap of {self.portfolio.zones.at[item, 'name']}"
            for m, uses, value in users[:TOP_COMPETITORS]:
                out.append(
                    dict(
                        limit=f"{kind}:{item}",
                        limit_name=limit_name,
                        period_id=period,
                        mission_id=m,
                        name=self.mission_name.get(m, m),
                        priority=int(priority[m]),
                        must_fund=bool(must[m]),
                        uses=uses,
                        unit=limit["unit"],
                        value_per_unit=value,
                        this_value_per_unit=mine,
                    )
                )
        return out


# Limits that are rules rather than scarce units or money: where one holds a mission in a
# period, what is left over there is not the search's gap.
RULE_KINDS = {
    "on_off", "policy", "max_change", "continuity", "running_now", "min_run", "startup_cost",
    "closure_cost", "max_step", "running_floor",
}


# -- many missions at once (the report) -------------------------------------------------------------

SHORT_COLUMNS = ["mission_id", "name", "priority", "covered", "mean_coverage", "max_coverage", "answer"]
KIND_WORDS = {
    "resource": "used up",
    "budget": "binds",
    "zone_cap": "cap reached",
    "on_off": "on/off minimum",
    "policy": "policy",
    "max_change": "max_change from the Baseline",
    "whole_units": "whole units",
    "continuity": "continuity (stopped, may not restart)",
    "running_now": "running now and stopped (may not restart)",
    "min_run": "min_run (a start commits it)",
    "startup_cost": "start-up cost",
    "closure_cost": "closure cost",
    "max_step": "max_step",
    "running_floor": "below the 1% running floor",
    "search_gap": "left over: within the search's gap",
}


def short_missions(plan: Plan, top: int | None = None) -> list[str]:
    """Missions below their max_coverage in some period, most important first: by
    priority, then the lowest mean share of max_coverage reached."""
    if not plan.has_plan or plan.portfolio is None or not len(plan.missions):
        return []
    ceiling = plan.portfolio.missions["max_coverage"].astype(float)
    frame = plan.missions.assign(ceiling=plan.missions["mission_id"].map(ceiling).astype(float))
    frame = frame.assign(short=frame["coverage"].astype(float) < frame["ceiling"] - COVERED)
    reached = frame["coverage"].astype(float) / frame["ceiling"].where(frame["ceiling"] > 0, 1.0)
    frame = frame.assign(reached=reached)
    grouped = frame.groupby("mission_id", sort=False).agg(
        priority=("priority", "first"), short=("short", "any"), reached=("reached", "mean")
    )
    grouped = grouped[grouped["short"]].sort_values(["priority", "reached"], kind="stable")
    ids = [str(m) for m in grouped.index]
    return ids if top is None else ids[:top]


def held_back_by_cells(plan: Plan) -> dict[tuple[str, str], str]:
    """For each short (mission, period) of a plan, what holds it back, in a few words:
    ``"Military observers used up (0.129 value per person); Core operations budget binds"``
    (the report's Unmet column). From the plan's tables only, no re-solve."""
    if not plan.has_plan or plan.portfolio is None:
        return {}
    scenario = apply_levers(plan.portfolio, plan.levers)
    context = _Context(scenario, plan)
    names = {
        "resource": texts_of(scenario.portfolio.resources, "name"),
        "budget": texts_of(scenario.portfolio.sources, "name"),
        "zone_cap": texts_of(scenario.portfolio.zones, "name"),
    }
    out: dict[tuple[str, str], list[str]] = {}
    for mission_id in short_missions(plan):
        reading = _Reading(scenario, plan, mission_id, context)
        for limit in reading.limits():
            kind, item = limit["kind"], str(limit["id"])
            label = names.get(kind, {}).get(item, item) if kind in names else ""
            words = f"{label} {KIND_WORDS[kind]}".strip() if kind in names else KIND_WORDS[kind]
            if kind == "resource" and limit["used"] < math.floor(limit["limit"] + 1e-6) - 0.5:
                words = f"{label} not all in use"
            elif kind == "budget" and item and limit["used"] < limit["limit"] - max(1e-6 * limit["limit"], 1):
                words = f"{label} not all spent"
            if kind == "policy":
                words = f"policy {item}"
            price = limit["value_per_unit"]
            if kind in ("resource", "zone_cap") and math.isfinite(price):
                words += f" ({formats.per_unit(price)} value per {limit['unit']})"
            elif kind == "budget" and math.isfinite(price) and item:
                step = reading.step
                words += f" ({formats.per_unit(price * step)} value per {reading.currency} "
                words += f"{formats.money_step(step)})"
            periods = [limit["period_id"]] if limit["period_id"] else reading.short
            for period in periods:
                out.setdefault((mission_id, str(period)), []).append(words)
    return {key: "; ".join(dict.fromkeys(words)) for key, words in out.items()}


def explain_short(
    portfolio: Portfolio,
    levers: Levers | None = None,
    *,
    plan: Plan | None = None,
    top: int = 10,
    search: bool = True,
) -> pd.DataFrame:
    """The full answer (:func:`why`) for the ``top`` most important short missions
    (:func:`short_missions`), one row each (:data:`SHORT_COLUMNS`, ``answer`` the text of
    :func:`why_text`) for the report's "Why short" sheet; ``search`` False: from the plan's
    tables only (no value given up or weight needed)."""
    levers = portfolio.levers if levers is None else levers
    plan = plan if plan is not None else solve(apply_levers(portfolio, levers))
    rows = []
    for mission_id in short_missions(plan, top):
        answer = why(portfolio, mission_id, levers, plan=plan, search=search)
        values = list(answer.coverage.values())
        rows.append(
            [
                answer.mission_id,
                answer.name,
                answer.priority,
                answer.covered,
                float(np.mean(values)) if values else 0.0,
                answer.max_coverage,
                why_text(answer),
            ]
        )
    return pd.DataFrame(rows, columns=SHORT_COLUMNS)


# -- solving again ------------------------------------------------------------------------------


def _resolve(answer: Why, portfolio: Portfolio, levers: Levers, plan: Plan, scenario: Scenario) -> Why:
    """The value given up and losers (the plan forced to max_coverage), and the weight and
    priority needed (weight search), by solving again."""
    answer = _lift_rules(answer, plan, scenario)
    mission_id, max_cov = answer.mission_id, answer.max_coverage
    notes = list(answer.notes)
    forced_levers = levers.changed(
        must_fund={**levers.must_fund, mission_id: True},
        min_coverage={**levers.min_coverage, mission_id: max_cov},
        cancel={k: v for k, v in levers.cancel.items() if k != mission_id},
    )
    forced_scenario = apply_levers(portfolio, forced_levers)
    forced = solve_value(forced_scenario)
    if not forced.has_plan:
        forced = explain_infeasible(forced, forced_scenario)
        notes.append(
            f"It cannot be funded fully ({formats.percent(max_cov)} in every period) while every other "
            "commitment holds: " + "; ".join(forced.diagnosis[:3])
        )
        return dataclasses.replace(answer, notes=notes)
    base_value = float(plan.value or 0.0)
    given_up = base_value - float(forced.value or 0.0)
    low = base_value - float(forced.best_bound if forced.best_bound is not None else forced.value or 0.0)
    high = float(plan.best_bound if plan.best_bound is not None else base_value) - float(forced.value or 0.0)
    losers = _losers(plan, forced, mission_id)
    if given_up <= max(float(levers.mip_gap) * abs(base_value), 1e-9) and (plan.gap or 0.0) > 0:
        notes.append(
            f"The value given up is within the search's accepted gap (mip_gap "
            f"{formats.percent(float(levers.mip_gap), 1)}, "
            f"{formats.per_unit(float(levers.mip_gap) * abs(base_value))} value): a plan that covers it "
            "fully may be as good as the plan chosen. Set "
            f"must_fund.{mission_id}=yes with min_coverage.{mission_id}={max_cov:g} to have it chosen, or a "
            "smaller mip_gap to tell the two apart"
        )
    answer = dataclasses.replace(
        answer,
        value_given_up=max(given_up, 0.0),
        value_given_up_range=(max(low, 0.0), max(high, 0.0)),
        losers=losers,
        notes=notes,
    )
    weight_low, weight_high, _ = weight_search(scenario, mission_id, plan, forced)
    answer = dataclasses.replace(answer, weight_needed=weight_high, weight_needed_low=weight_low)
    answer = dataclasses.replace(
        answer, priority_needed=_priority_search(portfolio, levers, mission_id, answer)
    )
    return answer


# The rules of plans over time one re-solve lifts for the mission alone: kind -> (its
# Missions column, the value that lifts it, the lift in words).
LIFTS: dict[str, tuple[str, Any, str]] = {
    "continuity": ("continuity", False, "letting it restart (its continuity no)"),
    "running_now": ("continuity", False, "letting it restart (its continuity no)"),
    "min_run": ("min_run", 1, "letting its runs be shorter (its min_run 1)"),
    "startup_cost": ("startup_cost", 0.0, "dropping its start-up cost (startup_cost 0)"),
    "closure_cost": ("closure_cost", 0.0, "dropping its closure cost (closure_cost 0)"),
    "max_step": ("max_step", math.nan, "lifting its max_step (blank)"),
}


def with_rule_lifted(scenario: Scenario, mission_id: str, column: str, value: Any) -> Scenario:
    """The scenario with one mission's Missions column replaced (a rule of plans over time
    lifted for it alone, :data:`LIFTS`)."""
    missions = scenario.portfolio.missions.copy()
    missions.loc[mission_id, column] = value
    return dataclasses.replace(scenario, portfolio=dataclasses.replace(scenario.portfolio, missions=missions))


def _lift_rules(answer: Why, plan: Plan, scenario: Scenario) -> Why:
    """Each rule of plans over time that the plan's pattern says holds the mission, solved
    again with that rule lifted for it alone (one solve per rule, started from the plan,
    which stays feasible): what lifting it adds, and the mission's coverage then. A rule
    whose lifting leaves its coverage in that period where it is does not hold it there:
    that entry is dropped."""
    if not any(h["kind"] in LIFTS for h in answer.held_back_by):
        return answer
    base = float(plan.value or 0.0)
    gap_value = float(scenario.levers.mip_gap) * abs(base) if (plan.gap or 0.0) > 0 else 0.0
    names = {str(k): str(v) for k, v in scenario.portfolio.periods["name"].items()}
    solved: dict[str, Plan] = {}
    kept = []
    for limit in answer.held_back_by:
        lift = LIFTS.get(limit["kind"])
        if lift is None:
            kept.append(limit)
            continue
        column, value, words = lift
        if column not in solved:
            solved[column] = solve_value(
                with_rule_lifted(scenario, answer.mission_id, column, value), start=plan
            )
        lifted = solved[column]
        if not lifted.has_plan:
            kept.append(limit)
            continue
        period = str(limit["period_id"])
        rows = lifted.missions
        mine = rows[(rows["mission_id"] == answer.mission_id) & (rows["period_id"] == period)]
        after = float(mine["coverage"].iloc[0]) if len(mine) else 0.0
        gain = max(float(lifted.value or 0.0) - base, 0.0)
        if after <= answer.coverage.get(period, 0.0) + COVERED:
            continue  # lifting it alone leaves it where it is here: it does not hold it here
        within = " (within the search's accepted gap: perhaps no gain at all)" if gain < gap_value else ""
        sentence = (
            f"{limit['sentence']}; {words} would add {formats.per_unit(gain)} value{within}, "
            f"with {formats.percent(after)} in {names.get(period, period)}"
        )
        kept.append({**limit, "value_if_lifted": gain, "coverage_if_lifted": after, "sentence": sentence})
    return dataclasses.replace(answer, held_back_by=kept)


def solve_value(scenario: Scenario, *, start: Plan | None = None) -> Plan:
    """:func:`optimiser.solve.solve` stopped after the value stage(s) (``value_only``): the
    plan's value, bound, gap and coverage as the full solve finds them, its money not
    minimised and no shadow prices (NaN). About a third faster on the national sample in
    whole units; for the answer's re-solves only, never for a plan shown as chosen."""
    return solve(scenario, start=start, value_only=True)


def _losers(plan: Plan, forced: Plan, mission_id: str) -> list[dict[str, Any]]:
    def per_mission(p: Plan) -> pd.DataFrame:
        return p.missions.groupby("mission_id", sort=False).agg(
            name=("name", "first"),
            priority=("priority", "first"),
            coverage=("coverage", "mean"),
            value=("value", "sum"),
        )

    before, after = per_mission(plan), per_mission(forced)
    after = after[["coverage", "value"]].rename(columns=lambda c: f"{c}_after")
    joined = before.join(after, how="left").fillna(0.0)
    joined["lost"] = joined["value"] - joined["value_after"]
    tol = 1e-6 * max(float(plan.value or 0.0), 1.0)
    joined = joined[(joined["lost"] > tol) & (joined.index != mission_id)]
    joined = joined.sort_values("lost", ascending=False, kind="stable")
    return [
        dict(
            mission_id=str(m),
            name=str(r["name"]),
            priority=int(r["priority"]),
            coverage_before=float(r["coverage"]),
            coverage_after=float(r["coverage_after"]),
            value_lost=float(r["lost"]),
        )
        for m, r in joined.iterrows()
    ]


def with_weight(scenario: Scenario, mission_id: str, weight: float) -> Scenario:
    """The scenario with one mission's weight replaced (the weight search's step)."""
    missions = scenario.portfolio.missions.copy()
    missions.loc[mission_id, "weight"] = float(weight)
    return dataclasses.replace(scenario, portfolio=dataclasses.replace(scenario.portfolio, missions=missions))


def _mission_value(plan: Plan, mission_id: str) -> float:
    return float(plan.missions.loc[plan.missions["mission_id"] == mission_id, "value"].sum())


def weight_search(
    scenario: Scenario, mission_id: str, plan: Plan, forced: Plan, precision: float = PRECISION
) -> tuple[float | None, float | None, dict[float, bool]]:
    """The weight at which a mission is fully covered, by solving again.

    Weighted mode: among plans that cover the mission fully its value is the same, so
    the best of them at any weight is ``forced`` (the plan made with it at max_coverage);
    a plan Q that does not cover it fully stays better while ``V_Q + (k - 1) b_Q >
    V_F + (k - 1) b_F`` (V: total value, b: the mission's value, k: the weight's
    multiplier). So k must reach ``1 + (V_Q - V_F) / (b_F - b_Q)``; the plan made at
    just above that (``(1 + precision)`` times) either covers it fully (done) or is a
    better plan Q for the next round. Strict mode: doubling, then halving the bracket.

    A plan stopped within the accepted gap may be worth less than ``forced`` at the same
    weight; then that weight is taken as enough (the plan covering the mission is the
    better one), so each round either ends or moves k up past the plan it found. When
    ``forced`` gives up no more than that gap (``mip_gap`` of the plan's value) the
    mission's own weight is taken as enough without solving: searches stopped within the
    gap cannot tell plans that close apart.

    Returns
    -------
    (low, high, tried)
        not fully covered below ``low`` (as far as the searches prove), fully covered at
        ``high``, or the plan covering it fully worth more there than the plan found
        (None, None when the rounds or, in strict mode, 10,000 times its weight run out);
        ``tried``: multiplier -> fully covered, for the priority search.
    """
    weight = float(scenario.portfolio.missions.at[mission_id, "weight"])
    max_cov = float(scenario.portfolio.missions.at[mission_id, "max_coverage"])
    tried: dict[float, bool] = {}

    def full_at(k: float, start: Plan) -> Plan:
        made = solve_value(with_weight(scenario, mission_id, weight * k), start=start)
        tried[k] = is_fully_covered(made, mission_id, max_cov)
        return made

    if scenario.levers.priority_mode == PriorityMode.WEIGHTED:
        v_f, b_f = float(forced.value or 0.0), _mission_value(forced, mission_id)
        v_q, b_q = float(plan.value or 0.0), _mission_value(plan, mission_id)
        if b_f - b_q <= 1e-12:
            return None, None, tried
        k_low = 1.0 + (v_q - v_f) / (b_f - b_q)
        searched = (plan.gap or 0.0) > 0 or (forced.gap or 0.0) > 0
        if k_low <= 1.0 or (searched and v_q - v_f <= float(scenario.levers.mip_gap) * abs(v_q)):
            # a plan covering it fully is as good already, or within the integer searches'
            # accepted gap, where no re-solve can tell the two apart: its own weight is enough
            return None, weight, tried
        for _ in range(MAX_ROUNDS):
            k = k_low * (1.0 + precision)
            made = full_at(k, forced)
            if tried[k] or v_f + (k - 1.0) * b_f >= float(made.value or 0.0):
                # covered fully, or the plan that covers it (``forced``) is worth more at this
                # weight than the one the search stopped at (within its accepted gap)
                return weight * k_low, weight * k, tried
            # a better plan Q at this weight: its value and the mission's at weight 1
            b_q = _mission_value(made, mission_id) / k
            v_q = float(made.value or 0.0) - (k - 1.0) * b_q
            if b_f - b_q <= 1e-12:
                break
            k_low = max(k, 1.0 + (v_q - v_f) / (b_f - b_q))
        return None, None, tried
    low, high = 1.0, 2.0
    while high <= 1e4:
        full_at(high, forced)
        if tried[high]:
            break
        low, high = high, high * 4.0
    else:
        return None, None, tried
    for _ in range(MAX_ROUNDS):
        if high / low <= 1.0 + precision:
            break
        middle = math.sqrt(low * high)
        full_at(middle, forced)
        low, high = (low, middle) if tried[middle] else (middle, high)
    return weight * low, weight * high, tried


def _priority_search(portfolio: Portfolio, levers: Levers, mission_id: str, answer: Why) -> int | None:
    """The nearest higher tier at which the mission is fully covered, weight unchanged.

    Weighted mode: a tier multiplies its worth by ``tier_weight(q) / tier_weight(p)``, and
    once a multiplier covers it fully every larger one does (the best plan that covers it
    gains more from the rise than any other), so the weight search's bracket answers it:
    a tier at or past ``weight_needed`` needs no solve; one inside the bracket (or any,
    when a policy is scoped by priority) is solved again to confirm. Strict mode: each
    tier up is solved again, nearest first."""
    current = answer.priority
    tiers = list(range(current - 1, 0, -1))  # nearest first
    own = levers.tier_weight(current)
    policies = portfolio.policies
    by_priority = bool(len(policies)) and bool((policies["scope_type"].astype(str) == "priority").any())
    if levers.priority_mode == PriorityMode.WEIGHTED:
        if answer.weight_needed is None or own <= 0:
            return None
        high = answer.weight_needed / answer.weight
        low = (answer.weight_needed_low or answer.weight_needed) / answer.weight
        for q in tiers:
            ratio = levers.tier_weight(q) / own
            if ratio >= high and not by_priority:
                return q
            if ratio >= low * (1.0 - 1e-9) and _full_with_priority(portfolio, levers, mission_id, q, answer):
                return q
        return None
    for q in tiers:
        if _full_with_priority(portfolio, levers, mission_id, q, answer):
            return q
    return None


def _full_with_priority(
    portfolio: Portfolio, levers: Levers, mission_id: str, tier: int, answer: Why
) -> bool:
    trial = levers.changed(priority={**levers.priority, mission_id: tier})
    return is_fully_covered(solve_value(apply_levers(portfolio, trial)), mission_id, answer.max_coverage)


# -- in words -----------------------------------------------------------------------------------


def why_text(answer: Why) -> str:
    """The answer for a terminal, in the planner's words."""
    lines = []
    status = {"fully": "fully covered", "partly": "partly covered", "not": "not covered"}[answer.covered]
    title = answer.mission_id if answer.name == answer.mission_id else f"{answer.mission_id} ({answer.name})"
    lines.append(f"{title}, priority {answer.priority}, weight {answer.weight:g}: {status}.")
    if answer.coverage:
        periods_text = ", ".join(f"{p} {formats.percent(c)}" for p, c in answer.coverage.items())
        ceiling = formats.percent(answer.max_coverage)
        lines.append(f"Coverage by period: {periods_text} (max_coverage {ceiling}).")
    if answer.lacks:
        lines.append("What it lacks:")
        for lack in answer.lacks:
            missing = [wording.count_of(m["shortfall"], m["name"], m["unit"]) for m in lack["missing"]]
            what = wording.listing(missing, most=6) if missing else "running cost only"
            lines.append(
                f"  - {lack['period_id']}: at {formats.percent(lack['coverage'], 1)}; lacks {what} "
                f"({formats.money(lack['shortfall_cost'], answer.currency)} to close)"
            )
    if answer.held_back_by:
        lines.append("What holds it back:")
        lines += [f"  - {limit['sentence']}" for limit in answer.held_back_by]
    if answer.competitors:
        lines.append("Who takes what it needs (value per unit, least valuable use first):")
        first_period: dict[str, str] = {}
        shown: dict[str, int] = {}
        for c in answer.competitors:  # each limit in the first period it binds, three users each
            period = first_period.setdefault(c["limit"], c["period_id"])
            if period != c["period_id"] or shown.get(c["limit"], 0) >= TEXT_COMPETITORS:
                continue
            shown[c["limit"]] = shown.get(c["limit"], 0) + 1
            flag = ", must-fund" if c["must_fund"] else ""
            lines.append(
                f"  - {c['limit_name']} in {c['period_id']}: {c['mission_id']} "
                f"(priority {c['priority']}{flag}) "
                f"uses {_amount(c['uses'], c['unit'], answer.currency, c['limit_name'])}, "
                f"{_per(c['value_per_unit'], c['unit'], answer)} "
                f"against this mission's {_per(c['this_value_per_unit'], c['unit'], answer)}"
            )
        hidden = len(answer.competitors) - sum(shown.values())
        if hidden > 0:
            lines.append(f"  ... and {hidden} more (other periods and users: see the JSON, --json)")
    if answer.value_given_up is not None:
        low, high = answer.value_given_up_range or (answer.value_given_up, answer.value_given_up)
        within = (
            f" (between {formats.per_unit(low)} and {formats.per_unit(high)} given the searches' gaps)"
            if high - low > 1e-6 * max(abs(high), 1.0)
            else ""
        )
        lines.append(
            f"Funding it fully ({formats.percent(answer.max_coverage)} in every period) gives up "
            f"{formats.per_unit(answer.value_given_up)} value{within}, solved again."
        )
        if answer.losers:
            lines.append("Missions that lose coverage:")
            for loser in answer.losers[:10]:
                lines.append(
                    f"  - {loser['mission_id']} (priority {loser['priority']}): "
                    f"{formats.percent(loser['coverage_before'])} -> "
                    f"{formats.percent(loser['coverage_after'])}, "
                    f"{formats.per_unit(loser['value_lost'])} value"
                )
            if len(answer.losers) > 10:
                lines.append(f"  ... and {len(answer.losers) - 10} more")
    if answer.weight_needed is not None and answer.weight_needed_low is None:
        lines.append(
            f"Weight needed: its own ({answer.weight:g}) is enough within the search's accepted gap."
        )
    elif answer.weight_needed is not None:
        lines.append(
            f"Weight needed: {answer.weight_needed:.4g} (now {answer.weight:g}): fully covered at "
            f"{answer.weight_needed:.4g}, not below {answer.weight_needed_low:.4g} "
            f"(found by solving again, within {formats.percent(answer.precision)})."
        )
    elif answer.value_given_up is not None:
        lines.append("No weight the search tried made it fully covered (see the notes).")
    if answer.value_given_up is not None:
        if answer.priority_needed is not None:
            lines.append(
                f"Priority needed: {answer.priority_needed} (now {answer.priority}), weight unchanged."
            )
        elif answer.priority > 1:
            lines.append("No higher priority alone (weight unchanged) makes it fully covered.")
    lines += answer.notes
    return "\n".join(lines)


def _amount(x: float, unit: str, currency: str, name: str = "") -> str:
    if unit == currency:
        return formats.money(x, currency)
    if name.startswith("personnel cap"):
        return f"{formats.units(x)} {'person' if wording.is_one(x) else 'people'}"
    return wording.count_of(x, name, unit) if name else f"{formats.units(x)} {unit}"


def _per(x: float, unit: str, answer: Why) -> str:
    if not math.isfinite(x):
        return "n/a"
    if unit == answer.currency:  # money: per round sum, as the shadow-price sentences speak
        step = formats.money_step(answer.money_step)
        return f"{formats.per_unit(x * answer.money_step)} value per {unit} {step}"
    return f"{formats.per_unit(x)} value per {unit}"
