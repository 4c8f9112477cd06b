"""What the page shows, worked out from a Plan: pure pandas, no Streamlit, no model logic.

Every function here reads the public :class:`optimiser.Plan` tables and reshapes them
for a planner's eye (one row per mission instead of per mission-period, tier counts,
the difference between two plans). They are unit-testable without a browser.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from optimiser import Levers, Plan, Problem
from optimiser.coverage import CLASS_WORDS, FULLY, NOT, lacking, mission_classes
from optimiser.coverage import PARTLY as PARTLY_COVERED
from optimiser.sensitivity import range_words

FULL = CLASS_WORDS[FULLY]
PARTLY = CLASS_WORDS[PARTLY_COVERED]
NONE = CLASS_WORDS[NOT]
COVERAGE_CLASSES = (FULL, PARTLY, NONE)


# --------------------------------------------------------------------------- formatting


def money(amount: float | None, currency: str = "USD") -> str:
    """``"USD 12.3 m"``: money in the short form planners read in briefings."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    size = abs(amount)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if size >= limit:
            return f"{currency} {amount / limit:,.{1 if size < 100 * limit else 0}f} {suffix}"
    return f"{currency} {amount:,.0f}"


def number(amount: float | None, digits: int = 1) -> str:
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "–"
    if abs(amount - round(amount)) < 1e-9:
        return f"{amount:,.0f}"
    return f"{amount:,.{digits}f}"


# --------------------------------------------------------------------------- input problems


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """One row per problem: severity, sheet, cell, column, value and the sentence."""
    rows = [
        {
            "severity": str(p.severity),
            "sheet": p.sheet,
            "cell": p.cell or (f"row {p.row}" if p.row is not None else ""),
            "column": p.column or "",
            "value": "" if p.value is None else str(p.value),
            "message": p.message,
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=["severity", "sheet", "cell", "column", "value", "message"])


# --------------------------------------------------------------------------- one plan


@dataclass(frozen=True)
class Headline:
    """The plan at a glance: the numbers of the metric row."""

    status: str
    value: float
    max_value: float
    value_share: float
    total_cost: float
    money_available: float
    money_share: float
    personnel: float  # personnel deployed in the busiest period
    gap: float | None
    solve_s: float
    currency: str


def headline(plan: Plan) -> Headline:
    value = plan.value or 0.0
    return Headline(
        status=str(plan.status),
        value=value,
        max_value=plan.max_value,
        value_share=value / plan.max_value if plan.max_value > 0 else 0.0,
        total_cost=plan.total_cost,
        money_available=plan.money_available,
        money_share=plan.total_cost / plan.money_available if plan.money_available > 0 else 0.0,
        personnel=personnel_deployed(plan),
        gap=plan.gap,
        solve_s=plan.solver.total_s,
        currency=plan.levers.currency,
    )


def personnel_deployed(plan: Plan) -> float:
    """People deployed in the busiest period (sum of personnel units allocated)."""
    people = plan.allocation[plan.allocation["kind"] == "personnel"]
    if people.empty:
        return 0.0
    return float(people.groupby("period_id")["units"].sum().max())


def mission_coverage(plan: Plan) -> pd.DataFrame:
    """One row per mission: mean and lowest coverage over its active periods, money,
    value, and whether it is fully, partly or not covered.

    Fully, partly and not covered as :func:`optimiser.coverage.coverage_class` says
    (SPEC 5: against the mission's max_coverage in every active period).
    """
    rows = plan.missions
    if rows.empty:
        return pd.DataFrame(
            columns=["mission_id", "name", "zone_id", "type", "priority", "must_fund", "coverage",
                     "lowest_coverage", "cost", "value", "covered"]
        )
    grouped = rows.groupby("mission_id", sort=False)
    table = grouped.agg(
        name=("name", "first"),
        zone_id=("zone_id", "first"),
        type=("type", "first"),
        priority=("priority", "first"),
        must_fund=("must_fund", "first"),
        coverage=("coverage", "mean"),
        lowest_coverage=("coverage", "min"),
        cost=("cost", "sum"),
        value=("value", "sum"),
    )
    words = {FULLY: FULL, PARTLY_COVERED: PARTLY, NOT: NONE}
    table["covered"] = mission_classes(plan).reindex(table.index).map(words).fillna(NONE)
    table["priority"] = table["priority"].astype(int)
    return table.reset_index().sort_values(["priority", "coverage"], ascending=[True, False],
                                           kind="stable", ignore_index=True)


def tier_counts(plan: Plan, coverage: pd.DataFrame | None = None) -> pd.DataFrame:
    """Missions fully / partly / not covered, one row per priority tier (1..5).
    ``coverage`` is :func:`mission_coverage` of the plan, when already at hand."""
    table = mission_coverage(plan) if coverage is None else coverage
    counts = pd.crosstab(table["priority"], table["covered"]) if len(table) else pd.DataFrame()
    counts = counts.reindex(index=range(1, 6), columns=list(COVERAGE_CLASSES), fill_value=0)
    counts = counts.fillna(0).astype(int)
    counts.index.name = "priority"
    counts["value"] = [plan.value_by_priority.get(tier, 0.0) for tier in counts.index]
    return counts.reset_index()


def unmet_by_mission(plan: Plan) -> pd.DataFrame:
    """What each under-covered mission still lacks to reach its max_coverage
    (:func:`optimiser.coverage.lacking`): one row per mission, needs in words (the largest
    shortfall of each resource over the mission's periods)."""
    columns = ["mission_id", "name", "priority", "coverage", "lacks", "shortfall_cost"]
    unmet = lacking(plan)
    if unmet.empty:
        return pd.DataFrame(columns=columns)
    needs = unmet.groupby(["mission_id", "resource_id"], sort=False).agg(
        total=("shortfall", "sum"), peak=("shortfall", "max"), periods=("period_id", "nunique")
    )
    needs = needs.reset_index().sort_values(["mission_id", "total"], ascending=[True, False], kind="stable")
    names = _resource_units(plan)
    words: dict[str, list[str]] = {}
    for mission_id, resource_id, peak, periods in zip(
        needs["mission_id"], needs["resource_id"], needs["peak"], needs["periods"], strict=True
    ):
        text = f"{number(float(peak))} {_unit_label(resource_id, names)}"
        if periods > 1:
            text += f" (peak, {periods} periods)"
        words.setdefault(mission_id, []).append(text)
    missions = plan.missions.groupby("mission_id", sort=False).agg(
        name=("name", "first"), priority=("priority", "first"), coverage=("coverage", "mean")
    )
    cost = unmet.groupby("mission_id", sort=False)["shortfall_cost"].sum()
    table = pd.DataFrame({"mission_id": list(words)})
    table["name"] = table["mission_id"].map(missions["name"]).fillna(table["mission_id"])
    table["priority"] = table["mission_id"].map(missions["priority"]).fillna(0).astype(int)
    table["coverage"] = table["mission_id"].map(missions["coverage"]).fillna(0.0).astype(float)
    table["lacks"] = ["; ".join(words[m]) for m in table["mission_id"]]
    table["shortfall_cost"] = table["mission_id"].map(cost).astype(float)
    return table.sort_values(["priority", "shortfall_cost"], ascending=[True, False], ignore_index=True)


def _resource_units(plan: Plan) -> Mapping[str, str]:
    if plan.portfolio is None:
        return {}
    return plan.portfolio.resources["name"].to_dict()


def _unit_label(resource_id: str, names: Mapping[str, str]) -> str:
    name = names.get(resource_id, resource_id)
    return name if name == resource_id else f"{name} ({resource_id})"


BINDING_COLUMNS = ["rank", "constraint", "id", "period_id", "sentence", "shadow_price", "unit", "gain",
                   "low", "high", "limit", "holds"]
# what a limit is, for "the price holds while ... is from 540 to 600"
_LIMIT_NOUNS = {"resource": "usable units are", "budget": "the fund is", "zone_cap": "the cap is"}


def binding_table(plan: Plan, ranges: pd.DataFrame | None = None, limit: int = 10) -> pd.DataFrame:
    """The shadow prices ranked by the value their step adds (one unit, one person, or a
    round sum of money; the core writes the sentences), each with the range over which it
    holds when ``ranges`` (:func:`optimiser.price_ranges` of the plan) is given.

    Returns
    -------
    DataFrame
        ``rank``, ``constraint``, ``id``, ``period_id``, ``sentence``, ``shadow_price``
        (value per unit), ``unit``, ``gain`` and, from the ranging: ``low``, ``high``
        (NaN: no end or not known), ``limit`` (usable units, money or cap now) and
        ``holds`` (the range in words, "" when not known). A range is used only when its
        price is the plan's: the ranging model is the one the plan's prices come from, and
        a different price there would make its range another price's.
    """
    table = plan.sensitivity
    if table.empty:
        return pd.DataFrame(columns=BINDING_COLUMNS)
    rank = "gain" if "gain" in table.columns else "shadow_price"
    table = table.sort_values(rank, ascending=False, kind="stable").head(limit).reset_index(drop=True)
    table = table.assign(rank=range(1, len(table) + 1))
    if "gain" not in table.columns:
        table["gain"] = table["shadow_price"]
    keys = ["constraint", "id", "period_id"]
    if ranges is not None and len(ranges) and {*keys, "low", "high", "limit", "shadow_price"} <= set(ranges):
        found = ranges[[*keys, "low", "high", "limit", "shadow_price"]].rename(
            columns={"shadow_price": "_ranged"})
        table = table.merge(found, on=keys, how="left")
        price = table["shadow_price"].astype(float)
        same = (table["_ranged"].astype(float) - price).abs() <= 1e-6 * price.abs() + 1e-12
        for column in ("low", "high", "limit"):
            table[column] = table[column].astype(float).where(same)
    else:
        table = table.assign(low=math.nan, high=math.nan, limit=math.nan)
    currency = plan.levers.currency
    table["holds"] = [
        "" if math.isnan(now) else range_words(str(kind), low, high, now, currency)
        for kind, low, high, now in zip(table["constraint"], table["low"], table["high"], table["limit"],
                                        strict=True)
    ]
    return table.reindex(columns=BINDING_COLUMNS)


def binding_sentences(plan: Plan, limit: int = 10, ranges: pd.DataFrame | None = None) -> list[str]:
    """The shadow prices in words, ranked as :func:`binding_table`; with ``ranges``, each
    sentence says how far its price holds ("...; the price holds while the cap is from 18
    to 21.5 (now 20; 1.53 more at most)")."""
    sentences = []
    for row in binding_table(plan, ranges, limit).itertuples():
        sentence = "" if pd.isna(row.sentence) else str(row.sentence).strip()
        if not sentence:  # a plain fallback; the core's sentence is preferred
            sentence = (
                f"One more {row.unit} of {row.constraint} {row.id}"
                + (f" in {row.period_id}" if row.period_id else "")
                + f" adds {row.shadow_price:,.3g} value"
            )
        if row.holds:
            noun = _LIMIT_NOUNS.get(str(row.constraint), "the limit is")
            sentence += f"; the price holds while {noun} {row.holds}"
        sentences.append(sentence)
    return sentences


# --------------------------------------------------------------------------- two plans


def headline_deltas(before: Plan, after: Plan) -> dict[str, tuple[float, float, float]]:
    """``name -> (before, after, after - before)`` for the comparable headline numbers."""
    a, b = headline(before), headline(after)
    pairs = {
        "value": (a.value, b.value),
        "value_share": (a.value_share, b.value_share),
        "total_cost": (a.total_cost, b.total_cost),
        "money_available": (a.money_available, b.money_available),
        "personnel": (a.personnel, b.personnel),
    }
    counts_a, counts_b = tier_counts(before), tier_counts(after)
    for label in COVERAGE_CLASSES:
        pairs[label] = (float(counts_a[label].sum()), float(counts_b[label].sum()))
    return {name: (x, y, y - x) for name, (x, y) in pairs.items()}


def compare_missions(before: Plan, after: Plan) -> pd.DataFrame:
    """One row per mission: coverage and money in each plan and the change, largest change
    first (by coverage, then by money)."""
    a = mission_coverage(before).set_index("mission_id")
    b = mission_coverage(after).set_index("mission_id")
    ids = list(dict.fromkeys([*a.index, *b.index]))
    info = pd.concat([a[["name", "priority"]], b[["name", "priority"]]])
    info = info[~info.index.duplicated(keep="last")].reindex(ids)
    table = pd.DataFrame(
        {
            "mission_id": ids,
            "name": info["name"].to_numpy(),
            "priority_before": a["priority"].reindex(ids).to_numpy(),
            "priority_after": b["priority"].reindex(ids).to_numpy(),
            "coverage_before": a["coverage"].reindex(ids).fillna(0.0).to_numpy(),
            "coverage_after": b["coverage"].reindex(ids).fillna(0.0).to_numpy(),
            "cost_before": a["cost"].reindex(ids).fillna(0.0).to_numpy(),
            "cost_after": b["cost"].reindex(ids).fillna(0.0).to_numpy(),
        }
    )
    table["coverage_change"] = table["coverage_after"] - table["coverage_before"]
    table["cost_change"] = table["cost_after"] - table["cost_before"]
    order = pd.DataFrame(
        {"c": table["coverage_change"].abs().round(9), "m": table["cost_change"].abs().round(2)}
    )
    ranked = order.sort_values(["c", "m"], ascending=False, kind="stable").index
    return table.loc[ranked].reset_index(drop=True)


# --------------------------------------------------------------------------- reproducing a scenario


def levers_text(
    levers: Levers, workbook: str, sha256: str, scenario: str = "", relax_commitments: bool = False
) -> str:
    """The scenario's levers as ``key=value`` lines and the command that reproduces it
    (with ``--relax-commitments`` for the plan with the commitments stretched)."""
    settings = levers.as_settings()
    command = " ".join(
        ["optimiser", "solve", shlex.quote(workbook)]
        + [f"--set {shlex.quote(f'{key}={value}')}" for key, value in settings.items()]
        + (["--relax-commitments"] if relax_commitments else [])
    )
    title = f"scenario '{scenario}'" if scenario else "the scenario on screen"
    if relax_commitments:
        title += ", planned with the commitments stretched"
    lines = [
        f"# mission-optimiser levers for {title}",
        f"# workbook: {workbook} (sha256 {sha256})",
        "# Reproduce with:",
        f"#   {command}",
        "# or paste the key=value lines below into the workbook's Settings sheet.",
        *(f"{key}={value}" for key, value in settings.items()),
    ]
    return "\n".join(lines) + "\n"
