"""The solver-engine layer: the one place where solver objects are created.

:func:`make_engine` gives the engine the levers name (``solver = highs`` or ``cbc``) for
a built model; everything above this layer (the staged search, the diagnosis, the
ranging of shadow prices) speaks to it only through :class:`Engine`:

- :mod:`optimiser.solvers.base`: the interface (:class:`Engine`, :class:`StageResult`,
  :class:`StageState`, :class:`Ranging`, :class:`SolveError`);
- :mod:`optimiser.solvers.highs`: HiGHS through highspy (the default);
- :mod:`optimiser.solvers.cbc`: PuLP's bundled CBC (the fallback).
"""

from __future__ import annotations

from optimiser.levers import Levers, SolverName
from optimiser.model import MissionModel
from optimiser.solvers.base import (
    MIN_RUN_S,
    Engine,
    Ranging,
    SolveError,
    StageResult,
    StageState,
    WarmStart,
    evaluate,
    relative_gap,
)
from optimiser.solvers.cbc import CbcEngine
from optimiser.solvers.highs import HighsEngine

__all__ = [
    "MIN_RUN_S",
    "CbcEngine",
    "Engine",
    "HighsEngine",
    "Ranging",
    "SolveError",
    "StageResult",
    "StageState",
    "WarmStart",
    "evaluate",
    "make_engine",
    "relative_gap",
]


def make_engine(model: MissionModel, levers: Levers) -> Engine:
    """The engine of ``levers.solver`` with ``model`` loaded (HiGHS unless ``cbc``)."""
    if levers.solver == SolverName.CBC:
        return CbcEngine(model, levers)
    return HighsEngine(model, levers)
