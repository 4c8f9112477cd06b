"""The CBC engine: PuLP's bundled CBC, the fallback solver (``solver = cbc``).

CBC is a command-line program, so every run writes a copy of the problem with the run's
objective, value floors and narrowed bounds, and reads back the plan, CBC's gap from its
log and (for continuous runs) the row duals PuLP reads into ``constraint.pi``.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
import time
import warnings

import numpy as np
import pulp

from optimiser.model import MissionModel
from optimiser.solvers.base import MIN_RUN_S, Engine, StageResult, StageState


class CbcEngine(Engine):
    """PuLP's bundled CBC, one run per stage on a copy of the problem (CBC is a
    command-line program: every run writes the model anew)."""

    name = "cbc"
    floor_slack = 1e-9

    def __init__(self, model: MissionModel, levers):
        self.model = model
        self.levers = levers
        self.floors: list[pulp.LpConstraint] = []
        self.floor_constants: list[float] = []
        for i, variable in enumerate(model.variables):
            variable.index = i
        self.pi: dict[int, float] = {}
        self.bounds: dict[int, tuple[float | None, float | None]] = {}  # of fixed columns

    def version(self) -> str:
        return _cbc_version()

    def run(
        self, name, objective, maximise, time_limit, start, relaxed=False, gap=None, target=None
    ) -> StageResult:
        """``gap`` and ``target`` are HiGHS's (``can_round``); CBC runs to the levers' gap."""
        problem = self.model.problem.copy()
        problem.sense = pulp.LpMaximize if maximise else pulp.LpMinimize
        problem.setObjective(objective)
        for floor in self.floors:
            problem.addConstraint(floor)
        variables = self.model.variables
        mip = self.model.is_mip and not relaxed
        if start is not None and mip:
            for variable, x in zip(variables, start, strict=True):
                variable.varValue = float(x)
        with tempfile.TemporaryDirectory(prefix="optimiser-cbc-") as folder:
            log_path = os.path.join(folder, "cbc.log")
            solver = _bundled_cbc(
                mip=mip,
                msg=False,
                timeLimit=max(time_limit, MIN_RUN_S),
                gapRel=float(self.levers.mip_gap),
                warmStart=start is not None and mip,
                logPath=log_path,
            )
            clock = time.perf_counter()
            problem.solve(solver)
            seconds = time.perf_counter() - clock
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        if problem.status == pulp.LpStatusInfeasible:
            return StageResult(name, StageState.INFEASIBLE, seconds=seconds)
        if problem.status == pulp.LpStatusNotSolved:
            return StageResult(name, StageState.NO_PLAN, seconds=seconds)
        if problem.status != pulp.LpStatusOptimal:
            return StageResult(name, StageState.FAILED, seconds=seconds)
        values = np.array([v.varValue or 0.0 for v in variables], dtype=float)
        if not mip:
            # PuLP reads CBC's row duals into constraint.pi: d objective / d rhs
            self.pi = {id(c): float(c.pi or 0.0) for c in problem.constraints()}
        value = float(objective.value() or 0.0) if len(objective) else float(objective.constant)
        stopped = problem.sol_status == pulp.LpSolutionIntegerFeasible or "Stopped on" in text
        gap = 0.0
        found = re.search(r"^Gap:\s+(\S+)", text, re.MULTILINE)
        if found and mip:
            try:
                gap = abs(float(found.group(1)))
            except ValueError:
                gap = 0.0
        bound = value * (1 + gap) if maximise else value * (1 - gap)
        state = StageState.STOPPED if stopped else StageState.OPTIMAL
        return StageResult(name, state, values, value, bound, gap, seconds)

    def add_floor(self, expression, lower) -> None:
        floor = pulp.LpConstraint(
            pulp.LpAffineExpression(expression),
            pulp.LpConstraintGE,
            f"stage_floor_{len(self.floors)}",
            float(lower),
        )
        self.floors.append(floor)
        self.floor_constants.append(float(expression.constant))

    def drop_floors(self) -> None:
        self.floors = []
        self.floor_constants = []

    def set_floors(self, lowers) -> None:
        for floor, constant, lower in zip(self.floors, self.floor_constants, lowers, strict=True):
            floor.constant = constant - float(lower)  # expression + constant - lower >= 0

    def loosen_floors(self, relative: float) -> bool:
        for floor in self.floors:  # expression + constant >= 0, the constant minus the floor
            floor.constant += relative * max(abs(floor.constant), 1.0)
        return bool(self.floors)

    def bound(self, columns, lower, upper) -> None:
        columns = np.asarray(columns).tolist()
        for column, low, up in zip(
            columns, np.asarray(lower).tolist(), np.asarray(upper).tolist(), strict=True
        ):
            variable = self.model.variables[column]
            self.bounds.setdefault(column, (variable.lowBound, variable.upBound))
            variable.lowBound, variable.upBound = float(low), float(up)

    def unfix(self, columns) -> None:
        for column in np.asarray(columns).tolist():
            if column in self.bounds:
                variable = self.model.variables[column]
                variable.lowBound, variable.upBound = self.bounds.pop(column)

    def duals(self):
        pi = self.pi
        return lambda constraint: pi.get(id(constraint), 0.0)


def _bundled_cbc(**options) -> pulp.PULP_CBC_CMD:
    """PuLP's bundled CBC (PuLP 3 warns that PuLP 4 will drop it; we know)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


@functools.cache
def _cbc_version() -> str:
    path = _bundled_cbc(msg=False).path
    try:
        out = subprocess.run([path, "-quit"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    found = re.search(r"Version:\s*(\S+)", out)
    return found.group(1) if found else "unknown"
