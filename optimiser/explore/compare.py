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
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimiser.explore.tolerance import tolerance_note
from optimiser.plan import Plan
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.report.derived import TIERS
from optimiser.report.result import FORMAT_NAME, plan_to_dict

TOLERANCE = 1e-6  # coverage and units closer than this are equal
MONEY_TOLERANCE = 0.005  # half a cent

# What happened to a mission, from A to B.
DROPPED, ADDED, REDUCED, INCREASED = "dropped", "added", "reduced", "increased"
COST_CHANGED, RESOURCES_CHANGED, UNCHANGED = "cost changed", "resources changed", "unchanged"
NO_PLAN_A, NO_PLAN_B, NO_PLANS = "A has no plan", "B has no plan", "neither has a plan"
PLANNED = ("optimal", "feasible", "relaxed")

PlanLike = Plan | Mapping[str, Any] | str | os.PathLike[str]

MISSION_COLUMNS = ["mission_id", "name", "priority", "coverage_a", "coverage_b", "coverage_change",
                   "cost_a", "cost_b", "cost_change", "resources_change", "change"]
RESOURCE_COLUMNS = ["mission_id", "resource_id", "units_a", "units_b", "change"]
LEVER_COLUMNS = ["lever", "a", "b"]

# The headline figures, in a planner's words (the terminal, the sheet, the store and the page).
FIGURE_WORDS = {
    "status": "plan",
    "value": "value reached (points)",
    "value_share": "value reached (share of the most possible)",
    "total_cost": "money spent",
    "money_available": "money available",
    "missions_covered": "missions covered (at least in part)",
    "missions_fully_covered": "missions fully covered",
    **{f"value_p{tier}": f"value from priority {tier} (points)" for tier in TIERS},
}


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
        "cost changed", "resources changed" or "unchanged"; when a plan could not be
        made, every mission reads "A has no plan", "B has no plan" or "neither has a
        plan" (nothing was dropped: there is nothing to compare).
    resources : one row per (mission, resource) whose units differ, largest change
        first: ``mission_id``, ``resource_id``, ``units_a``, ``units_b``, ``change``
        (units per period, mean over the mission's active periods).
    headline : one row per figure (``figure``: status, value, value_share,
        total_cost, money_available, missions_covered, missions_fully_covered (SPEC 5's
        classes, as the report counts them), value_p1 .. value_p5 (value by priority))
        with columns ``a``, ``b`` and ``change`` (numbers only); :data:`FIGURE_WORDS`
        names them.
    labels : names of plan A and plan B, for tables and reports.
    currency : the money label (B's).
    statuses : the two plans' statuses.
    currencies : A's and B's money labels. When they differ, the money changes
        (``cost_change`` and the headline's) are NaN: amounts in two currencies are not
        converted, so their differences mean nothing.
    levers : one row per lever whose setting differs between the two runs: ``lever``,
        ``a``, ``b`` (as ``--set`` would write them); ``None`` when a result does not
        record its levers.
    tolerance : a sentence when B moves against A the "wrong" way by less than the two
        searches' tolerance (:func:`optimiser.explore.tolerance.tolerance_note`), else "".
    """

    missions: pd.DataFrame
    resources: pd.DataFrame
    headline: pd.DataFrame
    labels: tuple[str, str]
    currency: str
    statuses: tuple[str, str]
    currencies: tuple[str, str] = ("", "")
    levers: pd.DataFrame | None = None
    tolerance: str = ""

    @property
    def changed(self) -> pd.DataFrame:
        """The missions whose coverage, cost or resources changed."""
        return self.missions[self.missions["change"] != UNCHANGED].reset_index(drop=True)

    @property
    def both_planned(self) -> bool:
        return all(status in ("optimal", "feasible") for status in self.statuses)

    @property
    def same_currency(self) -> bool:
        return self.currencies[0] == self.currencies[1] or not all(self.currencies)

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
    reason = _malformed(data)
    if reason:
        raise _invalid(target, f"is not a readable {FORMAT_NAME}: {reason}")
    return data


def _malformed(result: Mapping[str, Any]) -> str | None:
    """What is wrong with a result's shape, or ``None``: each mission a record with an id,
    numbers where numbers go, resources as {resource: units}."""
    for key in ("value", "value_share", "total_cost", "money_available"):
        if result.get(key) is not None and not _is_number(result.get(key)):
            return f"{key} is not a number"
    for key in ("currency", "status"):
        if result.get(key) is not None and not isinstance(result.get(key), str):
            return f"{key} is not a text"
    if result.get("levers") is not None and not isinstance(result.get("levers"), dict):
        return "levers is not a table of settings"
    for number, record in enumerate(result.get("missions") or [], start=1):
        if not isinstance(record, dict):
            return f"mission record {number} is not a record"
        if record.get("mission_id") in (None, ""):
            return f"mission record {number} has no mission_id"
        for key in ("coverage", "cost"):
            if record.get(key) is not None and not _is_number(record.get(key)):
                return f"mission record {number} has a {key} that is not a number"
        resources = record.get("resources")
        if resources is not None and (
            not isinstance(resources, dict) or not all(u is None or _is_number(u) for u in resources.values())
        ):
            return f"mission record {number} has resources that are not {{resource: units}}"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _invalid(path: Path, message: str) -> InvalidInput:
    return InvalidInput([Problem(Severity.ERROR, "file", f"{path}: {message}", value=str(path))])


def _as_result(plan: PlanLike) -> dict[str, Any]:
    if isinstance(plan, Plan):
        return plan_to_dict(plan)
    if isinstance(plan, Mapping):
        if not isinstance(plan.get("missions"), list):
            raise InvalidInput([Problem(Severity.ERROR, "result", "not a plan result: no list of missions")])
        reason = _malformed(plan)
        if reason:
            raise InvalidInput([Problem(Severity.ERROR, "result", f"not a readable plan result: {reason}")])
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

    statuses = (str(result_a.get("status", "")), str(result_b.get("status", "")))
    currencies = (str(result_a.get("currency") or ""), str(result_b.get("currency") or ""))
    if currencies[0] and currencies[1] and currencies[0] != currencies[1]:
        table["cost_change"] = np.nan  # two currencies: their difference means nothing
    table["change"] = [
        _what_changed(ca, cb, cost, units)
        for ca, cb, cost, units in zip(table["coverage_a"], table["coverage_b"], table["cost_change"],
                                       resources_moved, strict=True)
    ]
    missing = [status not in PLANNED for status in statuses]
    if any(missing):
        table["change"] = NO_PLANS if all(missing) else NO_PLAN_A if missing[0] else NO_PLAN_B
    size = pd.DataFrame({
        "coverage": table["coverage_change"].abs().round(9),
        "cost": table["cost_change"].abs().round(2),
        "units": resources_moved.round(9),
    })
    order = size.sort_values(["coverage", "cost", "units"], ascending=False, kind="stable").index
    table = table.loc[order, MISSION_COLUMNS].reset_index(drop=True)

    headline = _headline(result_a, result_b, table)
    if currencies[0] and currencies[1] and currencies[0] != currencies[1]:
        money = headline["figure"].isin(["total_cost", "money_available"])
        headline.loc[money, "change"] = np.nan
    return Comparison(
        missions=table,
        resources=resources,
        headline=headline,
        labels=(str(labels[0]), str(labels[1])),
        currency=currencies[1] or currencies[0] or "USD",
        statuses=statuses,
        currencies=currencies,
        levers=_lever_changes(result_a, result_b),
        tolerance=tolerance_note(result_a, result_b, labels) if not any(missing) else "",
    )


def _lever_changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> pd.DataFrame | None:
    """The levers set differently in the two runs (from each result's ``levers``)."""
    levers_a, levers_b = dict(a.get("levers") or {}), dict(b.get("levers") or {})
    if not levers_a or not levers_b:
        return None
    rows = [(key, str(levers_a.get(key, "")), str(levers_b.get(key, "")))
            for key in dict.fromkeys([*levers_a, *levers_b])
            if str(levers_a.get(key, "")) != str(levers_b.get(key, ""))]
    return pd.DataFrame(rows, columns=LEVER_COLUMNS)


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
    if not math.isnan(cost_change) and abs(cost_change) > MONEY_TOLERANCE:
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
    classes_a, classes_b = _classes(a), _classes(b)
    for key, column_test, classes in (("missions_covered", lambda c: c > TOLERANCE, ("fully", "partly")),
                                      ("missions_fully_covered", lambda c: c >= 1 - TOLERANCE, ("fully",))):
        # SPEC 5's classes as the report counts them; a result without them: by coverage
        x = (sum(classes_a[c] for c in classes) if classes_a is not None
             else float(column_test(table["coverage_a"]).sum()))
        y = (sum(classes_b[c] for c in classes) if classes_b is not None
             else float(column_test(table["coverage_b"]).sum()))
        rows.append((key, x, y, y - x))
    tiers_a, tiers_b = a.get("value_by_priority") or {}, b.get("value_by_priority") or {}
    for tier in TIERS:
        x, y = number(tiers_a, str(tier)), number(tiers_b, str(tier))
        rows.append((f"value_p{tier}", x, y, y - x))
    return pd.DataFrame(rows, columns=["figure", "a", "b", "change"])


def _classes(result: Mapping[str, Any]) -> dict[str, float] | None:
    """Missions fully, partly and not covered, summed over the tiers of the result's
    ``coverage_by_priority`` (:mod:`optimiser.coverage`); ``None`` when it has none."""
    tiers = result.get("coverage_by_priority")
    if not isinstance(tiers, list) or not tiers:
        return None
    try:
        return {c: float(sum(float(t.get(c) or 0) for t in tiers)) for c in ("fully", "partly", "uncovered")}
    except (AttributeError, TypeError, ValueError):
        return None
