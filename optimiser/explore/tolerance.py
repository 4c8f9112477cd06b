"""Why two plans can differ the "wrong" way: the searches' tolerance, in words.

An integer plan is proven within its gap of the best possible (``mip_gap``, 0.5% by
default), not at it. Two plans compared side by side (a 20% budget cut against the full
budget) can therefore show a figure moving against the change of levers: priority 1
a little higher under the cut, or the value a little lower with more money. Such a
move is explained wherever two plans meet (the compare command and sheet, the page's
headline deltas and scenario comparison, the Trade-offs curve) by one sentence from
:func:`tolerance_note` (two plans) or :func:`sweep_note` (a curve).

The band is measured from the plans themselves: each plan's value may be up to its
``best_bound - value`` below its best possible (``gap x value`` when no bound is
recorded), so the two values' difference may be off by the sum of the two.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from optimiser import formats
from optimiser.plan import Plan
from optimiser.report.derived import TIERS

EPSILON = 1e-6  # value points: differences below this are none
# Levers whose increase can only raise the best possible value (more money or people);
# reserve_share holds more back, so its increase can only lower it.
RAISING = frozenset({"budget_scale", "personnel_scale", "equipment_scale", "source_scale"})
LOWERING = frozenset({"reserve_share"})


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(float(value)) else None


def slack(result: Mapping[str, Any]) -> float:
    """How far below its best possible a plan's value may be, in value points."""
    value, bound, gap = (_number(result.get(k)) for k in ("value", "best_bound", "gap"))
    if value is None:
        return 0.0
    if bound is not None:
        return max(0.0, bound - value)
    return abs(value) * gap if gap is not None and gap > 0 else 0.0


def plan_figures(plan: Plan) -> dict[str, Any]:
    """The figures of ``plan`` :func:`tolerance_note` reads, as the JSON result has them."""
    return {
        "status": str(plan.status),
        "value": plan.value,
        "best_bound": plan.best_bound,
        "gap": plan.gap,
        "money_available": plan.money_available,
        "value_by_priority": {str(t): (plan.value_by_priority or {}).get(t, 0.0) for t in TIERS},
    }


def _gaps(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    gaps = sorted(g for g in (_number(a.get("gap")), _number(b.get("gap"))) if g)
    return " and ".join(dict.fromkeys(formats.percent(g, 2) for g in gaps)) or "0%"


def tolerance_note(a: Mapping[str, Any], b: Mapping[str, Any], labels: Sequence[str] = ("A", "B"),
                   quote: bool = True) -> str:
    """One sentence when plan ``b`` moves the "wrong" way against plan ``a`` by less than
    the two searches' tolerance, else ``""``.

    ``a``, ``b``: JSON results (:func:`optimiser.report.plan_to_dict`) or
    :func:`plan_figures`; ``labels``: their names (quoted unless ``quote`` is false).
    Wrong way: the value rises while the money available falls (or
    falls while it rises), or a priority tier gains value while the plan as a whole loses
    (or the reverse), the move being no larger than ``slack(a) + slack(b)``.
    """
    band = slack(a) + slack(b)
    value_a, value_b = _number(a.get("value")), _number(b.get("value"))
    if band <= EPSILON or value_a is None or value_b is None:
        return ""
    change = value_b - value_a
    moves = []
    money_a, money_b = _number(a.get("money_available")), _number(b.get("money_available"))
    money = 0.0 if money_a is None or money_b is None else money_b - money_a
    if EPSILON < abs(change) <= band and abs(money) > 0.5 and change * money < 0:
        rises, more = ("rises", "falls") if change > 0 else ("falls", "rises")
        moves.append(f"the value {rises} by {formats.value(abs(change))} points although the money "
                     f"available {more}")
    tiers_a, tiers_b = a.get("value_by_priority") or {}, b.get("value_by_priority") or {}
    for tier in TIERS:
        x, y = _number(tiers_a.get(str(tier))), _number(tiers_b.get(str(tier)))
        if x is None or y is None:
            continue
        moved = y - x
        against = moved * change < 0 or abs(change) <= EPSILON
        if EPSILON < abs(moved) <= band and against and abs(moved) >= 0.05:
            whole = "" if abs(change) <= EPSILON else (
                f" while the plan as a whole {'loses' if change < 0 else 'gains'} "
                f"{formats.value(abs(change))}")
            moves.append(f"priority {tier} {'gains' if moved > 0 else 'loses'} "
                         f"{formats.value(abs(moved))} value points{whole}")
    if not moves:
        return ""
    first, second = (f"'{label}'" if quote else label for label in labels[:2])
    subject = f"{second} against {first}"
    return (f"{subject[:1].upper()}{subject[1:]}: {'; '.join(moves)}. Both plans are proven within "
            f"{_gaps(a, b)} of the best possible (together up to {formats.value(band)} value points short "
            "of it); a difference smaller than that is the search's tolerance, not the change of levers.")


def sweep_note(table: pd.DataFrame, lever: str, label: str) -> str:
    """One sentence when the value along a sweep of ``lever`` (``table``: the sweep's
    points, its ``lever``, ``value`` and ``gap`` columns) moves against the lever between
    neighbouring points by less than their tolerance, else ``""``. ``label``: the lever
    in a planner's words."""
    if lever not in RAISING | LOWERING or not {lever, "value", "gap"} <= set(table.columns):
        return ""
    points = table.dropna(subset=["value"]).sort_values(lever, kind="stable")
    sign = 1.0 if lever in RAISING else -1.0
    worst, where = 0.0, None
    records = points.to_dict("records")
    for low, high in itertools.pairwise(records):
        fall = sign * (float(low["value"]) - float(high["value"]))  # > 0: the wrong way
        band = slack(low) + slack(high)
        if EPSILON < fall <= band and fall > worst:
            worst, where = fall, (low, high)
    if where is None:
        return ""
    low, high = where
    gaps = _gaps(low, high)
    return (f"Between {label} {formats.per_unit(low[lever])} and {formats.per_unit(high[lever])} the value "
            f"moves against the lever by {formats.value(worst)} points: each point is proven within {gaps} "
            "of the best possible, and a difference smaller than that is the search's tolerance, not the "
            "lever.")
