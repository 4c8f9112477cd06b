"""Validate a workbook as read and turn it into a :class:`~optimiser.portfolio.Portfolio`.

Second stage of the journey: every cell is parsed by its column's kind
(:mod:`optimiser.schema`) with the parsers of :mod:`optimiser.values`, defaults are
filled in, ids are cross-checked between sheets, and *every* problem is collected
before anything is raised, each located by sheet, cell and column and worded so a
planner knows what would be right::

    Missions!C14 (zone_id): 'Z-19' is not a zone (did you mean Z19?); known zones: Z01, Z02, …, Z30

The rules, by sheet:

- any sheet: a required cell is blank; a number, share, yes/no, priority or choice
  cannot be read; an amount, quantity or cost is negative; an id is used twice.
- Missions: weight must be above 0; priority a whole number 1-5; the zone and the
  start and end periods must exist; start must not come after end; min_coverage must
  not exceed max_coverage. Warnings: a mission with no requirements and no running
  cost (it costs nothing); a must-fund mission whose min_coverage is 0 (it is
  guaranteed nothing). Plans over time (SPEC 3.1): min_run a whole number of 1 or more,
  max_step a share, start-up and closure costs not negative; warnings: a mission running
  now whose start_period is not the first period, a must-fund floor below the 1% a
  running mission needs where a rule applies.
- Requirements and Availability: the mission, resource and period must exist; a pair
  appears once.
- Funding: the period must exist; a (source, period) has one amount (a row with a
  blank period gives that amount in every period); the rows of one source agree on
  its name and eligibility. Listed eligible zones, types or regions that match
  nothing in the portfolio are warnings (see :func:`validate`).
- Policies: the rule and scope type must be known and the scope value must name an
  existing zone, region, mission type or priority 1-5.
- Settings: keys and values as :func:`optimiser.levers.parse_settings` reads them;
  per-item levers must name an existing source, zone or mission.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from optimiser.levers import Levers, parse_settings
from optimiser.portfolio import Portfolio
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.read import MESSAGE_CHARS, RawSheet, RawWorkbook, plain_text
from optimiser.schema import (
    DEFAULT_PERIOD,
    ITEM_LEVERS,
    RUNNING_FLOOR,
    SETTING_KEYS,
    SHEETS,
    Column,
    Kind,
    Sheet,
    canonical,
)
from optimiser.values import (
    format_id,
    is_blank,
    parse_bool,
    parse_integer,
    parse_list,
    parse_number,
    parse_share,
)

logger = logging.getLogger(__name__)

# What one row of each sheet is, in a planner's words ("every mission needs a zone_id").
_ROW_NOUN = {
    "missions": "mission",
    "zones": "zone",
    "resources": "resource",
    "requirements": "requirement",
    "funding": "funding row",
    "periods": "period",
    "availability": "availability row",
    "policies": "policy",
    "baseline": "baseline row",
    "settings": "setting",
}
# What the values of a choice column are called ("'huge' is not a risk level").
_CHOICE_NOUN = {
    "kind": "resource kind",
    "risk": "risk level",
    "rule": "policy rule",
    "scope_type": "scope type",
}
# Columns whose value must be above zero, not merely not negative.
_ABOVE_ZERO = {("missions", "weight")}
# Number of items a list in a message shows before it is abbreviated.
_SHOWN = 6
LARGEST_NUMBER = 1e15
"""Largest amount, cost, quantity, availability, cap or weight accepted (a thousand
trillion). Nothing in a portfolio is near it; past it a cell is a typo or an attack, and
solvers treat numbers from 1e20 as infinite."""


@dataclass
class _Row:
    """One data row of a sheet: parsed values by column, and the columns that failed."""

    number: int  # the Excel row
    values: dict[str, object]
    raw: dict[str, object]
    bad: set[str] = field(default_factory=set)

    def ok(self, *columns: str) -> bool:
        """True when every column named parsed (blank optional cells count as parsed)."""
        return not self.bad.intersection(columns)


@dataclass
class _Table:
    """A sheet's parsed rows, or none when the workbook has no such sheet."""

    spec: Sheet
    sheet: RawSheet | None
    rows: list[_Row]

    @property
    def title(self) -> str:
        return self.sheet.title if self.sheet else self.spec.title

    def has(self, column: str) -> bool:
        return self.sheet is not None and column in self.sheet.letters

    def cell(self, column: str, row: int) -> str | None:
        return self.sheet.cell(column, row) if self.sheet else None


def validate(raw: RawWorkbook) -> Portfolio:
    """Check every cell of a workbook and build the :class:`~optimiser.portfolio.Portfolio`.

    Parameters
    ----------
    raw : the workbook as read by :func:`optimiser.read.read_workbook` or
        :func:`optimiser.read.read_tables`. Only Missions, Zones, Resources,
        Requirements and Funding are required; every other sheet and every column
        with a default may be left out.

    Returns
    -------
    Portfolio
        the tables in the normalised form documented on
        :class:`~optimiser.portfolio.Portfolio`, with the reading and validation
        warnings in ``portfolio.warnings``.

    Raises
    ------
    InvalidInput
        when there is at least one error; ``problems`` holds every error and
        warning found, reading problems included, in sheet and row order.

    Notes
    -----
    An ``eligible_zones`` (or ``eligible_types``, ``eligible_regions``) entry that
    matches nothing in the portfolio is a warning, not an error: a fund earmarked for
    a zone the portfolio no longer covers is common (the Funding sheet often comes
    from the finance office) and can only leave that money unspent, never make a plan
    wrong or infeasible. The warning names the cell and the known values, so a typo is
    easy to spot.
    """
    checker = _Validator(raw)
    portfolio = checker.run()
    problems = [_one_line(p) for p in _in_sheet_order(checker.problems)]
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors or portfolio is None:
        logger.info("validation found %d error(s), %d warning(s)", len(errors), len(problems) - len(errors))
        raise InvalidInput(problems)
    logger.info("validated %r with %d warning(s)", portfolio, len(problems))
    return portfolio


class _Validator:
    """Parses and cross-checks the sheets, collecting problems as it goes."""

    def __init__(self, raw: RawWorkbook):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.mission_rows: list[_Row] = []
        self.default_period = False  # no Periods rows: the one period P1

    # ------------------------------------------------------------------ problems

    def error(
        self,
        table: _Table,
        message: str,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self._add(Severity.ERROR, table, message, row, column, value)

    def warn(
        self,
        table: _Table,
        message: str,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self._add(Severity.WARNING, table, message, row, column, value)

    def _add(
        self,
        severity: Severity,
        table: _Table,
        message: str,
        row: int | None,
        column: str | None,
        value: object,
    ) -> None:
        cell = table.cell(column, row) if column and row is not None else None
        self.problems.append(
            Problem(severity, table.title, message, cell=cell, row=row, column=column, value=value)
        )

    # ------------------------------------------------------------------ the whole workbook

    def run(self) -> Portfolio | None:
        tables = {name: self.parse_sheet(spec) for name, spec in SHEETS.items()}
        periods = self.check_periods(tables["periods"])
        zones = self.check_zones(tables["zones"])
        resources = self.check_resources(tables["resources"])
        missions = self.check_missions(tables["missions"], zones, periods)
        for name, noun in (("zones", "zone"), ("resources", "resource"), ("requirements", "requirement"),
                           ("funding", "funding source and period")):
            self.check_not_empty(tables[name], noun)
        requirements = self.check_requirements(tables["requirements"], missions, resources)
        self.warn_costless_missions(tables["missions"], missions, requirements)
        sources, funding = self.check_funding(tables["funding"], periods, missions, zones)
        availability = self.check_availability(tables["availability"], resources, periods)
        policies = self.check_policies(tables["policies"], zones, missions)
        baseline = self.check_baseline(tables["baseline"], missions, periods)
        levers = self.check_settings(tables["settings"], sources, zones, missions)
        if (levers.max_change is not None or levers.change_penalty) and not baseline:
            self.warn(
                tables["settings"],
                "max_change and change_penalty hold a plan close to today's, which the Baseline sheet "
                "gives; without Baseline rows they change nothing",
            )
        if any(p.severity is Severity.ERROR for p in self.problems):
            return None
        warnings = tuple(
            _one_line(p) for p in _in_sheet_order(self.problems) if p.severity is Severity.WARNING
        )
        return Portfolio(
            missions=_frame(missions, SHEETS["missions"], index="mission_id"),
            zones=_frame(zones, SHEETS["zones"], index="zone_id"),
            resources=_frame(resources, SHEETS["resources"], index="resource_id"),
            requirements=_frame(requirements, SHEETS["requirements"]),
            sources=_frame(
                sources,
                SHEETS["funding"],
                index="source_id",
                columns=("name", "eligible_types", "eligible_zones", "eligible_regions"),
            ),
            funding=_frame(
                funding,
                None,
                columns=("source_id", "period_id", "amount"),
                kinds={"source_id": Kind.ID, "period_id": Kind.ID, "amount": Kind.NUMBER},
            ),
            periods=_frame(periods, SHEETS["periods"], index="period_id"),
            availability=_frame(availability, SHEETS["availability"]),
            policies=_frame(policies, SHEETS["policies"]),
            baseline=_frame(baseline, SHEETS["baseline"]),
            levers=levers,
            source=self.raw.source,
            warnings=warnings,
        )

    # ------------------------------------------------------------------ cells

    def parse_sheet(self, spec: Sheet) -> _Table:
        """Parse every cell of a sheet by its column's kind; report cells that cannot be read."""
        sheet = self.raw.get(spec.name)
        table = _Table(spec, sheet, [])
        if sheet is None:
            return table
        if len(sheet.frame):
            for column in spec.columns:
                if column.required and column.name not in sheet.letters and spec.name != "settings":
                    self.error(
                        table,
                        f"has no {column.name} column (headers are on row {sheet.header_row}); "
                        f"add it: {column.help}",
                    )
        present = [c for c in spec.columns if c.name in sheet.letters]
        for number, record in zip(sheet.frame.index, sheet.frame.itertuples(index=False), strict=True):
            raw_values = dict(zip(sheet.frame.columns, record, strict=True))
            row = _Row(int(number), {}, raw_values)
            for column in spec.columns:
                row.values[column.name] = _default(column)
            for column in present:
                value = raw_values.get(column.name)
                if sheet.cell(column.name, row.number) in sheet.uncached:
                    row.bad.add(column.name)  # reported by the reader
                    row.values[column.name] = None
                    continue
                row.values[column.name] = self.parse_cell(table, row, column, value)
            for column in spec.columns:
                if column.required and column not in present:
                    row.bad.add(column.name)  # the missing column is reported once, above
            table.rows.append(row)
        return table

    def parse_cell(self, table: _Table, row: _Row, column: Column, value: object) -> object:
        """One cell's value by its column's kind; on failure, report it and mark the cell bad."""
        spec = table.spec
        if is_blank(value):
            if column.required and spec.name != "settings":
                row.bad.add(column.name)
                self.error(
                    table,
                    f"blank; every {_ROW_NOUN[spec.name]} needs a {column.name}",
                    row.number,
                    column.name,
                    value,
                )
            return _default(column)
        try:
            return _parse(spec.name, column, value)
        except ValueError as reason:
            row.bad.add(column.name)
            self.error(table, f"{_show(value)} {reason}", row.number, column.name, value)
            return None

    # ------------------------------------------------------------------ sheets

    def check_periods(self, table: _Table) -> list[dict[str, object]]:
        periods = [row.values for row in self.unique_rows(table, "period_id", "period")]
        for period in periods:
            period["name"] = period["name"] or period["period_id"]
        if not periods:  # no Periods rows (or none readable, already reported)
            self.default_period = not table.rows
            periods = [{"period_id": DEFAULT_PERIOD, "name": DEFAULT_PERIOD}]
        return periods

    def check_zones(self, table: _Table) -> list[dict[str, object]] | None:
        if table.sheet is None:
            return None
        zones = [row.values for row in self.unique_rows(table, "zone_id", "zone")]
        for zone in zones:
            zone["name"] = zone["name"] or zone["zone_id"]
            zone["region"] = zone["region"] or "unassigned"
            if zone["personnel_cap"] is None:
                zone["personnel_cap"] = math.nan
        return zones

    def check_resources(self, table: _Table) -> list[dict[str, object]] | None:
        if table.sheet is None:
            return None
        resources = [row.values for row in self.unique_rows(table, "resource_id", "resource")]
        for resource in resources:
            resource["name"] = resource["name"] or resource["resource_id"]
            if resource["available"] is None:
                resource["available"] = math.nan
        return resources

    def check_not_empty(self, table: _Table, noun: str) -> None:
        """A required sheet with headers but no rows (the empty template, say)."""
        if table.sheet is not None and not table.rows:
            self.error(table, f"has no rows; add one row per {noun} below the headers "
                              f"(row {table.sheet.header_row})")

    def check_missions(
        self, table: _Table, zones: list[dict[str, object]] | None, periods: list[dict[str, object]]
    ) -> list[dict[str, object]] | None:
        if table.sheet is None:
            return None
        if not table.rows:
            self.error(
                table,
                f"has no missions; add one row per mission below the headers (row {table.sheet.header_row})",
            )
        zone_ids = _ids(zones, "zone_id")
        period_ids = [str(p["period_id"]) for p in periods]
        order = {p: i for i, p in enumerate(period_ids)}
        period_hint = (
            f" (without Periods rows there is one period, {DEFAULT_PERIOD})" if self.default_period else ""
        )
        self.mission_rows = self.unique_rows(table, "mission_id", "mission")
        missions = [row.values for row in self.mission_rows]
        for row in self.mission_rows:
            mission = row.values
            mission["name"] = mission["name"] or mission["mission_id"]
            mission["type"] = canonical(mission["type"]) if mission["type"] else "other"
            if zone_ids is not None and row.ok("zone_id"):
                self.check_reference(table, row, "zone_id", zone_ids, "zone", "zones")
            for column, fallback in (("start_period", period_ids[0]), ("end_period", period_ids[-1])):
                if mission[column] is None:
                    if row.ok(column):
                        mission[column] = fallback
                else:
                    self.check_reference(
                        table, row, column, period_ids, "period", "periods", hint=period_hint
                    )
            start, end = mission["start_period"], mission["end_period"]
            if (
                row.ok("start_period", "end_period")
                and start in order
                and end in order
                and order[str(start)] > order[str(end)]
            ):
                self.error(
                    table,
                    f"start_period {start} comes after end_period {end}; periods run in the "
                    f"order {_listing(period_ids)}",
                    row.number,
                    "start_period",
                    start,
                )
            low, high = mission["min_coverage"], mission["max_coverage"]
            if row.ok("min_coverage", "max_coverage") and _number(low) > _number(high):
                self.error(
                    table,
                    f"min_coverage {_percent(low)} is above max_coverage {_percent(high)}; "
                    "the floor cannot exceed the ceiling",
                    row.number,
                    "min_coverage",
                    row.raw.get("min_coverage"),
                )
            self.check_timeline(table, row, period_ids, len(periods))
            if mission["must_fund"] and row.ok("must_fund", "min_coverage") and low == 0:
                column = "min_coverage" if table.has("min_coverage") else "must_fund"
                self.warn(
                    table,
                    f"must-fund mission {mission['mission_id']} has min_coverage 0, so it is "
                    "guaranteed nothing; set its floor (e.g. 100% or 50%)",
                    row.number,
                    column,
                    row.raw.get(column),
                )
        return missions

    def check_timeline(self, table: _Table, row: _Row, period_ids: list[str], n_periods: int) -> None:
        """Plans over time (SPEC 3.1): a mission running now whose start_period is not the
        first period is a warning (it runs today, then waits for its start); a must-fund
        floor below 1% where a rule applies is raised to 1% (a warning)."""
        mission = row.values
        start = mission["start_period"]
        if (
            mission["running_now"]
            and row.ok("running_now", "start_period")
            and start in period_ids
            and start != period_ids[0]
        ):
            self.warn(
                table,
                f"mission {mission['mission_id']} is running now but its start_period is {start}, "
                f"not the first period {period_ids[0]}: it is taken to run on from today into {start} "
                "(with continuity it may not stop before and restart); set start_period blank or "
                "running_now no",
                row.number,
                "running_now",
                row.raw.get("running_now"),
            )
        low = mission["min_coverage"]
        ruled = (
            (mission["continuity"] and n_periods >= 2)
            or (mission["min_run"] or 1) > 1
            or (mission["startup_cost"] or 0) > 0
            or (mission["closure_cost"] or 0) > 0
            or mission["max_step"] is not None
        )
        if (
            mission["must_fund"]
            and row.ok("min_coverage", "continuity", "min_run", "startup_cost", "closure_cost", "max_step")
            and low is not None
            and 0 < _number(low) < RUNNING_FLOOR
            and ruled
        ):
            self.warn(
                table,
                f"must-fund mission {mission['mission_id']} has min_coverage {float(low):.1%}, but where "
                "continuity, min_run, start-up or closure costs or max_step apply a mission runs at 1% "
                "or more: its floor is 1%",
                row.number,
                "min_coverage",
                row.raw.get("min_coverage"),
            )

    def check_requirements(
        self,
        table: _Table,
        missions: list[dict[str, object]] | None,
        resources: list[dict[str, object]] | None,
    ) -> list[dict[str, object]]:
        mission_ids, resource_ids = _ids(missions, "mission_id"), _ids(resources, "resource_id")
        requirements: list[dict[str, object]] = []
        seen: dict[tuple[object, object], int] = {}
        for row in table.rows:
            values = row.values
            if mission_ids is not None and row.ok("mission_id"):
                self.check_reference(table, row, "mission_id", mission_ids, "mission", "missions")
            if resource_ids is not None and row.ok("resource_id"):
                self.check_reference(table, row, "resource_id", resource_ids, "resource", "resources")
            pair = (values["mission_id"], values["resource_id"])
            if row.ok("mission_id", "resource_id"):
                self.first_of_pair(
                    table,
                    row,
                    seen,
                    pair,
                    "resource_id",
                    f"mission {pair[0]} already needs {pair[1]} on row {{first}}; list each mission and "
                    "resource pair once",
                )
            requirements.append({c: values[c] for c in ("mission_id", "resource_id", "quantity")})
        return requirements

    def warn_costless_missions(
        self, table: _Table, missions: list[dict[str, object]] | None, requirements: list[dict[str, object]]
    ) -> None:
        if missions is None or "requirements" not in self.raw:
            return
        required = {r["mission_id"] for r in requirements}
        for row in self.mission_rows:
            mission = row.values
            if (
                mission["mission_id"] not in required
                and not mission["running_cost"]
                and row.ok("running_cost")
            ):
                self.warn(
                    table,
                    f"mission {mission['mission_id']} has no Requirements rows and no running_cost,"
                    " so it costs nothing and will always be fully covered; add what it needs",
                    row.number,
                    "mission_id",
                    mission["mission_id"],
                )

    def check_funding(
        self,
        table: _Table,
        periods: list[dict[str, object]],
        missions: list[dict[str, object]] | None,
        zones: list[dict[str, object]] | None,
    ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        period_ids = [str(p["period_id"]) for p in periods]
        zone_ids = _ids(zones, "zone_id")
        types = sorted({str(m["type"]) for m in missions or []})
        regions = list(dict.fromkeys(str(z["region"]) for z in zones or []))
        sources: dict[str, dict[str, object]] = {}
        first_row: dict[str, _Row] = {}
        amounts: dict[tuple[str, str], tuple[float, _Row]] = {}
        for row in table.rows:
            values = row.values
            if not row.ok("source_id"):
                continue
            source_id = str(values["source_id"])
            if source_id not in sources:
                sources[source_id] = {"source_id": source_id, "name": values["name"]}
                first_row[source_id] = row
                for column in ("eligible_types", "eligible_zones", "eligible_regions"):
                    sources[source_id][column] = values[column]
                self.check_eligibility(table, row, zone_ids, types, regions, sources[source_id])
            else:
                self.check_same_source(table, row, first_row[source_id], sources[source_id])
            if values["period"] is None:
                row_periods = period_ids if row.ok("period") else []
            elif self.check_reference(table, row, "period", period_ids, "period", "periods"):
                row_periods = [str(values["period"])]
            else:
                row_periods = []
            if not row.ok("amount"):
                continue
            for period in row_periods:
                earlier = amounts.get((source_id, period))
                if earlier is None:
                    amounts[(source_id, period)] = (_number(values["amount"]), row)
                    continue
                how = " (blank period: every period)" if earlier[1].values["period"] is None else ""
                column = "period" if table.has("period") else "source_id"
                self.error(
                    table,
                    f"source {source_id} already has an amount for {period} on row "
                    f"{earlier[1].number}{how}; give each source one amount per period",
                    row.number,
                    column,
                    row.raw.get(column),
                )
                break
        for source in sources.values():
            source["name"] = source["name"] or source["source_id"]
            for column in ("eligible_types", "eligible_zones", "eligible_regions"):
                source[column] = source[column] or ()
        funding = [
            {
                "source_id": source_id,
                "period_id": period,
                "amount": amounts[(source_id, period)][0] if (source_id, period) in amounts else 0.0,
            }
            for source_id in sources
            for period in period_ids
        ]
        return list(sources.values()), funding

    def check_eligibility(
        self,
        table: _Table,
        row: _Row,
        zone_ids: list[str] | None,
        types: list[str],
        regions: list[str],
        source: dict[str, object],
    ) -> None:
        """Warn about listed zones, types and regions that match nothing (see :func:`validate`)."""
        if not row.ok("eligible_types", "eligible_zones", "eligible_regions"):
            return
        source["eligible_types"] = tuple(canonical(t) for t in _items(source["eligible_types"]))
        source["eligible_regions"] = tuple(_spelling(r, regions) for r in _items(source["eligible_regions"]))
        lists: list[tuple[str, tuple[str, ...], list[str] | None, str, str]] = [
            ("eligible_zones", _items(source["eligible_zones"]), zone_ids, "zone", "zones"),
            (
                "eligible_types",
                _items(source["eligible_types"]),
                types or None,
                "mission type",
                "mission types",
            ),
            ("eligible_regions", _items(source["eligible_regions"]), regions or None, "region", "regions"),
        ]
        for column, listed, known, noun, nouns in lists:
            if known is None:
                continue
            for item in listed:
                if item not in known:
                    self.warn(
                        table,
                        f"'{plain_text(item)}' is not a {noun} in this portfolio{_suggest(item, known)}, so "
                        f"source {source['source_id']} pays for none there; known {nouns}: "
                        f"{_listing(known)}",
                        row.number,
                        column,
                        row.raw.get(column),
                    )

    def check_same_source(self, table: _Table, row: _Row, first: _Row, source: dict[str, object]) -> None:
        """The rows of one source must agree on its name and its eligibility lists."""
        values = row.values
        if values["name"] is not None and row.ok("name"):
            if source["name"] is None:
                source["name"] = values["name"]
            elif values["name"] != source["name"]:
                self.error(
                    table,
                    f"source {plain_text(source['source_id'])} is called "
                    f"'{plain_text(source['name'])}' on row "
                    f"{first.number}; every row of a source must give the same name (or none)",
                    row.number,
                    "name",
                    row.raw.get("name"),
                )
        for column in ("eligible_types", "eligible_zones", "eligible_regions"):
            if not row.ok(column) or not first.ok(column):
                continue
            here = _normalised_list(column, values[column])
            there = _normalised_list(column, first.values[column])
            if here != there:
                said = ", ".join(_items(first.values[column])) or "blank (any)"
                self.error(
                    table,
                    f"source {source['source_id']} has {column} {said} on row {first.number}; "
                    "repeat the same list on every row of a source (blank means any)",
                    row.number,
                    column,
                    row.raw.get(column),
                )

    def check_availability(
        self, table: _Table, resources: list[dict[str, object]] | None, periods: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        resource_ids = _ids(resources, "resource_id")
        period_ids = [str(p["period_id"]) for p in periods]
        availability: list[dict[str, object]] = []
        seen: dict[tuple[object, object], int] = {}
        for row in table.rows:
            values = row.values
            if resource_ids is not None and row.ok("resource_id"):
                self.check_reference(table, row, "resource_id", resource_ids, "resource", "resources")
            if row.ok("period_id"):
                self.check_reference(table, row, "period_id", period_ids, "period", "periods")
            pair = (values["resource_id"], values["period_id"])
            if row.ok("resource_id", "period_id"):
                self.first_of_pair(
                    table,
                    row,
                    seen,
                    pair,
                    "period_id",
                    f"{pair[0]} in {pair[1]} is already given on row {{first}}; give each resource and "
                    "period once",
                )
            availability.append({c: values[c] for c in ("resource_id", "period_id", "available")})
        return availability

    def check_policies(
        self, table: _Table, zones: list[dict[str, object]] | None, missions: list[dict[str, object]] | None
    ) -> list[dict[str, object]]:
        zone_ids = _ids(zones, "zone_id")
        regions = list(dict.fromkeys(str(z["region"]) for z in zones)) if zones is not None else None
        types = sorted({str(m["type"]) for m in missions}) if missions is not None else None
        policies: list[dict[str, object]] = []
        for row in table.rows:
            values = row.values
            scope, value = values["scope_type"], values["scope_value"]
            if row.ok("scope_type", "scope_value") and value is not None:
                text = str(value)
                if scope == "zone" and zone_ids is not None:
                    self.check_reference(table, row, "scope_value", zone_ids, "zone", "zones")
                elif scope == "region" and regions is not None:
                    values["scope_value"] = _spelling(text, regions)
                    self.check_reference(table, row, "scope_value", regions, "region", "regions")
                elif scope == "type" and types is not None:
                    values["scope_value"] = canonical(text)
                    self.check_reference(table, row, "scope_value", types, "mission type", "mission types")
                elif scope == "priority":
                    try:
                        tier = parse_integer(value)
                        if not 1 <= tier <= 5:
                            raise ValueError
                        values["scope_value"] = str(tier)
                    except ValueError:
                        self.error(
                            table,
                            f"{_show(value)} is not a priority; use a whole number from 1 (highest) to 5",
                            row.number,
                            "scope_value",
                            row.raw.get("scope_value"),
                        )
            policies.append({c: values[c] for c in ("rule", "scope_type", "scope_value", "value")})
        return policies

    def check_baseline(
        self, table: _Table, missions: list[dict[str, object]] | None, periods: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        """Today's plan: known missions and periods, each pair once; a period outside the
        mission's active periods is a warning (that row is not used)."""
        mission_ids = _ids(missions, "mission_id")
        period_ids = [str(p["period_id"]) for p in periods]
        order = {p: i for i, p in enumerate(period_ids)}
        spans = {str(m["mission_id"]): (m["start_period"], m["end_period"]) for m in missions or []}
        baseline: list[dict[str, object]] = []
        seen: dict[tuple[object, object], int] = {}
        for row in table.rows:
            values = row.values
            if mission_ids is not None and row.ok("mission_id"):
                self.check_reference(table, row, "mission_id", mission_ids, "mission", "missions")
            if row.ok("period_id"):
                self.check_reference(table, row, "period_id", period_ids, "period", "periods")
            if not row.ok("mission_id", "period_id", "coverage"):
                continue
            pair = (values["mission_id"], values["period_id"])
            if not self.first_of_pair(
                table,
                row,
                seen,
                pair,
                "period_id",
                f"{pair[0]} in {pair[1]} is already given on row {{first}}; give each mission and "
                "period once",
            ):
                continue
            start, end = spans.get(str(pair[0]), (None, None))
            known_span = start in order and end in order
            if known_span and not order[str(start)] <= order[str(pair[1])] <= order[str(end)]:
                self.warn(
                    table,
                    f"{pair[0]} is not active in {pair[1]} (it runs {start} to {end}); this row is not used",
                    row.number,
                    "period_id",
                    pair[1],
                )
            baseline.append({c: values[c] for c in ("mission_id", "period_id", "coverage")})
        return baseline

    def check_settings(
        self,
        table: _Table,
        sources: list[dict[str, object]],
        zones: list[dict[str, object]] | None,
        missions: list[dict[str, object]] | None,
    ) -> Levers:
        if table.sheet is None or not table.rows:
            return Levers()
        if "key" not in table.sheet.letters or "value" not in table.sheet.letters:
            self.error(
                table, f"needs two columns, key and value (headers are on row {table.sheet.header_row})"
            )
            return Levers()
        settings: dict[str, object] = {}
        cells: dict[str, str] = {}
        key_rows: dict[str, _Row] = {}
        for row in table.rows:
            key, value = row.values["key"], row.raw.get("value")
            if key is None:
                self.error(
                    table, f"blank key for the value {_show(value)}; name the setting", row.number, "key"
                )
                continue
            key = str(key)
            if canonical(key) in {canonical(k) for k in settings}:
                earlier = next(k for k in settings if canonical(k) == canonical(key))
                self.error(
                    table,
                    f"setting {key} is already given on row {key_rows[earlier].number}; "
                    "give each setting once",
                    row.number,
                    "key",
                    key,
                )
                continue
            settings[key] = value
            key_rows[key] = row
            known = canonical(key) in SETTING_KEYS or (
                "." in key
                and canonical(key.partition(".")[0]) in ITEM_LEVERS
                and key.partition(".")[2].strip()
            )
            cell = table.cell("value" if known else "key", row.number)
            if cell:
                cells[key] = cell
        levers, problems = parse_settings(settings, Levers(), table.title, cells)
        for problem in problems:  # located by the cells given above; add the row
            number = int("".join(ch for ch in problem.cell if ch.isdigit())) if problem.cell else None
            self.problems.append(dataclasses.replace(problem, row=number))
        known_ids = {
            "source_scale": ([str(s["source_id"]) for s in sources], "funding source", "sources"),
            "zone_cap": (_ids(zones, "zone_id"), "zone", "zones"),
            "must_fund": (_ids(missions, "mission_id"), "mission", "missions"),
            "priority": (_ids(missions, "mission_id"), "mission", "missions"),
        }
        for key, row in key_rows.items():
            prefix, _, item = key.partition(".")
            prefix, item = canonical(prefix), item.strip()
            if not item or prefix not in known_ids:
                continue
            ids, noun, nouns = known_ids[prefix]
            if ids is not None and item not in ids:
                self.error(
                    table,
                    f"{plain_text(key)}: '{plain_text(item)}' is not a {noun}{_suggest(item, ids)}; known "
                    f"{nouns}: {_listing(ids)}",
                    row.number,
                    "key",
                    key,
                )
        return levers

    # ------------------------------------------------------------------ shared checks

    def first_of_pair(
        self, table: _Table, row: _Row, seen: dict, pair: tuple, column: str, repeated: str
    ) -> bool:
        """True the first time ``pair`` is met; after that, an error naming the row it was
        first given on (``{first}`` in ``repeated``), located at ``column``."""
        if pair in seen:
            self.error(table, repeated.replace("{first}", str(seen[pair])), row.number, column, pair[1])
            return False
        seen[pair] = row.number
        return True

    def unique_rows(self, table: _Table, id_column: str, noun: str) -> list[_Row]:
        """The rows with a readable, unique id; a repeated id is reported at its second use."""
        seen: dict[str, int] = {}
        kept: list[_Row] = []
        for row in table.rows:
            if not row.ok(id_column):
                continue
            key = str(row.values[id_column])
            if key in seen:
                self.error(
                    table,
                    f"{noun} id '{plain_text(key)}' is already used on row {seen[key]}; ids must be unique",
                    row.number,
                    id_column,
                    key,
                )
                continue
            seen[key] = row.number
            kept.append(row)
        return kept

    def check_reference(
        self, table: _Table, row: _Row, column: str, known: list[str], noun: str, nouns: str, hint: str = ""
    ) -> bool:
        """True when the cell names a known id; otherwise report it (with a close match if any)."""
        value = row.values[column]
        if value is None or str(value) in known:
            return True
        row.bad.add(column)
        self.error(
            table,
            f"'{plain_text(value)}' is not a {noun}{_suggest(str(value), known)}; known {nouns}: "
            f"{_listing(known)}{hint}",
            row.number,
            column,
            row.raw.get(column, value),
        )
        return False


# ---------------------------------------------------------------------- parsing one cell


def _parse(sheet: str, column: Column, value: object) -> object:
    """A non-blank cell parsed by its column's kind; ValueError with a planner's reason."""
    kind = column.kind
    if kind in (Kind.ID, Kind.TEXT):
        return _format_id(value)
    if kind is Kind.LIST:
        return parse_list(value if not isinstance(value, dt.date) else _format_id(value))
    if kind is Kind.BOOL:
        try:
            return parse_bool(value)
        except ValueError:
            default = "yes" if column.default else "no"
            raise ValueError(
                f"is not yes or no; use yes/no, y/n, true/false, 1/0 or x (blank means {default})"
            ) from None
    if kind is Kind.CHOICE:
        text = canonical(value)
        if text in column.choices:
            return text
        noun = _CHOICE_NOUN.get(column.name, column.name)
        raise ValueError(f"is not a {noun}; use {_or_list(column.choices)}")
    if kind is Kind.SHARE:
        try:
            return parse_share(value)
        except ValueError:
            raise ValueError("is not a share between 0 and 1; write it as 40% or 0.4") from None
    if kind is Kind.INTEGER:
        return _parse_whole(column, value)
    number = _parse_amount(value)
    if abs(number) > LARGEST_NUMBER:
        raise ValueError(
            f"is too large; {column.name} must be at most {LARGEST_NUMBER:,.0f} (check for a typo)"
        )
    if (sheet, column.name) in _ABOVE_ZERO and number <= 0:
        raise ValueError(f"is not above 0; {column.name} must be above 0 (default {column.default:g})")
    if column.minimum is not None and number < column.minimum:
        raise ValueError(f"is negative; {column.name} must be {column.minimum:g} or more")
    if column.maximum is not None and number > column.maximum:
        raise ValueError(f"is above {column.maximum:g}; {column.name} is at most {column.maximum:g}")
    return number


def _parse_amount(value: object) -> float:
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        raise ValueError("is a date or time, not a number")
    try:
        return parse_number(value)
    except ValueError:
        if isinstance(value, str) and value.strip().startswith("#"):
            raise ValueError("is a spreadsheet error; fix the formula that gives it") from None
        raise ValueError("is not a number; write it like 1200, 1,200,000 or $ 1.2m") from None


def _parse_whole(column: Column, value: object) -> int:
    low, high = column.minimum, column.maximum
    span = (
        f"a whole number from {low:g} to {high:g}"
        if low is not None and high is not None
        else "a whole number"
    )
    if column.name == "priority":
        span = "a whole number from 1 (highest) to 5 (lowest)"
    try:
        number = parse_integer(_parse_amount(value))
    except ValueError:
        raise ValueError(f"is not {span}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            raise ValueError(f"is below {low:g}; use a whole number of {low:g} or more")
        raise ValueError(f"is outside {low:g}–{high:g}; use {span}")
    return number


def _format_id(value: object) -> str:
    """An id or text as written; whole numbers lose their ".0" and dates read as 2027-01-31."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return format_id(value)


def _default(column: Column) -> object:
    if column.kind is Kind.LIST:
        return ()
    return column.default


# ---------------------------------------------------------------------- the portfolio's tables

_DTYPES = {
    Kind.ID: "str",
    Kind.TEXT: "str",
    Kind.CHOICE: "str",
    Kind.NUMBER: "float64",
    Kind.SHARE: "float64",
    Kind.INTEGER: "int64",
    Kind.BOOL: "bool",
    Kind.LIST: "object",
}


def _frame(
    rows: list[dict[str, object]] | None,
    spec: Sheet | None,
    index: str | None = None,
    columns: Iterable[str] | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> pd.DataFrame:
    """A normalised table: typed columns, in workbook order, optionally indexed by its id."""
    kinds = dict(kinds or {})
    if spec is not None:
        kinds.update({c.name: c.kind for c in spec.columns})
        if columns is None:
            columns = spec.column_names
    names = list(columns or [])
    if index is not None and index not in names:
        names = [index, *names]
    rows = rows or []
    data = {}
    for name in names:
        values = [row[name] for row in rows]
        if kinds.get(name) is Kind.LIST:
            series = pd.Series(values, dtype=object)
        else:
            series = pd.Series(values, dtype=_DTYPES[kinds[name]])
        data[name] = series
    frame = pd.DataFrame(data, columns=names)
    if index is not None:
        frame = frame.set_index(index)
    return frame


# ---------------------------------------------------------------------- wording


def _show(value: object) -> str:
    """A cell's value as a planner would recognise it in a message."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"'{plain_text(value.strip())}'"
    if isinstance(value, dt.date | dt.time):
        return _format_id(value)
    return plain_text(value)


def _one_line(problem: Problem) -> Problem:
    """A problem whose sheet and message show on one line, of bounded length."""
    message = plain_text(problem.message, MESSAGE_CHARS)
    sheet = plain_text(problem.sheet, MESSAGE_CHARS // 4)
    if message == problem.message and sheet == problem.sheet:
        return problem
    return dataclasses.replace(problem, message=message, sheet=sheet)


def _percent(share: object) -> str:
    return f"{float(share):.0%}" if isinstance(share, float | int) else str(share)


def _listing(items: list[str]) -> str:
    """``Z01, Z02, Z03`` or, for long lists, ``Z01, Z02, Z03, Z04, Z05, …, Z30 (30 in all)``."""
    if not items:
        return "none"
    shown = [plain_text(item, 40) for item in (items if len(items) <= _SHOWN else items[: _SHOWN - 1])]
    if len(items) <= _SHOWN:
        return ", ".join(shown)
    return f"{', '.join(shown)}, …, {plain_text(items[-1], 40)} ({len(items)} in all)"


def _or_list(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _suggest(value: str, known: list[str]) -> str:
    """`` (did you mean Z19?)`` when a known id is close to the one written."""
    if len(value) > 200:  # no id is that long; spare difflib the quadratic work
        return ""
    by_case = [k for k in known if k.casefold() == value.casefold() or canonical(k) == canonical(value)]
    close = by_case or difflib.get_close_matches(value, known, n=1, cutoff=0.75)
    return f" (did you mean {plain_text(close[0])}?)" if close else ""


def _spelling(value: str, known: list[str]) -> str:
    """A region or type written differently (``west africa``) in the Zones sheet's spelling."""
    return next((k for k in known if canonical(k) == canonical(value)), value)


def _normalised_list(column: str, items: object) -> frozenset[str]:
    return frozenset(canonical(i) if column != "eligible_zones" else i for i in _items(items))


def _items(value: object) -> tuple[str, ...]:
    """A parsed list cell (a tuple of ids), or nothing."""
    return tuple(str(item) for item in value) if isinstance(value, tuple | list) else ()


def _number(value: object) -> float:
    """A parsed number cell; NaN when it was blank or could not be read."""
    return float(value) if isinstance(value, int | float) else math.nan


def _ids(rows: list[dict[str, object]] | None, column: str) -> list[str] | None:
    return None if rows is None else [str(r[column]) for r in rows]


def _in_sheet_order(problems: Iterable[Problem]) -> list[Problem]:
    """File-level problems first, then by sheet (schema order), row and column."""
    sheet_order = {name: i for i, name in enumerate(SHEETS)}

    def key(problem: Problem) -> tuple[int, int, int, str]:
        if problem.sheet == "file":
            return (-1, 0, 0, "")
        name = canonical(problem.sheet.rsplit(".csv", 1)[0])
        sheet = sheet_order.get(name, len(sheet_order))
        letters = "".join(ch for ch in (problem.cell or "") if ch.isalpha())
        return (sheet, problem.row or 0, len(letters), letters)

    return sorted(problems, key=key)
