"""The bench's yardstick: a straightforward HiGHS model of SPEC 3, written on highspy.

Never imported by the package. It reads a :class:`~optimiser.scenario.Scenario` (the
portfolio's tables with levers applied: usable capacity, money per source and period,
active periods) and writes SPEC 3's model the way a modeller would write it from the
spec alone, in one highspy object, and solves it as SPEC 3 says (``weighted`` mode):

1. maximise total value, whole units where a resource is integer, HiGHS's defaults with
   ``mip_rel_gap`` = the levers' ``mip_gap`` (0.5%) and their time limit;
2. keep that value (``value >= found``) and spend the least money, for at most a tenth of
   the value search's time (at least 0.2 s): the optimiser's own share for that stage,
   so both sides spend the same kind of effort on money.

Variables per active (mission, period): coverage ``c`` in [floor, max_coverage] (floor:
min_coverage when must-fund), excess ``e`` in [0, 1/2] with ``e >= c - 1/2`` (the
concave value, when diminishing returns are on), a binary ``y`` for an on/off mission
(``min y <= c <= max y``), units ``a >= quantity x c`` for every requirement (integer
where the resource is), and money ``f`` from every eligible source, with ``sum f =
cost``. Rows: capacity per resource and period, personnel cap per zone and period,
money per source and period, and the Policies. Money is in millions (every modeller
scales money; HiGHS would otherwise see costs of 1e4 next to coverages of 1).

Not covered (the function raises): a Baseline sheet, and the plans-over-time columns of
SPEC 3.1 when they bind (see :data:`OVER_TIME`); the bench's generated portfolios have
neither, or (after SPEC 3.1) say which rules apply and the reference writes them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

MONEY = 1e6  # money in the model: millions
INF = highspy.kHighsInf


@dataclass
class ReferenceResult:
    status: str  # optimal (within the gap), feasible (time limit, plan in hand), none
    value: float | None
    bound: float | None
    gap: float | None
    spending: float | None  # money, plain units
    build_s: float
    solve_s: float  # both stages

    @property
    def total_s(self) -> float:
        return self.build_s + self.solve_s


class _QuietHighs(highspy.Highs):
    """No banner on standard output (highspy prints it as it installs its callbacks)."""

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


class _Columns:
    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []

    def add(self, low: float, high: float, integer: bool = False) -> int:
        self.lower.append(low)
        self.upper.append(high)
        if integer:
            self.integer.append(len(self.lower) - 1)
        return len(self.lower) - 1


class _Rows:
    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.starts: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []

    def add(self, terms: list[tuple[int, float]], low: float, high: float) -> None:
        self.starts.append(len(self.index))
        for column, coef in terms:
            self.index.append(column)
            self.value.append(coef)
        self.lower.append(low)
        self.upper.append(high)


def solve_reference(scenario, time_limit_s: float | None = None) -> ReferenceResult:
    """Build and solve the straightforward model of ``scenario`` (weighted mode)."""
    started = time.perf_counter()
    levers = scenario.levers
    portfolio = scenario.portfolio
    if len(portfolio.baseline):
        raise ValueError("the reference model does not cover a Baseline sheet")
    missions, zones, resources = portfolio.missions, portfolio.zones, portfolio.resources
    cols, rows = _Columns(), _Rows()
    objective: dict[int, float] = {}
    money: dict[int, float] = {}  # spending, in millions, by flow column

    usable = scenario.capacity.set_index(["resource_id", "period_id"])["usable"].to_dict()
    budget = scenario.budget.set_index(["source_id", "period_id"])["amount"].to_dict()
    needs = {m: list(zip(g["resource_id"], g["quantity"], strict=True))
             for m, g in portfolio.requirements.groupby("mission_id")}
    cells = list(zip(scenario.active["mission_id"], scenario.active["period_id"], strict=True))

    # plain dicts: pandas' .loc per cell would make the build, not the solve, the figure
    mission_of = missions.to_dict("index")
    zone_of = zones.to_dict("index")
    resource_of = resources.to_dict("index")
    sources = portfolio.sources.to_dict("index")
    eligible: dict[str, list[str]] = {}
    for m, row in mission_of.items():
        zone = zone_of[row["zone_id"]]
        eligible[m] = [
            s for s, src in sources.items()
            if (not src["eligible_types"] or row["type"] in src["eligible_types"])
            and (not src["eligible_zones"] or row["zone_id"] in src["eligible_zones"])
            and (not src["eligible_regions"] or zone["region"] in src["eligible_regions"])
        ]

    capacity_terms: dict[tuple[str, str], list] = {}
    zone_terms: dict[tuple[str, str], list] = {}
    budget_terms: dict[tuple[str, str], list] = {}
    coverage_of: dict[tuple[str, str], int] = {}
    cost_of_cell: dict[tuple[str, str], list[tuple[int, float]]] = {}  # flow columns
    for m, p in cells:
        row = mission_of[m]
        zone = zone_of[row["zone_id"]]
        low_c = float(row["min_coverage"]) if row["must_fund"] else 0.0
        high_c = float(row["max_coverage"])
        c = cols.add(low_c, high_c)
        coverage_of[(m, p)] = c
        worth = levers.tier_weight(int(row["priority"])) * float(row["weight"])
        if levers.diminishing_returns:
            e = cols.add(0.0, 0.5)
            rows.add([(e, 1.0), (c, -1.0)], -0.5, INF)  # e >= c - 1/2
            objective[c] = objective.get(c, 0.0) + worth * 4.0 / 3.0
            objective[e] = objective.get(e, 0.0) - worth * 2.0 / 3.0
        else:
            objective[c] = objective.get(c, 0.0) + worth
        if not row["must_fund"] and float(row["min_coverage"]) > 0:
            y = cols.add(0.0, 1.0, integer=True)
            rows.add([(c, 1.0), (y, -float(row["min_coverage"]))], 0.0, INF)
            rows.add([(c, 1.0), (y, -high_c)], -INF, 0.0)
        cost_terms = [(c, float(row["running_cost"]) / MONEY)]
        for r, quantity in needs.get(m, []):
            quantity = float(quantity)
            if quantity <= 0:
                continue
            res = resource_of[r]
            whole = bool(res["integer"]) and bool(levers.integer)
            a = cols.add(0.0, INF, integer=whole)
            rows.add([(a, 1.0), (c, -quantity)], 0.0, INF)  # a >= q c
            personnel = res["kind"] == "personnel"
            unit_cost = float(res["unit_cost"]) * (float(zone["hazard_multiplier"]) if personnel else 1.0)
            cost_terms.append((a, unit_cost / MONEY))
            if not np.isnan(usable[(r, p)]):
                capacity_terms.setdefault((r, p), []).append((a, 1.0))
            if personnel and not np.isnan(zone["personnel_cap"]):
                zone_terms.setdefault((row["zone_id"], p), []).append((a, 1.0))
        flows = []
        for s in eligible[m]:
            f = cols.add(0.0, INF)
            flows.append((f, -1.0))
            money[f] = 1.0
            budget_terms.setdefault((s, p), []).append((f, 1.0))
        cost_of_cell[(m, p)] = [(f, 1.0) for f, _ in flows]
        rows.add(cost_terms + flows, 0.0, 0.0)  # cost = sum of flows

    for (r, p), terms in capacity_terms.items():
        rows.add(terms, -INF, float(usable[(r, p)]))
    for (z, _p), terms in zone_terms.items():
        rows.add(terms, -INF, float(zone_of[z]["personnel_cap"]))
    for (source, p), terms in budget_terms.items():
        rows.add(terms, -INF, float(budget.get((source, p), 0.0)) / MONEY)

    for rule, scope_type, scope_value, share in portfolio.policies[
        ["rule", "scope_type", "scope_value", "value"]
    ].itertuples(index=False, name=None):
        def scoped(m: str, scope_type=scope_type, scope_value=scope_value) -> bool:
            row = mission_of[m]
            if scope_type == "region":
                return zone_of[row["zone_id"]]["region"] == scope_value
            if scope_type == "zone":
                return row["zone_id"] == scope_value
            if scope_type == "type":
                return row["type"] == scope_value
            return str(int(row["priority"])) == str(scope_value)

        share = float(share)
        if rule in ("min_budget_share", "max_budget_share"):
            terms = [
                (f, (1.0 - share) if scoped(m) else -share)
                for (m, p), flows in cost_of_cell.items()
                for f, _ in flows
            ]
            if rule == "min_budget_share":
                rows.add(terms, 0.0, INF)
            else:
                rows.add(terms, -INF, 0.0)
        elif rule == "min_average_coverage":
            for p in portfolio.period_ids:
                chosen = [coverage_of[(m, q)] for m, q in cells if q == p and scoped(m)]
                if chosen:
                    rows.add([(c, 1.0) for c in chosen], share * len(chosen), INF)
        else:
            raise ValueError(f"unknown policy rule {rule!r}")

    h = _QuietHighs()
    h.setOptionValue("output_flag", False)
    n = len(cols.lower)
    h.addVars(n, np.array(cols.lower), np.array(cols.upper))
    if cols.integer:
        integer = np.array(cols.integer, dtype=np.int32)
        h.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
    starts = np.array(rows.starts, dtype=np.int32)
    h.addRows(
        len(rows.lower), np.array(rows.lower), np.array(rows.upper), len(rows.index),
        starts, np.array(rows.index, dtype=np.int32), np.array(rows.value),
    )
    value_cost = np.zeros(n)
    for column, coef in objective.items():
        value_cost[column] = coef
    money_cost = np.zeros(n)
    for column, coef in money.items():
        money_cost[column] = coef
    all_columns = np.arange(n, dtype=np.int32)
    build_s = time.perf_counter() - started

    limit = float(levers.time_limit_s if time_limit_s is None else time_limit_s)
    h.setOptionValue("mip_rel_gap", float(levers.mip_gap))
    h.setOptionValue("time_limit", limit)
    h.changeColsCost(n, all_columns, value_cost)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    clock = time.perf_counter()
    h.run()
    value_s = time.perf_counter() - clock
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return ReferenceResult("none", None, None, None, None, build_s, value_s)
    found = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if cols.integer else found
    status = "optimal" if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else "feasible"
    plan = np.asarray(h.getSolution().col_value, dtype=float)

    # stage 2: the least money for that value
    value_index = np.flatnonzero(value_cost).astype(np.int32)
    h.addRow(found, INF, len(value_index), value_index, value_cost[value_index])
    h.changeColsCost(n, all_columns, money_cost)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.setSolution(n, all_columns, plan)
    h.setOptionValue("time_limit", max(0.2, 0.1 * value_s))
    clock = time.perf_counter()
    h.run()
    cost_s = time.perf_counter() - clock
    info = h.getInfo()
    spending = (
        float(info.objective_function_value) * MONEY
        if info.primal_solution_status == 2
        else float(money_cost @ plan) * MONEY
    )
    gap = abs(bound - found) / max(abs(bound), abs(found), 1e-12)
    return ReferenceResult(status, found, bound, gap, spending, build_s, value_s + cost_s)
