"""Numbers as a planner reads them: one format per kind of column, for the report, the
page and the terminal alike.

=============  ======================  ===============  ==============================
kind           text                    Excel            page (Streamlit column)
=============  ======================  ===============  ==============================
``count``      ``23``                  ``#,##0``        whole, thousands separated
``people``     ``4,838`` (whole)       ``#,##0``        whole, thousands separated
``units``      ``12`` or ``11.5``      ``#,##0`` or     whole where the resource is,
                                       ``#,##0.0``      else one decimal
``money``      ``USD 1,723,760``       ``#,##0``        whole, thousands separated
``share``      ``42.5%``               ``0.0%``         one decimal, always
``value``      ``4,283.5``             ``#,##0.0``      one decimal
``per_unit``   ``0.59``, ``0.0042``,   ``0.000``        three significant figures
               ``less than 0.001``
=============  ======================  ===============  ==============================

A shadow price per unit of money is never shown as ``3.874E-07``: it is given per
USD 1m (:func:`per_million`), the step the sensitivity sentences use.

In sentences (diagnosis, sensitivity, the plan's headline) the same functions write the
numbers: units with :func:`units`, money with :func:`money`, a value per unit with
:func:`per_unit`; a share reads whole (:func:`percent`: ``42%``, or with the digits asked
for), a difference of shares in points (:func:`points`), a round sum of money short
(:func:`money_step`: ``1m``). Where space is short (the page's headline tiles) money reads
in millions (:func:`money_short`: ``USD 12.3 m``). :mod:`optimiser.wording` builds the
sentences; it writes no number itself.
"""

from __future__ import annotations

import math
from enum import StrEnum

MILLION = 1_000_000.0
# Below this a value per unit reads "less than 0.001".
SMALLEST_PER_UNIT = 0.001


class Kind(StrEnum):
    COUNT = "count"
    PEOPLE = "people"
    UNITS = "units"
    MONEY = "money"
    SHARE = "share"
    VALUE = "value"
    PER_UNIT = "per_unit"


# Excel number formats by kind (units in fractions: UNITS_FRACTION).
EXCEL: dict[Kind, str] = {
    Kind.COUNT: "#,##0",
    Kind.PEOPLE: "#,##0",
    Kind.UNITS: "#,##0",
    Kind.MONEY: "#,##0",
    Kind.SHARE: "0.0%",
    Kind.VALUE: "#,##0.0",
    Kind.PER_UNIT: "#,##0.000",
}
UNITS_FRACTION = "#,##0.0"


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def whole(value: object) -> str:
    """``4,838``: people, counts and whole units, never with decimals."""
    number = _finite(value)
    return "–" if number is None else f"{round(number):,}"


def units(value: object) -> str:
    """``12`` for whole units, ``11.5`` otherwise (one decimal, thousands separated)."""
    number = _finite(value)
    if number is None:
        return "–"
    if abs(number - round(number)) < 1e-6:
        return f"{round(number):,}"
    return f"{number:,.1f}"


def money(amount: object, currency: str = "USD") -> str:
    """``USD 1,723,760``: the currency always before the amount, whole units."""
    number = _finite(amount)
    if number is None:
        return "–"
    return f"{'-' if number < -0.5 else ''}{currency} {abs(number):,.0f}"


def money_short(amount: object, currency: str = "USD") -> str:
    """``USD 12.3 m``, ``USD 965 m``, ``USD 1.2 bn``, ``USD 850``: money as a briefing
    gives it, where a tile has no room for every digit."""
    number = _finite(amount)
    if number is None:
        return "–"
    size, sign = abs(number), "-" if number < -0.5 else ""
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if size >= limit:
            return f"{sign}{currency} {size / limit:,.{1 if size < 100 * limit else 0}f} {suffix}"
    return f"{sign}{currency} {size:,.0f}"


def money_step(step: float) -> str:
    """A round sum, as a sentence's step: ``1m``, ``100,000``, ``1bn``."""
    if step >= 1e9:
        return f"{step / 1e9:g}bn"
    if step >= 1e6:
        return f"{step / 1e6:g}m"
    return f"{step:,.0f}"


def percent(fraction: object, digits: int = 0) -> str:
    """A share in a sentence: ``0.425`` -> ``"42%"`` (``"42.5%"`` with one digit);
    trailing ``.0`` dropped."""
    number = _finite(fraction)
    if number is None:
        return "–"
    text = f"{100 * number:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def points(difference: float) -> str:
    """A difference of shares in percentage points: ``0.07`` -> ``"7 points"``."""
    text = percent(abs(difference), 1)[:-1]
    return f"{text} point" + ("" if text == "1" else "s")


def share(fraction: object) -> str:
    """``42.5%``: a share with one decimal, always (``100.0%``, ``0.0%``)."""
    number = _finite(fraction)
    return "–" if number is None else f"{100 * number:.1f}%"


def value(amount: object) -> str:
    """``4,283.5``: value points with one decimal."""
    number = _finite(amount)
    return "–" if number is None else f"{number:,.1f}"


def per_unit(price: object) -> str:
    """``0.59``, ``12.4``, ``0.00421``; ``less than 0.001`` for a tiny positive price."""
    number = _finite(price)
    if number is None:
        return "–"
    if number == 0:
        return "0"
    if 0 < abs(number) < SMALLEST_PER_UNIT:
        return "less than 0.001"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def per_million(price_per_unit_of_money: object) -> float | None:
    """A value per unit of money as the value of 1 million of it."""
    number = _finite(price_per_unit_of_money)
    return None if number is None else number * MILLION


TEXT = {
    Kind.COUNT: whole,
    Kind.PEOPLE: whole,
    Kind.UNITS: units,
    Kind.SHARE: share,
    Kind.VALUE: value,
    Kind.PER_UNIT: per_unit,
}


def text(amount: object, kind: Kind, currency: str = "USD") -> str:
    """``amount`` written as its ``kind`` says (money with ``currency``)."""
    if kind is Kind.MONEY:
        return money(amount, currency)
    return TEXT[kind](amount)


def excel(kind: Kind, values: object = ()) -> str:
    """The Excel number format for a column of ``kind``; ``units`` columns holding a
    fraction get one decimal."""
    if kind is Kind.UNITS:
        for item in values:  # type: ignore[attr-defined]
            number = _finite(item)
            if number is not None and abs(number - round(number)) > 1e-6:
                return UNITS_FRACTION
    return EXCEL[kind]


def value_meaning(tier_weights: dict[int, float]) -> str:
    """What one point of value is, in a planner's words (SPEC section 3: a mission-period
    is worth its tier weight x its weight x its coverage's worth, 1 when fully covered).

    ``tier_weights`` maps priority 1..5 to its tier weight (``Levers.tier_weight``).
    """
    weights = ", ".join(f"{tier} = {_weight(w)}" for tier, w in sorted(tier_weights.items()))
    return ("One point of value = one period of a weight-1 mission fully covered, times its "
            f"priority's tier weight (priority {weights}).")


def _weight(weight: float) -> str:
    return f"{weight:g}"
