"""Plans over time (SPEC 3.1): where a plan runs, starts and stops each mission.

:func:`run_changes` reads only a plan's coverage per mission-period and the Missions
columns ``running_now``, ``startup_cost`` and ``closure_cost`` (each taken as no / 0 when
a workbook lacks it), so the answer is the same whatever model made the coverage. The
plan's tables (:mod:`optimiser.tables`) add its columns to ``plan.missions``; the reports
use it for plans made by hand that lack them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Coverage at or below this is "not running" (SPEC 3.1: a mission runs when above zero;
# the plan's coverage is cleaned to 9 decimals first). The model charges start-up and
# closure money by the same test (optimiser.model.starts_and_stops), so the two agree.
RUN_TOLERANCE = 1e-9
RUN_COLUMNS = ("runs", "starts", "stops", "startup_cost", "closure_cost")
def run_changes(missions: pd.DataFrame, info: pd.DataFrame, period_ids: list[str]) -> pd.DataFrame:
    """``missions`` with, per mission-period, whether it runs, starts or stops and the
    money of that start or stop (SPEC 3.1).

    Parameters
    ----------
    missions : one row per active (mission, period), at least ``mission_id``,
        ``period_id`` and ``coverage`` (0-1); any row order.
    info : the portfolio's Missions table, indexed by ``mission_id``; reads
        ``running_now`` (bool), ``startup_cost`` and ``closure_cost`` (money), each
        taken as no / 0 where the column is missing or blank.
    period_ids : every period, in planning order.

    Returns
    -------
    DataFrame
        ``missions`` in the same row order, with columns added (or replaced):
        ``runs`` (coverage above zero), ``starts`` (runs, and did not run in the
        mission's period before; before its first active period is ``running_now``),
        ``stops`` (does not run, but ran in the period before; a mission ending at its
        end_period does not stop, since the period after is not active),
        ``startup_cost`` (the mission's ``startup_cost`` where it starts, else 0) and
        ``closure_cost`` (its ``closure_cost`` where it stops, else 0).
    """
    frame = missions.copy()
    n = len(frame)
    if not n:
        for column, dtype in (("runs", bool), ("starts", bool), ("stops", bool),
                              ("startup_cost", float), ("closure_cost", float)):
            frame[column] = pd.Series(dtype=dtype)
        return frame
    codes, mission_ids = pd.factorize(frame["mission_id"].astype(str))  # each mission as a number
    coverage = pd.to_numeric(frame["coverage"], errors="coerce").fillna(0.0).to_numpy(float)
    runs = coverage > RUN_TOLERANCE
    rank = pd.Index(list(period_ids)).get_indexer(frame["period_id"])
    order = np.lexsort((rank, codes))  # by mission, then planning order
    ids = codes[order]
    first = np.ones(n, dtype=bool)  # the mission's first active period
    first[1:] = ids[1:] != ids[:-1]
    row = info.index.astype(str).get_indexer(mission_ids)  # each mission's row of the Missions table
    running_now = _mission_column(info, "running_now", row, False).astype(bool)[codes]
    sorted_runs = runs[order]
    before = np.empty(n, dtype=bool)  # ran in the mission's period before (or today)
    before[1:] = sorted_runs[:-1]
    before[first] = running_now[order][first]
    starts, stops = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    starts[order] = sorted_runs & ~before
    stops[order] = ~sorted_runs & before
    startup = _mission_column(info, "startup_cost", row, 0.0).astype(float)[codes]
    closure = _mission_column(info, "closure_cost", row, 0.0).astype(float)[codes]
    frame["runs"] = runs
    frame["starts"] = starts
    frame["stops"] = stops
    frame["startup_cost"] = np.where(starts, startup, 0.0) + 0.0
    frame["closure_cost"] = np.where(stops, closure, 0.0) + 0.0
    return frame


def _mission_column(info: pd.DataFrame, column: str, row: np.ndarray, default: object) -> np.ndarray:
    """One Missions column for each mission at ``row`` of ``info`` (-1: not there);
    ``default`` where the column, the mission or the value is missing."""
    if column not in info.columns:
        return np.full(len(row), default)
    values = info[column].to_numpy(object)
    taken = [values[r] if r >= 0 else None for r in row]
    return np.array([default if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                     for v in taken])
