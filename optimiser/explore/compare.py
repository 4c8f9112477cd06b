"""Compare two plans mission by mission: what gains, what loses, and by how much.

``compare_plans(a, b)`` takes two plans as :class:`~optimiser.plan.Plan` objects, as
JSON results (:func:`~optimiser.report.plan_to_dict` output, or the path of a file
written by ``--json``), or one of each, and returns a :class:`Comparison`. Both are
first brought to the JSON result's form, so a plan solved now and one written last
month compare the same way.

Per mission (over its active periods): coverage (mean), cost (money, summed) and the
units of each resource (mean per active period). Missions are sorted by the size of
their change: coverage first, then cost, then resources.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimiser.plan import Plan
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.report.result import FORMAT_NAME, plan_to_dict

TOLERANCE = 1e-6  # coverage and units closer than this are equal
MONEY_TOLERANCE = 0.005  # half a cent

# What happened to a mission, from A to B.
DROPPED, ADDED, REDUCED, INCREASED = "dropped", "added", "reduced", "increased"
COST_CHANGED, RESOURCES_CHANGED, UNCHANGED = "cost changed", "resources changed", "unchanged"

PlanLike = Plan | Mapping[str, Any] | str | os.PathLike[str]

MISSION_COLUMNS = ["mission_id", "name", "priority", "coverage_a", "coverage_b", "coverage_change",
                   "cost_a", "cost_b", "cost_change", "resources_change", "change"]
RESOURCE_COLUMNS = ["mission_id", "resource_id", "units_a", "units_b", "change"]


@dataclass(frozen=True, eq=False, repr=False)
class Comparison:
    """Plan B against plan A.

    Attributes
    ----------
    missions : one row per mission in either plan, largest change first:
        ``mission_id``, ``name``, ``priority`` (B's, else A's), ``coverage_a``,
        ``coverage_b``, ``coverage_change`` (B - A; mean coverage over active
        periods, 0-1; a mission missing from a plan counts as 0), ``cost_a``,
        ``cost_b``, ``cost_change`` (money, all periods), ``resources_change``
        (e.g. ``"INF -4, VEH +2"``: units per period, largest first) and ``change``:
        "dropped" (covered in A, not in B), "added", "reduced", "increased",
        "cost changed", "resources changed" or "unchanged".
    resources : one row per (mission, resource) whose units differ, largest change
        first: ``mission_id``, ``resource_id``, ``units_a``, ``units_b``, ``change``
        (units per period, mean over the mission's active periods).
    headline : one row per figure (``figure``: status, value, value_share,
        total_cost, money_available, missions_covered, missions_fully_covered) with
        columns ``a``, ``b`` and ``change`` (numbers only).
    labels : names of plan A and plan B, for tables and reports.
    currency : the money label (B's).
    """

    missions: pd.DataFrame
    resources: pd.DataFrame
    headline: pd.DataFrame
    labels: tuple[str, str]
    currency: str
    statuses: tuple[str, str]

    @property
    def changed(self) -> pd.DataFrame:
        """The missions whose coverage, cost or resources changed."""
        return self.missions[self.missions["change"] != UNCHANGED].reset_index(drop=True)

    @property
    def both_planned(self) -> bool:
        return all(status in ("optimal", "feasible") for status in self.statuses)

    def figure(self, name: str) -> tuple[Any, Any, Any]:
        """``(a, b, change)`` of a headline figure, e.g. ``figure("value")``."""
        row = self.headline.set_index("figure").loc[name]
        return row["a"], row["b"], row["change"]

    def __repr__(self) -> str:
        counts = self.missions["change"].value_counts()
        moved = ", ".join(f"{n} {what}" for what, n in counts.items() if what != UNCHANGED) or "no change"
        value_a, value_b, _ = self.figure("value")
        return (f"Comparison({self.labels[1]!r} against {self.labels[0]!r}: value {_num(value_a)} -> "
                f"{_num(value_b)}; {len(self.missions)} missions: {moved})")


def _num(value: object) -> str:
    return "none" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:,.2f}"


def load_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON result written by ``optimiser solve --json`` (or :func:`write_json`).

    Raises
    ------
    InvalidInput
        when the file cannot be read or is not a mission-optimiser result.
    """
    target = Path(path)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as error:
        raise _invalid(target, f"cannot be read ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _invalid(target, f"is not JSON ({error})".splitlines()[0]) from None
    if not isinstance(data, dict) or not isinstance(data.get("missions"), list):
        raise _invalid(target, f"is not a {FORMAT_NAME} (no list of missions); write one with "
                               "optimiser solve WORKBOOK --json RESULT.json")
    return data


def _invalid(path: Path, message: str) -> InvalidInput:
    return InvalidInput([Problem(Severity.ERROR, "file", f"{path}: {message}", value=str(path))])


def _as_result(plan: PlanLike) -> dict[str, Any]:
    if isinstance(plan, Plan):
        return plan_to_dict(plan)
    if isinstance(plan, Mapping):
        if not isinstance(plan.get("missions"), list):
            raise InvalidInput([Problem(Severity.ERROR, "result", "not a plan result: no list of missions")])
        return dict(plan)
    return load_result(plan)


def _label(plan: PlanLike, default: str) -> str:
    if isinstance(plan, str | os.PathLike):
        return Path(plan).name
    return default


def compare_plans(a: PlanLike, b: PlanLike, labels: tuple[str, str] | None = None) -> Comparison:
    """Compare plan ``b`` against plan ``a``, mission by mission.

    Parameters
    ----------
    a, b : each a :class:`~optimiser.plan.Plan`, a JSON result as a dict
        (:func:`~optimiser.report.plan_to_dict`), or the path of a JSON result file.
        An infeasible plan has no missions: every mission then counts as uncovered.
    labels : names for the two plans (default: file names, else "A" and "B").

    Returns
    -------
    Comparison
        its ``missions`` table sorted by the size of change (coverage, then cost, then
        resources), ``resources`` and ``headline``.

    Raises
    ------
    InvalidInput
        when a file cannot be read or is not a result.
    """
    result_a, result_b = _as_result(a), _as_result(b)
    labels = labels or (_label(a, "A"), _label(b, "B"))
    missions_a, units_a = _per_mission(result_a)
    missions_b, units_b = _per_mission(result_b)

    ids = list(dict.fromkeys([*missions_a.index, *missions_b.index]))
    info = pd.concat([missions_a[["name", "priority"]], missions_b[["name", "priority"]]])
    info = info[~info.index.duplicated(keep="last")].reindex(ids)
    table = pd.DataFrame({
        "mission_id": ids,
        "name": info["name"].to_numpy(),
        "priority": info["priority"].to_numpy(),
        "coverage_a": missions_a["coverage"].reindex(ids).fillna(0.0).to_numpy(dtype=float),
        "coverage_b": missions_b["coverage"].reindex(ids).fillna(0.0).to_numpy(dtype=float),
        "cost_a": missions_a["cost"].reindex(ids).fillna(0.0).to_numpy(dtype=float),
        "cost_b": missions_b["cost"].reindex(ids).fillna(0.0).to_numpy(dtype=float),
    })
    table["coverage_change"] = table["coverage_b"] - table["coverage_a"]
    table["cost_change"] = table["cost_b"] - table["cost_a"]

    resources = units_a.rename("units_a").to_frame().join(units_b.rename("units_b"), how="outer").fillna(0.0)
    resources["change"] = resources["units_b"] - resources["units_a"]
    resources = resources[resources["change"].abs() > TOLERANCE].reset_index()
    resources = resources.reindex(columns=RESOURCE_COLUMNS)
    resources = resources.iloc[np.argsort(-resources["change"].abs().to_numpy(), kind="stable")]
    resources = resources.reset_index(drop=True)
    moved = resources.groupby("mission_id", sort=False)
    moves = {mission: ", ".join(f"{r} {_signed(c)}" for r, c in zip(rows["resource_id"], rows["change"],
                                                                     strict=True))
             for mission, rows in moved}
    table["resources_change"] = [moves.get(m, "") for m in table["mission_id"]]
    units_moved = resources["change"].abs().groupby(resources["mission_id"]).sum()
    resources_moved = table["mission_id"].map(units_moved).fillna(0.0)

    table["change"] = [
        _what_changed(ca, cb, cost, units)
        for ca, cb, cost, units in zip(table["coverage_a"], table["coverage_b"], table["cost_change"],
                                       resources_moved, strict=True)
    ]
    size = pd.DataFrame({
        "coverage": table["coverage_change"].abs().round(9),
        "cost": table["cost_change"].abs().round(2),
        "units": resources_moved.round(9),
    })
    order = size.sort_values(["coverage", "cost", "units"], ascending=False, kind="stable").index
    table = table.loc[order, MISSION_COLUMNS].reset_index(drop=True)

    return Comparison(
        missions=table,
        resources=resources,
        headline=_headline(result_a, result_b, table),
        labels=(str(labels[0]), str(labels[1])),
        currency=str(result_b.get("currency") or result_a.get("currency") or "USD"),
        statuses=(str(result_a.get("status", "")), str(result_b.get("status", ""))),
    )


def _per_mission(result: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.Series]:
    """(missions indexed by id: name, priority, coverage (mean), cost (sum), periods;
    units per (mission, resource), mean per active period)."""
    records = result.get("missions") or []
    if not records:
        no_units = pd.MultiIndex.from_tuples([], names=["mission_id", "resource_id"])
        return (pd.DataFrame(columns=["name", "priority", "coverage", "cost", "periods"]),
                pd.Series(dtype=float, index=no_units))
    frame = pd.DataFrame.from_records(
        [{"mission_id": str(r.get("mission_id")), "name": r.get("name") or r.get("mission_id"),
          "priority": r.get("priority"), "coverage": r.get("coverage") or 0.0, "cost": r.get("cost") or 0.0}
         for r in records]
    )
    grouped = frame.groupby("mission_id", sort=False)
    missions = grouped.agg(name=("name", "first"), priority=("priority", "first"),
                           coverage=("coverage", "mean"), cost=("cost", "sum"), periods=("coverage", "size"))
    units = pd.DataFrame.from_records(
        [{"mission_id": str(r.get("mission_id")), "resource_id": str(resource), "units": float(u or 0.0)}
         for r in records for resource, u in (r.get("resources") or {}).items()],
        columns=["mission_id", "resource_id", "units"],
    )
    per_period = units.groupby(["mission_id", "resource_id"], sort=False)["units"].sum()
    periods = per_period.index.get_level_values("mission_id").map(missions["periods"].to_dict())
    return missions, per_period / periods.to_numpy(dtype=float)


def _what_changed(coverage_a: float, coverage_b: float, cost_change: float, units_moved: float) -> str:
    if coverage_a > TOLERANCE and coverage_b <= TOLERANCE:
        return DROPPED
    if coverage_a <= TOLERANCE and coverage_b > TOLERANCE:
        return ADDED
    if coverage_b < coverage_a - TOLERANCE:
        return REDUCED
    if coverage_b > coverage_a + TOLERANCE:
        return INCREASED
    if abs(cost_change) > MONEY_TOLERANCE:
        return COST_CHANGED
    if units_moved > TOLERANCE:
        return RESOURCES_CHANGED
    return UNCHANGED


def _signed(change: float) -> str:
    """``+4``, ``-2.5``: a change in units, sign always shown."""
    return f"{change:+,.2f}".rstrip("0").rstrip(".")


def _headline(a: Mapping[str, Any], b: Mapping[str, Any], table: pd.DataFrame) -> pd.DataFrame:
    def number(result: Mapping[str, Any], key: str) -> float:
        value = result.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan

    rows: list[tuple[str, object, object, float | None]] = [
        ("status", str(a.get("status", "")), str(b.get("status", "")), None)]
    for key in ("value", "value_share", "total_cost", "money_available"):
        x, y = number(a, key), number(b, key)
        rows.append((key, x, y, y - x))
    for key, column_test in (("missions_covered", lambda c: c > TOLERANCE),
                             ("missions_fully_covered", lambda c: c >= 1 - TOLERANCE)):
        x = float(column_test(table["coverage_a"]).sum())
        y = float(column_test(table["coverage_b"]).sum())
        rows.append((key, x, y, y - x))
    return pd.DataFrame(rows, columns=["figure", "a", "b", "change"])
