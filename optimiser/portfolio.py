"""The validated portfolio: what the planner's workbook says, typed and frozen.

A :class:`Portfolio` is made only by :func:`optimiser.validate.validate` (or by tests
that build one directly). Every table is a pandas DataFrame in the normalised form
documented on the class; defaults are filled in, ids are strings, periods are
expanded, so that later stages never re-interpret the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from optimiser import wording
from optimiser.levers import Levers
from optimiser.problems import Problem


@dataclass(frozen=True)
class InputFile:
    """Where a portfolio came from: path as given, format and SHA-256 of its bytes."""

    path: str
    format: str  # xlsx, xlsm, xls, xlsb, ods, csv, or "memory"
    sha256: str


@dataclass(frozen=True, eq=False)
class Portfolio:
    """A validated portfolio of missions (SPEC section 2), in normalised tables.

    Attributes
    ----------
    missions : DataFrame indexed by ``mission_id`` (str), in workbook order, columns
        ``name`` str, ``zone_id`` str, ``type`` str, ``priority`` int (1-5),
        ``weight`` float, ``must_fund`` bool, ``min_coverage`` float,
        ``max_coverage`` float, ``running_cost`` float (money per period at full
        coverage), ``start_period`` str, ``end_period`` str (blanks filled with the
        first and last period); the plans-over-time columns of SPEC 3.1:
        ``continuity`` bool, ``min_run`` int (>= 1), ``running_now`` bool,
        ``startup_cost`` float, ``closure_cost`` float (money), ``max_step`` float
        (0-1; NaN: no limit). A table built without them is read with the defaults of
        :data:`optimiser.schema.TIMELINE_DEFAULTS`.
    zones : DataFrame indexed by ``zone_id``: ``name``, ``region``, ``risk`` str,
        ``personnel_cap`` float (NaN: no cap), ``hazard_multiplier`` float.
    resources : DataFrame indexed by ``resource_id``: ``name``, ``kind``
        ("personnel" or "equipment"), ``unit`` str, ``unit_cost`` float (money per
        unit per period), ``available`` float (units per period; NaN: unlimited),
        ``reserve_share`` float, ``integer`` bool.
    requirements : DataFrame with columns ``mission_id``, ``resource_id``,
        ``quantity`` float (units per period at full coverage); one row per pair.
    sources : DataFrame indexed by ``source_id``: ``name`` str and
        ``eligible_types``, ``eligible_zones``, ``eligible_regions``, each a tuple of
        str (empty tuple: any).
    funding : DataFrame with columns ``source_id``, ``period_id``, ``amount`` float;
        one row for every (source, period), blank periods expanded, missing ones 0.
    periods : DataFrame indexed by ``period_id`` in planning order: ``name``.
    availability : DataFrame with columns ``resource_id``, ``period_id``,
        ``available`` float: per-period overrides of ``resources.available``.
    policies : DataFrame with columns ``rule``, ``scope_type``, ``scope_value`` (str;
        priorities as "1".."5"), ``value`` float.
    baseline : DataFrame with columns ``mission_id``, ``period_id``, ``coverage`` float
        (0-1): today's plan, one row per (mission, period) listed; empty when the
        workbook has no Baseline sheet. Mission-periods not listed are not held to it.
    levers : the workbook's Settings as :class:`~optimiser.levers.Levers`.
    source : the file it was read from.
    warnings : warnings found while reading and validating.
    """

    missions: pd.DataFrame
    zones: pd.DataFrame
    resources: pd.DataFrame
    requirements: pd.DataFrame
    sources: pd.DataFrame
    funding: pd.DataFrame
    periods: pd.DataFrame
    availability: pd.DataFrame
    policies: pd.DataFrame
    baseline: pd.DataFrame = field(default_factory=lambda: empty_baseline())
    levers: Levers = field(default_factory=Levers)
    source: InputFile = field(default_factory=lambda: InputFile("", "memory", ""))
    warnings: tuple[Problem, ...] = ()

    @property
    def has_baseline(self) -> bool:
        return len(self.baseline) > 0

    @property
    def period_ids(self) -> list[str]:
        return list(self.periods.index)

    def describe(self) -> str:
        """The portfolio in a planner's words (for captions and the terminal): ``"150
        missions in 30 zones, 16 resources, 5 funding sources, 4 periods (January–March 2027
        to October–December 2027), from national_portfolio.xlsx"``."""
        names = self.periods["name"] if "name" in self.periods else pd.Series(self.period_ids)
        return wording.portfolio_summary(len(self.missions), len(self.zones), len(self.resources),
                                         len(self.sources), [str(n) for n in names], self.source.path)

    def __repr__(self) -> str:
        return (
            f"Portfolio({len(self.missions)} missions, {len(self.zones)} zones, "
            f"{len(self.resources)} resources, {len(self.sources)} funding sources, "
            f"{len(self.periods)} periods, from {self.source.path or 'memory'!r})"
        )


def empty_baseline() -> pd.DataFrame:
    """The Baseline table of a workbook without that sheet: no rows."""
    return pd.DataFrame(
        {
            "mission_id": pd.Series(dtype=object),
            "period_id": pd.Series(dtype=object),
            "coverage": pd.Series(dtype=float),
        }
    )
