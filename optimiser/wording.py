"""Sentences and names in a planner's words, for the diagnosis and the sensitivity sentences,
the plan's headline and the portfolio's description (each number in them written by
:mod:`optimiser.formats`, the one place for how a number of each kind reads).

``count_of(850, "Infantry", "person")`` gives ``"850 Infantry"``; one unit of a resource
named in the plural reads in the singular (``"1 Military engineer"``), and a name that
is a collective or a list reads through its unit (``"1 person of Medical staff"``,
``"1 person (Mediators and political officers)"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from optimiser.formats import money, percent
from optimiser.formats import units as number

# Names whose last word is a collective noun: one of them is "a person of ...".
_COLLECTIVE = {
    "infantry",
    "staff",
    "personnel",
    "police",
    "crew",
    "crews",
    "artillery",
    "cavalry",
    "support",
    "equipment",
    "medical",
    "security",
    "team",
    "teams",
    "force",
    "forces",
    "unit",
    "units",
}


def singular(name: str, unit: str = "unit") -> str:
    """One item of a resource: ``"Military engineers"`` -> ``"Military engineer"``,
    ``"Utility helicopters (Mi-8 class)"`` -> ``"Utility helicopter (Mi-8 class)"``,
    ``"Medical staff"`` -> ``"person of Medical staff"``, ``"Linguist"`` unchanged."""
    name = name.strip()
    cut = min((i for i in (name.find(" ("), name.find(",")) if i > 0), default=len(name))
    head, tail = name[:cut], name[cut:]
    words = head.split()
    if not words:
        return name
    last = words[-1]
    if " and " in head or "/" in last or last.casefold() in _COLLECTIVE:
        return f"{unit} of {name}" if last.casefold() in _COLLECTIVE else f"{unit} ({name})"
    lowered = last.casefold()
    if lowered.endswith("ies") and len(last) > 4:
        last = last[:-3] + ("Y" if last[-3:].isupper() else "y")
    elif lowered.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    elif lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        last = last[:-1]
    return " ".join([*words[:-1], last]) + tail


def count_of(units: float, name: str, unit: str = "unit") -> str:
    """``"850 Infantry"``, ``"1 Military engineer"``, ``"2.5 Linguists"``."""
    return f"{number(units)} {singular(name, unit) if is_one(units) else name}"


def is_one(units: float) -> bool:
    return abs(float(units) - 1.0) < 1e-9


def listing(items: Sequence[str], most: int = 4) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"``, ``"A, B, C, D and 3 more"``."""
    items = list(items)
    if len(items) > most:
        shown = items[:most]
        return ", ".join(shown) + f" and {len(items) - most} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plan_headline(optimal: bool, value: float, max_value: float, gap: float, cost: float,
                  available: float, currency: str) -> str:
    """The plan in one sentence, as the terminal, the page and the report give it:
    ``"Optimal plan: value 4,283.5 of 4,583.7 possible (93.5%), proven within 0.27% of the
    best; spends USD 961,444,205 of USD 965,740,000."``"""
    share = f" ({percent(value / max_value, 1)})" if max_value > 0 else ""
    spend = f"spends {money(cost, currency)} of {money(available, currency)}"
    if optimal:
        within = f", proven within {percent(gap, 2)} of the best possible" if gap > 5e-5 else ""
        return f"Optimal plan: value {value:,.1f} of {max_value:,.1f} possible{share}{within}; {spend}."
    return (
        f"Time limit reached: the best plan found has value {value:,.1f} of {max_value:,.1f} "
        f"possible{share}, within {percent(gap, 2)} of the best possible; {spend}."
    )


def money_note(seconds: float, gap: float) -> str:
    """What the search for the cheapest plan of the value found achieved, when its time ran
    out: ``"The money spent is at most 0.4% above the least this value needs."`` or, when
    nothing useful was proven, that a cheaper plan of the same value may exist."""
    if gap <= 0.05:
        return (f"The money spent is at most {percent(gap, 1)} above the least this value needs "
                f"(the search for a cheaper plan stopped after {seconds:.1f} s).")
    return (f"A plan of the same value may cost less: the search for the cheapest one stopped after "
            f"{seconds:.1f} s, before it could say how much less.")


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``"1 period"``, ``"4 periods"``, ``"3 funding sources"``."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def portfolio_summary(missions: int, zones: int, resources: int, sources: int, periods: Sequence[str],
                      path: str = "") -> str:
    """A portfolio in a planner's words: ``"150 missions in 30 zones, 12 resources,
    6 funding sources, 4 periods (2027-Q1 to 2027-Q4), from national_portfolio.xlsx"``
    (``periods``: their names in order; ``path``: the file it came from)."""
    span = ""
    if len(periods) > 1:
        span = f" ({periods[0]} to {periods[-1]})"
    elif periods:
        span = f" ({periods[0]})"
    origin = f", from {path.replace(chr(92), '/').rsplit('/', 1)[-1]}" if path else ""
    return (f"{counted(missions, 'mission')} in {counted(zones, 'zone')}, {counted(resources, 'resource')}, "
            f"{counted(sources, 'funding source')}, {counted(len(periods), 'period')}{span}{origin}")


def price_holds(constraint: str, low: float, high: float, limit: float, currency: str,
                whole: bool) -> str:
    """Where a shadow price holds, to follow its sentence ("One more X adds 0.59 value"),
    in whole units where the limit is whole, and saying so when one more whole unit goes
    past the range (the price is then the most it adds: value is concave in a limit).

    ``constraint``: "resource", "budget" or "zone_cap"; ``low``, ``high``: the range's
    ends (NaN: none); ``limit``: the limit now.

    >>> price_holds("resource", 11.5, 12.2, 12, "USD", whole=True).split(", so")[0]
    'the price holds only while exactly 12 are usable (now 12)'
    """
    lo = None if math.isnan(low) else low
    hi = None if math.isnan(high) else high
    now: float = limit
    past = False
    if whole and constraint != "budget":
        lo = None if lo is None else math.ceil(lo - 1e-9)
        hi = None if hi is None else math.floor(hi + 1e-9)
        now = round(limit)
        past = hi is not None and now + 1 > hi

    def show(x: float) -> str:
        return money(x, currency) if constraint == "budget" else number(x)

    if lo is not None and hi is not None:
        span = f"exactly {show(hi)}" if lo >= hi else f"between {show(lo)} and {show(hi)}"
    elif lo is not None:
        span = f"at least {show(lo)}"
    elif hi is not None:
        span = f"at most {show(hi)}"
    else:
        span = "at any level"
    if constraint == "budget":
        where = f"the fund is {span}"
    elif constraint == "zone_cap":
        where = f"the cap is {span} people"
    else:
        where = f"{span} are usable"
    text = f"the price holds {'only ' if past else ''}while {where} (now {show(now)})"
    if past:
        text += (", so one more whole unit goes past that range and adds at most this "
                 "(optimiser solve --explain measures it by solving again)")
    return text


# Every lever in a planner's words: (label for a header or a slider, noun for a sentence).
# The keys are the Settings keys (``--set KEY=VALUE``), which stay in commands only.
LEVER_WORDS: dict[str, tuple[str, str]] = {
    "currency": ("Currency", "the currency"),
    "budget_scale": ("Budget (× the workbook's funding)", "the budget"),
    "personnel_scale": ("Personnel (× available)", "personnel"),
    "equipment_scale": ("Equipment (× available)", "equipment"),
    "reserve_share": ("Reserve held back (share)", "the reserve held back"),
    "priority_weights": ("Worth of each priority", "the worth of each priority"),
    "priority_mode": ("Rule between priorities (weighted or strict)", "the rule between priorities"),
    "diminishing_returns": ("Diminishing returns", "diminishing returns"),
    "integer": ("Whole units", "whole units"),
    "solver": ("Solver (highs or cbc)", "the solver"),
    "time_limit_s": ("Time limit (s)", "the time limit"),
    "mip_gap": ("Search tolerance (share of the best possible)", "the search tolerance"),
    "continuity": ("One unbroken stretch per mission", "continuity"),
    "tier_tolerance": ("Value a priority may give up (strict rule)", "the value a priority may give up"),
    "max_change": ("Most coverage change from the baseline", "the most coverage change"),
    "change_penalty": ("Value given up per coverage moved", "the change penalty"),
    "source_scale": ("Funding source (× its amounts)", "the funding source"),
    "zone_cap": ("Zone personnel cap", "the zone's personnel cap"),
    "must_fund": ("Must fund", "must fund"),
    "priority": ("Mission priority", "the mission's priority"),
    "min_coverage": ("Least coverage", "the least coverage"),
    "max_coverage": ("Most coverage wanted", "the most coverage wanted"),
    "cancel": ("Cancelled", "cancelling"),
}


def lever_label(key: str) -> str:
    """A lever's header: ``"budget_scale"`` -> ``"Budget (× the workbook's funding)"``,
    ``"zone_cap.Z01"`` -> ``"Zone personnel cap: Z01"`` (unknown keys read with spaces)."""
    prefix, dot, item = key.partition(".")
    words = LEVER_WORDS.get(prefix, (prefix.replace("_", " ").capitalize(), ""))[0]
    return f"{words}: {item}" if dot else words


def lever_noun(key: str) -> str:
    """A lever in a sentence: ``"budget_scale"`` -> ``"the budget"`` ("as the budget falls")."""
    prefix, dot, item = key.partition(".")
    noun = LEVER_WORDS.get(prefix, ("", prefix.replace("_", " ")))[1]
    return f"{noun} of {item}" if dot else noun


def lever_setting(key: str, value: object) -> str:
    """A lever and its value in words: ``"Budget (× the workbook's funding) 0.8"``."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{lever_label(key)} {text}"

