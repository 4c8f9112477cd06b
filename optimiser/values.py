"""Cell values as Excel users type them, turned into numbers, shares and yes/no.

Shared by the validator (workbook cells) and the levers (Settings values and
``--set key=value``). Each parser raises :class:`ValueError` with a short reason a
planner can read; callers add the sheet and cell.
"""

from __future__ import annotations

import math
import re

_TRUE = {"yes", "y", "true", "1", "x", "oui", "ja", "si", "sí"}
_FALSE = {"no", "n", "false", "0", "non", "nein"}
_CURRENCY = re.compile(r"(?i)(usd|eur|gbp|chf|us\$|\$|€|£|¥|₹|₽)")
_SUFFIX = {"k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "bn": 1e9, "b": 1e9}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$", re.IGNORECASE)


def is_blank(value: object) -> bool:
    """True for an empty cell: None, NaN, or text that is only white space."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_number(value: object) -> float:
    """A number from a cell: ``1200``, ``"1,200"``, ``"$ 1,200,000"``, ``"1 200 000 €"``,
    ``"(500)"`` (accounting negative), ``"40%"`` (0.4), ``"1.5m"`` (1,500,000).
    """
    if isinstance(value, bool):
        raise ValueError("is yes/no, not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_number_text(value)
    else:
        raise ValueError("is not a number")
    if math.isnan(number) or math.isinf(number):
        raise ValueError("is not a finite number")
    return number + 0.0  # turns -0.0 into 0.0


def _parse_number_text(raw: str) -> float:
    text = raw.strip().replace("\u00a0", " ").replace("\u202f", " ")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _CURRENCY.sub("", text).strip()
    if text.startswith("-"):
        negative, text = not negative, text[1:].strip()
    elif text.startswith("+"):
        text = text[1:].strip()
    text = _CURRENCY.sub("", text).strip()
    factor = 1.0
    if text.endswith("%"):
        factor, text = 0.01, text[:-1].strip()
    else:
        match = re.search(r"(?i)\s*(k|mn|mln|m|bn|b)$", text)
        if match and re.search(r"\d", text[: match.start()]):
            factor = _SUFFIX[match.group(1).lower()]
            text = text[: match.start()].strip()
    text = text.replace(" ", "").replace("'", "").replace("_", "")
    text = _normalise_separators(text)
    if not _NUMBER.match(text):
        raise ValueError("is not a number")
    number = float(text) * factor
    return -number if negative else number


def _normalise_separators(text: str) -> str:
    """Decide which of ',' and '.' is the decimal mark and drop thousands separators.

    The rule (README, "Workbook guide"): with both marks, the last one is the decimal
    mark (``1.200.000,50``, ``1,200,000.50``). With commas only, commas are thousands
    separators when every group after the first has three digits and the first has one
    to three digits and does not start with 0 (``1,200``, ``12,000,000``); a single
    comma anywhere else is the decimal mark (``1,5``, ``0,500``, ``12,75``). Anything
    else (``0,500,000``, ``01,500``, ``1,20,000``, ``1,2,3``) is refused as ambiguous: a number is
    never guessed into another magnitude.
    """
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        whole, _, fraction = text.rpartition(decimal)
        if thousands in fraction or decimal in whole or not _thousands_groups(whole.split(thousands)):
            raise ValueError(_AMBIGUOUS)
        return whole.replace(thousands, "") + "." + fraction
    if "," in text:
        groups = text.split(",")
        if _thousands_groups(groups):
            return "".join(groups)  # 1,200,000
        if len(groups) == 2 and not (len(groups[0]) > 1 and groups[0].startswith("0")):
            return text.replace(",", ".")  # 1,5 and 0,500 (but not 01,500)
        raise ValueError(_AMBIGUOUS)
    if text.count(".") > 1:
        groups = text.split(".")
        if _thousands_groups(groups):
            return "".join(groups)  # 1.200.000
        raise ValueError(_AMBIGUOUS)
    return text


_AMBIGUOUS = (
    "is not a number this tool reads without guessing: write thousands as 1,200,000 (or without "
    "separators) and decimals as 0.5 or 0,5"
)


def _thousands_groups(groups: list[str]) -> bool:
    """``["1", "200", "000"]``: a first group of 1-3 digits not starting with 0 (the sign
    and currency are already gone), then groups of exactly three digits."""
    first, rest = groups[0], groups[1:]
    if not rest:
        return True
    return (
        first.isdigit()
        and 1 <= len(first) <= 3
        and not first.startswith("0")
        and all(len(g) == 3 and g.isdigit() for g in rest)
    )


def parse_integer(value: object) -> int:
    """A whole number: ``3``, ``"3"``, ``3.0``; ``2.5`` is refused."""
    number = parse_number(value)
    if number != int(number):
        raise ValueError("is not a whole number")
    return int(number)


def parse_share(value: object) -> float:
    """A share in [0, 1]: ``0.4``, ``"40%"``, ``"0,4"``. A bare number above 1 and up to
    100 is refused rather than guessed (write 40% for forty per cent)."""
    number = parse_number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError("is not a share between 0 and 1 (write 40% or 0.4)")
    return number


def parse_bool(value: object) -> bool:
    """yes/no as typed: yes/no/y/n/true/false/1/0/x (blank is handled by the caller)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value in (0, 1):
            return bool(value)
        raise ValueError("is not yes or no")
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("is not yes or no (use yes/no, y/n, true/false, 1/0 or x)")


def parse_list(value: object) -> tuple[str, ...]:
    """Comma- or semicolon-separated ids: ``"mediation, monitoring"``."""
    if is_blank(value):
        return ()
    parts = re.split(r"[,;\n]", format_id(value))
    return tuple(p.strip() for p in parts if p.strip())


def format_id(value: object) -> str:
    """An id as text: ``101.0`` -> ``"101"``, white space stripped."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
