"""The HiGHS engine: one highspy model per plan, loaded in bulk from the model's arrays.

:class:`HighsEngine` keeps one highspy object across a plan's stages: objectives change,
value floors are added as rows, each integer run starts from the previous plan, and
large LPs choose their algorithm by size and start (:meth:`_PulpHighs.choose_lp`). PuLP's
``pulp.HiGHS`` is the loader (``problem.solverModel`` is the highspy object).
"""

from __future__ import annotations

import math
import time
from operator import attrgetter

import highspy
import numpy as np
import pulp

from optimiser.model import MissionModel, row_matrix
from optimiser.solvers.base import (
    MIN_RUN_S,
    Engine,
    Ranging,
    SolveError,
    StageResult,
    StageState,
    WarmStart,
    relative_gap,
)


class _QuietHighs(highspy.Highs):
    """A highspy model that does not print HiGHS's banner on standard output (highspy
    prints it when it installs its callbacks, before options can be set)."""

    def enableCallbacks(self):
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


class _PulpHighs(pulp.HiGHS):
    """``pulp.HiGHS`` with a bulk loader (numpy arrays, not one call per column), a quiet
    highspy object, HiGHS's own objective sense (duals are d objective / d rhs), and the
    LP algorithm chosen by size and start (:meth:`choose_lp`)."""

    # From this many columns an LP is "large": 2,000 missions x 8 periods relaxed is about
    # 70,000; the national sample about 2,300 relaxed and 5,000 with whole units, which
    # keep HiGHS's default (dual simplex) everywhere. The relaxation of a whole-units
    # model of 4 quarters (issue 12, a loaded 2-core machine): 600 missions, 21,000
    # columns, dual simplex 4.1 s and interior point 8.2 s; 1,000 missions 28 s and
    # 15 s; 2,000 missions over 60 s and 34 s.
    large_lp_columns = 30_000
    _last_lp_cost: np.ndarray | None = None  # the objective of the last large LP run

    def createAndConfigureSolver(self, lp):
        lp.solverModel = _QuietHighs()
        lp.solverModel.setOptionValue("output_flag", bool(self.msg))
        if self.gapRel is not None:
            lp.solverModel.setOptionValue("mip_rel_gap", float(self.gapRel))
        if self.timeLimit is not None:
            lp.solverModel.setOptionValue("time_limit", float(self.timeLimit))
        if self.threads is not None:
            lp.solverModel.setOptionValue("threads", self.threads)
        for key, value in self.optionsDict.items():
            lp.solverModel.setOptionValue(key, value)

    def buildSolverModel(self, lp):
        self.load(lp, lp.variables())

    def load(self, lp: pulp.LpProblem, variables: list[pulp.LpVariable]) -> None:
        """Columns in the order given (``variable.index`` set), rows in problem order."""
        h = lp.solverModel
        inf = highspy.kHighsInf
        n = len(variables)
        for i, variable in enumerate(variables):
            variable.index = i
        lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        upper = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        _check(h.addVars(n, lower, upper), "a bound", np.concatenate([lower, upper]))
        integer = np.array([i for i, v in enumerate(variables) if v.cat == pulp.LpInteger], dtype=np.int32)
        if len(integer) and self.mip:
            h.changeColsIntegrality(len(integer), integer, np.ones(len(integer), dtype=np.uint8))
        constraints = lp.constraints()
        for r, constraint in enumerate(constraints):
            constraint.index = r
        # rows as the model builder made them come from its arrays, in one call
        starts, index, values = row_matrix(constraints, variables)
        rhs = -np.fromiter(map(attrgetter("constant"), constraints), dtype=float, count=len(constraints))
        sense = np.fromiter(map(attrgetter("sense"), constraints), dtype=np.int64, count=len(constraints))
        lows = np.where(sense == pulp.LpConstraintLE, -inf, rhs)  # GE and EQ: rhs is the lower bound
        ups = np.where(sense == pulp.LpConstraintGE, inf, rhs)  # LE and EQ: rhs is the upper bound
        if len(constraints):
            status = h.addRows(
                len(constraints),
                lows,
                ups,
                len(index),
                starts[:-1].astype(np.int32),
                index.astype(np.int32),
                values,
            )
            _check(status, "a coefficient", values)
        objective = lp.objective or pulp.LpAffineExpression()
        self.set_objective(h, n, objective, lp.sense == pulp.LpMaximize)

    @staticmethod
    def set_objective(h, n: int, objective: pulp.LpAffineExpression, maximise: bool) -> np.ndarray:
        cost = np.zeros(n)
        if len(objective):
            np.add.at(
                cost,
                np.fromiter(map(attrgetter("index"), objective.keys()), dtype=np.int64, count=len(objective)),
                np.fromiter(objective.values(), dtype=float, count=len(objective)),
            )
        _check(h.changeColsCost(n, np.arange(n, dtype=np.int32), cost), "an objective coefficient", cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
        return cost

    def choose_lp(self, h, cost: np.ndarray, mip: bool) -> None:
        """The algorithm of the next run, just before it, for large LPs only (smaller
        models and integer searches keep HiGHS's defaults, so their plans do not change):

        - no basis to start from (the first LP, or the first after an integer search):
          interior point, then crossover to a basis for the LPs after it (2,000 missions
          relaxed: about 2.6 s where dual simplex takes 8-12 s);
        - a new objective (the cost stage, the next tier, the duals LP): primal simplex
          from the last basis, which is still feasible since the value floors added hold
          at the plan found (the cost stage: 0.2 s where dual simplex takes 6-13 s, and
          on one 1,000-mission portfolio declared its zero-slack floor infeasible);
        - the same objective with bounds changed (the on/off decisions fixed): dual
          simplex, HiGHS's default.
        """
        if len(cost) < self.large_lp_columns:
            return
        if mip:
            h.setOptionValue("solver", "choose")
            h.setOptionValue("simplex_strategy", 1)
            self._last_lp_cost = None
            return
        if not h.getBasis().valid:
            h.setOptionValue("solver", "ipm")
        else:
            changed = self._last_lp_cost is None or not np.array_equal(cost, self._last_lp_cost)
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_strategy", 4 if changed else 1)  # 4: primal, 1: dual
        self._last_lp_cost = cost


def _check(status, what: str, numbers: np.ndarray) -> None:
    """HiGHS refuses numbers beyond what it holds (a coefficient of 1e15 or more) and
    would otherwise solve a model without them: stop with a one-line reason."""
    if status == highspy.HighsStatus.kError:
        finite = np.abs(numbers[np.isfinite(numbers)]) if len(numbers) else np.zeros(0)
        largest = f" (up to {finite.max():.3g})" if len(finite) else ""
        raise SolveError(
            f"The solver cannot hold {what} of this model{largest}: some numbers are too large; "
            "check hazard multipliers, unit costs, quantities and amounts"
        )


def _highs_state(model_status, has_plan: bool) -> StageState:
    """A HiGHS model status as a stage state (a plan in hand or not decides limits)."""
    status = highspy.HighsModelStatus
    if model_status == status.kOptimal:
        return StageState.OPTIMAL
    if model_status in (status.kInfeasible, status.kUnboundedOrInfeasible):
        return StageState.INFEASIBLE
    limits = (
        status.kTimeLimit,
        status.kIterationLimit,
        status.kInterrupt,
        status.kSolutionLimit,
        status.kObjectiveBound,
        status.kObjectiveTarget,
        status.kMemoryLimit,
        status.kHighsInterrupt,
    )
    if model_status in limits:
        return StageState.STOPPED if has_plan else StageState.NO_PLAN
    return StageState.FAILED


class HighsEngine(Engine):
    """One highspy model, kept across stages: objectives change, value floors are added as
    rows, and each integer stage starts from the previous plan."""

    name = "highs"
    can_round = True

    def __init__(self, model: MissionModel, levers):
        self.model = model
        self.solver = _PulpHighs(
            msg=False, gapRel=float(levers.mip_gap), timeLimit=float(levers.time_limit_s)
        )
        self.solver.createAndConfigureSolver(model.problem)
        self.solver.load(model.problem, model.variables)
        self.h = model.problem.solverModel
        self.n = len(model.variables)
        self.floors: list[int] = []
        self.floor_constants: list[float] = []
        self.row_dual: np.ndarray | None = None
        self._shape: int | None = None  # of the model, for a WarmStart (:meth:`_warm_basis`)
        self.integer = np.array([v.index for v in model.variables if v.cat == pulp.LpInteger], dtype=np.int32)
        inf = highspy.kHighsInf
        self.lower = np.array(
            [-inf if v.lowBound is None else v.lowBound for v in model.variables], dtype=float
        )
        self.upper = np.array([inf if v.upBound is None else v.upBound for v in model.variables], dtype=float)

    def version(self) -> str:
        return str(self.h.version())

    def _integrality(self, on: bool) -> None:
        if len(self.integer):
            kind = np.full(len(self.integer), 1 if on else 0, dtype=np.uint8)
            self.h.changeColsIntegrality(len(self.integer), self.integer, kind)

    def run(
        self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None
    ) -> StageResult:
        """``gap``: this run's relative gap instead of the levers' ``mip_gap``; ``target``
        (maximising): stop the integer search at the first plan worth at least this."""
        if gap is not None or target is not None:
            h = self.h
            own = float(self.solver.gapRel)
            h.setOptionValue("mip_rel_gap", float(gap if gap is not None else own))
            h.setOptionValue("objective_target", float(target if target is not None else -highspy.kHighsInf))
            try:
                return self.run(name, objective, maximise, time_limit, start, relaxed=relaxed)
            finally:
                h.setOptionValue("mip_rel_gap", own)
                h.setOptionValue("objective_target", -highspy.kHighsInf)
        h = self.h
        cost = self.solver.set_objective(h, self.n, objective, maximise)
        mip = len(self.integer) > 0 and not relaxed
        # HiGHS 1.16 checks an LP's time limit against the model's total run time so far
        # (a MIP's against its own run), so an LP after a long search needs the total added.
        limit = max(time_limit, MIN_RUN_S) + (0.0 if mip else h.getRunTime())
        h.setOptionValue("time_limit", float(limit))
        if relaxed:
            self._integrality(False)
        elif start is not None and mip:
            h.setSolution(self.n, np.arange(self.n, dtype=np.int32), np.asarray(start, dtype=float))
        warm = self._warm_basis(name) if not mip else None  # a nearby scenario's basis (WarmStart)
        # -- the LP algorithm, by size and start (_PulpHighs.choose_lp) --
        self.solver.choose_lp(h, cost, mip)
        clock = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - clock
        if warm is not None and h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            warm.bases[name, h.getNumRow()] = h.getBasis()  # for the next nearby scenario
        info = h.getInfo()
        state = _highs_state(h.getModelStatus(), info.primal_solution_status == 2)  # 2: feasible
        if state in (StageState.OPTIMAL, StageState.STOPPED):
            values = np.asarray(h.getSolution().col_value, dtype=float)
            if not mip:
                solution = h.getSolution()
                row_dual = np.asarray(solution.row_dual, dtype=float)
                valid = solution.dual_valid and len(row_dual) == h.getNumRow()
                self.row_dual = row_dual if valid else None
        if relaxed:
            self._integrality(True)
        if state not in (StageState.OPTIMAL, StageState.STOPPED):
            return StageResult(name, state, seconds=seconds)
        value = float(cost @ values) + float(objective.constant)
        if mip:
            # HiGHS's own mip_gap divides by the plan's value (above 100% for a poor
            # plan); the planner's reading is "within x% of the best possible", so the
            # gap here is relative to the larger of bound and value.
            bound = float(info.mip_dual_bound) + float(objective.constant)
            gap = relative_gap(value, bound) if math.isfinite(bound) else 1.0
        else:
            bound, gap = value, 0.0
        return StageResult(name, state, values, value, bound, gap, seconds)

    def _warm_basis(self, name: str) -> WarmStart | None:
        """A continuous run: start it from the basis the run of this name left in
        :attr:`warm` when that was a model of the same shape; returns the WarmStart to
        keep this run's basis in (``None``: none given)."""
        warm = self.warm
        if warm is None:
            return None
        if self._shape is None:  # once per engine: a model of another shape starts afresh
            self._shape = hash((self.n, tuple(v.name for v in self.model.variables),
                                tuple(c.name for c in self.model.constraints)))
            if warm.shape != self._shape:
                warm.shape, warm.bases = self._shape, {}
        basis = warm.bases.get((name, self.h.getNumRow()))
        if basis is not None:
            self.h.setBasis(basis)  # refused (not this model's after all): starts as usual
        return warm

    def forget_basis(self) -> None:
        self.h.clearSolver()  # a large LP then starts with interior point (choose_lp)

    def solve_lp(self, name, lp, time_limit) -> StageResult | None:
        """A fresh quiet highspy model of ``lp``, dual simplex (a few hundred rows over
        many columns: 20,000 missions x 4 quarters in a few seconds), maximised."""
        h = _QuietHighs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(max(time_limit, MIN_RUN_S)))
        inf = highspy.kHighsInf
        upper = np.where(np.isfinite(lp.upper), lp.upper, inf)
        _check(h.addVars(len(lp.cost), lp.lower, upper), "a bound", upper)
        rows = len(lp.row_lower)
        if rows:
            low = np.where(np.isfinite(lp.row_lower), lp.row_lower, -inf)
            up = np.where(np.isfinite(lp.row_upper), lp.row_upper, inf)
            starts, index = lp.starts[:-1].astype(np.int32), lp.index.astype(np.int32)
            status = h.addRows(rows, low, up, len(lp.index), starts, index, lp.values)
            _check(status, "a coefficient", lp.values)
        n = len(lp.cost)
        status = h.changeColsCost(n, np.arange(n, dtype=np.int32), lp.cost)
        _check(status, "an objective coefficient", lp.cost)
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        clock = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - clock
        state = _highs_state(h.getModelStatus(), h.getInfo().primal_solution_status == 2)
        if state is not StageState.OPTIMAL:  # a stopped LP bounds nothing
            state = StageState.NO_PLAN if state is StageState.STOPPED else state
            return StageResult(name, state, seconds=seconds)
        values = np.asarray(h.getSolution().col_value, dtype=float)
        value = float(lp.cost @ values) + lp.constant
        return StageResult(name, state, values, value, value, 0.0, seconds)

    def add_floor(self, expression, lower) -> None:
        count = len(expression)
        index = np.fromiter(map(attrgetter("index"), expression.keys()), dtype=np.int32, count=count)
        coefs = np.fromiter(expression.values(), dtype=float, count=count)
        self.h.addRow(float(lower - expression.constant), highspy.kHighsInf, count, index, coefs)
        self.floors.append(self.h.getNumRow() - 1)
        self.floor_constants.append(float(expression.constant))

    def set_floors(self, lowers) -> None:
        for row, constant, lower in zip(self.floors, self.floor_constants, lowers, strict=True):
            self.h.changeRowBounds(row, float(lower) - constant, highspy.kHighsInf)

    def loosen_floors(self, relative: float) -> bool:
        lp = self.h.getLp()
        for row in self.floors:
            lower = float(lp.row_lower_[row])
            self.h.changeRowBounds(row, lower - relative * max(abs(lower), 1.0), highspy.kHighsInf)
        return bool(self.floors)

    def drop_floors(self) -> None:
        for row in self.floors:
            self.h.changeRowBounds(row, -highspy.kHighsInf, highspy.kHighsInf)
        self.floors = []
        self.floor_constants = []

    def bound(self, columns, lower, upper) -> None:
        columns = np.asarray(columns, dtype=np.int32)
        if len(columns):
            lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
            self._bounds(columns, lower, upper)

    def unfix(self, columns) -> None:
        columns = np.asarray(columns, dtype=np.int32)
        if len(columns):
            self._bounds(columns, self.lower[columns], self.upper[columns])

    def _bounds(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """HiGHS refuses a column set given twice and then changes nothing: a bug here."""
        status = self.h.changeColsBounds(len(columns), columns, lower, upper)
        if status == highspy.HighsStatus.kError:
            raise SolveError("The solver refused a change of bounds (a bug: please report it)")

    def duals(self):
        row_dual = self.row_dual
        if row_dual is None:  # HiGHS gave no duals (seen with absurd coefficients)
            return None
        return lambda constraint: float(row_dual[constraint.index])

    def ranging(self, name, objective, maximise, time_limit) -> Ranging | None:
        self._integrality(False)  # an LP from here on: ranging needs its basis
        self.integer = np.zeros(0, dtype=np.int32)
        result = self.run(name, objective, maximise, time_limit, None)
        if result.state is not StageState.OPTIMAL:
            empty = np.zeros(0)
            return Ranging(result.state, empty, empty, empty, empty, False)
        h = self.h
        ranging = h.getRanging()
        if isinstance(ranging, tuple):
            ranging = ranging[-1]
        solution = h.getSolution()
        return Ranging(
            state=result.state,
            row_dual=np.asarray(solution.row_dual, dtype=float),
            row_value=np.asarray(solution.row_value, dtype=float),
            row_up=np.asarray(ranging.row_bound_up.value_, dtype=float),
            row_down=np.asarray(ranging.row_bound_dn.value_, dtype=float),
            valid=bool(getattr(ranging, "valid", True)),
            col_value=np.asarray(solution.col_value, dtype=float),
            col_cost=np.asarray(h.getLp().col_cost_, dtype=float),
            col_cost_up=np.asarray(ranging.col_cost_up.value_, dtype=float),
            col_cost_down=np.asarray(ranging.col_cost_dn.value_, dtype=float),
        )
