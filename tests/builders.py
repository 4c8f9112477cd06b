"""Portfolios for tests, written inline as CSV (one string per sheet, as in the workbook).

``make_portfolio(missions=..., zones=..., ...)`` returns ``validate(read_tables({...}))``
when the reader and validator are available; until then it builds the
:class:`~optimiser.portfolio.Portfolio` directly, filling defaults exactly as
``portfolio.py`` documents. The fallback is deliberately small and can be dropped once
``optimiser.read.read_tables`` and ``optimiser.validate.validate`` land.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd

from optimiser.levers import Levers
from optimiser.portfolio import Portfolio
from optimiser.values import is_blank, parse_bool, parse_list, parse_number, parse_share

try:  # the real path: reader and validator
    from optimiser.read import read_tables
    from optimiser.validate import validate
except ImportError:  # pragma: no cover - until read.py / validate.py land
    read_tables = None
    validate = None


def make_portfolio(
    missions: str,
    zones: str,
    resources: str,
    requirements: str,
    funding: str,
    periods: str | None = None,
    availability: str | None = None,
    policies: str | None = None,
    settings: str | None = None,
) -> Portfolio:
    """A validated portfolio from one CSV string per sheet (headers as in SPEC 2)."""
    texts = {
        "missions": missions,
        "zones": zones,
        "resources": resources,
        "requirements": requirements,
        "funding": funding,
        "periods": periods,
        "availability": availability,
        "policies": policies,
        "settings": settings,
    }
    texts = {k: textwrap.dedent(v).strip() + "\n" for k, v in texts.items() if v is not None}
    if read_tables is not None and validate is not None:
        return validate(read_tables(texts))
    return _build_directly(texts)


# -- fallback: the normalised tables of portfolio.py, built by hand ----------------------


def _frame(text: str | None, columns: list[str]) -> pd.DataFrame:
    if text is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    for column in columns:
        if column not in frame:
            frame[column] = ""
    return frame.map(lambda v: v.strip() if isinstance(v, str) else v)


def _col(frame: pd.DataFrame, column: str, parse, default) -> list:
    return [default if is_blank(v) else parse(v) for v in frame[column]]


def _build_directly(texts: dict[str, str]) -> Portfolio:
    periods = _frame(texts.get("periods"), ["period_id", "name"])
    if not len(periods):
        periods = pd.DataFrame({"period_id": ["P1"], "name": [""]})
    periods["name"] = [n or p for p, n in zip(periods["period_id"], periods["name"], strict=True)]
    period_ids = list(periods["period_id"])

    m = _frame(
        texts["missions"],
        [
            "mission_id",
            "name",
            "zone_id",
            "type",
            "priority",
            "weight",
            "must_fund",
            "min_coverage",
            "max_coverage",
            "running_cost",
            "start_period",
            "end_period",
        ],
    )
    missions = pd.DataFrame(
        {
            "name": [n or i for i, n in zip(m["mission_id"], m["name"], strict=True)],
            "zone_id": m["zone_id"].tolist(),
            "type": [t or "other" for t in m["type"]],
            "priority": [int(parse_number(p)) for p in m["priority"]],
            "weight": _col(m, "weight", parse_number, 1.0),
            "must_fund": _col(m, "must_fund", parse_bool, False),
            "min_coverage": _col(m, "min_coverage", parse_share, 0.0),
            "max_coverage": _col(m, "max_coverage", parse_share, 1.0),
            "running_cost": _col(m, "running_cost", parse_number, 0.0),
            "start_period": [s or period_ids[0] for s in m["start_period"]],
            "end_period": [e or period_ids[-1] for e in m["end_period"]],
        },
        index=pd.Index(m["mission_id"], name="mission_id"),
    )

    z = _frame(texts["zones"], ["zone_id", "name", "region", "risk", "personnel_cap", "hazard_multiplier"])
    zones = pd.DataFrame(
        {
            "name": [n or i for i, n in zip(z["zone_id"], z["name"], strict=True)],
            "region": [r or "unassigned" for r in z["region"]],
            "risk": [r.lower() or "medium" for r in z["risk"]],
            "personnel_cap": _col(z, "personnel_cap", parse_number, np.nan),
            "hazard_multiplier": _col(z, "hazard_multiplier", parse_number, 1.0),
        },
        index=pd.Index(z["zone_id"], name="zone_id"),
    )

    r = _frame(
        texts["resources"],
        ["resource_id", "name", "kind", "unit", "unit_cost", "available", "reserve_share", "integer"],
    )
    resources = pd.DataFrame(
        {
            "name": [n or i for i, n in zip(r["resource_id"], r["name"], strict=True)],
            "kind": [k.lower() for k in r["kind"]],
            "unit": [u or "unit" for u in r["unit"]],
            "unit_cost": _col(r, "unit_cost", parse_number, 0.0),
            "available": _col(r, "available", parse_number, np.nan),
            "reserve_share": _col(r, "reserve_share", parse_share, 0.0),
            "integer": _col(r, "integer", parse_bool, True),
        },
        index=pd.Index(r["resource_id"], name="resource_id"),
    )

    q = _frame(texts["requirements"], ["mission_id", "resource_id", "quantity"])
    requirements = pd.DataFrame(
        {
            "mission_id": q["mission_id"],
            "resource_id": q["resource_id"],
            "quantity": _col(q, "quantity", parse_number, 0.0),
        }
    )

    f = _frame(
        texts["funding"],
        ["source_id", "name", "amount", "period", "eligible_types", "eligible_zones", "eligible_regions"],
    )
    first = f.drop_duplicates("source_id")
    sources = pd.DataFrame(
        {
            "name": [n or i for i, n in zip(first["source_id"], first["name"], strict=True)],
            **{
                c: [parse_list(v) for v in first[c]]
                for c in ("eligible_types", "eligible_zones", "eligible_regions")
            },
        },
        index=pd.Index(first["source_id"], name="source_id"),
    )
    money = {(s, p): 0.0 for s in sources.index for p in period_ids}
    for source, amount, period in zip(f["source_id"], f["amount"], f["period"], strict=True):
        for p in [period] if period else period_ids:
            money[(source, p)] += parse_number(amount)
    funding = pd.DataFrame(
        [(s, p, a) for (s, p), a in money.items()], columns=["source_id", "period_id", "amount"]
    )

    a = _frame(texts.get("availability"), ["resource_id", "period_id", "available"])
    availability = pd.DataFrame(
        {
            "resource_id": a["resource_id"],
            "period_id": a["period_id"],
            "available": [parse_number(v) for v in a["available"]],
        }
    )
    pol = _frame(texts.get("policies"), ["rule", "scope_type", "scope_value", "value"])
    policies = pd.DataFrame(
        {
            "rule": pol["rule"],
            "scope_type": pol["scope_type"],
            "scope_value": pol["scope_value"],
            "value": [parse_share(v) for v in pol["value"]],
        }
    )
    s = _frame(texts.get("settings"), ["key", "value"])
    levers = Levers().with_settings(dict(zip(s["key"], s["value"], strict=True)), origin="Settings")

    return Portfolio(
        missions=missions,
        zones=zones,
        resources=resources,
        requirements=requirements,
        sources=sources,
        funding=funding,
        periods=periods.set_index("period_id")[["name"]],
        availability=availability,
        policies=policies,
        levers=levers,
    )
