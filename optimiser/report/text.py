"""A short plain-text summary of a plan, for standard output (SPEC section 5)."""

from __future__ import annotations

import pandas as pd

from optimiser.plan import Plan, Status
from optimiser.report.derived import (
    UNMET_COLUMNS,
    columns,
    names_of,
    number,
    ranked_sensitivity,
    share,
    tier_coverage,
    under_covered,
)
from optimiser.report.timeline import change_lines

BINDING_SHOWN = 3
UNDER_COVERED_SHOWN = 5


def summary_text(plan: Plan) -> str:
    """A few lines a planner can read in a terminal.

    Status, value and its share of the most possible, money spent and available,
    coverage by priority tier, the missions that start or stop and when (with their
    start-up and closure money), the three constraints that hold the value back most
    (their sentences), and the most important under-covered missions. For an
    infeasible plan: the message and the diagnosis.

    Returns
    -------
    str
        plain text, lines separated by ``\\n``, without a final newline (``print`` adds one).
    """
    currency = plan.levers.currency
    lines: list[str] = []
    if not plan.has_plan:
        lines.append(f"Status: {plan.status} - no plan is possible.")
        if plan.message:
            lines.append(plan.message)
        if plan.diagnosis:
            lines.append("What clashes:")
            lines += [f"  - {sentence}" for sentence in plan.diagnosis]
        lines.append(f"Money available: {_money(plan.money_available)} {currency}")
        return "\n".join(lines)

    notes = ["the time limit stopped the search"] if plan.status is Status.FEASIBLE else []
    if plan.gap:
        notes.append(f"gap {plan.gap:.2%}")
    lines.append(f"Status: {plan.status}" + (f" ({'; '.join(notes)})" if notes else ""))
    if plan.message:
        lines.append(plan.message)
    if plan.diagnosis:
        lines.append("Commitments relaxed:" if plan.status is Status.RELAXED else "Diagnosis:")
        lines += [f"  - {sentence}" for sentence in plan.diagnosis]
    lines.append(
        f"Value: {_decimal(plan.value)} of {_decimal(plan.max_value)} possible "
        f"({_percent(share(plan.value, plan.max_value))})"
    )
    lines.append(
        f"Money: {_money(plan.total_cost)} {currency} spent of {_money(plan.money_available)} {currency} "
        f"available ({_percent(share(plan.total_cost, plan.money_available))})"
    )

    tiers = tier_coverage(plan)
    if not tiers["missions"].any():
        lines.append("No mission is active in the planning periods.")
        return "\n".join(lines)
    lines.append("Coverage by priority:")
    for tier in tiers.itertuples():
        if not tier.missions:
            continue
        lines.append(
            f"  P{tier.priority}: {_count(tier.missions, 'mission')} - {tier.fully} fully, "
            f"{tier.partly} partly, {tier.uncovered} not covered; "
            f"mean coverage {_percent(tier.mean_coverage)}"
        )

    names = names_of(plan)
    lines += change_lines(plan, names)

    binding = ranked_sensitivity(plan).head(BINDING_SHOWN)
    if len(binding):
        lines.append("What limits the plan most:")
        lines += [f"  - {_sentence(s)}" for s in binding.itertuples()]

    short = under_covered(plan)
    if len(short):
        unmet = columns(plan.unmet, UNMET_COLUMNS)
        lines.append(f"Under-covered missions ({len(short)}), most important first:")
        for mission in short.head(UNDER_COVERED_SHOWN).itertuples():
            lacks = _lacks(unmet, str(mission.mission_id), names)
            lines.append(
                f"  - {mission.mission_id} {mission.name} (priority {mission.priority}): mean coverage "
                f"{_percent(mission.mean_coverage)}, {_money(mission.shortfall_cost)} {currency} to close"
                + (f"; lacks {lacks}" if lacks else "")
            )
        if len(short) > UNDER_COVERED_SHOWN:
            lines.append(f"  ... and {len(short) - UNDER_COVERED_SHOWN} more (see the Unmet sheet)")
    else:
        lines.append("Every active mission is fully covered.")
    return "\n".join(lines)


def _lacks(unmet: pd.DataFrame, mission_id: str, names: object) -> str:
    """The mission's largest shortfalls per period: ``"2 Infantry (person), 1 Vehicle"``."""
    rows = unmet[unmet["mission_id"].astype(str) == mission_id]
    if rows.empty:
        return ""
    worst = pd.to_numeric(rows["shortfall"], errors="coerce").groupby(rows["resource_id"].astype(str)).max()
    worst = worst[worst > 0].sort_values(ascending=False, kind="mergesort")
    parts = []
    for resource_id, units in worst.head(3).items():
        label = names.resource(resource_id)  # type: ignore[attr-defined]
        parts.append(f"{_units(units)} {label}")
    return ", ".join(parts) + (" per period at most" if parts else "")


def _sentence(row: object) -> str:
    sentence = getattr(row, "sentence", None)
    if isinstance(sentence, str) and sentence.strip():
        return sentence.strip()
    return f"{row.constraint} {row.id} in {row.period_id}: shadow price {row.shadow_price:.4g}"  # type: ignore[attr-defined]


def _money(amount: object) -> str:
    value = number(amount)
    return "n/a" if value is None else f"{value:,.0f}"


def _decimal(amount: object) -> str:
    value = number(amount)
    return "n/a" if value is None else f"{value:,.2f}"


def _percent(fraction: object) -> str:
    value = number(fraction)
    return "n/a" if value is None else f"{value:.1%}"


def _units(amount: object) -> str:
    value = number(amount)
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
