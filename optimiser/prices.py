"""Shadow prices in words: every plan's ``sensitivity`` table.

Each positive shadow price of a plan's resources, budgets and zone caps (from the
continuous model with the on/off decisions fixed, :mod:`optimiser.stages`) becomes a
sentence, ranked by the value of a natural step: one more unit of a resource, one more
person allowed in a zone, or a round sum of money (USD 1m for budgets of USD 10m and
more). A resource's sentence also prices it per round sum of its own cost, so that
people, equipment and money can be compared. The plan's tables (:mod:`optimiser.tables`)
attach this table; :mod:`optimiser.sensitivity` builds on it (ranges, re-solves).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimiser import formats, wording
from optimiser.plan import Plan

SENSITIVITY_COLUMNS = ["constraint", "id", "period_id", "shadow_price", "unit", "sentence", "step", "gain"]
TOP_SHADOW_PRICES = 10  # sentences shown by --explain
BIG_MONEY = 1e7  # budgets of at least this are spoken of per 1m


def money_step(amount: float) -> float:
    """The round sum of money a sentence speaks of: 1m for budgets of 10m and more,
    otherwise the power of ten at or below a tenth of the amount (at least 1)."""
    if amount >= BIG_MONEY:
        return 1e6
    return float(10 ** max(math.floor(math.log10(max(amount, 10.0) / 10.0)), 0))


def shadow_price_table(plan: Plan) -> pd.DataFrame:
    """Every positive shadow price of a plan as a sentence, ranked by what its step adds.

    Parameters
    ----------
    plan : a plan with its ``resources``, ``budgets`` and ``zones`` tables (shadow prices
        per unit) and its portfolio.

    Returns
    -------
    DataFrame
        columns ``constraint`` ("resource", "budget", "zone_cap"), ``id``,
        ``period_id``, ``shadow_price`` (value per unit: a person, a vehicle, one unit of
        money), ``unit``, ``sentence``, ``step`` (1 unit, or the round sum of money
        spoken of) and ``gain`` (shadow price x step); largest gain first.
    """
    portfolio = plan.portfolio
    if portfolio is None or not plan.has_plan:
        return _empty(SENSITIVITY_COLUMNS)
    period_name = portfolio.periods["name"].to_dict()
    period_order = {p: i for i, p in enumerate(portfolio.period_ids)}
    currency = plan.levers.currency
    step = money_step(typical_amount(plan.budgets))
    per = f"{currency} {formats.money_step(step)}"
    resource_name = texts_of(portfolio.resources, "name")
    resource_unit = texts_of(portfolio.resources, "unit")
    unit_cost = {str(k): float(v) for k, v in portfolio.resources["unit_cost"].items()}
    source_name, zone_name = texts_of(portfolio.sources, "name"), texts_of(portfolio.zones, "name")
    rows = []
    for r, p, price in plan.resources[["resource_id", "period_id", "shadow_price"]].itertuples(index=False):
        if not price > 0:
            continue
        name, unit = resource_name[r], resource_unit[r]
        one = wording.singular(name, unit)
        sentence = f"One more {one} in {period_name.get(p, p)} adds {formats.per_unit(price)} value"
        cost = unit_cost[r]
        if cost > 0:
            sentence += f" ({formats.per_unit(price / cost * step)} per {per} of its cost)"
        rows.append(("resource", r, p, price, unit, sentence, 1.0, price))
    for s, p, price in plan.budgets[["source_id", "period_id", "shadow_price"]].itertuples(index=False):
        if not price > 0:
            continue
        sentence = (
            f"One more {per} of {source_name[s]} in {period_name.get(p, p)} adds "
            f"{formats.per_unit(price * step)} value"
        )
        rows.append(("budget", s, p, price, currency, sentence, step, price * step))
    for z, p, price in plan.zones[["zone_id", "period_id", "shadow_price"]].itertuples(index=False):
        if not price > 0:
            continue
        sentence = (
            f"One more person allowed in {zone_name[z]} in {period_name.get(p, p)} adds "
            f"{formats.per_unit(price)} value"
        )
        rows.append(("zone_cap", z, p, price, "person", sentence, 1.0, price))
    if not rows:
        return _empty(SENSITIVITY_COLUMNS)
    frame = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    frame["_k"] = frame["constraint"].map({"resource": 0, "budget": 1, "zone_cap": 2})
    frame["_p"] = frame["period_id"].map(period_order)
    frame = frame.sort_values(["gain", "_k", "id", "_p"], ascending=[False, True, True, True], kind="stable")
    return frame[SENSITIVITY_COLUMNS].reset_index(drop=True)


def top_sentences(plan: Plan, top: int = TOP_SHADOW_PRICES) -> list[str]:
    """The ``top`` constraints whose relaxation would add the most value, as sentences."""
    table = plan.sensitivity
    if table is None or not len(table) or "sentence" not in table:
        return []
    if "gain" in table:
        table = table.sort_values("gain", ascending=False, kind="stable")
    return [str(s) for s in table["sentence"].head(top)]


def texts_of(frame: pd.DataFrame, column: str) -> dict[str, str]:
    """A text column by the frame's ids."""
    return {str(k): str(v) for k, v in frame[column].items()}


def typical_amount(budgets: pd.DataFrame) -> float:
    amounts = budgets["amount"].to_numpy(float) if len(budgets) else np.zeros(0)
    amounts = amounts[np.isfinite(amounts) & (amounts > 0)]
    return float(np.median(amounts)) if len(amounts) else BIG_MONEY


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
