"""The report's input sheets: the portfolio as read ("Input Missions", ...), defaults
filled in and per-item levers applied, so that a report shows what was planned from."""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl import Workbook

from optimiser.portfolio import Portfolio
from optimiser.report.cells import MONEY, PERCENT, RATIO, UNITS, Format, SheetWriter, units_format, yes_no

INPUT_SHEETS = ("Missions", "Zones", "Resources", "Requirements", "Funding", "Periods", "Availability",
                "Policies")
INPUT_MONEY = {"running_cost", "unit_cost", "amount"}
INPUT_SHARES = {"min_coverage", "max_coverage", "reserve_share"}
INPUT_UNITS = {"available", "quantity", "personnel_cap"}
INPUT_RATIOS = {"weight", "hazard_multiplier"}


def _input_tables(portfolio: Portfolio) -> dict[str, pd.DataFrame]:
    """The portfolio's tables, one per input sheet, ids as their first column."""

    def flat(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
            return frame.reset_index()
        return frame.reset_index(drop=True)

    sources = flat(portfolio.sources)
    funding = flat(portfolio.funding)
    if "source_id" in sources.columns and "source_id" in funding.columns:
        details = sources.drop_duplicates("source_id")
        funding = funding.merge(details, on="source_id", how="left", suffixes=("", "_source"))
        first = ["source_id", "name", "period_id", "amount"]
        funding = funding[[c for c in first if c in funding.columns] +
                          [c for c in funding.columns if c not in first]]
    return {
        "Missions": flat(portfolio.missions),
        "Zones": flat(portfolio.zones),
        "Resources": flat(portfolio.resources),
        "Requirements": flat(portfolio.requirements),
        "Funding": funding,
        "Periods": flat(portfolio.periods),
        "Availability": flat(portfolio.availability),
        "Policies": flat(portfolio.policies),
    }


def input_sheets(workbook: Workbook, portfolio: Portfolio, currency: str) -> None:
    """The inputs as read (defaults filled in, per-item levers applied), one sheet each."""
    tables = _input_tables(portfolio)
    baseline = getattr(portfolio, "baseline", None)
    titles = list(INPUT_SHEETS)
    if baseline is not None and len(baseline):  # only when the workbook has today's plan
        tables["Baseline"] = baseline.reset_index(drop=True)
        titles.append("Baseline")
    for title in titles:
        frame = tables[title]
        out = SheetWriter(workbook.create_sheet(f"Input {title}"))
        header, formats = [], []
        for name in frame.columns:
            column = str(name)
            header.append(f"{column} ({currency})" if column in INPUT_MONEY else column)
            formats.append(_input_format(title, column, frame[name]))
        rows = (
            [yes_no(v) if isinstance(v, bool | np.bool_) else v for v in values]
            for values in frame.itertuples(index=False, name=None)
        )
        last = out.table(header, rows, formats)
        if frame.empty:
            out.note(last + 1, 1, "(no rows)")
        out.ws.freeze_panes = "B2"
        out.fit_columns()


def _input_format(title: str, column: str, values: pd.Series) -> Format:
    if column in INPUT_MONEY:
        return MONEY
    if column in INPUT_SHARES or (title == "Policies" and column == "value") or (
        title == "Baseline" and column == "coverage"
    ):
        return PERCENT
    if column in INPUT_UNITS:
        return units_format(values)
    if column in INPUT_RATIOS:
        return RATIO
    if column == "priority":
        return UNITS
    return None
