"""What the page shows, worked out from a Plan: pure pandas, no Streamlit, no model logic.

Every function here reads the public :class:`optimiser.Plan` tables and reshapes them
for a planner's eye (one row per mission instead of per mission-period, tier counts,
the levers that reproduce a scenario); two plans are compared by
:mod:`optimiser.explore.compare`, through the scenario store. They are unit-testable
without a browser.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from optimiser import Levers, Plan, Portfolio, Problem, formats, wording
from optimiser.coverage import CLASS_WORDS, FULLY, NOT, lacking, mission_classes
from optimiser.coverage import PARTLY as PARTLY_COVERED
from optimiser.formats import Kind

FULL = CLASS_WORDS[FULLY]
PARTLY = CLASS_WORDS[PARTLY_COVERED]
NONE = CLASS_WORDS[NOT]
COVERAGE_CLASSES = (FULL, PARTLY, NONE)


# --------------------------------------------------------------------------- words


def plan_status(plan: Plan) -> str:
    """The plan's status in a planner's words (``relaxed`` is the plan with the commitments
    stretched, not one with fractional units; ``feasible`` is the best plan found when
    the time limit stopped the search, "near best": the caption says how near)."""
    return status_words(str(plan.status))


# A plan's status in a planner's words (the headline tile, the scenario list and comparison).
STATUS_WORDS = {"relaxed": "commitments stretched", "feasible": "near best", "infeasible": "no plan"}


def status_words(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def portfolio_caption(portfolio: Portfolio) -> str:
    """``"150 missions in 30 zones, 16 resources, 5 funding sources, 4 periods (...)"``."""
    return portfolio.describe()


# --------------------------------------------------------------------------- tables for planners

# A plan table's column: its header in a planner's words and its kind (how it is shown).
COLUMN_WORDS: dict[str, tuple[str, Kind | None]] = {
    "mission_id": ("Mission ID", None),
    "name": ("Mission", None),
    "zone_id": ("Zone", None),
    "region": ("Region", None),
    "type": ("Type", None),
    "priority": ("Priority", Kind.COUNT),
    "must_fund": ("Must fund", None),
    "period_id": ("Period", None),
    "coverage": ("Coverage", Kind.SHARE),
    "lowest_coverage": ("Lowest period", Kind.SHARE),
    "value": ("Value", Kind.VALUE),
    "cost": ("Cost ({currency})", Kind.MONEY),
    "resource_id": ("Resource", None),
    "kind": ("Kind", None),
    "needed": ("Needed at full coverage", Kind.UNITS),
    "units": ("Units", Kind.UNITS),
    "unit_cost": ("Unit cost ({currency})", Kind.MONEY),
    "source_id": ("Funding source", None),
    "money": ("Money ({currency})", Kind.MONEY),
    "used": ("Used", Kind.UNITS),
    "available": ("Available", Kind.UNITS),
    "reserve": ("Reserve", Kind.UNITS),
    "usable": ("Usable", Kind.UNITS),
    "amount": ("Amount ({currency})", Kind.MONEY),
    "personnel": ("Personnel", Kind.PEOPLE),
    "cap": ("Personnel cap", Kind.PEOPLE),
    "allocated": ("Allocated", Kind.UNITS),
    "shortfall": ("Shortfall", Kind.UNITS),
    "shortfall_cost": ("Money to close it ({currency})", Kind.MONEY),
    "constraint": ("Limit", None),
    "id": ("ID", None),
    "sentence": ("What it means", None),
    "unit": ("Per", None),
    "gain": ("Value added per step", Kind.PER_UNIT),
    "covered": ("Covered", None),
    "lacks": ("Still lacks (per period, at most)", None),
    "runs": ("Runs", None),
    "starts": ("Starts", None),
    "stops": ("Stops", None),
    "startup_cost": ("Start-up cost ({currency})", Kind.MONEY),
    "closure_cost": ("Closure cost ({currency})", Kind.MONEY),
}
LACKS_SHOWN = 3  # resources named in the Unmet tab's "still lacks" (the rest counted)
CONSTRAINT_WORDS = {"resource": "Resource", "budget": "Funding source", "zone_cap": "Zone personnel cap"}
# Shadow prices per unit, by table: what one more unit is.
PRICE_WORDS = {"resources": "Value of one more unit", "zones": "Value of one more person allowed"}


def _names(plan: Plan) -> dict[str, dict[str, str]]:
    portfolio = plan.portfolio
    if portfolio is None:
        return {}

    def names(frame: pd.DataFrame) -> dict[str, str]:
        return {str(k): str(v) for k, v in frame["name"].items()} if "name" in frame else {}

    return {
        "zone_id": names(portfolio.zones),
        "resource_id": names(portfolio.resources),
        "source_id": names(portfolio.sources),
        "period_id": names(portfolio.periods),
    }


def for_planners(frame: pd.DataFrame, plan: Plan, table: str = "") -> tuple[pd.DataFrame, dict[str, object]]:
    """A plan table as a planner reads it, and its Streamlit ``column_config``.

    Headers in words (never ``mission_id``), ids of zones, resources, sources and periods
    replaced by their names, mission types and limit kinds in words, yes/no for flags;
    numbers by kind (:mod:`optimiser.formats`): shares as percentages with one decimal,
    money and people whole with thousands separators, fractional units with one decimal,
    and a shadow price per unit of money as the value of 1 million of it.
    ``table`` is the plan table's name (``"budgets"``, ``"resources"``...).
    """
    import streamlit as st  # the column configs only: the rest is pure pandas

    currency = plan.levers.currency
    shown = frame.copy()
    config: dict[str, object] = {}
    names = _names(plan)
    for column in list(shown.columns):
        values = shown[column]
        if names.get(column):
            shown[column] = values.astype(str).map(lambda v, n=names[column]: n.get(v, v))
        if column == "type":
            shown[column] = values.astype(str).str.replace("_", " ")
        if column == "constraint":
            shown[column] = values.map(lambda v: CONSTRAINT_WORDS.get(str(v), str(v)))
        if column in ("must_fund", "runs", "starts", "stops"):
            shown[column] = values.map(lambda v: "yes" if bool(v) else "no")
        if column in ("step", "_ranged"):
            shown = shown.drop(columns=column)
            continue
        label, kind = COLUMN_WORDS.get(column, (column.replace("_", " ").capitalize(), None))
        if column == "shadow_price":
            if table == "budgets" or (table == "sensitivity" and "gain" in shown.columns):
                if table == "sensitivity":  # the value per step says it (a person, USD 1m)
                    shown = shown.drop(columns=column)
                    continue
                shown[column] = pd.to_numeric(values, errors="coerce") * formats.MILLION
                label = f"Value of {currency} 1m more"
            else:
                label = PRICE_WORDS.get(table, "Value of one more unit")
            kind = Kind.PER_UNIT
        label = label.format(currency=currency)
        if kind is None:
            config[column] = st.column_config.TextColumn(label)
            continue
        numbers = pd.to_numeric(shown[column], errors="coerce")
        if kind is Kind.SHARE:
            shown[column] = (100 * numbers).round(1)
            config[column] = st.column_config.NumberColumn(label, format="%.1f%%")
        elif kind in (Kind.MONEY, Kind.PEOPLE, Kind.COUNT):
            shown[column] = numbers.round(0)
            config[column] = st.column_config.NumberColumn(label, format="localized")
        elif kind is Kind.UNITS:
            shown[column] = numbers.round(1)
            config[column] = st.column_config.NumberColumn(label, format="localized")
        elif kind is Kind.VALUE:
            shown[column] = numbers.round(1)
            config[column] = st.column_config.NumberColumn(label, format="%,.1f")
        else:  # PER_UNIT: three significant figures, never 4.4e-07
            shown[column] = numbers.map(lambda v: float(f"{v:.3g}") if pd.notna(v) else v)
            config[column] = st.column_config.NumberColumn(label, format="%.3g")
    return shown, config


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


def unmet_by_mission(plan: Plan, most: int = LACKS_SHOWN) -> pd.DataFrame:
    """What each under-covered mission still lacks to reach its max_coverage
    (:func:`optimiser.coverage.lacking`): one row per mission, needs in words (the largest
    shortfall of each resource in any period, one of a resource in the singular), the
    ``most`` largest named and the rest counted ("38 Military engineers, 4 Light vehicles
    (4x4), 2 Generators and 1 more"; every shortfall is on the Tables tab)."""
    columns = ["mission_id", "name", "priority", "coverage", "lacks", "shortfall_cost"]
    unmet = lacking(plan)
    if unmet.empty:
        return pd.DataFrame(columns=columns)
    needs = unmet.groupby(["mission_id", "resource_id"], sort=False).agg(
        total=("shortfall", "sum"), peak=("shortfall", "max")
    )
    needs = needs.reset_index().sort_values(["mission_id", "total"], ascending=[True, False], kind="stable")
    names, units = _resource_units(plan), _resource_kinds(plan)
    words: dict[str, list[str]] = {}
    for mission_id, resource_id, peak in zip(needs["mission_id"], needs["resource_id"], needs["peak"],
                                             strict=True):
        rid = str(resource_id)
        need = wording.count_of(round(float(peak), 1), names.get(rid, rid), units.get(rid, "unit"))
        words.setdefault(mission_id, []).append(need)
    missions = plan.missions.groupby("mission_id", sort=False).agg(
        name=("name", "first"), priority=("priority", "first"), coverage=("coverage", "mean")
    )
    cost = unmet.groupby("mission_id", sort=False)["shortfall_cost"].sum()
    table = pd.DataFrame({"mission_id": list(words)})
    table["name"] = table["mission_id"].map(missions["name"]).fillna(table["mission_id"])
    table["priority"] = table["mission_id"].map(missions["priority"]).fillna(0).astype(int)
    table["coverage"] = table["mission_id"].map(missions["coverage"]).fillna(0.0).astype(float)
    table["lacks"] = [wording.listing(words[m], most=most) for m in table["mission_id"]]
    table["shortfall_cost"] = table["mission_id"].map(cost).astype(float)
    return table.sort_values(["priority", "shortfall_cost"], ascending=[True, False], ignore_index=True)


def _resource_units(plan: Plan) -> Mapping[str, str]:
    if plan.portfolio is None:
        return {}
    return plan.portfolio.resources["name"].to_dict()


def _resource_kinds(plan: Plan) -> Mapping[str, str]:
    """Each resource's unit ("person", "unit"), for its singular ("1 person of Medical staff")."""
    resources = plan.portfolio.resources if plan.portfolio is not None else None
    if resources is None or "unit" not in resources:
        return {}
    return {str(k): str(v) for k, v in resources["unit"].items() if isinstance(v, str) and v}


def _unit_label(resource_id: str, names: Mapping[str, str]) -> str:
    name = names.get(resource_id, resource_id)
    return name if name == resource_id else f"{name} ({resource_id})"


BINDING_COLUMNS = ["rank", "constraint", "id", "period_id", "sentence", "shadow_price", "unit", "gain",
                   "low", "high", "limit", "holds"]


def _whole_limits(plan: Plan) -> set[tuple[str, str]]:
    """(constraint, id) of the limits counted in whole units in this plan: resources that
    come whole, and zone caps (people)."""
    if not plan.levers.integer or plan.portfolio is None:
        return set()
    resources = plan.portfolio.resources
    whole = {("resource", str(r)) for r, flag in resources.get("integer", pd.Series(dtype=bool)).items()
             if bool(flag)}
    return whole | {("zone_cap", str(z)) for z in plan.portfolio.zones.index}


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
    whole = _whole_limits(plan)
    table["holds"] = [
        "" if math.isnan(now) else wording.price_holds(str(kind), low, high, now, currency,
                                                        (str(kind), str(item)) in whole)
        for kind, item, low, high, now in zip(table["constraint"], table["id"], table["low"], table["high"],
                                              table["limit"], strict=True)
    ]
    return table.reindex(columns=BINDING_COLUMNS)


def binding_sentences(plan: Plan, limit: int = 10, ranges: pd.DataFrame | None = None) -> list[str]:
    """The shadow prices in words, ranked as :func:`binding_table`; with ``ranges``, each
    sentence says how far its price holds, in whole units where the limit is whole
    (:func:`optimiser.wording.price_holds`): "...; the price holds while the cap is from 18
    to 21 people (now 20)"."""
    sentences = []
    for row in binding_table(plan, ranges, limit).itertuples():
        sentence = "" if pd.isna(row.sentence) else str(row.sentence).strip()
        if not sentence:  # a plain fallback; the core's sentence is preferred
            limit_words = CONSTRAINT_WORDS.get(str(row.constraint), str(row.constraint)).lower()
            sentence = (
                f"One more {row.unit} of {limit_words} {row.id}"
                + (f" in {row.period_id}" if row.period_id else "")
                + f" adds {formats.per_unit(row.shadow_price)} value"
            )
        if row.holds:
            sentence += f"; {row.holds}"
        sentences.append(sentence)
    return sentences


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
