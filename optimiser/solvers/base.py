"""The solver-engine interface: what the staged search needs from a solver.

An :class:`Engine` holds one solver's copy of a :class:`~optimiser.model.MissionModel`
(PuLP declares the model; an engine is where PuLP meets HiGHS or CBC) and runs it with
an objective, a time limit and optionally a start and a target. Between runs the caller
may narrow column bounds, fix the on/off decisions, add value floors (a stage's value
kept by the stages after it) and read row duals or ranging. Columns are in the order of
``model.variables``. Engines are made only by :func:`optimiser.solvers.make_engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter

import numpy as np
import pulp

from optimiser.bound import CoverageLp

MIN_RUN_S = 0.01  # shortest time limit given to a run


class SolveError(RuntimeError):
    """The solver failed, or a time limit stopped it before it found any plan.

    Not raised for infeasible input: that is a :class:`~optimiser.plan.Plan` with status
    ``infeasible``.
    """


class StageState(StrEnum):
    """How one solver run ended."""

    OPTIMAL = "optimal"  # proven (integer plans: within mip_gap)
    STOPPED = "stopped"  # a time or other limit stopped the search with a plan in hand
    INFEASIBLE = "infeasible"  # no plan meets the constraints
    NO_PLAN = "no_plan"  # a limit stopped the search before any plan was found
    FAILED = "failed"  # the solver reported an error


@dataclass
class StageResult:
    """One solver run: how it ended, its plan (column values) and objective."""

    name: str
    state: StageState
    values: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0


@dataclass
class Ranging:
    """HiGHS's ranging of a continuous run's rows: the row duals (d objective / d
    right-hand side), the rows' activities and, for a binding row, how far its bound may
    move (``row_up``, ``row_down``) before its dual changes. ``valid`` False: no ranges.

    And of its columns (objective ranging): ``col_value`` (the plan), ``col_cost`` (each
    column's objective coefficient) and ``col_cost_up``, ``col_cost_down``: how far each
    coefficient may move, the others fixed, before the optimal basis (the plan's shape)
    changes (infinite: no end). Empty when the engine gave none."""

    state: StageState
    row_dual: np.ndarray
    row_value: np.ndarray
    row_up: np.ndarray
    row_down: np.ndarray
    valid: bool
    col_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_cost_up: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_cost_down: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class WarmStart:
    """What one solve leaves for the next of a nearby scenario (the what-if page moving
    a lever): the basis of each continuous run (the relaxation, the LP with the on/off
    decisions fixed, the cost LP, the duals LP), by run name and row count, with the
    shape of the model they belong to (its column and row names). An engine given one
    starts each continuous run from the basis of the run of the same name when the
    shapes agree (the simplex then needs tens or hundreds of iterations where it needs
    thousands from nothing), and keeps its own there. A start only: every run still
    solves to its own optimum and proves it. Engines that cannot take a basis ignore it."""

    shape: int | None = None  # hash of the column and row names
    bases: dict[tuple[str, int], object] = field(default_factory=dict)  # (run, rows) -> engine's basis


class Engine:
    """What the stages need from a solver. Column order is ``model.variables``."""

    name = ""
    can_round = False  # runs take gap=, and integer/lower/upper hold the integer columns' bounds
    running_fixed = False
    floor_slack = 0.0  # relative value a later stage may give up (see Stages.go)
    warm: WarmStart | None = None  # set by the caller: see WarmStart

    def version(self) -> str:
        raise NotImplementedError

    def run(
        self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None
    ) -> StageResult:
        """Solve with this objective; ``relaxed``: every integer column continuous;
        ``start``: column values to start an integer search from. Engines that
        ``can_round`` also take ``gap`` (this run's relative gap instead of the levers'
        ``mip_gap``) and ``target`` (maximising: stop at the first plan worth this)."""
        raise NotImplementedError

    def add_floor(self, expression: pulp.LpAffineExpression, lower: float) -> None:
        """Keep ``expression >= lower`` in later runs (a stage's value)."""
        raise NotImplementedError

    def drop_floors(self) -> None:
        raise NotImplementedError

    def set_floors(self, lowers: list[float]) -> None:
        """Move the value floors, in the order added, to these lower bounds."""
        raise NotImplementedError

    def loosen_floors(self, relative: float) -> bool:
        """Lower every value floor by ``relative`` of itself; False when there are none."""
        raise NotImplementedError

    def fix_running(self, columns: np.ndarray, values: np.ndarray) -> None:
        """Fix the on/off decisions (binary columns) at these values."""
        self.fix(columns, values)
        self.running_fixed = True

    def free_running(self, columns: np.ndarray) -> None:
        self.unfix(columns)
        self.running_fixed = False

    def rounding_box(self, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The floors and ceilings of ``values`` (a plan's values of ``columns``) within the
        columns' bounds: the box a search restricted to the roundings of that plan explores
        (engines that ``can_round``)."""
        low = np.maximum(np.floor(values + 1e-6), self.lower[columns])
        high = np.maximum(np.minimum(np.ceil(values - 1e-6), self.upper[columns]), low)
        return low, high

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        """Fix columns at values (both bounds)."""
        self.bound(columns, values, values)

    def bound(self, columns: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Narrow columns' bounds (until :meth:`unfix`)."""
        raise NotImplementedError

    def unfix(self, columns: np.ndarray) -> None:
        """Give columns back their own bounds."""
        raise NotImplementedError

    def duals(self) -> Callable[[pulp.LpConstraint], float] | None:
        """Row duals of the last continuous run, d objective / d right-hand side, or
        None when the solver gave none."""
        raise NotImplementedError

    def forget_basis(self) -> None:
        """Start the next LP afresh (no basis from the runs before): after many bounds
        changed, a fresh start is often far faster (20,000 missions)."""

    def solve_lp(self, name: str, lp: CoverageLp, time_limit: float) -> StageResult | None:
        """Maximise a small linear programme given in arrays (:mod:`optimiser.bound`) in a
        solver object of its own (this engine's model is untouched); its ``values`` are
        that LP's columns. None when this solver cannot."""
        return None

    def ranging(self, name, objective, maximise, time_limit) -> Ranging | None:
        """Solve the continuous model (every integer column relaxed, from here on) and
        range its rows and objective coefficients; None when this solver cannot range."""
        return None


def evaluate(expression: pulp.LpAffineExpression, values: np.ndarray) -> float:
    """An expression's value at column values (``variable.index`` positions)."""
    if not len(expression):
        return float(expression.constant)
    index = np.fromiter(map(attrgetter("index"), expression.keys()), dtype=np.int64, count=len(expression))
    coefs = np.fromiter(expression.values(), dtype=float, count=len(expression))
    return float(coefs @ np.asarray(values, dtype=float)[index]) + float(expression.constant)


def relative_gap(objective: float, bound: float) -> float:
    """|bound - objective| relative to the larger of the two (0 when both are 0)."""
    scale = max(abs(objective), abs(bound))
    return 0.0 if scale < 1e-12 else abs(bound - objective) / scale
