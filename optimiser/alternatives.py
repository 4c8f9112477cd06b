"""Other plans nearly as good: "show me another plan within 1% of the best".

Planners pick between options; they distrust a single answer. :func:`alternatives` finds up
to ``count`` plans whose value is within ``share`` of the chosen plan's and whose missions
run (coverage above zero, mission-period by mission-period) differ from it as much as
possible:

1. the model of the scenario, with a binary "runs" indicator per mission-period
   (``coverage <= max_coverage x runs``, ``coverage >= least x runs``, least the mission's
   on/off minimum or 1%), a value floor ``value >= (1 - share) x the chosen plan's``,
   and as objective the number of mission-periods whose run status differs from the
   chosen plan's and from every alternative found before (each must differ from each of
   them in at least one);
2. the plan of that pattern: the scenario solved again (value, then money, as any plan)
   with those mission-periods held on or off, so each alternative is a plan with its
   own tables.

Each :class:`Alternative` says what differs: missions started and dropped, value and
money against the chosen plan's.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import pandas as pd
import pulp

from optimiser import formats, wording
from optimiser.levers import Levers
from optimiser.model import MissionModel, build_model
from optimiser.plan import Plan, SolverInfo
from optimiser.portfolio import Portfolio
from optimiser.scenario import Scenario, apply_levers
from optimiser.solve import solve, start_values
from optimiser.solvers import StageState, make_engine
from optimiser.stages import Stages
from optimiser.tables import make_plan

log = logging.getLogger(__name__)

SHARE = 0.01  # alternatives within 1% of the chosen plan's value by default
LEAST_RUN = 0.01  # a mission-period below 1% coverage is not running
LEAST_START = 0.25  # a mission-period an alternative starts runs at least this (or its minimum)
SEARCH_S = 10.0  # the pattern search of each alternative runs at most this long
SEARCH_MARGIN = 0.5  # the relaxed search keeps this share of the allowed loss (whole units take some)
ALTERNATIVE_COLUMNS = [
    "alternative",
    "value",
    "value_share",
    "total_cost",
    "cost_change",
    "differs",
    "started",
    "dropped",
    "sentence",
]

Cell = tuple[str, str]


@dataclass(frozen=True)
class Alternative:
    """A plan nearly as good as the chosen one, and what differs.

    Attributes
    ----------
    number : 1, 2, 3 in the order found.
    plan : its plan (tables as any plan's).
    value_share : its value / the chosen plan's.
    cost_change : money spent less the chosen plan's.
    started : mission-periods it runs that the chosen plan does not.
    dropped : mission-periods the chosen plan runs that it does not.
    """

    number: int
    plan: Plan
    value_share: float
    cost_change: float
    started: list[Cell] = field(default_factory=list)
    dropped: list[Cell] = field(default_factory=list)

    @property
    def differs(self) -> int:
        return len(self.started) + len(self.dropped)

    def sentence(self, currency: str) -> str:
        def missions(cells: list[Cell]) -> str:
            by_mission: dict[str, list[str]] = {}
            for m, p in cells:
                by_mission.setdefault(m, []).append(p)
            return wording.listing([f"{m} ({', '.join(ps)})" for m, ps in by_mission.items()], most=6)

        money = (
            f"spends {formats.money(abs(self.cost_change), currency)} "
            f"{'more' if self.cost_change > 0 else 'less'}"
            if abs(self.cost_change) >= 0.5
            else "spends the same"
        )
        parts = [
            f"Alternative {self.number}: value {formats.value(self.plan.value or 0.0)} "
            f"({formats.percent(self.value_share, 1)} of the chosen plan's), {money}"
        ]
        if self.started:
            parts.append(f"runs {missions(self.started)}")
        if self.dropped:
            parts.append(f"drops {missions(self.dropped)}")
        return "; ".join(parts)

    def as_dict(self, currency: str) -> dict:
        return {
            "alternative": self.number,
            "value": float(self.plan.value or 0.0),
            "value_share": self.value_share,
            "total_cost": self.plan.total_cost,
            "cost_change": self.cost_change,
            "started": [{"mission_id": m, "period_id": p} for m, p in self.started],
            "dropped": [{"mission_id": m, "period_id": p} for m, p in self.dropped],
            "sentence": self.sentence(currency),
            "missions": [
                {"mission_id": str(m), "period_id": str(p), "coverage": float(c)}
                for m, p, c in zip(
                    self.plan.missions["mission_id"],
                    self.plan.missions["period_id"],
                    self.plan.missions["coverage"],
                    strict=True,
                )
            ],
        }


def runs_of(plan: Plan) -> dict[Cell, bool]:
    """Each active mission-period of a plan: running (coverage above zero) or not."""
    return {
        (str(m), str(p)): float(c) > 1e-9
        for m, p, c in zip(
            plan.missions["mission_id"], plan.missions["period_id"], plan.missions["coverage"], strict=True
        )
    }


def alternatives(
    portfolio: Portfolio,
    levers: Levers | None = None,
    *,
    plan: Plan | None = None,
    count: int = 3,
    share: float = SHARE,
) -> list[Alternative]:
    """Up to ``count`` plans within ``share`` of the chosen plan's value that differ from
    it (and from each other) as much as possible in the missions run.

    Parameters
    ----------
    portfolio, levers : the scenario (``levers`` None: the workbook's Settings).
    plan : the chosen plan, if already solved.
    count : how many alternatives at most (fewer when no more exist within the share).
    share : 0.01: each alternative's value is at least 99% of the chosen plan's.

    Returns
    -------
    list of :class:`Alternative`, in the order found (empty when the chosen plan has no
    plan, or no other run pattern keeps the value within the share).
    """
    levers = portfolio.levers if levers is None else levers
    scenario = apply_levers(portfolio, levers)
    plan = plan if plan is not None else solve(scenario)
    if not plan.has_plan or plan.value is None:
        return []
    chosen = runs_of(plan)
    floor = float(plan.value) - share * abs(float(plan.value))
    found: list[Alternative] = []
    patterns = [chosen]
    whole = bool(levers.integer) and bool(portfolio.resources["integer"].astype(bool).any())
    margin = SEARCH_MARGIN if whole else 1.0  # a relaxed plan is its search's own
    for number in range(1, 2 * count + 1):
        if len(found) >= count:
            break
        pattern = _pattern(scenario, plan, patterns, share * margin)
        if pattern is None:
            break
        made = held_plan(scenario, pattern, chosen)
        if not made.has_plan or (made.value or 0.0) < floor - 1e-9 * max(abs(floor), 1.0):
            log.info("try %d: the pattern's plan in whole units falls below the floor", number)
            patterns.append(pattern)  # do not find it again
            margin /= 2  # and search closer to the best
            continue
        runs = runs_of(made)
        started = [k for k, on in runs.items() if on and not chosen.get(k, False)]
        dropped = [k for k, on in chosen.items() if on and not runs.get(k, False)]
        if not started and not dropped:
            break
        patterns.append(runs)
        found.append(
            Alternative(
                number=len(found) + 1,
                plan=made,
                value_share=float(made.value or 0.0) / float(plan.value) if plan.value else 1.0,
                cost_change=made.total_cost - plan.total_cost,
                started=started,
                dropped=dropped,
            )
        )
    return found


def _run_indicators(model: MissionModel, chosen: dict[Cell, bool]) -> dict[Cell, pulp.LpVariable]:
    """A binary "runs" per mission-period that may run, tied to its coverage: at least
    its on/off minimum (or 1%) where the chosen plan runs it, and at least
    :data:`LEAST_START` (or its minimum) where an alternative would start it, so that no
    alternative "runs" a mission at a token 1%."""
    cells = model.cells
    runs: dict[Cell, pulp.LpVariable] = {}
    for k, (m, p, low, high, must, on_off) in enumerate(
        zip(
            cells["mission_id"],
            cells["period_id"],
            cells["min_coverage"],
            cells["max_coverage"],
            cells["must_fund"],
            cells["running_column"] >= 0,
            strict=True,
        )
    ):
        if float(high) <= 0:
            continue
        key = (str(m), str(p))
        least = float(low) if (on_off or (must and float(low) > 0)) else 0.0
        least = max(least, LEAST_RUN if chosen.get(key, False) else LEAST_START)
        least = min(least, float(high))
        run = model.add_variable(f"runs_{k}", 0, 1, pulp.LpInteger)
        coverage = model.coverage[key]
        model.problem += coverage - float(high) * run <= 0, f"runs_up_{k}"
        model.problem += coverage - least * run >= 0, f"runs_low_{k}"
        runs[key] = run
    return runs


def _pattern(scenario: Scenario, plan: Plan, patterns: list[dict[Cell, bool]], share: float):
    """The run pattern of most difference from ``patterns`` that keeps the relaxed
    model's value within ``share`` of its best, or None when none differs from each."""
    # the search runs on the relaxed model (units continuous, the run indicators binary):
    # far smaller, and its pattern's plan in whole units is checked against the floor
    relaxed = dataclasses.replace(scenario, levers=scenario.levers.changed(integer=False))
    best = solve(relaxed)
    if not best.has_plan or best.value is None:
        return None
    floor = float(best.value) - share * abs(float(best.value))
    model = build_model(relaxed, name="alternative")
    runs = _run_indicators(model, patterns[0])
    if not runs:
        return None
    distance = []
    for pattern in patterns:  # mission-periods whose run status differs from this pattern
        expression = pulp.LpAffineExpression()
        for key, run in runs.items():
            if pattern.get(key, False):
                expression += 1 - run
            else:
                expression += run
        distance.append(expression)
    for i, expression in enumerate(distance):
        model.problem += expression >= 1, f"differs_{i}"
    engine = make_engine(model, scenario.levers)
    engine.add_floor(model.value, floor)
    start = start_values(model, plan)
    for key, run in runs.items():
        start[run.index] = 1.0 if patterns[0].get(key, False) else 0.0
    objective = pulp.lpSum(distance)
    limit = min(float(scenario.levers.time_limit_s), SEARCH_S)
    result = engine.run("alternative", objective, True, limit, start)
    log.info(
        "alternative search: %s, %s mission-periods differ, %.2fs",
        result.state,
        result.objective,
        result.seconds,
    )
    if result.state not in (StageState.OPTIMAL, StageState.STOPPED) or result.values is None:
        return None
    values = result.values
    return {key: bool(values[run.index] > 0.5) for key, run in runs.items()}


def held_plan(scenario: Scenario, pattern: dict[Cell, bool], chosen: dict[Cell, bool] | None = None) -> Plan:
    """The scenario's plan with each mission-period held on or off, as ``pattern`` says:
    value, then money, as any plan. Held on: at least its on/off minimum or 1%, and at
    least :data:`LEAST_START` where ``chosen`` does not run it (an alternative's start)."""
    started = time.perf_counter()
    levers = scenario.levers
    model = build_model(scenario, name="held")
    cells = model.cells.set_index(["mission_id", "period_id"])
    for key, variable in model.coverage.items():
        if key not in pattern:
            continue
        if not pattern[key]:
            variable.upBound = 0.0
        else:
            low, high = float(cells.at[key, "min_coverage"]), float(cells.at[key, "max_coverage"])
            least = LEAST_START if chosen is not None and not chosen.get(key, False) else LEAST_RUN
            variable.lowBound = min(max(low, least), high)
    engine = make_engine(model, levers)
    build_s = time.perf_counter() - started
    run = Stages(model, engine, deadline=started + float(levers.time_limit_s))
    run.go()
    info = SolverInfo(
        name=str(levers.solver),
        version=engine.version(),
        build_s=build_s,
        solve_s=sum(stage.seconds for stage in run.stages),
        stages=tuple(stage.name for stage in run.stages),
    )
    return make_plan(model, run, info, started)


def alternatives_table(found: list[Alternative], currency: str) -> pd.DataFrame:
    """One row per alternative (:data:`ALTERNATIVE_COLUMNS`), for the report and the page."""
    rows = [
        [
            a.number,
            float(a.plan.value or 0.0),
            a.value_share,
            a.plan.total_cost,
            a.cost_change,
            a.differs,
            ", ".join(f"{m} {p}" for m, p in a.started),
            ", ".join(f"{m} {p}" for m, p in a.dropped),
            a.sentence(currency),
        ]
        for a in found
    ]
    return pd.DataFrame(rows, columns=ALTERNATIVE_COLUMNS)


def alternatives_text(found: list[Alternative], share: float, currency: str) -> str:
    """The alternatives for a terminal."""
    if not found:
        return f"No other plan within {formats.percent(share, 1)} of this one's value runs other missions."
    lines = [f"Plans within {formats.percent(share, 1)} of this one's value that run other missions:"]
    lines += [f"  - {a.sentence(currency)}" for a in found]
    return "\n".join(lines)
