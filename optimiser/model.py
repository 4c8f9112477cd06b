"""The allocation model of SPEC section 3, built as a PuLP problem. No I/O, no solver.

:func:`build_model` reads only a :class:`~optimiser.levers.Scenario` and returns a
:class:`MissionModel`: the :class:`pulp.LpProblem` (objective: total value, maximised)
plus the handles that the staged search (:mod:`optimiser.stages`), the solver engines
(:mod:`optimiser.solvers`) and the infeasibility diagnosis need,
each keyed by the planner's ids.

Decisions, per active (mission, period) "cell":

- ``coverage[m, p]`` in [0, max_coverage]: the share of the mission's requirements met;
- ``excess[m, p]`` in [0, 0.5]: the coverage beyond one half, which is worth less
  when ``diminishing_returns`` is on (g(c) = 4/3 c - 2/3 excess, excess >= c - 1/2);
- ``running[m, p]`` binary, for missions with an on/off minimum and for every active
  period of a mission under a rule of plans over time (SPEC 3.1: continuity over two or
  more periods, min_run above 1, a start-up or closure cost, a max_step), where a running
  mission covers at least 1% (and its minimum);
- ``start[m, p]``, ``stop[m, p]`` continuous in [0, 1], for those missions where a rule
  reads them; exact wherever the running decisions are whole (:meth:`_Builder._timeline_rows`:
  starts and stops, continuity, min_run, max_step, one family each). Start-up and closure
  money enter the mission-period's cost row, so it is paid by eligible sources and counted
  in budget-share policies;
- ``units[m, r, p]`` whole units of an integer resource (only where the quantity is
  above zero). A continuous resource has no variable: its units are exactly
  ``quantity * coverage`` (buying more never helps), which keeps relaxed plans small;
- ``flow[s, m, p]`` money from an eligible funding source.

Whole units are kept tight: a units variable exists only where the quantity is above
zero, its upper bound is ``ceil(quantity x max_coverage)`` (more never helps), and for
an on/off mission ``units >= ceil(quantity x min_coverage) x running`` (the rounded-up
form of what the coverage rows imply only fractionally). Near a kink of a mission's
value (one half with diminishing returns, and ``max_coverage``) the rows of
:meth:`_Builder._unit_cuts` say what coverage a whole number of units really buys
(half a field hospital buys nothing), and a capacity in whole units is the whole
number usable (14.4 helicopters after the reserve: 14). Every plan in whole units meets
these rows; they only cut off fractions, so the relaxation is a tight bound. For a
mission-period that may stop, with whole units, the one-half kink and the unit rows
are also written in their perspective form (their constants times the running decision): a relaxation can
no longer run a battalion at 0.5 for half its start-up cost and the first half's higher
worth (the national sample with the budget cut 20%: the bound falls from 0.7% to 0.2%
above the best plan, and HiGHS's own search from 27 s to under 4 s).

Money is carried in the model in units of :attr:`MissionModel.money_unit` (a power of
ten chosen so that budgets are numbers in the hundreds), to keep the solver's matrix
well scaled; plans and shadow prices are converted back to plain money by the plan's
tables (:mod:`optimiser.tables`). A mission-period that can cost nothing has no money
rows; a resource without a limit, a zone without a cap and a budget no eligible mission
can draw on have no rows (their shadow price is 0).

Rows are built a family at a time from numpy (row, column, coefficient) triplets, never
term by term, and kept in that CSR form: each row is a :class:`BuiltRow` (a
:class:`pulp.LpConstraint`) whose expression is made only when something reads it, and
the solver layer loads untouched rows straight from the arrays (:func:`row_matrix`).
The national sample (150 missions x 16 resources x 4 periods) builds in about 0.05 s;
2,000 missions x 20 resources x 8 periods relaxed (70,000 variables, 35,000 rows) in
about 0.35 s, and loads into HiGHS in 0.05 s.
"""

from __future__ import annotations

import gc
import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np
import pandas as pd
import pulp

from optimiser.scenario import Scenario
from optimiser.schema import RUNNING_FLOOR

log = logging.getLogger(__name__)

HALF = 0.5  # coverage at which diminishing returns set in
FIRST_HALF_SLOPE = 4.0 / 3.0  # value per unit of coverage up to one half
SECOND_HALF_SLOPE = 2.0 / 3.0  # value per unit of coverage beyond one half
_ROUND = 1e-6  # tolerance when rounding quantity * coverage to whole units

Cell = tuple[str, str]  # (mission_id, period_id)


@dataclass(eq=False)
class MissionModel:
    """A built model and the handles to read and change it.

    Attributes
    ----------
    problem : the PuLP problem; its objective is :attr:`value` (maximised).
    scenario : the scenario it was built from.
    money_unit : money in the model is real money divided by this (e.g. 1e5).
    variables : every variable, in solver column order (``variable.index`` is set to
        the position). A variable added later must be appended here to be seen by
        the solver layer; use :meth:`add_variable`.
    cells : one row per active (mission, period), in canonical order (mission ids
        sorted as text, then periods in planning order, whatever the workbook's row
        order: ties between equal plans never depend on it):
        ``mission_id``, ``period_id``, ``zone_id``, ``region``, ``type``,
        ``priority``, ``weight``, ``worth`` (tier weight x weight), ``must_fund``,
        ``min_coverage``, ``max_coverage``, ``running_cost``, ``hazard_multiplier``,
        ``max_value`` (worth x g(max_coverage)), and the solver columns of its
        variables: ``coverage_column``, ``excess_column`` and ``running_column`` (-1
        where the mission-period has no such variable).
    needs : one row per (mission, resource, period) of the requirements of active
        cells (quantity 0 included), by cell then resource id: ``cell`` (row of
        :attr:`cells`), ``mission_id``,
        ``period_id``, ``resource_id``, ``kind``, ``quantity``, ``unit_cost`` (hazard
        adjusted), ``integer`` (whole units in this scenario), ``column`` (solver
        column of the units variable, -1 when units are quantity x coverage).
    flows : one row per money flow variable: ``source_id``, ``cell``,
        ``mission_id``, ``period_id``, ``column``.
    coverage, excess, running : variables by (mission_id, period_id).
    units : integer allocation variables by (mission_id, resource_id, period_id).
    flow : money flow variables by (source_id, mission_id, period_id).
    capacity : usable units per resource and period, by (resource_id, period_id);
        only for limited resources that some active mission needs.
    budgets : money per source and period, by (source_id, period_id).
    zone_caps : personnel caps, by (zone_id, period_id).
    must_fund : must-fund floors ``coverage >= min_coverage``, by (mission, period).
    policies : policy rows, by (row of ``portfolio.policies``, period_id or None for
        the budget-share rules that span every period).
    on_off : for on/off missions, by (mission, period): the pair of rows
        ``coverage >= min * running`` and ``coverage <= max * running``.
    value : total value, sum of tier weight x weight x g(coverage).
    tier_value : the part of :attr:`value` from each priority tier (1..5) present.
    spending : total money spent, in model money units.
    tidy_units : a tiny cost on units of free (zero-cost) integer resources, added to
        the money objective so that no unit is allocated for nothing.
    change_limits : with a Baseline sheet and ``max_change``, by (mission, period): the
        rows ``coverage >= baseline - max_change`` and ``coverage <= baseline +
        max_change`` (either None where it cannot bind).
    moved : with a Baseline sheet and ``change_penalty``, the coverage moved away from
        the baseline, summed over mission-periods (``change_penalty x moved`` is taken
        off :attr:`value` and the tiers' values).
    """

    problem: pulp.LpProblem
    scenario: Scenario
    money_unit: float
    variables: list[pulp.LpVariable]
    cells: pd.DataFrame
    needs: pd.DataFrame
    flows: pd.DataFrame
    coverage: dict[Cell, pulp.LpVariable]
    excess: dict[Cell, pulp.LpVariable]
    running: dict[Cell, pulp.LpVariable]
    units: dict[tuple[str, str, str], pulp.LpVariable]
    flow: dict[tuple[str, str, str], pulp.LpVariable]
    capacity: dict[tuple[str, str], pulp.LpConstraint]
    budgets: dict[tuple[str, str], pulp.LpConstraint]
    zone_caps: dict[tuple[str, str], pulp.LpConstraint]
    must_fund: dict[Cell, pulp.LpConstraint]
    policies: dict[tuple[int, str | None], pulp.LpConstraint]
    on_off: dict[Cell, tuple[pulp.LpConstraint, pulp.LpConstraint]]
    value: pulp.LpAffineExpression
    tier_value: dict[int, pulp.LpAffineExpression]
    spending: pulp.LpAffineExpression
    tidy_units: pulp.LpAffineExpression = field(default_factory=pulp.LpAffineExpression)
    change_limits: dict[Cell, tuple[pulp.LpConstraint | None, pulp.LpConstraint | None]] = field(
        default_factory=dict
    )
    moved: pulp.LpAffineExpression = field(default_factory=pulp.LpAffineExpression)
    starts: dict[Cell, pulp.LpVariable] = field(default_factory=dict)
    stops: dict[Cell, pulp.LpVariable] = field(default_factory=dict)
    timeline_rows: dict[str, dict] = field(default_factory=dict)

    def fixed_running(self, decisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The columns and values that fix the running decisions (one per
        :attr:`running`, in its order, 0 or 1) and the starts and stops they imply:
        what :meth:`~optimiser.solvers.Engine.fix_running` takes."""
        cells = self.cells
        run_col = cells["running_column"].to_numpy(np.int64)
        on = np.zeros(len(cells))
        on[run_col >= 0] = np.round(np.asarray(decisions, dtype=float))
        starts, stops = starts_and_stops(cells, on)
        start_col = cells["start_column"].to_numpy(np.int64)
        stop_col = cells["stop_column"].to_numpy(np.int64)
        has_start, has_stop = start_col >= 0, stop_col >= 0
        columns = np.concatenate([run_col[run_col >= 0], start_col[has_start], stop_col[has_stop]])
        values = np.concatenate([on[run_col >= 0], starts[has_start], stops[has_stop]])
        return columns, values

    @property
    def running_columns(self) -> np.ndarray:
        """The running decisions' columns and their starts' and stops' (what
        :meth:`fixed_running` fixes and :meth:`~optimiser.solvers.Engine.free_running` frees)."""
        cells = self.cells
        columns = [cells[c].to_numpy(np.int64) for c in ("running_column", "start_column", "stop_column")]
        return np.concatenate([c[c >= 0] for c in columns])

    def add_variable(
        self, name: str, low: float | None = 0.0, up: float | None = None, cat: str = pulp.LpContinuous
    ) -> pulp.LpVariable:
        """A new variable, registered in solver column order (e.g. a penalised slack)."""
        variable = self.problem.add_variable(name, low, up, cat)
        variable.index = len(self.variables)
        self.variables.append(variable)
        return variable

    @property
    def constraints(self) -> list[pulp.LpConstraint]:
        """Every constraint, in solver row order."""
        return self.problem.constraints()

    @property
    def is_mip(self) -> bool:
        return any(v.cat == pulp.LpInteger for v in self.variables)

    def __repr__(self) -> str:
        return (
            f"MissionModel({len(self.variables)} variables, {len(self.problem.constraints())} constraints, "
            f"{len(self.cells)} mission-periods, money unit {self.money_unit:g})"
        )


def starts_and_stops(cells: pd.DataFrame, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each mission starts and stops (SPEC 3.1), one 0/1 per row of ``cells`` (a
    model's :attr:`MissionModel.cells`: by mission, periods in order, with
    ``previous`` and ``running_now``), from whether it runs there (``runs``, 0/1 or
    coverage above 0). A start: it runs and did not in the period before (before the
    first active period: ``running_now``); a stop: it does not run and did before."""
    on = (np.asarray(runs, dtype=float) > 1e-9).astype(float)
    previous = cells["previous"].to_numpy(np.int64)
    before = np.where(previous >= 0, on[np.maximum(previous, 0)], cells["running_now"].to_numpy(bool))
    return np.maximum(on - before, 0.0), np.maximum(before - on, 0.0)


def keep_rules(cells: pd.DataFrame, on: np.ndarray, lean: np.ndarray) -> np.ndarray:
    """Running decisions (0/1 per row of ``cells``) nearest to ``on`` that keep continuity
    and min_run (SPEC 3.1), for rounding a relaxation: per mission held to either rule,
    the pattern that agrees with ``on`` in the most periods (ties: the one running where
    ``lean``, in [0, 1], is highest), running wherever a must-fund floor above 0 says so.
    Rows of other missions are ``on`` as given."""
    on = (np.asarray(on, dtype=float) > 0.5).astype(float)
    continuity = cells["continuity"].to_numpy(bool)
    min_run = cells["min_run"].to_numpy(np.int64)
    ruled = np.flatnonzero(cells["timeline"].to_numpy(bool) & (continuity | (min_run > 1)))
    if not len(ruled):
        return on
    forced = cells["must_fund"].to_numpy(bool) & (cells["min_coverage"].to_numpy(float) > 0)
    score = np.where(on > 0.5, 1.0, -1.0) + 1e-3 * np.clip(np.asarray(lean, dtype=float), 0.0, 1.0)
    mission = cells["mission_id"].to_numpy()
    running_now = cells["running_now"].to_numpy(bool)
    out = on.copy()
    bounds = np.flatnonzero(np.r_[True, mission[ruled][1:] != mission[ruled][:-1], True])
    for a, b in itertools.pairwise(bounds):
        k = ruled[a:b]
        out[k] = _best_pattern(
            score[k], forced[k], bool(continuity[k[0]]), int(min_run[k[0]]), bool(running_now[k[0]])
        )
    return out


def _best_pattern(score, forced, continuity: bool, min_run: int, running_now: bool) -> np.ndarray:
    """The 0/1 pattern over a mission's active periods with the highest total ``score``
    of its running periods, running wherever ``forced``, that keeps continuity (one
    stretch; none after a stop) and min_run (a run started here lasts min_run periods,
    or to the end). States: (phase, periods run so far in this run, capped at
    min_run); phase 0 not yet run, 1 running, 2 stopped."""
    start = (1, min_run) if running_now else (0, 0)  # a run going before the first: exempt
    best: dict[tuple[int, int], tuple[float, tuple[int, ...]]] = {start: (0.0, ())}
    for s, must in zip(score.tolist(), forced.tolist(), strict=True):
        offers: list[tuple[tuple[int, int], float, tuple[int, ...]]] = []
        for (phase, ran), (total, path) in best.items():
            # run in this period
            if phase == 1:
                offers.append(((1, min(ran + 1, min_run)), total + s, (*path, 1)))
            elif phase == 0 or not continuity:
                offers.append(((1, 1), total + s, (*path, 1)))
            # do not run
            if not must and not (phase == 1 and ran < min_run):
                offers.append(((2 if phase else 0, 0), total, (*path, 0)))
        best = {}
        for state, total, path in offers:
            if state not in best or total > best[state][0]:
                best[state] = (total, path)
    if not best:  # forced on where min_run or continuity cannot allow it: run throughout
        return np.ones(len(score))
    return np.array(max(best.values())[1], dtype=float)


def value_of_coverage(coverage: np.ndarray | float, diminishing_returns: bool) -> np.ndarray:
    """g(c): the worth of a coverage, concave when ``diminishing_returns`` (SPEC 3)."""
    c = np.asarray(coverage, dtype=float)
    if not diminishing_returns:
        return c
    return FIRST_HALF_SLOPE * np.minimum(c, HALF) + SECOND_HALF_SLOPE * np.maximum(c - HALF, 0.0)


def build_model(scenario: Scenario, *, name: str = "missions") -> MissionModel:
    """Build the allocation model of SPEC section 3 for a scenario.

    Parameters
    ----------
    scenario : a portfolio with levers applied (:func:`optimiser.levers.apply_levers`).
        Reads ``portfolio.missions``, ``zones``, ``resources``, ``requirements``,
        ``sources``, ``policies`` and ``periods``, plus ``scenario.capacity``
        (usable units), ``scenario.budget`` (money per source and period) and
        ``scenario.active`` (active mission-periods).
    name : the problem's name.

    Returns
    -------
    MissionModel
        The problem with total value as objective (maximise), and handles.
    """
    builder = _Builder(scenario, name)
    with _no_cyclic_gc():
        return builder.build()


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while the model's objects are made: they
    hold no garbage cycles, and with 100,000 of them the collector's passes over the
    growing heap cost a quarter of the build (2,000 missions: about 0.1 s). Reference
    counting still frees everything. Only the build that found it on switches it back
    on, so builds in several threads at once leave it on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Builder:
    """Turns a scenario into variables and rows, one family at a time."""

    def __init__(self, scenario: Scenario, name: str):
        self.scenario = scenario
        self.levers = scenario.levers
        self.portfolio = scenario.portfolio
        self.problem = pulp.LpProblem(name, pulp.LpMaximize)
        self.variables: list[pulp.LpVariable] = []

    # -- preparation -----------------------------------------------------------------

    def _cells(self) -> pd.DataFrame:
        portfolio, levers = self.portfolio, self.levers
        missions, zones = portfolio.missions, portfolio.zones
        cells = _canonical(
            self.scenario.active[["mission_id", "period_id"]], ["mission_id"], portfolio.period_ids
        )
        info = missions.loc[cells["mission_id"]]
        for column in ("zone_id", "type", "running_cost", "min_coverage", "max_coverage"):
            cells[column] = info[column].to_numpy()
        cells["priority"] = info["priority"].to_numpy().astype(int)
        cells["weight"] = info["weight"].to_numpy().astype(float)
        cells["must_fund"] = info["must_fund"].to_numpy().astype(bool)
        cells["region"] = cells["zone_id"].map(zones["region"]).to_numpy()
        cells["hazard_multiplier"] = cells["zone_id"].map(zones["hazard_multiplier"]).astype(float).to_numpy()
        tier = np.asarray(levers.priority_weights, dtype=float)
        cells["worth"] = tier[cells["priority"].to_numpy() - 1] * cells["weight"].to_numpy()
        cells["max_value"] = cells["worth"] * value_of_coverage(
            cells["max_coverage"].to_numpy(float), levers.diminishing_returns
        )
        for column in ("running_cost", "min_coverage", "max_coverage"):
            cells[column] = cells[column].astype(float)
        self._timeline_columns(cells, info)
        return cells

    def _timeline_columns(self, cells: pd.DataFrame, info: pd.DataFrame) -> None:
        """The rules of plans over time (SPEC 3.1) per mission-period: ``running_now``,
        ``min_run``, ``startup_cost``, ``closure_cost``, ``max_step`` (NaN: none),
        ``continuity`` (it applies: the mission's column, the setting, and two or more
        active periods), ``timeline`` (some rule applies, so the mission has a running
        decision in every active period), ``previous`` (the mission's cell in the active
        period before, -1 for the first) and ``running_floor`` (the least coverage of a
        running mission-period: its on/off minimum, and at least 1% where a rule applies)."""
        mission = cells["mission_id"].to_numpy()
        n = len(cells)
        first = np.ones(n, dtype=bool)
        first[1:] = mission[1:] != mission[:-1]  # cells are by mission, periods in order
        previous = np.where(first, -1, np.arange(n) - 1)
        periods = pd.Series(mission).map(pd.Series(mission).value_counts()).to_numpy()
        cells["running_now"] = info["running_now"].to_numpy().astype(bool)
        cells["min_run"] = info["min_run"].to_numpy().astype(np.int64)
        cells["startup_cost"] = info["startup_cost"].to_numpy().astype(float)
        cells["closure_cost"] = info["closure_cost"].to_numpy().astype(float)
        cells["max_step"] = info["max_step"].to_numpy().astype(float)
        continuity = (
            info["continuity"].to_numpy().astype(bool) & bool(self.levers.continuity) & (periods >= 2)
        )
        cells["continuity"] = continuity
        timeline = (
            continuity
            | (cells["min_run"].to_numpy() > 1)
            | (cells["startup_cost"].to_numpy() > 0)
            | (cells["closure_cost"].to_numpy() > 0)
            | np.isfinite(cells["max_step"].to_numpy())
        )
        cells["timeline"] = timeline
        cells["previous"] = previous
        low, high = cells["min_coverage"].to_numpy(float), cells["max_coverage"].to_numpy(float)
        cells["running_floor"] = np.where(timeline, np.minimum(np.maximum(low, RUNNING_FLOOR), high), low)

    def _needs(self, cells: pd.DataFrame) -> pd.DataFrame:
        resources = self.portfolio.resources
        cell_of = pd.DataFrame(
            {
                "mission_id": cells["mission_id"],
                "period_id": cells["period_id"],
                "cell": np.arange(len(cells)),
            }
        )
        needs = self.portfolio.requirements[["mission_id", "resource_id", "quantity"]].merge(
            cell_of, on="mission_id", how="inner"
        )
        needs = needs.sort_values(["cell", "resource_id"], key=_as_text, kind="stable").reset_index(drop=True)
        needs["quantity"] = needs["quantity"].astype(float)
        needs["kind"] = needs["resource_id"].map(resources["kind"]).to_numpy()
        base_cost = needs["resource_id"].map(resources["unit_cost"]).astype(float).to_numpy()
        hazard = cells["hazard_multiplier"].to_numpy()[needs["cell"].to_numpy()]
        personnel = (needs["kind"] == "personnel").to_numpy()
        needs["unit_cost"] = base_cost * np.where(personnel, hazard, 1.0)
        integer = needs["resource_id"].map(resources["integer"]).astype(bool).to_numpy()
        needs["integer"] = integer & bool(self.levers.integer)
        needs = needs[
            ["cell", "mission_id", "period_id", "resource_id", "kind", "quantity", "unit_cost", "integer"]
        ]
        return needs

    @staticmethod
    def _money_unit(budget: pd.DataFrame) -> float:
        """A power of ten that makes the typical budget a number in the hundreds."""
        amounts = budget["amount"].to_numpy(float)
        amounts = amounts[np.isfinite(amounts) & (amounts > 0)]
        if not len(amounts):
            return 1.0
        exponent = math.floor(math.log10(float(np.median(amounts)))) - 2
        return float(10.0 ** max(exponent, 0))

    # -- variables ---------------------------------------------------------------------

    def _new(self, names: Sequence[str], low: Sequence[float], up: Sequence[float | None], cat: str) -> list:
        start = len(self.variables)
        made = [_Variable(n, lo, hi, cat) for n, lo, hi in zip(names, low, up, strict=True)]
        for offset, variable in enumerate(made):
            variable.index = start + offset
        self.variables.extend(made)
        self.problem._add_variables(made)  # registered once here, not term by term per row
        return made

    # -- rows ----------------------------------------------------------------------------

    def _block(self, rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray, n_rows: int) -> _Block:
        """A family of rows from (row, column, coefficient) triplets; duplicates summed,
        zeros dropped, each row's terms by column."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        coefs = np.asarray(coefs, dtype=float)
        keep = coefs != 0.0
        rows, cols, coefs = rows[keep], cols[keep], coefs[keep]
        if len(rows):
            order = np.lexsort((cols, rows))
            rows, cols, coefs = rows[order], cols[order], coefs[order]
            first = np.ones(len(rows), dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
            if not first.all():
                starts = np.flatnonzero(first)
                coefs = np.add.reduceat(coefs, starts)
                rows, cols = rows[starts], cols[starts]
        starts = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
        return _Block(starts, cols, coefs, self.variables)

    def _expressions(self, rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray, n_rows: int) -> list:
        """One expression per row from (row, column, coefficient) triplets (see :meth:`_block`)."""
        block = self._block(rows, cols, coefs, n_rows)
        return [block.expression(r) for r in range(n_rows)]

    def _add_rows(self, prefix: str, block: _Block, sense: int, rhs: Sequence[float]) -> list:
        """One constraint per row of the block, ``row (sense) rhs``, named ``prefix_i``."""
        bounds = [float(b) for b in rhs]
        if len(bounds) != block.n_rows:
            raise ValueError(f"{prefix}: {block.n_rows} rows but {len(bounds)} right-hand sides")
        if not all(map(math.isfinite, bounds)):  # as pulp.LpConstraint refuses them
            raise pulp.PulpError(f"{prefix}: a right-hand side is not a finite number")
        made = [BuiltRow(block, r, sense, f"{prefix}_{r}", b) for r, b in enumerate(bounds)]
        _append_rows(self.problem, made)
        return made

    # -- the model -----------------------------------------------------------------------

    def build(self) -> MissionModel:
        levers, scenario = self.levers, self.scenario
        cells = self._cells()
        needs = self._needs(cells)
        money_unit = self._money_unit(scenario.budget)
        n_cells = len(cells)
        keys = list(zip(cells["mission_id"].tolist(), cells["period_id"].tolist(), strict=True))
        max_cov = cells["max_coverage"].to_numpy(float)
        min_cov = cells["min_coverage"].to_numpy(float)
        must_fund = cells["must_fund"].to_numpy(bool)
        dr = bool(levers.diminishing_returns)

        # Coverage: the share of each mission's requirements met in each active period.
        coverage = self._new(
            [f"coverage_{k}" for k in range(n_cells)], [0.0] * n_cells, max_cov.tolist(), pulp.LpContinuous
        )
        cov_col = np.array([v.index for v in coverage], dtype=np.int64)

        # Excess: coverage beyond one half, worth half as much per unit (diminishing returns).
        has_excess = np.flatnonzero(max_cov > HALF) if dr else np.array([], dtype=np.int64)
        excess = self._new(
            [f"excess_{k}" for k in has_excess],
            [0.0] * len(has_excess),
            (np.minimum(max_cov[has_excess] - HALF, HALF)).tolist(),
            pulp.LpContinuous,
        )

        # Running: a mission with an on/off minimum is either off or at least at its minimum;
        # so is every mission-period where a rule of plans over time applies (SPEC 3.1),
        # its minimum at least 1%.
        timeline = cells["timeline"].to_numpy(bool)
        run_floor = cells["running_floor"].to_numpy(float)
        is_on_off = np.flatnonzero((~must_fund & (min_cov > 0) & (max_cov > 0)) | timeline)
        running = self._new(
            [f"running_{k}" for k in is_on_off], [0] * len(is_on_off), [1] * len(is_on_off), pulp.LpInteger
        )
        # Starts and stops: continuous, exact where the running decisions are whole (SPEC
        # 3.1; see _timeline_rows). A start where a rule reads it; a stop where it costs
        # money or exempts a step. None where it is 0 whatever the plan: a start in the
        # first active period of a mission running now, a stop there of one that is not.
        running_now = cells["running_now"].to_numpy(bool)
        previous = cells["previous"].to_numpy(np.int64)
        has_step = np.isfinite(cells["max_step"].to_numpy(float))
        startup_cost = cells["startup_cost"].to_numpy(float)
        closure_cost = cells["closure_cost"].to_numpy(float)
        begins = (previous < 0) & running_now
        ends = (previous < 0) & ~running_now
        needs_start = cells["continuity"].to_numpy(bool) | (cells["min_run"].to_numpy() > 1)
        has_start = np.flatnonzero(timeline & ~begins & (needs_start | (startup_cost > 0) | has_step))
        has_stop = np.flatnonzero(timeline & ~ends & ((closure_cost > 0) | has_step))
        starts = self._new(
            [f"start_{k}" for k in has_start],
            [0.0] * len(has_start),
            [1.0] * len(has_start),
            pulp.LpContinuous,
        )
        stops = self._new(
            [f"stop_{k}" for k in has_stop], [0.0] * len(has_stop), [1.0] * len(has_stop), pulp.LpContinuous
        )
        # each mission-period's columns, for the solver layer's array work (-1: none)
        cells["coverage_column"] = cov_col
        for column, where, made in (
            ("excess_column", has_excess, excess),
            ("running_column", is_on_off, running),
            ("start_column", has_start, starts),
            ("stop_column", has_stop, stops),
        ):
            at = np.full(n_cells, -1, dtype=np.int64)
            at[where] = [v.index for v in made]
            cells[column] = at

        # Units: whole units of integer resources; continuous ones are quantity x coverage.
        quantity = needs["quantity"].to_numpy(float)
        need_cell = needs["cell"].to_numpy(np.int64)
        integer_need = np.flatnonzero(needs["integer"].to_numpy(bool) & (quantity > 0))
        unit_up = np.ceil(quantity[integer_need] * max_cov[need_cell[integer_need]] - _ROUND)
        units = self._new(
            [f"units_{j}" for j in integer_need],
            [0] * len(integer_need),
            np.maximum(unit_up, 0).astype(int).tolist(),
            pulp.LpInteger,
        )
        unit_col = np.full(len(needs), -1, dtype=np.int64)
        unit_col[integer_need] = [v.index for v in units]
        needs["column"] = unit_col
        active_need = np.flatnonzero(quantity > 0)
        # every positive need as a term "units": (column, coefficient)
        term_col = np.where(unit_col >= 0, unit_col, cov_col[need_cell])
        term_coef = np.where(unit_col >= 0, 1.0, quantity)

        # Money: flows from each eligible source to each mission-period that can cost money.
        unit_cost = needs["unit_cost"].to_numpy(float)
        full_cost = np.bincount(need_cell, weights=unit_cost * quantity, minlength=n_cells)
        running_cost = cells["running_cost"].to_numpy(float)
        start_col = cells["start_column"].to_numpy(np.int64)
        stop_col = cells["stop_column"].to_numpy(np.int64)
        pays_start = (start_col >= 0) & (startup_cost > 0)
        pays_stop = (stop_col >= 0) & (closure_cost > 0)
        can_cost = np.flatnonzero(((full_cost + running_cost) * max_cov > 0) | pays_start | pays_stop)
        flows = self._flows(cells, can_cost)
        flow_vars = self._new(
            [f"flow_{i}" for i in range(len(flows))],
            [0.0] * len(flows),
            [None] * len(flows),
            pulp.LpContinuous,
        )
        flows["column"] = np.array([v.index for v in flow_vars], dtype=np.int64)
        flow_cell = flows["cell"].to_numpy(np.int64)
        flow_col = flows["column"].to_numpy(np.int64)

        # Units needed: a mission's coverage cannot outrun the whole units it is given.
        rows = np.arange(len(integer_need))
        family = self._block(
            np.concatenate([rows, rows]),
            np.concatenate([unit_col[integer_need], cov_col[need_cell[integer_need]]]),
            np.concatenate([np.ones(len(rows)), -quantity[integer_need]]),
            len(rows),
        )
        self._add_rows("units_needed", family, pulp.LpConstraintGE, [0.0] * len(rows))

        # Diminishing returns: the excess is at least the coverage beyond one half.
        if len(has_excess):
            rows = np.arange(len(has_excess))
            family = self._block(
                np.concatenate([rows, rows]),
                np.concatenate([cov_col[has_excess], [v.index for v in excess]]),
                np.concatenate([np.ones(len(rows)), -np.ones(len(rows))]),
                len(rows),
            )
            self._add_rows("half", family, pulp.LpConstraintLE, [HALF] * len(rows))

        # Must-fund floors: a must-fund mission gets at least its minimum coverage.
        floor_cells = np.flatnonzero(must_fund & (min_cov > 0))
        rows = np.arange(len(floor_cells))
        family = self._block(rows, cov_col[floor_cells], np.ones(len(rows)), len(rows))
        floors = self._add_rows("must_fund", family, pulp.LpConstraintGE, min_cov[floor_cells].tolist())

        # On/off minimums: a mission worth running only from its minimum is off or above it.
        on_off: dict[Cell, tuple[pulp.LpConstraint, pulp.LpConstraint]] = {}
        run_of_cell = np.full(n_cells, -1, dtype=np.int64)  # the running column (-1: none)
        run_of_cell[is_on_off] = [v.index for v in running]
        if len(is_on_off):
            rows = np.arange(len(is_on_off))
            run_col = np.array([v.index for v in running], dtype=np.int64)
            low = self._add_rows(
                "on_min",
                self._block(
                    np.concatenate([rows, rows]),
                    np.concatenate([cov_col[is_on_off], run_col]),
                    np.concatenate([np.ones(len(rows)), -run_floor[is_on_off]]),
                    len(rows),
                ),
                pulp.LpConstraintGE,
                [0.0] * len(rows),
            )
            high = self._add_rows(
                "on_max",
                self._block(
                    np.concatenate([rows, rows]),
                    np.concatenate([cov_col[is_on_off], run_col]),
                    np.concatenate([np.ones(len(rows)), -max_cov[is_on_off]]),
                    len(rows),
                ),
                pulp.LpConstraintLE,
                [0.0] * len(rows),
            )
            on_off = {keys[k]: (lo, hi) for k, lo, hi in zip(is_on_off, low, high, strict=True)}
            # A running mission needs at least its minimum in whole units of each integer
            # resource (a rounded-up cut that the plain rows only imply fractionally).
            least = np.ceil(quantity * run_floor[need_cell] - _ROUND)
            cut = np.flatnonzero(
                (unit_col >= 0)
                & (run_of_cell[need_cell] >= 0)
                & (least > quantity * run_floor[need_cell] + _ROUND)
            )
            if len(cut):
                rows = np.arange(len(cut))
                self._add_rows(
                    "on_units",
                    self._block(
                        np.concatenate([rows, rows]),
                        np.concatenate([unit_col[cut], run_of_cell[need_cell[cut]]]),
                        np.concatenate([np.ones(len(rows)), -least[cut]]),
                        len(rows),
                    ),
                    pulp.LpConstraintGE,
                    [0.0] * len(rows),
                )

        # Plans over time: starts, stops, continuity, min_run, max_step (SPEC 3.1).
        timeline_rows = self._timeline_rows(cells, cov_col)

        excess_col = np.full(n_cells, -1, dtype=np.int64)
        excess_col[has_excess] = [v.index for v in excess]
        # Diminishing returns of a mission that may stop: the first half is covered only
        # while it runs, coverage - excess <= 1/2 x running (the perspective of "half";
        # a plan running it meets "half", one stopping it has coverage and excess 0). For
        # the integer search's bound: a relaxed plan (integer = no) fixes its on/off
        # decisions from one LP, where the row only slows the money stage
        perspective = has_excess[run_of_cell[has_excess] >= 0] if len(integer_need) else has_excess[:0]
        if len(perspective):
            rows = np.arange(len(perspective))
            family = self._block(
                np.concatenate([rows, rows, rows]),
                np.concatenate([cov_col[perspective], excess_col[perspective], run_of_cell[perspective]]),
                np.concatenate([np.ones(len(rows)), -np.ones(len(rows)), np.full(len(rows), -HALF)]),
                len(rows),
            )
            self._add_rows("half_running", family, pulp.LpConstraintLE, [0.0] * len(rows))

        # Whole units: what coverage a whole number of units can buy (valid for every plan
        # in whole units; the relaxation is then a far tighter bound).
        self._unit_cuts(quantity, need_cell, unit_col, cov_col, excess_col, max_cov, run_of_cell)

        # Capacity: units given out never exceed what is usable after the reserve.
        capacity = self._capacity_rows(needs, active_need, term_col, term_coef)

        # Zone caps: personnel deployed in a zone stay within its cap.
        zone_caps = self._zone_rows(cells, needs, active_need, term_col, term_coef)

        # Cost: what a mission-period costs (hazard-adjusted units plus running cost) is
        # paid in full by its eligible funding sources.
        cost_rows = np.full(n_cells, -1, dtype=np.int64)
        cost_rows[can_cost] = np.arange(len(can_cost))
        pay = active_need[cost_rows[need_cell[active_need]] >= 0]
        # Start-up and closure money is part of the cost of the period it falls in.
        start_pay = np.flatnonzero(pays_start)
        stop_pay = np.flatnonzero(pays_stop)
        family = self._block(
            np.concatenate(
                [
                    cost_rows[flow_cell],
                    cost_rows[need_cell[pay]],
                    cost_rows[can_cost],
                    cost_rows[start_pay],
                    cost_rows[stop_pay],
                ]
            ),
            np.concatenate(
                [flow_col, term_col[pay], cov_col[can_cost], start_col[start_pay], stop_col[stop_pay]]
            ),
            np.concatenate(
                [
                    np.ones(len(flow_col)),
                    -unit_cost[pay] * term_coef[pay] / money_unit,
                    -running_cost[can_cost] / money_unit,
                    -startup_cost[start_pay] / money_unit,
                    -closure_cost[stop_pay] / money_unit,
                ]
            ),
            len(can_cost),
        )
        self._add_rows("paid", family, pulp.LpConstraintEQ, [0.0] * len(can_cost))

        # Budgets: each source pays no more than it holds in the period (earmarks are
        # enforced by creating flows only to eligible missions).
        budgets = self._budget_rows(flows, money_unit)

        # Policies: portfolio rules on budget shares and average coverage.
        policies = self._policy_rows(cells, flows, cov_col)

        # Value: tier weight x weight x g(coverage), g concave with diminishing returns.
        worth = cells["worth"].to_numpy(float)
        excess_col = np.array([v.index for v in excess], dtype=np.int64)
        value_cols = np.concatenate([cov_col, excess_col])
        value_coefs = np.concatenate(
            [
                worth * (FIRST_HALF_SLOPE if dr else 1.0),
                -worth[has_excess] * (FIRST_HALF_SLOPE - SECOND_HALF_SLOPE),
            ]
        )
        value_cell = np.concatenate([np.arange(n_cells), has_excess])
        priority = cells["priority"].to_numpy(int)
        value = self._expressions(np.zeros(len(value_cols)), value_cols, value_coefs, 1)[0]
        tiers = sorted(set(priority.tolist()))
        tier_index = {t: i for i, t in enumerate(tiers)}
        tier_rows = np.array([tier_index[t] for t in priority[value_cell].tolist()], dtype=np.int64)
        tier_value = dict(
            zip(tiers, self._expressions(tier_rows, value_cols, value_coefs, len(tiers)), strict=True)
        )
        spending = self._expressions(np.zeros(len(flow_col)), flow_col, np.ones(len(flow_col)), 1)[0]
        free = np.flatnonzero((unit_col >= 0) & (unit_cost <= 0))
        tidy_units = self._expressions(np.zeros(len(free)), unit_col[free], np.ones(len(free)), 1)[0]

        # Stability against today's plan (Baseline sheet, max_change, change_penalty).
        change_limits, moved = self._stability_rows(cells, cov_col, value, tier_value)
        self.problem.setObjective(value)

        unit_keys = zip(
            needs["mission_id"].to_numpy()[integer_need].tolist(),
            needs["resource_id"].to_numpy()[integer_need].tolist(),
            needs["period_id"].to_numpy()[integer_need].tolist(),
            strict=True,
        )
        flow_keys = zip(
            flows["source_id"].tolist(),
            flows["mission_id"].tolist(),
            flows["period_id"].tolist(),
            strict=True,
        )
        model = MissionModel(
            problem=self.problem,
            scenario=scenario,
            money_unit=money_unit,
            variables=self.variables,
            cells=cells,
            needs=needs,
            flows=flows,
            coverage=dict(zip(keys, coverage, strict=True)),
            excess={keys[k]: v for k, v in zip(has_excess, excess, strict=True)},
            running={keys[k]: v for k, v in zip(is_on_off, running, strict=True)},
            starts={keys[k]: v for k, v in zip(has_start, starts, strict=True)},
            stops={keys[k]: v for k, v in zip(has_stop, stops, strict=True)},
            timeline_rows=timeline_rows,
            units=dict(zip(unit_keys, units, strict=True)),
            flow=dict(zip(flow_keys, flow_vars, strict=True)),
            capacity=capacity,
            budgets=budgets,
            zone_caps=zone_caps,
            must_fund={keys[k]: c for k, c in zip(floor_cells, floors, strict=True)},
            policies=policies,
            on_off=on_off,
            value=value,
            tier_value=tier_value,
            spending=spending,
            tidy_units=tidy_units,
            change_limits=change_limits,
            moved=moved,
        )
        log.debug("built %r", model)
        return model

    # -- plans over time -----------------------------------------------------------------

    def _timeline_rows(self, cells: pd.DataFrame, cov_col: np.ndarray) -> dict[str, dict]:
        """The rules of SPEC 3.1, one family each, for the missions they apply to.

        ``run[p]`` is the running decision of a mission-period (binary), ``run`` before the
        first active period is ``running_now`` (a number); ``start[p]`` and ``stop[p]`` are
        continuous in [0, 1]. With whole running decisions the rows below make a start
        exactly "runs in p and not in the period before" wherever it could gain anything
        from being larger, and so a stop; the stages fix both with the decisions.

        Returns the rules' rows by family: ``continuity`` by (mission,), ``min_run`` by
        (mission, period started, period held), ``step_up`` and ``step_down`` by
        (mission, period).
        """
        mission = cells["mission_id"].to_numpy()
        period = cells["period_id"].to_numpy()
        run_col = cells["running_column"].to_numpy(np.int64)
        start_col = cells["start_column"].to_numpy(np.int64)
        stop_col = cells["stop_column"].to_numpy(np.int64)
        previous = cells["previous"].to_numpy(np.int64)
        running_now = cells["running_now"].to_numpy(bool).astype(float)
        made: dict[str, dict] = {}

        def pairs(rows: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> _Block:
            keep = [(rows[w], c[w], v[w]) for w, c, v in parts]
            return self._block(
                np.concatenate([k[0] for k in keep]),
                np.concatenate([k[1] for k in keep]),
                np.concatenate([k[2] for k in keep]),
                n,
            )

        # A start: it runs in this period and did not in the one before (or running_now).
        k = np.flatnonzero(start_col >= 0)
        if len(k):
            rows, has_prev = np.arange(len(k)), previous[k] >= 0
            every = np.ones(len(k), dtype=bool)
            family = pairs(
                rows,
                [
                    (every, start_col[k], np.ones(len(k))),
                    (every, run_col[k], -np.ones(len(k))),
                    (has_prev, run_col[np.maximum(previous[k], 0)], np.ones(len(k))),
                ],
                len(k),
            )
            rhs = np.where(has_prev, 0.0, -running_now[k])
            self._add_rows("starts", family, pulp.LpConstraintGE, rhs.tolist())

        # A stop: it ran in the period before (or is running now) and does not in this one.
        k = np.flatnonzero(stop_col >= 0)
        if len(k):
            rows, has_prev = np.arange(len(k)), previous[k] >= 0
            every = np.ones(len(k), dtype=bool)
            family = pairs(
                rows,
                [
                    (every, stop_col[k], np.ones(len(k))),
                    (every, run_col[k], np.ones(len(k))),
                    (has_prev, run_col[np.maximum(previous[k], 0)], -np.ones(len(k))),
                ],
                len(k),
            )
            rhs = np.where(has_prev, 0.0, running_now[k])
            self._add_rows("stops", family, pulp.LpConstraintGE, rhs.tolist())

        # Continuity: one unbroken stretch, so at most one start (none when running now).
        k = np.flatnonzero(cells["continuity"].to_numpy(bool) & (start_col >= 0))
        if len(k):
            ids, row = np.unique(mission[k], return_inverse=True)
            family = self._block(row, start_col[k], np.ones(len(k)), len(ids))
            first_now = pd.Series(running_now, index=mission).groupby(level=0).first()
            rhs = 1.0 - first_now.reindex(ids).to_numpy(float)
            built = self._add_rows("continuity", family, pulp.LpConstraintLE, rhs.tolist())
            made["continuity"] = {(m,): r for m, r in zip(ids.tolist(), built, strict=True)}

        # min_run: a mission that starts in p runs in p and its next min_run - 1 active periods.
        min_run = cells["min_run"].to_numpy(np.int64)
        k = np.flatnonzero((start_col >= 0) & (min_run > 1))
        if len(k):
            held = [(a, a + j) for a in k.tolist() for j in range(1, int(min_run[a]))]
            held = [(a, b) for a, b in held if b < len(cells) and mission[b] == mission[a]]
            if held:
                a, b = np.array(held, dtype=np.int64).T
                rows = np.arange(len(a))
                family = self._block(
                    np.concatenate([rows, rows]),
                    np.concatenate([start_col[a], run_col[b]]),
                    np.concatenate([np.ones(len(a)), -np.ones(len(a))]),
                    len(a),
                )
                built = self._add_rows("min_run", family, pulp.LpConstraintLE, [0.0] * len(a))
                made["min_run"] = {
                    (mission[i], period[i], period[j]): r
                    for i, j, r in zip(a.tolist(), b.tolist(), built, strict=True)
                }

        # max_step: between two consecutive running periods coverage moves by at most
        # max_step, up or down; a start or a stop is exempt (coverage is at most 1). The
        # start (stop) must then be a real one: none while it ran before (runs now).
        step = cells["max_step"].to_numpy(float)
        k = np.flatnonzero(np.isfinite(step) & (previous >= 0))
        if len(k):
            rows, before = np.arange(len(k)), previous[k]
            one = np.ones(len(k))
            for name, sign, exempt in (("step_up", 1.0, start_col), ("step_down", -1.0, stop_col)):
                family = self._block(
                    np.concatenate([rows, rows, rows]),
                    np.concatenate([cov_col[k], cov_col[before], exempt[k]]),
                    np.concatenate([sign * one, -sign * one, -one]),
                    len(k),
                )
                built = self._add_rows(name, family, pulp.LpConstraintLE, step[k].tolist())
                made[name] = {(mission[i], period[i]): r for i, r in zip(k.tolist(), built, strict=True)}

        # Exact starts and stops: a start only where it runs and did not before, a stop only
        # where it ran and does not now, so that every plan's start-up and closure money is
        # what its running decisions imply (the stages fix them with the decisions).
        for name, col, on, off in (
            ("real_start", start_col, run_col, run_col[np.maximum(previous, 0)]),
            ("real_stop", stop_col, run_col[np.maximum(previous, 0)], run_col),
        ):
            k = np.flatnonzero(col >= 0)
            if not len(k):
                continue
            rows, one = np.arange(len(k)), np.ones(len(k))
            has_prev = previous[k] >= 0
            # start <= run[p] (stop <= run[p - 1]; before the first: running_now, a number)
            first = ~has_prev
            within = has_prev if name == "real_stop" else np.ones(len(k), dtype=bool)
            family = self._block(
                np.concatenate([rows, rows[within]]),
                np.concatenate([col[k], on[k][within]]),
                np.concatenate([one, -one[within]]),
                len(k),
            )
            rhs = np.where(first & (name == "real_stop"), running_now[k], 0.0)
            self._add_rows(f"{name}_on", family, pulp.LpConstraintLE, rhs.tolist())
            # start + run[p - 1] <= 1 (stop + run[p] <= 1)
            within = has_prev if name == "real_start" else np.ones(len(k), dtype=bool)
            family = self._block(
                np.concatenate([rows, rows[within]]),
                np.concatenate([col[k], off[k][within]]),
                np.concatenate([one, one[within]]),
                len(k),
            )
            rhs = np.where(first & (name == "real_start"), 1.0 - running_now[k], 1.0)
            self._add_rows(f"{name}_off", family, pulp.LpConstraintLE, rhs.tolist())
        return made

    # -- stability against today's plan -------------------------------------------------

    def _stability_rows(self, cells, cov_col, value, tier_value) -> tuple[dict, pulp.LpAffineExpression]:
        """Keep a new plan close to today's (the Baseline sheet), for planners who cannot
        reshuffle every mission for a small change of budget:

        - ``max_change``: in every period, a mission's coverage stays within this of its
          baseline, up or down (a hard commitment, like a must-fund floor);
        - ``change_penalty``: each unit of coverage moved away from the baseline, up or
          down, gives up this much value, so the plan moves a mission only where the
          move is worth more than it costs. |coverage - baseline| is ``up + down``, two
          non-negative variables with ``coverage - up + down = baseline``.

        Mission-periods without a Baseline row are free. ``value`` and each tier's value
        are charged in place; returns the change-limit rows and the coverage moved.
        """
        levers = self.levers
        baseline = getattr(self.portfolio, "baseline", None)
        limit, penalty = levers.max_change, float(levers.change_penalty or 0.0)
        moved = pulp.LpAffineExpression()
        if baseline is None or not len(baseline) or (limit is None and penalty <= 0):
            return {}, moved
        position = pd.Series(
            np.arange(len(cells)), index=pd.MultiIndex.from_frame(cells[["mission_id", "period_id"]])
        )
        found = position.reindex(pd.MultiIndex.from_frame(baseline[["mission_id", "period_id"]])).to_numpy()
        held = ~np.isnan(found)
        cell = found[held].astype(np.int64)
        today = baseline["coverage"].to_numpy(float)[held]
        mission_ids, period_ids = cells["mission_id"].to_numpy()[cell], cells["period_id"].to_numpy()[cell]
        keys = list(zip(mission_ids.tolist(), period_ids.tolist(), strict=True))
        max_cov = cells["max_coverage"].to_numpy(float)[cell]
        limits: dict = {}
        if limit is not None:
            low, high = today - limit, today + limit
            for rows, sense, bound, name in (
                (np.flatnonzero(low > 1e-9), pulp.LpConstraintGE, low, "change_down"),
                (np.flatnonzero(high < max_cov - 1e-9), pulp.LpConstraintLE, high, "change_up"),
            ):
                n = len(rows)
                family = self._block(np.arange(n), cov_col[cell[rows]], np.ones(n), n)
                made = self._add_rows(name, family, sense, bound[rows].tolist())
                for k, row in zip(rows.tolist(), made, strict=True):
                    pair = limits.setdefault(keys[k], [None, None])
                    pair[0 if sense == pulp.LpConstraintGE else 1] = row
        if penalty > 0:
            n = len(cell)
            up = self._new([f"moved_up_{k}" for k in range(n)], [0.0] * n, [None] * n, pulp.LpContinuous)
            down = self._new([f"moved_down_{k}" for k in range(n)], [0.0] * n, [None] * n, pulp.LpContinuous)
            up_col = np.array([v.index for v in up], dtype=np.int64)
            down_col = np.array([v.index for v in down], dtype=np.int64)
            rows = np.arange(n)
            family = self._block(
                np.concatenate([rows, rows, rows]),
                np.concatenate([cov_col[cell], up_col, down_col]),
                np.concatenate([np.ones(n), -np.ones(n), np.ones(n)]),
                n,
            )
            self._add_rows("moved", family, pulp.LpConstraintEQ, today.tolist())
            both = np.concatenate([up_col, down_col])
            moved = self._expressions(np.zeros(2 * n), both, np.ones(2 * n), 1)[0]
            value.subInPlace(penalty * moved)
            priority = cells["priority"].to_numpy(int)[cell]
            for tier, expression in tier_value.items():
                mine = np.flatnonzero(priority == tier)
                if len(mine):
                    charge = self._expressions(
                        np.zeros(2 * len(mine)),
                        np.concatenate([up_col[mine], down_col[mine]]),
                        np.full(2 * len(mine), penalty),
                        1,
                    )[0]
                    expression.subInPlace(charge)
        return {key: tuple(pair) for key, pair in limits.items()}, moved

    def _unit_cuts(self, quantity, need_cell, unit_col, cov_col, excess_col, max_cov, run_of_cell) -> None:
        """Rows that say what a whole number of units buys, for each need in whole units.

        A mission needing ``q`` units gets coverage ``c <= a / q`` from ``a`` units, so with
        whole units its coverage moves in steps of ``1 / q``. Near a kink of its value the
        relaxation still buys a fraction of a step: with ``q = 1`` (a field hospital) and
        diminishing returns, half a hospital "buys" the first half of the mission's
        coverage, worth twice the second; with ``q = 3`` linguists and ``max_coverage``
        0.5, 1.5 linguists reach it. For a kink at ``K`` (one half, on the first-half
        coverage ``c - excess``; and ``max_coverage``, on ``c``) where ``q K`` is not whole,
        with ``k = floor(q K)`` the whole-unit points ``(a, min(K, a / q))`` all lie under
        the line through ``(k, k / q)`` and ``(k + 1, K)``::

            covered <= k / q + (K - k / q) (a - k)

        Every plan in whole units meets it; it only cuts off the relaxation's fractions
        (the national sample: the bound falls from 1% to about 0.2% above the best plan).
        For a mission-period that may stop (a running column ``r``) the constant is taken
        times ``r`` (its perspective: stopped, coverage and units are 0), which is the same
        row while it runs and cuts off running a fraction of it for a fraction of the value.
        """
        whole = np.flatnonzero((unit_col >= 0) & (quantity > 0))
        q, cell = quantity[whole], need_cell[whole]
        excess = excess_col[cell]  # -1: the mission has no excess (no kink at one half)
        # (name, kink, where it applies, the column taken off coverage: -1 for none)
        kinks = [
            ("units_cap", max_cov[cell], np.ones(len(whole), dtype=bool), np.full(len(whole), -1)),
            ("units_half", np.full(len(whole), HALF), excess >= 0, excess),
        ]
        for prefix, kink, applies, less in kinks:
            k = np.floor(q * kink + _ROUND)
            cut = np.flatnonzero(applies & (q * kink - k > _ROUND))
            if not len(cut):
                continue
            slope = kink[cut] - k[cut] / q[cut]
            n = len(cut)
            rows = np.arange(n)
            minus = less[cut] >= 0  # covered = coverage - excess for the kink at one half
            rhs = k[cut] / q[cut] - slope * k[cut]
            runs = run_of_cell[cell[cut]]
            stops = runs >= 0  # the perspective: the constant times the running decision
            block = self._block(
                np.concatenate([rows, rows, rows[minus], rows[stops]]),
                np.concatenate([cov_col[cell[cut]], unit_col[whole[cut]], less[cut][minus], runs[stops]]),
                np.concatenate([np.ones(n), -slope, -np.ones(int(minus.sum())), -rhs[stops]]),
                n,
            )
            self._add_rows(prefix, block, pulp.LpConstraintLE, np.where(stops, 0.0, rhs).tolist())

    def _flows(self, cells: pd.DataFrame, can_cost: np.ndarray) -> pd.DataFrame:
        """(source, cell) pairs where the source may pay the mission (every list it gives
        must match; an empty list matches any)."""
        sources = self.portfolio.sources
        paying = cells.iloc[can_cost]
        types = paying["type"].astype(str).str.casefold().to_numpy()
        zones = paying["zone_id"].astype(str).to_numpy()
        regions = paying["region"].astype(str).str.casefold().to_numpy()
        parts = []
        for source_id, row in sources.sort_index(key=lambda index: index.astype(str)).iterrows():
            ok = np.ones(len(paying), dtype=bool)
            if len(row["eligible_types"]):
                ok &= np.isin(types, [t.casefold() for t in row["eligible_types"]])
            if len(row["eligible_zones"]):
                ok &= np.isin(zones, list(row["eligible_zones"]))
            if len(row["eligible_regions"]):
                ok &= np.isin(regions, [r.casefold() for r in row["eligible_regions"]])
            chosen = can_cost[ok]
            parts.append(pd.DataFrame({"source_id": source_id, "cell": chosen}))
        columns = ["source_id", "cell"]
        flows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        flows["cell"] = flows["cell"].astype(np.int64)
        flows = flows.sort_values(["cell"], kind="stable").reset_index(drop=True)
        flows["mission_id"] = cells["mission_id"].to_numpy()[flows["cell"].to_numpy()]
        flows["period_id"] = cells["period_id"].to_numpy()[flows["cell"].to_numpy()]
        return flows

    def _capacity_rows(self, needs, active_need, term_col, term_coef) -> dict:
        capacity = self.scenario.capacity
        limited = capacity[np.isfinite(capacity["usable"].to_numpy(float))]
        used = needs.iloc[active_need][["resource_id", "period_id"]].drop_duplicates()
        limited = limited.merge(used, on=["resource_id", "period_id"], how="inner")
        limited = _canonical(limited, ["resource_id"], self.portfolio.period_ids)
        row_of = pd.Series(
            np.arange(len(limited)), index=pd.MultiIndex.from_frame(limited[["resource_id", "period_id"]])
        )
        sub = needs.iloc[active_need]
        rows = row_of.reindex(pd.MultiIndex.from_frame(sub[["resource_id", "period_id"]])).to_numpy()
        take = ~np.isnan(rows)
        family = self._block(
            rows[take].astype(np.int64),
            term_col[active_need][take],
            term_coef[active_need][take],
            len(limited),
        )
        usable = limited["usable"].to_numpy(float)
        # whole units: at most the whole number usable (14.4 helicopters after the reserve: 14)
        integer = self.portfolio.resources["integer"].astype(bool)
        whole = limited["resource_id"].map(integer).to_numpy(bool) & bool(self.levers.integer)
        usable = np.where(whole, np.floor(usable + _ROUND), usable)
        made = self._add_rows("capacity", family, pulp.LpConstraintLE, usable.tolist())
        return dict(zip(zip(limited["resource_id"], limited["period_id"], strict=True), made, strict=True))

    def _zone_rows(self, cells, needs, active_need, term_col, term_coef) -> dict:
        zones = self.portfolio.zones
        caps = zones["personnel_cap"].astype(float)
        caps = caps[np.isfinite(caps.to_numpy())]
        sub = needs.iloc[active_need]
        zone = cells["zone_id"].to_numpy()[sub["cell"].to_numpy()]
        take = (sub["kind"] == "personnel").to_numpy() & np.isin(zone, caps.index.to_numpy())
        if not take.any():
            return {}
        pairs = pd.DataFrame({"zone_id": zone[take], "period_id": sub["period_id"].to_numpy()[take]})
        keys = _canonical(pairs.drop_duplicates(), ["zone_id"], self.portfolio.period_ids)
        row_of = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys))
        rows = row_of.reindex(pd.MultiIndex.from_frame(pairs)).to_numpy().astype(np.int64)
        family = self._block(rows, term_col[active_need][take], term_coef[active_need][take], len(keys))
        made = self._add_rows(
            "zone_cap", family, pulp.LpConstraintLE, keys["zone_id"].map(caps).to_numpy(float).tolist()
        )
        return dict(zip(zip(keys["zone_id"], keys["period_id"], strict=True), made, strict=True))

    def _budget_rows(self, flows: pd.DataFrame, money_unit: float) -> dict:
        budget = self.scenario.budget
        used = flows[["source_id", "period_id"]].drop_duplicates()
        rows_frame = budget.merge(used, on=["source_id", "period_id"], how="inner")
        rows_frame = _canonical(rows_frame, ["source_id"], self.portfolio.period_ids)
        row_of = pd.Series(
            np.arange(len(rows_frame)), index=pd.MultiIndex.from_frame(rows_frame[["source_id", "period_id"]])
        )
        rows = row_of.reindex(pd.MultiIndex.from_frame(flows[["source_id", "period_id"]])).to_numpy()
        take = ~np.isnan(rows)
        family = self._block(
            rows[take].astype(np.int64),
            flows["column"].to_numpy()[take],
            np.ones(int(take.sum())),
            len(rows_frame),
        )
        amounts = rows_frame["amount"].to_numpy(float) / money_unit
        made = self._add_rows("budget", family, pulp.LpConstraintLE, amounts.tolist())
        return dict(
            zip(zip(rows_frame["source_id"], rows_frame["period_id"], strict=True), made, strict=True)
        )

    def _policy_rows(self, cells: pd.DataFrame, flows: pd.DataFrame, cov_col: np.ndarray) -> dict:
        policies = self.portfolio.policies
        made: dict[tuple[int, str | None], pulp.LpConstraint] = {}
        flow_cell = flows["cell"].to_numpy(np.int64)
        flow_col = flows["column"].to_numpy(np.int64)
        rules = policies[["rule", "scope_type", "scope_value", "value"]].reset_index(drop=True)
        canonical = rules.sort_values(list(rules.columns), key=_as_text, kind="stable")
        for i, (rule, scope_type, scope_value, share) in zip(
            canonical.index.tolist(), canonical.itertuples(index=False, name=None), strict=True
        ):
            scoped = in_scope(cells, str(scope_type), str(scope_value))
            if not scoped.any():
                log.warning("policy %s %s=%s matches no active mission", rule, scope_type, scope_value)
            share = float(share)
            if rule in ("min_budget_share", "max_budget_share"):
                # Budget share: spending on missions in scope vs total spending, all periods.
                if not len(flow_col):
                    continue
                coefs = np.where(scoped[flow_cell], 1.0 - share, -share)
                family = self._block(np.zeros(len(flow_col)), flow_col, coefs, 1)
                sense = pulp.LpConstraintGE if rule == "min_budget_share" else pulp.LpConstraintLE
                made[(i, None)] = self._add_rows(f"policy_{i}", family, sense, [0.0])[0]
            elif rule == "min_average_coverage":
                # Average coverage: in every period, the mean coverage of active missions
                # in scope is at least the value.
                for j, period in enumerate(self.portfolio.period_ids):
                    chosen = np.flatnonzero(scoped & (cells["period_id"].to_numpy() == period))
                    if not len(chosen):
                        continue
                    family = self._block(np.zeros(len(chosen)), cov_col[chosen], np.ones(len(chosen)), 1)
                    made[(i, period)] = self._add_rows(
                        f"policy_{i}_{j}", family, pulp.LpConstraintGE, [share * len(chosen)]
                    )[0]
            else:  # the validator only lets known rules through
                raise ValueError(f"unknown policy rule {rule!r}")
        return made


# -- PuLP objects, made in bulk ------------------------------------------------------------
#
# A model of 2,000 missions x 8 periods has some 70,000 variables and 35,000 rows. PuLP's
# own constructors check every name and register every term of every row; here each
# variable is made with the attributes PuLP's constructor gives it (names are ours and
# always legal), registered once, and each row keeps its terms in the family's CSR
# arrays until something reads ``row.expr``. The solver layer loads untouched rows
# straight from those arrays (:func:`row_matrix`).


class _Variable(pulp.LpVariable):
    """A :class:`pulp.LpVariable`, made without PuLP's per-name checks (the names are the
    builder's, such as ``coverage_12``) and with ``index``, its solver column."""

    def __init__(self, name: str, low: float | None, up: float | None, cat: str):
        self._LpElement__name = name  # what LpElement's name setter stores
        self.hash = id(self)
        self.modified = True
        self._lowbound_original = self.lowBound = low
        self._upbound_original = self.upBound = up
        self.cat = cat
        self.varValue = None
        self.dj = None
        self.index = -1


@dataclass(eq=False)
class _Block:
    """A family of rows in CSR form: row ``r`` has the terms ``starts[r]:starts[r + 1]``
    of ``cols`` (positions in ``variables``, ascending) and ``coefs``."""

    starts: np.ndarray
    cols: np.ndarray
    coefs: np.ndarray
    variables: list[pulp.LpVariable]

    @property
    def n_rows(self) -> int:
        return len(self.starts) - 1

    def expression(self, r: int) -> pulp.LpAffineExpression:
        a, b = int(self.starts[r]), int(self.starts[r + 1])
        variables = self.variables
        terms = [variables[c] for c in self.cols[a:b].tolist()]
        return pulp.LpAffineExpression(zip(terms, self.coefs[a:b].tolist(), strict=True))


class BuiltRow(pulp.LpConstraint):
    """A constraint as the builder made it: ``expr`` is made from the family's arrays the
    first time it is read (then it is an ordinary expression that may be changed, as the
    infeasibility diagnosis does when it adds a slack)."""

    _expr: pulp.LpAffineExpression | None = None  # until read
    pi = None  # as pulp.LpConstraint starts them (class defaults: one row is made per
    slack = None  # mission-period, and these are set only by a solver's answer)
    modified = True

    def __init__(self, block: _Block, r: int, sense: int, name: str, rhs: float):
        self._block = block
        self._r = r
        self.name = name
        self.constant = 0.0 - rhs  # as PuLP: the expression's constant (0) less the rhs
        self.sense = sense

    @property  # type: ignore[override]
    def expr(self) -> pulp.LpAffineExpression:
        if self._expr is None:
            self._expr = self._block.expression(self._r)
        return self._expr

    @expr.setter
    def expr(self, expression: pulp.LpAffineExpression) -> None:
        self._expr = expression

    def as_built(self) -> tuple[_Block, int] | None:
        """The family and row this constraint still is, or None once ``expr`` was read."""
        return (self._block, self._r) if self._expr is None else None


def _append_rows(problem: pulp.LpProblem, rows: list[BuiltRow]) -> None:
    """What :meth:`pulp.LpProblem.addConstraint` does for each row, without reading the
    rows' terms to register their variables (the builder registers each variable once,
    when it is made)."""
    table = problem._constraints
    before = len(table)
    table.update((row.name, row) for row in rows)
    if len(table) != before + len(rows):
        raise pulp.PulpError(f"overlapping constraint names near {rows[0].name}")
    problem.modifiedConstraints.extend(rows)


def row_matrix(
    constraints: Sequence[pulp.LpConstraint], variables: list[pulp.LpVariable]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' coefficients in CSR form for a solver: ``starts`` (one per row, plus the
    end), ``columns`` (``variable.index``) and ``values``, each row's terms in the order
    of its expression.

    Rows still as built (:class:`BuiltRow` whose ``expr`` was never read) come straight
    from their family's arrays, whole runs at a time, when ``variables`` is the model's
    own list (column = position); any other row is read term by term.
    """
    n = len(constraints)
    lengths = np.zeros(n, dtype=np.int64)
    cols: list[np.ndarray] = []
    coefs: list[np.ndarray] = []
    run: _Block | None = None  # a run of consecutive untouched rows of one family
    first = end = at = 0  # the run's rows first..end-1, from constraint position at

    def close() -> None:
        if run is not None:
            a, b = int(run.starts[first]), int(run.starts[end])
            cols.append(run.cols[a:b])
            coefs.append(run.coefs[a:b])
            lengths[at : at + end - first] = np.diff(run.starts[first : end + 1])

    index = attrgetter("index")
    for i, constraint in enumerate(constraints):
        built = constraint.as_built() if isinstance(constraint, BuiltRow) else None
        if built is not None and built[0].variables is variables:
            block, r = built
            if block is run and r == end:
                end += 1
                continue
            close()
            run, first, end, at = block, r, r + 1, i
            continue
        close()
        run = None
        expr = constraint.expr
        lengths[i] = len(expr)
        cols.append(np.fromiter(map(index, expr.keys()), dtype=np.int64, count=len(expr)))
        coefs.append(np.fromiter(expr.values(), dtype=float, count=len(expr)))
    close()
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    columns = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    values = np.concatenate(coefs) if coefs else np.zeros(0)
    return starts, columns, values


def _canonical(frame: pd.DataFrame, ids: list[str], period_ids: list[str]) -> pd.DataFrame:
    """Rows sorted by their ids (as text) and periods in planning order: the model is the
    same whatever order the workbook's rows came in, so ties between equal plans are
    broken the same way every time."""
    order = {p: i for i, p in enumerate(period_ids)}
    keyed = frame.assign(_p=frame["period_id"].map(order))
    keyed = keyed.sort_values([*ids, "_p"], key=_as_text, kind="stable")
    return keyed.drop(columns="_p").reset_index(drop=True)


def _as_text(column: pd.Series) -> pd.Series:
    return column if column.name == "_p" else column.astype(str)


def in_scope(cells: pd.DataFrame, scope_type: str, scope_value: str) -> np.ndarray:
    """Which cells a policy's scope covers (types and regions match case-insensitively)."""
    value = scope_value.strip()
    if scope_type == "priority":
        return (cells["priority"].astype(int).astype(str) == value).to_numpy()
    if scope_type == "zone":
        return (cells["zone_id"].astype(str) == value).to_numpy()
    if scope_type in ("type", "region"):
        return (cells[scope_type].astype(str).str.casefold() == value.casefold()).to_numpy()
    raise ValueError(f"unknown policy scope {scope_type!r}")
