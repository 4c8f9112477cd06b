"""A short plain-text summary of a plan, for standard output (SPEC section 5)."""

from __future__ import annotations

import pandas as pd

from optimiser import formats, wording
from optimiser.coverage import lacking
from optimiser.plan import Plan, Status
from optimiser.report.derived import (
    names_of,
    number,
    ranked_sensitivity,
    tier_coverage,
    under_covered,
)
from optimiser.report.timeline import change_lines

BINDING_SHOWN = 3
UNDER_COVERED_SHOWN = 5


def summary_text(plan: Plan, report_written: bool = False) -> str:
    """A few lines a planner can read in a terminal.

    The plan in one sentence (optimal or stopped by the time limit, value and its share of
    the most possible, money
    spent of what is available), what one point of value is, coverage by priority tier,
    the missions that start or stop and when (with their start-up and closure money),
    the three limits that hold the value back most (their sentences), and the most
    important under-covered missions. For an infeasible plan: the message and the
    diagnosis. ``report_written``: whether a report workbook goes with it (the lists of
    under-covered missions and of starts and stops then point to its sheets).

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
        lines.append(f"Money available: {formats.money(plan.money_available, currency)}")
        return "\n".join(lines)

    value, max_value = number(plan.value) or 0.0, number(plan.max_value) or 0.0
    headline = wording.plan_headline(
        plan.status is not Status.FEASIBLE, value, max_value, plan.gap or 0.0, plan.total_cost,
        plan.money_available, currency)
    if plan.status is Status.RELAXED:
        headline = headline.replace("Optimal plan:", "With the commitments stretched:", 1)
    lines.append(headline)
    if plan.status is Status.RELAXED and plan.message:
        # what was stretched; its own copy of the headline is left out (the headline once)
        lines.append(plan.message.split(" Optimal plan:")[0].split(" Time limit reached:")[0])
    lines += _notes(plan.message) if plan.status is not Status.RELAXED else []
    if plan.diagnosis:
        lines.append("Commitments stretched:" if plan.status is Status.RELAXED else "Diagnosis:")
        lines += [f"  - {sentence}" for sentence in plan.diagnosis]
    lines.append(formats.value_meaning({t: plan.levers.tier_weight(t) for t in range(1, 6)}))

    tiers = tier_coverage(plan)
    if not tiers["missions"].any():
        lines.append("No mission is active in the planning periods.")
        return "\n".join(lines)
    lines.append("Coverage by priority (fully covered: at its most wanted coverage in every period):")
    for tier in tiers.itertuples():
        if not tier.missions:
            continue
        lines.append(
            f"  Priority {tier.priority}: {_count(tier.missions, 'mission')} - {tier.fully} fully, "
            f"{tier.partly} partly, {tier.uncovered} not covered; "
            f"mean coverage {formats.share(tier.mean_coverage)}"
        )

    names = names_of(plan)
    lines += change_lines(plan, names, report_written)

    binding = ranked_sensitivity(plan).head(BINDING_SHOWN)
    if len(binding):
        lines.append("What limits the plan most:")
        lines += [f"  - {_sentence(s)}" for s in binding.itertuples()]

    short = under_covered(plan)
    if len(short):
        unmet = lacking(plan)
        lines.append(f"Under-covered missions ({len(short)}), most important first:")
        for mission in short.head(UNDER_COVERED_SHOWN).itertuples():
            lacks = _lacks(unmet, str(mission.mission_id), names)
            lines.append(
                f"  - {mission.mission_id} {mission.name} (priority {mission.priority}): mean coverage "
                f"{formats.share(mission.mean_coverage)}, {formats.money(mission.shortfall_cost, currency)} "
                "to close" + (f"; lacks {lacks}" if lacks else "")
            )
        if len(short) > UNDER_COVERED_SHOWN:
            more = len(short) - UNDER_COVERED_SHOWN
            lines.append(f"  ... and {more} more" + (" (see the Unmet sheet of the report)" if report_written
                                                      else " (write the report with --out to see them all)"))
    else:
        lines.append("Every active mission is fully covered.")
    return "\n".join(lines)


def _notes(message: str) -> list[str]:
    """The sentences of the plan's message after its headline (e.g. what the search for
    the cheapest plan achieved): the headline itself is written from the numbers."""
    if not message.startswith(("Optimal plan", "Time limit reached")):
        return []
    _, _, rest = message.partition(". ")
    return [rest.strip()] if rest.strip() else []


def _lacks(unmet: pd.DataFrame, mission_id: str, names: object) -> str:
    """The mission's largest shortfalls per period: ``"2 Infantry, 1 Light vehicle"``."""
    rows = unmet[unmet["mission_id"].astype(str) == mission_id]
    if rows.empty:
        return ""
    worst = pd.to_numeric(rows["shortfall"], errors="coerce").groupby(rows["resource_id"].astype(str)).max()
    worst = worst[worst > 0].sort_values(ascending=False, kind="mergesort")
    parts = []
    for resource_id, units in worst.head(3).items():
        label = names.resource(resource_id)  # type: ignore[attr-defined]
        unit = names.units.get(resource_id, "unit")  # type: ignore[attr-defined]
        parts.append(wording.count_of(round(float(units), 1), label, unit))
    return ", ".join(parts) + (" per period at most" if parts else "")


def _sentence(row: object) -> str:
    sentence = getattr(row, "sentence", None)
    if isinstance(sentence, str) and sentence.strip():
        return sentence.strip()
    return (f"{row.constraint} {row.id} in {row.period_id}: "  # type: ignore[attr-defined]
            f"{formats.per_unit(row.shadow_price)} value per unit")  # type: ignore[attr-defined]


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
