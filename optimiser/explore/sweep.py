"""Trade-off sweeps: one portfolio planned under many values of its levers.

``sweep(portfolio, levers, {"budget_scale": [0.5, 0.75, 1.0]})`` plans the portfolio at
every value and returns a :class:`SweepResult`: one row per point (value, money,
coverage by priority tier, the missions that drop out) and one row per point and
mission (coverage, cost, value).

Points
------
Any Settings lever may be varied (``budget_scale``, ``priority_mode``, ...), and the
per-item ones too (``source_scale.CORE``, ``zone_cap.Z01``, ``priority.M07``,
``must_fund.M07``). Numeric levers are sorted from low to high and repeated values
dropped; the others keep the order given. Several varied levers make a grid: every
combination is a point. The first lever is the curve's x: rows are ordered with it
varying fastest, so each combination of the other levers is one contiguous curve.

Drop-outs
---------
Each point is compared with the next point along the first lever (the next higher
value; for a text lever, the next in the list), every other lever equal. There, a
mission *drops out* when its coverage (mean over its active periods) falls to zero,
and is *reduced* when it falls but stays above zero. The highest point of each curve
has nothing to compare with. A point without a plan (infeasible, or failed) is a row
with that status and no figures; it is not compared.
"""

from __future__ import annotations

import itertools
import numbers
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from optimiser.explore.point import FAILED, PointOutcome
from optimiser.explore.runners import Progress, run_points
from optimiser.explore.tolerance import sweep_note
from optimiser.levers import Levers
from optimiser.portfolio import InputFile, Portfolio
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.report.derived import TIERS
from optimiser.scenario import apply_levers
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS, canonical
from optimiser.values import parse_number
from optimiser.wording import lever_label, lever_noun

NUMERIC_KEYS = frozenset({"budget_scale", "personnel_scale", "equipment_scale", "reserve_share",
                          "time_limit_s", "mip_gap"})
NUMERIC_ITEMS = frozenset({"source_scale", "zone_cap", "priority", "min_coverage", "max_coverage"})
TOLERANCE = 1e-6  # coverage changes smaller than this are noise
DROPPED, REDUCED = "dropped out", "reduced"
PLANNED = ("optimal", "feasible")  # statuses with a plan
MILLION = 1_000_000.0

RESULT_COLUMNS = ("status", "value", "value_share", "total_cost", "money_available", "gap",
                  *(f"coverage_p{tier}" for tier in TIERS), "missions_covered", "dropped_out", "reduced",
                  "seconds", "message")


# -- the levers varied ----------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One varied lever: its key (as in Settings) and its values.

    ``values`` are floats for a numeric lever (``None`` for a blank, e.g. a
    ``reserve_share`` left to each resource) and the setting's text otherwise
    (``"weighted"``, ``"yes"``, ``"1:16,2:8,3:4,4:2,5:1"``).
    """

    key: str
    values: tuple[Any, ...]
    numeric: bool

    def __len__(self) -> int:
        return len(self.values)


def lever_key(key: object) -> str:
    """A lever's key as Settings spells it: ``"Budget Scale"`` -> ``"budget_scale"``,
    ``"Source scale.CORE"`` -> ``"source_scale.CORE"`` (item ids keep their case)."""
    text = str(key).strip()
    if "." in text:
        prefix, _, item = text.partition(".")
        return f"{canonical(prefix)}.{item.strip()}"
    return canonical(text)


def is_numeric(key: str) -> bool:
    """Whether a lever takes a number (and may be swept as ``start:stop:count``)."""
    return key in NUMERIC_KEYS or (key.partition(".")[0] in NUMERIC_ITEMS and "." in key)


def setting_text(value: object) -> str:
    """A lever value as typed in Settings (what :meth:`Levers.with_settings` reads)."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, numbers.Real):
        return f"{float(value):.12g}"
    if isinstance(value, tuple | list):
        return ",".join(setting_text(v) for v in value)
    return str(value).strip()


def parse_vary(text: str) -> tuple[str, list[object]]:
    """One ``--vary`` argument: ``key=start:stop:count`` or ``key=a,b,c``.

    ``start:stop:count`` (numeric levers only) gives ``count`` evenly spaced values
    from ``start`` to ``stop`` inclusive (``budget_scale=0.5:1.5:21`` steps by 0.05).
    A list is separated by commas, or by semicolons when a value holds commas
    (``priority_weights=16,8,4,2,1;1,1,1,1,1``).

    Raises
    ------
    InvalidInput
        naming the argument and what would be right.
    """
    raw_key, sep, spec = text.partition("=")
    key, spec = lever_key(raw_key), spec.strip()

    def invalid(message: str) -> InvalidInput:
        return InvalidInput([Problem(Severity.ERROR, "--vary", f"'{text}' {message}", value=text)])

    if not sep or not raw_key.strip() or not spec:
        raise invalid("is not KEY=START:STOP:COUNT or KEY=VALUE,VALUE,...")
    if is_numeric(key) and ":" in spec:
        parts = [part.strip() for part in spec.split(":")]
        if len(parts) != 3:
            raise invalid("is not KEY=START:STOP:COUNT (e.g. budget_scale=0.5:1.5:21)")
        try:
            start, stop = parse_number(parts[0]), parse_number(parts[1])
            count = parse_number(parts[2])
        except ValueError as reason:
            raise invalid(f"has a value that is not a number ({reason})") from None
        if not float(count).is_integer() or count < 1:
            raise invalid(f"COUNT must be a whole number of points, 1 or more, not {parts[2]!r}")
        return key, list[object](linspace(start, stop, int(count)))
    separator = ";" if ";" in spec else ","
    values: list[object] = [value.strip() for value in spec.split(separator) if value.strip()]
    if not values:
        raise invalid("lists no values")
    return key, values


def linspace(start: float, stop: float, count: int) -> list[float]:
    """``count`` evenly spaced values from ``start`` to ``stop``, rounded to 12 digits
    (so that 0.5:1.5:21 gives 0.55, not 0.5499999999999999)."""
    if count == 1:
        return [float(start)]
    step = (stop - start) / (count - 1)
    return [float(f"{start + step * i:.12g}") for i in range(count)]


def axes_of(levers: Levers, vary: Mapping[str, Iterable[object] | object]) -> tuple[Axis, ...]:
    """Check the varied levers and their values against ``levers``; one :class:`Axis` each.

    Raises
    ------
    InvalidInput
        listing every key or value that is not understood, or a lever given twice.
    """
    problems: list[Problem] = []
    axes: list[Axis] = []
    seen: set[str] = set()
    if not vary:
        problems.append(Problem(Severity.ERROR, "--vary", "nothing to vary: give at least one lever and its "
                                "values, e.g. budget_scale=0.5:1.5:21"))
    for raw_key, raw_values in (vary or {}).items():
        key = lever_key(raw_key)
        if key in seen:
            problems.append(Problem(Severity.ERROR, "--vary", f"{key} is varied twice", value=raw_key))
            continue
        seen.add(key)
        prefix = key.partition(".")[0]
        if key not in SETTING_KEYS and not ("." in key and prefix in ITEM_LEVERS):
            known = ", ".join(SETTING_KEYS) + ", " + ", ".join(f"{p}.<id>" for p in ITEM_LEVERS)
            problems.append(Problem(Severity.ERROR, "--vary", f"'{raw_key}' is not a lever; known: {known}",
                                    value=raw_key))
            continue
        if isinstance(raw_values, str):  # as typed after --vary KEY=: "0.5:1.5:21", "weighted,strict"
            try:
                raw_values = parse_vary(f"{key}={raw_values}")[1]
            except InvalidInput as invalid:
                problems.extend(invalid.problems)
                continue
        values = _as_list(raw_values)
        if not values:
            problems.append(Problem(Severity.ERROR, "--vary", f"{key} has no values", value=raw_key))
            continue
        numeric = is_numeric(key)
        parsed: list[Any] = []
        for value in values:
            try:
                applied = levers.with_settings({key: setting_text(value)}, origin="--vary")
            except InvalidInput as invalid:
                problems.extend(invalid.problems)
                continue
            parsed.append(_lever_value(applied, key, numeric))
        if numeric:
            parsed = sorted(set(parsed), key=lambda v: (v is not None, v or 0.0))
        else:
            parsed = list(dict.fromkeys(parsed))
        axes.append(Axis(key, tuple(parsed), numeric))
    if problems:
        raise InvalidInput(problems)
    return tuple(axes)


def _as_list(values: Iterable[object] | object) -> list[object]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def _lever_value(levers: Levers, key: str, numeric: bool) -> Any:
    """The value ``levers`` holds for ``key``: a float (or None) or the setting's text."""
    if not numeric:
        return levers.as_settings().get(key, "")
    prefix, _, item = key.partition(".")
    value = getattr(levers, prefix)[item] if item else getattr(levers, key)
    return None if value is None else float(value)


def grid(levers: Levers, axes: Sequence[Axis]) -> list[tuple[dict[str, Any], Levers]]:
    """Every combination of the axes' values, the first axis varying fastest:
    ``(values by key, levers of the point)``."""
    slow_to_fast = [*axes[1:], axes[0]]
    points = []
    for combination in itertools.product(*(axis.values for axis in slow_to_fast)):
        chosen = dict(zip((axis.key for axis in slow_to_fast), combination, strict=True))
        values = {axis.key: chosen[axis.key] for axis in axes}
        settings = {key: setting_text(value) for key, value in values.items()}
        points.append((values, levers.with_settings(settings, origin="--vary")))
    return points


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class SweepResult:
    """A sweep's points: what each scenario achieves and which missions it gives up.

    Attributes
    ----------
    table : one row per point, in sweep order: ``point`` (1, 2, ...), one column per
        varied lever (named by its key), ``status`` (optimal, feasible, infeasible or
        failed), ``value``, ``value_share`` (value / most possible), ``total_cost`` and
        ``money_available`` (money, all periods), ``gap``, ``coverage_p1`` ..
        ``coverage_p5`` (mean coverage of each priority tier over its mission-periods,
        0-1), ``missions_covered`` (missions with any coverage), ``dropped_out`` and
        ``reduced`` (mission ids, comma-separated: see the module's *Drop-outs*),
        ``seconds`` (solve wall time) and ``message``.
    missions : one row per point and mission (points with a plan): ``point``, the
        varied levers, ``mission_id``, ``name``, ``priority``, ``coverage`` (mean over
        active periods), ``cost``, ``value``, ``coverage_next`` (at the next point
        along the first lever; NaN at the top of a curve), ``change``
        (``coverage - coverage_next``) and ``drop`` ("dropped out", "reduced" or "").
    axes : the varied levers, the first one the curve's x.
    levers : the levers every point starts from.
    source : the workbook the portfolio was read from.
    runner : where the points ran ("2 local processes", "Dask cluster tcp://...").
    seconds : wall time of the whole sweep.
    """

    table: pd.DataFrame
    missions: pd.DataFrame
    axes: tuple[Axis, ...]
    levers: Levers
    source: InputFile
    runner: str
    seconds: float

    @property
    def lever(self) -> str:
        """The first varied lever: the x of the curve."""
        return self.axes[0].key

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(axis.key for axis in self.axes)

    @property
    def currency(self) -> str:
        return self.levers.currency

    @property
    def failed(self) -> int:
        """Points where the solver failed (not infeasible ones: those are answers)."""
        return int((self.table["status"] == FAILED).sum())

    def curves(self) -> list[tuple[dict[str, Any], pd.DataFrame]]:
        """The table split into curves along the first lever: ``(other levers' values, rows)``."""
        others = list(self.keys[1:])
        if not others:
            return [({}, self.table)]
        blocks = []
        for _, rows in self.table.groupby(others, sort=False, dropna=False):
            blocks.append(({key: rows[key].iloc[0] for key in others}, rows))
        return blocks

    def dropouts(self) -> pd.DataFrame:
        """The rows of :attr:`missions` where a mission drops out or is reduced, read as
        the lever falls: curve by curve, from the highest value of the first lever down,
        highest priority first within a point."""
        frame = self.missions[self.missions["drop"] != ""]
        per_curve = len(self.axes[0])
        order = pd.DataFrame({"curve": (frame["point"] - 1) // per_curve, "down": -frame["point"],
                              "priority": frame["priority"], "change": frame["change"]})
        ranked = order.sort_values(["curve", "down", "priority", "change"], kind="stable").index
        return frame.loc[ranked].reset_index(drop=True)

    def coverage_matrix(self) -> pd.DataFrame:
        """Coverage of every mission (rows: ``mission_id``, ``name``, ``priority``) at
        every point with a plan (one column per point, named by :meth:`point_label`)."""
        if self.missions.empty:
            return pd.DataFrame(columns=["mission_id", "name", "priority"])
        labels = {point: self.point_label(int(point)) for point in self.table["point"]}
        wide = self.missions.pivot_table(index="mission_id", columns="point", values="coverage", sort=False)
        wide = wide.reindex(columns=[p for p in self.table["point"] if p in wide.columns])
        wide.columns = [labels[p] for p in wide.columns]
        info = self.missions.drop_duplicates("mission_id").set_index("mission_id")[["name", "priority"]]
        return info.join(wide).reset_index()

    def point_label(self, point: int) -> str:
        """``"Budget (× the workbook's funding) 0.5"``, or several levers separated by
        commas for a grid (the levers in a planner's words)."""
        row = self.table.loc[self.table["point"] == point].iloc[0]
        return ", ".join(f"{lever_label(key)} {_label(row[key])}" for key in self.keys)

    def tolerance_note(self) -> str:
        """A sentence when the value moves against the first lever between neighbouring
        points by less than their searches' tolerance (:func:`sweep_note`), else ""."""
        notes = (sweep_note(rows, self.lever, lever_noun(self.lever)) for _, rows in self.curves())
        return next((note for note in notes if note), "")

    def marginal_value(self, at: float | None = None, per: float = MILLION,
                       where: Mapping[str, Any] | None = None) -> float | None:
        """Value gained per ``per`` extra money (default 1,000,000) at lever value ``at``.

        From two adjacent points of a curve along the first lever: the point at ``at``
        (the nearest; default the starting levers' own value) and the next higher one
        (or the one below, at the top of the curve). ``where`` picks the curve of a
        grid by the other levers' values (default the first curve).

        Returns
        -------
        float or None
            ``None`` when the lever does not change the money available (e.g.
            ``personnel_scale``), or fewer than two points of the curve have a plan.
        """
        axis = self.axes[0]
        if not axis.numeric:
            return None
        rows = self.curves()[0][1]
        if where:
            rows = self.table
            for key, value in where.items():
                rows = rows[rows[key] == value]
        rows = rows[rows["status"].isin(PLANNED) & rows[axis.key].notna()].sort_values(axis.key)
        if len(rows) < 2:
            return None
        if at is None:
            at = _lever_value(self.levers, axis.key, numeric=True)
            at = 1.0 if at is None else at
        position = int(np.argmin(np.abs(rows[axis.key].to_numpy(dtype=float) - float(at))))
        low, high = (position, position + 1) if position + 1 < len(rows) else (position - 1, position)
        money = float(rows["money_available"].iloc[high]) - float(rows["money_available"].iloc[low])
        if abs(money) < 1e-9:
            return None
        gained = float(rows["value"].iloc[high]) - float(rows["value"].iloc[low])
        return gained / money * per

    def __repr__(self) -> str:
        shape = " x ".join(f"{axis.key} ({len(axis)})" for axis in self.axes)
        statuses = self.table["status"].value_counts()
        counts = ", ".join(f"{n} {status}" for status, n in statuses.items())
        return (f"SweepResult({len(self.table)} points over {shape}: {counts}; {self.seconds:.1f}s, "
                f"{self.runner})")


def _label(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "blank"
    return setting_text(value)


# -- the sweep --------------------------------------------------------------------------------


def sweep(
    portfolio: Portfolio,
    levers: Levers | None,
    vary: Mapping[str, Iterable[object] | object],
    workers: int | None = None,
    dask: Any = None,
    progress: Progress | Callable[[int, int], object] | None = None,
) -> SweepResult:
    """Plan ``portfolio`` at every combination of the varied levers' values.

    Parameters
    ----------
    portfolio : a validated portfolio.
    levers : the levers every point starts from; ``None`` uses the workbook's Settings.
    vary : lever key -> values, e.g. ``{"budget_scale": [0.5, 0.75, 1.0],
        "priority_mode": ["weighted", "strict"]}``. Keys and values as typed in
        Settings (numbers, ``"yes"``/``True``, ``"strict"``, ...); per-item keys such
        as ``"source_scale.CORE"`` too. The values may also be given as one string,
        as after ``--vary KEY=``: ``"0.5:1.5:21"`` or ``"weighted,strict"``. Several
        keys make a grid.
    workers : local processes (default: one per CPU); ``1`` plans here, in turn.
    dask : a Dask scheduler address (``"tcp://scheduler:8786"``) or a
        ``distributed.Client``: plan the points on that cluster instead.
    progress : called with ``(points done, points in all)`` as points finish.

    Returns
    -------
    SweepResult
        its ``table`` (a row per point) and ``missions`` (a row per point and mission).
        Infeasible points are rows with that status; a point whose solve failed is a
        row with status ``failed`` and the reason in ``message``.

    Raises
    ------
    InvalidInput
        when a lever or value is not understood, or a per-item lever names an id the
        portfolio does not have; nothing is planned then.
    """
    levers = portfolio.levers if levers is None else levers
    axes = axes_of(levers, vary)
    points = grid(levers, axes)
    apply_levers(portfolio, points[0][1])  # unknown ids in per-item levers: refuse before planning
    started = time.perf_counter()
    outcomes, runner = run_points(portfolio, [point_levers for _, point_levers in points], workers=workers,
                                  dask=dask, progress=progress)  # type: ignore[arg-type]
    table, missions = _tables(axes, points, outcomes)
    return SweepResult(table, missions, axes, levers, portfolio.source, runner, time.perf_counter() - started)


def _tables(axes: Sequence[Axis], points: Sequence[tuple[dict[str, Any], Levers]],
            outcomes: Sequence[PointOutcome]) -> tuple[pd.DataFrame, pd.DataFrame]:
    keys = [axis.key for axis in axes]
    frames = []
    for (values, _), outcome in zip(points, outcomes, strict=True):
        if outcome.has_plan and not outcome.missions.empty:
            frame = outcome.missions.copy()
            frame.insert(0, "point", outcome.index + 1)
            for position, key in enumerate(keys, start=1):
                frame.insert(position, key, [values[key]] * len(frame))
            frames.append(frame)
    missions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["point", *keys, "mission_id", "name", "priority", "coverage", "cost", "value"])
    missions["coverage_next"] = np.nan
    nexts = _next_points(axes, points)
    coverage = {point: rows.set_index("mission_id")["coverage"] for point, rows in missions.groupby("point")}
    for point, above in nexts.items():
        if point + 1 in coverage and above + 1 in coverage:
            here = missions["point"] == point + 1
            missions.loc[here, "coverage_next"] = (
                missions.loc[here, "mission_id"].map(coverage[above + 1]).fillna(0.0).to_numpy()
            )
    missions["change"] = missions["coverage"] - missions["coverage_next"]
    falls = missions["change"] < -TOLERANCE
    missions["drop"] = np.where(falls & (missions["coverage"] <= TOLERANCE), DROPPED,
                                np.where(falls, REDUCED, ""))

    rows = []
    for (values, _), outcome in zip(points, outcomes, strict=True):
        point = outcome.index + 1
        mine = missions[missions["point"] == point].sort_values(["priority", "change"], kind="stable")
        share = (outcome.value / outcome.max_value
                 if outcome.value is not None and outcome.max_value else None)
        row: dict[str, Any] = {"point": point, **values}
        row.update({
            "status": outcome.status,
            "value": outcome.value,
            "value_share": share,
            "total_cost": outcome.total_cost,
            "money_available": outcome.money_available,
            "gap": outcome.gap,
            **{f"coverage_p{tier}": c for tier, c in zip(TIERS, outcome.tier_coverage, strict=True)},
            "missions_covered": int((mine["coverage"] > TOLERANCE).sum()) if outcome.has_plan else None,
            "dropped_out": ", ".join(mine.loc[mine["drop"] == DROPPED, "mission_id"]),
            "reduced": ", ".join(mine.loc[mine["drop"] == REDUCED, "mission_id"]),
            "seconds": outcome.seconds,
            "message": outcome.message,
        })
        rows.append(row)
    table = pd.DataFrame(rows, columns=["point", *keys, *RESULT_COLUMNS])
    for column in ("value", "value_share", "total_cost", "money_available", "gap",
                   *(f"coverage_p{tier}" for tier in TIERS)):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["missions_covered"] = table["missions_covered"].astype("Int64")
    for axis in axes:
        if axis.numeric:
            table[axis.key] = pd.to_numeric(table[axis.key], errors="coerce").astype(float)
            missions[axis.key] = pd.to_numeric(missions[axis.key], errors="coerce").astype(float)
    return table, missions.reset_index(drop=True)


def _next_points(axes: Sequence[Axis], points: Sequence[tuple[dict[str, Any], Levers]]) -> dict[int, int]:
    """Point index -> index of the next point along the first lever, other levers equal."""
    first = axes[0]
    rank = {value: position for position, value in enumerate(first.values)}
    curves: dict[tuple[Any, ...], dict[int, int]] = {}
    for index, (values, _) in enumerate(points):
        others = tuple(values[axis.key] for axis in axes[1:])
        curves.setdefault(others, {})[rank[values[first.key]]] = index
    nexts = {}
    for curve in curves.values():
        ranks = sorted(curve)
        for low, high in itertools.pairwise(ranks):
            nexts[curve[low]] = curve[high]
    return nexts
