"""The JSON result for scripts (SPEC section 5, ``--json``).

The same plan always gives the same bytes, except the solver's timings and the
``generated_at`` timestamp: keys are sorted, floats are rounded to 9 significant
digits, NaN and infinities become ``null`` (an unlimited resource's ``available``,
for instance), and rows keep the plan's order.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd

from optimiser.coverage import lacking
from optimiser.plan import Plan
from optimiser.report.atomic import atomic_write
from optimiser.report.derived import (
    ALLOCATION_COLUMNS,
    BUDGET_COLUMNS,
    FUNDING_COLUMNS,
    MISSION_COLUMNS,
    RESOURCE_COLUMNS,
    TIERS,
    ZONE_COLUMNS,
    columns,
    names_of,
    ranked_sensitivity,
    run_time,
    share,
    tier_coverage,
    tool_version,
)
from optimiser.report.timeline import mission_periods

logger = logging.getLogger(__name__)

FORMAT_NAME = "mission-optimiser result"
# 2: each mission-period also says whether the mission runs, starts or stops, and the
# start-up and closure money of that period (SPEC 3.1). Readers of version 1 files
# (``optimiser compare``) take a mission that lacks them as running where covered.
FORMAT_VERSION = 2
SIGNIFICANT_DIGITS = 9
# Fields that differ between two runs of the same plan.
TIMING_FIELDS = ("generated_at", "solver.build_s", "solver.solve_s", "solver.total_s")


def plan_to_dict(plan: Plan, generated_at: datetime | None = None) -> dict[str, object]:
    """The plan as plain JSON-ready data: dicts, lists, str, float, int, bool and None.

    Parameters
    ----------
    plan : the plan, feasible or not (an infeasible plan has empty lists).
    generated_at : the time to record (default: now, local time with its offset).

    Returns
    -------
    dict
        with keys

        - ``format``, ``format_version``, ``tool`` {``name``, ``version``}, ``generated_at``;
        - ``status`` ("optimal", "feasible", "infeasible", or "relaxed" for a plan made
          with commitments relaxed, ``--relax-commitments``), ``message``, ``diagnosis``
          (list of sentences);
        - ``value``, ``best_bound``, ``max_value``, ``value_share`` (value / max_value),
          ``value_by_priority`` (keys "1".."5"), ``gap``;
        - ``total_cost``, ``money_available``, ``currency``;
        - ``levers`` (``Levers.as_settings()``: what ``--set`` needs to redo the run),
          ``input`` {``path``, ``format``, ``sha256``}, ``solver`` {``name``, ``version``,
          ``build_s``, ``solve_s``, ``total_s``, ``stages``}, ``periods`` (ids in order);
        - ``coverage_by_priority``: per tier ``priority``, ``tier_weight``, ``missions``,
          ``fully``, ``partly``, ``uncovered``, ``mean_coverage``, ``value``, ``cost``;
        - ``missions``: per active (mission, period) ``mission_id``, ``period_id``,
          ``name``, ``zone_id``, ``region``, ``type``, ``priority``, ``must_fund``,
          ``coverage`` (0-1), ``value``, ``cost``, ``runs``, ``starts``, ``stops`` (bool:
          covered above zero; runs and did not in the period before, or before the first
          period unless ``running_now``; does not run but did in the period before),
          ``startup_cost`` and ``closure_cost`` (money charged in that period for that
          start or stop), ``resources`` {resource_id: units, for every required resource}
          and ``funding`` {source_id: money, above zero};
        - ``resources``, ``budgets``, ``zones``, ``sensitivity``: the plan's tables of
          those names as lists of records (columns as documented on
          :class:`~optimiser.plan.Plan`); ``sensitivity`` ranked by the value its step
          adds; ``unmet``: what each mission lacks to reach its max_coverage
          (:func:`optimiser.coverage.lacking`, SPEC 5), columns as ``Plan.unmet``;
        - ``ranges``, ``what_if`` and ``objective_ranges``: filled by ``--explain``
          (:func:`optimiser.sensitivity.explain`), else empty lists.
    """
    generated_at = generated_at or run_time()
    names = names_of(plan)
    source = plan.portfolio.source if plan.portfolio is not None else None
    value_by_priority = {str(tier): (plan.value_by_priority or {}).get(tier, 0.0) for tier in TIERS}
    data: dict[str, object] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "mission-optimiser", "version": tool_version()},
        "generated_at": generated_at.isoformat(),
        "status": str(plan.status),
        "message": plan.message,
        "diagnosis": list(plan.diagnosis),
        "value": plan.value,
        "best_bound": plan.best_bound,
        "max_value": plan.max_value,
        "value_share": share(plan.value, plan.max_value),
        "value_by_priority": value_by_priority if plan.has_plan else {str(t): None for t in TIERS},
        "gap": plan.gap,
        "total_cost": plan.total_cost,
        "money_available": plan.money_available,
        "currency": plan.levers.currency,
        "levers": plan.levers.as_settings(),
        "input": {
            "path": source.path if source else "",
            "format": source.format if source else "",
            "sha256": source.sha256 if source else "",
        },
        "solver": {
            "name": plan.solver.name,
            "version": plan.solver.version,
            "build_s": plan.solver.build_s,
            "solve_s": plan.solver.solve_s,
            "total_s": plan.solver.total_s,
            "stages": list(plan.solver.stages),
        },
        "periods": list(names.periods),
        "coverage_by_priority": _records(tier_coverage(plan)) if plan.has_plan else [],
        "missions": _mission_records(plan),
        "resources": _records(columns(plan.resources, RESOURCE_COLUMNS)),
        "budgets": _records(columns(plan.budgets, BUDGET_COLUMNS)),
        "zones": _records(columns(plan.zones, ZONE_COLUMNS)),
        "unmet": _records(lacking(plan)),
        "sensitivity": _records(ranked_sensitivity(plan)),
        "ranges": _records(plan.ranges if plan.ranges is not None else pd.DataFrame()),
        "what_if": _records(plan.what_if if plan.what_if is not None else pd.DataFrame()),
        "objective_ranges": _records(
            plan.objective_ranges if plan.objective_ranges is not None else pd.DataFrame()
        ),
        "alternatives": _records(plan.alternatives if plan.alternatives is not None else pd.DataFrame()),
    }
    return plain(data)  # type: ignore[return-value]


def result_json(plan: Plan, generated_at: datetime | None = None) -> str:
    """The JSON text of :func:`plan_to_dict`: sorted keys, two-space indent, UTF-8 friendly."""
    data = plan_to_dict(plan, generated_at)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Write the JSON result (UTF-8), replacing any file atomically.

    Parameters
    ----------
    plan : the plan, feasible or not.
    path : where to write. Missing folders are created.

    Returns
    -------
    Path
        the file's path.

    Raises
    ------
    OSError
        when the file cannot be written; an existing file at ``path`` is then left
        untouched.
    """
    content = result_json(plan).encode("utf-8")
    target = atomic_write(path, lambda handle: handle.write(content))
    logger.info("JSON result written to %s", target)
    return target


def _mission_records(plan: Plan) -> list[dict[str, object]]:
    missions = mission_periods(plan)
    allocation = columns(plan.allocation, ALLOCATION_COLUMNS)
    funding = columns(plan.funding, FUNDING_COLUMNS)
    units: dict[tuple[str, str], dict[str, object]] = {}
    for m, p, r, u in zip(allocation["mission_id"], allocation["period_id"], allocation["resource_id"],
                          allocation["units"], strict=True):
        units.setdefault((str(m), str(p)), {})[str(r)] = u
    money: dict[tuple[str, str], dict[str, float]] = {}
    for s, m, p, f in zip(funding["source_id"], funding["mission_id"], funding["period_id"], funding["money"],
                          strict=True):
        by_source = money.setdefault((str(m), str(p)), {})
        by_source[str(s)] = by_source.get(str(s), 0.0) + float(f)
    records = []
    for record in missions[list(MISSION_COLUMNS)].to_dict("records"):
        key = (str(record["mission_id"]), str(record["period_id"]))
        record["resources"] = units.get(key, {})
        record["funding"] = money.get(key, {})
        records.append(record)
    return records


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{str(k): v for k, v in row.items() if not str(k).startswith("_")}
            for row in frame.to_dict("records")]


def plain(value: object) -> object:
    """``value`` as JSON-ready data, deterministic: floats rounded to 9 significant
    digits, NaN and infinities as ``None``, numpy and pandas scalars unwrapped."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return None
        rounded = float(f"{number:.{SIGNIFICANT_DIGITS}g}")
        return rounded + 0.0  # no negative zero
    if isinstance(value, Mapping):
        return {str(plain(k)) if not isinstance(k, str) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)
