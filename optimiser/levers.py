"""Scenario levers (SPEC section 2, Settings): what they are and how they are read.

The workbook's Settings sheet, the command line's ``--set key=value`` and the web
page's sliders all end up as a :class:`Levers`. Applying them to a portfolio is the
next stage, :func:`optimiser.scenario.apply_levers`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS, canonical
from optimiser.values import is_blank, parse_bool, parse_integer, parse_number, parse_share


class PriorityMode(StrEnum):
    WEIGHTED = "weighted"
    STRICT = "strict"


class SolverName(StrEnum):
    HIGHS = "highs"
    CBC = "cbc"


@dataclass(frozen=True)
class Levers:
    """Scenario levers. Defaults are SPEC section 2's.

    The per-item levers are mappings from an id to a value: ``source_scale``
    (funding source -> multiplier), ``zone_cap`` (zone -> personnel cap, ``None``
    for no cap), ``must_fund`` (mission -> bool), ``priority`` (mission -> 1..5),
    ``min_coverage`` and ``max_coverage`` (mission -> 0..1, replacing its column) and
    ``cancel`` (mission -> bool; yes: coverage 0 in every period, must-fund or not).
    """

    currency: str = "USD"
    budget_scale: float = 1.0
    personnel_scale: float = 1.0
    equipment_scale: float = 1.0
    reserve_share: float | None = None
    priority_weights: tuple[float, float, float, float, float] = (16.0, 8.0, 4.0, 2.0, 1.0)
    priority_mode: PriorityMode = PriorityMode.WEIGHTED
    diminishing_returns: bool = True
    integer: bool = True
    solver: SolverName = SolverName.HIGHS
    time_limit_s: float = 60.0
    mip_gap: float = 0.005
    continuity: bool = True  # no: no mission is held to one unbroken stretch (SPEC 3.1)
    tier_tolerance: float | None = None  # strict mode; None: 0 for a pure LP, else mip_gap
    max_change: float | None = None  # most a coverage may move from the Baseline sheet
    change_penalty: float = 0.0  # value given up per unit of coverage moved from the Baseline
    source_scale: Mapping[str, float] = field(default_factory=dict)
    zone_cap: Mapping[str, float | None] = field(default_factory=dict)
    must_fund: Mapping[str, bool] = field(default_factory=dict)
    priority: Mapping[str, int] = field(default_factory=dict)
    min_coverage: Mapping[str, float] = field(default_factory=dict)
    max_coverage: Mapping[str, float] = field(default_factory=dict)
    cancel: Mapping[str, bool] = field(default_factory=dict)

    def tier_weight(self, priority: int) -> float:
        return self.priority_weights[priority - 1]

    def tier_tolerance_for(self, integer_model: bool) -> float:
        """Strict mode: the share of its value a tier may give up for the tiers below
        (SPEC 2 Settings); unset: 0 for a pure linear programme, else ``mip_gap``."""
        if self.tier_tolerance is not None:
            return float(self.tier_tolerance)
        return float(self.mip_gap) if integer_model else 0.0

    def changed(self, **changes: object) -> Levers:
        """A copy with some levers changed (``levers.changed(budget_scale=0.9)``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def with_settings(self, settings: Mapping[str, object], origin: str = "--set") -> Levers:
        """A copy with ``key=value`` settings applied, as typed in Settings or ``--set``.

        Raises
        ------
        InvalidInput
            naming every key or value that is not understood.
        """
        levers, problems = parse_settings(settings, self, origin)
        if problems:
            raise InvalidInput(problems)
        return levers

    def as_settings(self) -> dict[str, str]:
        """Every lever as ``key -> value`` text that :meth:`with_settings` reads back;
        what ``--set`` needs to reproduce this scenario."""
        out = {
            "currency": self.currency,
            "budget_scale": _fmt(self.budget_scale),
            "personnel_scale": _fmt(self.personnel_scale),
            "equipment_scale": _fmt(self.equipment_scale),
            "reserve_share": "" if self.reserve_share is None else _fmt(self.reserve_share),
            "priority_weights": ",".join(f"{i}:{_fmt(w)}" for i, w in enumerate(self.priority_weights, 1)),
            "priority_mode": str(self.priority_mode),
            "diminishing_returns": "yes" if self.diminishing_returns else "no",
            "integer": "yes" if self.integer else "no",
            "solver": str(self.solver),
            "time_limit_s": _fmt(self.time_limit_s),
            "mip_gap": _fmt(self.mip_gap),
            "continuity": "yes" if self.continuity else "no",
            "tier_tolerance": "" if self.tier_tolerance is None else _fmt(self.tier_tolerance),
            "max_change": "" if self.max_change is None else _fmt(self.max_change),
            "change_penalty": _fmt(self.change_penalty),
        }
        for key, value in sorted(self.source_scale.items()):
            out[f"source_scale.{key}"] = _fmt(value)
        for key, cap in sorted(self.zone_cap.items()):
            out[f"zone_cap.{key}"] = "" if cap is None else _fmt(cap)
        for key, flag in sorted(self.must_fund.items()):
            out[f"must_fund.{key}"] = "yes" if flag else "no"
        for key, tier in sorted(self.priority.items()):
            out[f"priority.{key}"] = str(tier)
        for name in ("min_coverage", "max_coverage"):
            for key, share in sorted(getattr(self, name).items()):
                out[f"{name}.{key}"] = _fmt(share)
        for key, flag in sorted(self.cancel.items()):
            out[f"cancel.{key}"] = "yes" if flag else "no"
        return out


# The largest value each numeric lever takes: far beyond any real scenario, small enough
# that the model's coefficients stay finite and the solvers' tolerances mean something.
MOST = {
    "budget_scale": 1_000.0,  # a thousand times the workbook's money
    "personnel_scale": 1_000.0,
    "equipment_scale": 1_000.0,
    "source_scale": 1_000.0,
    "time_limit_s": 7 * 24 * 3600.0,  # a week
    "mip_gap": 1.0,
    "change_penalty": 1e6,
    "priority_weights": 1e6,
    "zone_cap": 1e9,  # people
}


def _within(key: str, number: float) -> float:
    """``number`` if it is at most :data:`MOST` ``[key]``, else the reason it is refused."""
    if number > MOST[key]:
        raise ValueError(f"is more than {MOST[key]:,.12g}, the most this lever takes")
    return number


def _fmt(number: float) -> str:
    return f"{number:.12g}"


def parse_settings(
    settings: Mapping[str, object], base: Levers, origin: str, cells: Mapping[str, str] | None = None
) -> tuple[Levers, list[Problem]]:
    """Apply ``key -> value`` settings on top of ``base``; collect every problem.

    ``origin`` names where the settings came from (``"Settings"`` or ``"--set"``);
    ``cells`` optionally maps a key to the cell of its value (``"B4"``).
    """
    changes: dict[str, object] = {}
    items: dict[str, dict[str, object]] = {name: dict(getattr(base, name)) for name in ITEM_LEVERS}
    problems: list[Problem] = []
    for raw_key, raw_value in settings.items():
        key = canonical(raw_key)
        cell = (cells or {}).get(raw_key)
        try:
            if "." in str(raw_key).strip():
                prefix, _, item = str(raw_key).strip().partition(".")
                prefix = canonical(prefix)
                if prefix not in ITEM_LEVERS or not item.strip():
                    raise KeyError(raw_key)
                items[prefix][item.strip()] = _parse_item(prefix, raw_value)
            elif key in SETTING_KEYS:
                changes[key] = _parse_setting(key, raw_value)
            else:
                raise KeyError(raw_key)
        except KeyError:
            known = ", ".join(SETTING_KEYS) + ", " + ", ".join(f"{p}.<id>" for p in ITEM_LEVERS)
            problems.append(
                Problem(
                    Severity.ERROR,
                    origin,
                    f"'{raw_key}' is not a setting; known: {known}",
                    cell=cell,
                    column="key",
                    value=raw_key,
                )
            )
        except ValueError as reason:
            problems.append(
                Problem(
                    Severity.ERROR,
                    origin,
                    f"{raw_key} = {raw_value!r} {reason}",
                    cell=cell,
                    column="value",
                    value=raw_value,
                )
            )
    changes.update(items)
    return dataclasses.replace(base, **changes), problems  # type: ignore[arg-type]


def _parse_setting(key: str, value: object) -> object:
    text = "" if is_blank(value) else str(value).strip()
    if key == "currency":
        return text or SETTING_KEYS["currency"].default
    if key in ("reserve_share", "max_change", "tier_tolerance"):
        return None if not text else parse_share(value)
    if not text:
        raise ValueError("is blank")
    if key in (
        "budget_scale",
        "personnel_scale",
        "equipment_scale",
        "time_limit_s",
        "mip_gap",
        "change_penalty",
    ):
        number = parse_number(value)
        if number < 0 or (key == "time_limit_s" and number <= 0):
            raise ValueError("must be above 0" if key == "time_limit_s" else "must not be negative")
        return _within(key, number)
    if key == "priority_weights":
        return _parse_priority_weights(text)
    if key == "priority_mode":
        return _choice(PriorityMode, text)
    if key == "solver":
        return _choice(SolverName, text)
    if key in ("diminishing_returns", "integer", "continuity"):
        return parse_bool(value)
    raise KeyError(key)


def _choice(enum: type[StrEnum], text: str) -> StrEnum:
    try:
        return enum(text.lower())
    except ValueError:
        raise ValueError("is not one of " + ", ".join(e.value for e in enum)) from None


def _parse_priority_weights(text: str) -> tuple[float, ...]:
    """``"1:16,2:8,3:4,4:2,5:1"`` or ``"16,8,4,2,1"``; tiers not named keep the default."""
    weights = list(Levers().priority_weights)
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if all(":" not in p for p in parts):
        if len(parts) != 5:
            raise ValueError("needs five weights (tiers 1 to 5) or tier:weight pairs")
        return tuple(_positive(p) for p in parts)
    for part in parts:
        tier_text, _, weight_text = part.partition(":")
        tier = parse_integer(tier_text)
        if not 1 <= tier <= 5:
            raise ValueError(f"names tier {tier}; tiers are 1 to 5")
        weights[tier - 1] = _positive(weight_text)
    return tuple(weights)


def _positive(text: str) -> float:
    number = parse_number(text)
    if number < 0:
        raise ValueError("has a negative weight")
    if number > MOST["priority_weights"]:
        raise ValueError(f"has a weight above {MOST['priority_weights']:,.0f}, the most a tier takes")
    return number


def _parse_item(prefix: str, value: object) -> object:
    if prefix == "source_scale":
        number = parse_number(value)
        if number < 0:
            raise ValueError("must not be negative")
        return _within(prefix, number)
    if prefix == "zone_cap":
        if is_blank(value):
            return None
        number = parse_number(value)
        if number < 0:
            raise ValueError("must not be negative")
        return _within(prefix, number)
    if prefix in ("must_fund", "cancel"):
        return parse_bool(value)
    if prefix in ("min_coverage", "max_coverage"):
        if is_blank(value):
            raise ValueError("is blank; give a share from 0 to 1, e.g. 0.5 or 50%")
        return parse_share(value)
    tier = parse_integer(value)
    if not 1 <= tier <= 5:
        raise ValueError("is not a priority from 1 to 5")
    return tier
