"""The sample-portfolio generator and the sample workbooks in sample_budgets/.

The workbooks are read back here with openpyxl and pandas only (not the project's
reader), and feasibility is checked with a small independent PuLP model of SPEC
section 3's constraints (no objective: is there any plan at all?).
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pulp
import pytest

from optimiser.samples.generate import generate_portfolio, write_workbook
from optimiser.schema import SHEETS, canonical

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_budgets"
# Baseline (today's plan) is the planner's own: the generator writes none.
SHEET_TITLES = [s.title for s in SHEETS.values() if s.name != "baseline"]
REQUIRED_TITLES = [s.title for s in SHEETS.values() if s.required]

# The exact arguments of the command recorded in sample_budgets/README.md.
NATIONAL_ARGS = {"missions": 150, "zones": 30, "resources": 16, "periods": 4, "sources": 5, "seed": 2027}

SIZES = [
    {"missions": 1, "zones": 1, "resources": 1, "periods": 1, "sources": 1, "seed": 0},
    {"missions": 4, "zones": 9, "resources": 3, "periods": 2, "sources": 3, "seed": 1},
    {"missions": 12, "zones": 6, "resources": 8, "periods": 1, "sources": 3, "seed": 2},
    {"missions": 60, "zones": 12, "resources": 10, "periods": 3, "sources": 7, "seed": 3},
    {"missions": 150, "zones": 30, "resources": 16, "periods": 4, "sources": 5, "seed": 4},
    {"missions": 200, "zones": 70, "resources": 24, "periods": 8, "sources": 9, "seed": 5},
]
LARGEST = {"missions": 2000, "zones": 60, "resources": 20, "periods": 8, "sources": 7, "seed": 9}


# ----------------------------------------------------------------------------------
# Helpers: normalised tables, active periods, an independent feasibility model
# ----------------------------------------------------------------------------------


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _list(value: object) -> list[str]:
    return [] if _blank(value) else [v.strip() for v in str(value).split(",") if v.strip()]


def _periods(t: dict[str, pd.DataFrame]) -> list[str]:
    return list(t["Periods"]["period_id"]) if "Periods" in t else ["P1"]


def _active(t: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    periods = _periods(t)
    out = {}
    for row in t["Missions"].itertuples():
        start = 0 if _blank(row.start_period) else periods.index(row.start_period)
        end = len(periods) - 1 if _blank(row.end_period) else periods.index(row.end_period)
        out[row.mission_id] = periods[start : end + 1]
    return out


def _available(t: dict[str, pd.DataFrame]) -> dict[tuple[str, str], float]:
    """Usable units per (resource, period) after overrides and reserves; inf if unlimited."""
    res = t["Resources"].set_index("resource_id")
    out = {}
    for rid, row in res.iterrows():
        for p in _periods(t):
            out[rid, p] = math.inf if _blank(row.available) else float(row.available)
    for row in t.get("Availability", pd.DataFrame(columns=["resource_id"])).itertuples():
        out[row.resource_id, row.period_id] = float(row.available)
    return {k: v * (1 - float(res.loc[k[0], "reserve_share"] or 0)) for k, v in out.items()}


def _money(t: dict[str, pd.DataFrame]) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for row in t["Funding"].itertuples():
        for p in _periods(t) if _blank(row.period) else [row.period]:
            out[row.source_id, p] = float(row.amount)
    return out


def _is_feasible(t: dict[str, pd.DataFrame], time_limit: float = 120) -> str:
    """Build SPEC section 3's constraints with PuLP and ask HiGHS for any plan."""
    periods = _periods(t)
    missions = t["Missions"].set_index("mission_id")
    zones = t["Zones"].set_index("zone_id")
    res = t["Resources"].set_index("resource_id")
    active, usable, money = _active(t), _available(t), _money(t)
    prob = pulp.LpProblem("any_plan", pulp.LpMinimize)
    cov: dict[tuple[str, str], pulp.LpVariable] = {}
    cost: dict[tuple[str, str], list] = defaultdict(list)
    by_resource: dict[tuple[str, str], list] = defaultdict(list)
    by_zone: dict[tuple[str, str], list] = defaultdict(list)
    for mid, m in missions.iterrows():
        onoff = not m.must_fund and m.min_coverage > 0
        for p in active[mid]:
            c = cov[mid, p] = pulp.LpVariable(f"c_{len(cov)}", 0, m.max_coverage)
            cost[mid, p].append(m.running_cost * c)
            if m.must_fund:
                prob += c >= m.min_coverage
            elif onoff:
                y = pulp.LpVariable(f"y_{len(cov)}", cat="Binary")
                prob += c >= m.min_coverage * y
                prob += c <= m.max_coverage * y
    for k, r in enumerate(t["Requirements"].itertuples()):
        kind, integer = res.loc[r.resource_id, "kind"], bool(res.loc[r.resource_id, "integer"])
        zone = missions.loc[r.mission_id, "zone_id"]
        unit = res.loc[r.resource_id, "unit_cost"]
        if kind == "personnel":
            unit *= zones.loc[zone, "hazard_multiplier"]
        for p in active[r.mission_id]:
            a = pulp.LpVariable(f"a_{k}_{p}", 0, cat="Integer" if integer else "Continuous")
            prob += a >= r.quantity * cov[r.mission_id, p]
            cost[r.mission_id, p].append(unit * a)
            by_resource[r.resource_id, p].append(a)
            if kind == "personnel":
                by_zone[zone, p].append(a)
    for (rid, p), terms in by_resource.items():
        if usable[rid, p] < math.inf:
            prob += pulp.lpSum(terms) <= usable[rid, p]
    for (zid, _p), terms in by_zone.items():
        if not _blank(zones.loc[zid, "personnel_cap"]):
            prob += pulp.lpSum(terms) <= zones.loc[zid, "personnel_cap"]
    sources = t["Funding"].drop_duplicates("source_id").set_index("source_id")
    by_source: dict[tuple[str, str], list] = defaultdict(list)
    for mid, m in missions.iterrows():
        region = zones.loc[m.zone_id, "region"]
        for p in active[mid]:
            pays = []
            for sid, s in sources.iterrows():
                types, zs, regions = (
                    _list(s.eligible_types),
                    _list(s.eligible_zones),
                    _list(s.eligible_regions),
                )
                if (types and m.type not in types) or (zs and m.zone_id not in zs):
                    continue
                if regions and region not in regions:
                    continue
                f = pulp.LpVariable(f"f_{sid}_{mid}_{p}", 0)
                pays.append(f)
                by_source[sid, p].append(f)
            prob += pulp.lpSum(pays) == pulp.lpSum(cost[mid, p])
    for (sid, p), terms in by_source.items():
        prob += pulp.lpSum(terms) <= money.get((sid, p), 0.0)
    spend = {k: pulp.lpSum(v) for k, v in cost.items()}
    total = pulp.lpSum(spend.values())
    region_of = missions["zone_id"].map(zones["region"])
    for rule in t.get("Policies", pd.DataFrame(columns=["rule"])).itertuples():
        if rule.scope_type == "region":
            scope = set(missions.index[region_of == rule.scope_value])
        else:
            field = {"zone": "zone_id", "type": "type", "priority": "priority"}[rule.scope_type]
            scope = set(missions.index[missions[field].astype(str) == str(rule.scope_value)])
        if rule.rule == "min_budget_share":
            prob += pulp.lpSum(e for (mid, p), e in spend.items() if mid in scope) >= rule.value * total
        elif rule.rule == "max_budget_share":
            prob += pulp.lpSum(e for (mid, p), e in spend.items() if mid in scope) <= rule.value * total
        else:
            for p in periods:
                cs = [c for (mid, q), c in cov.items() if q == p and mid in scope]
                if cs:
                    prob += pulp.lpSum(cs) >= rule.value * len(cs)
    prob += pulp.lpSum([])  # no objective: any plan will do
    prob.solve(pulp.HiGHS(msg=False, timeLimit=time_limit))
    return pulp.LpStatus[prob.status]


def _read_back(path: Path) -> dict[str, pd.DataFrame]:
    """Read a workbook with openpyxl the way SPEC section 2 describes (header within 10 rows)."""
    wb = openpyxl.load_workbook(path, data_only=True)
    tables = {}
    for ws in wb.worksheets:
        sheet = SHEETS[canonical(ws.title)]
        rows = list(ws.iter_rows(values_only=True))
        header = next(
            i for i, row in enumerate(rows[:10]) if sheet.id_column in [canonical(c) for c in row if c]
        )
        names = [canonical(c) for c in rows[header]]
        body = [r for r in rows[header + 1 :] if any(v is not None for v in r)]
        df = pd.DataFrame(body, columns=names)
        for col in sheet.columns:
            if col.kind.value == "bool" and col.name in df:
                df[col.name] = df[col.name].map(lambda v: str(v).lower() in ("yes", "y", "true", "1", "x"))
        tables[sheet.title] = df
    return tables


def _same(a: object, b: object) -> bool:
    if _blank(a) and _blank(b):
        return True
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return a == b


# ----------------------------------------------------------------------------------
# The generator
# ----------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables():
    a = generate_portfolio(missions=80, zones=15, resources=12, periods=4, sources=5, seed=11)
    b = generate_portfolio(missions=80, zones=15, resources=12, periods=4, sources=5, seed=11)
    assert list(a) == list(b)
    for title in a:
        pd.testing.assert_frame_equal(a[title], b[title])


def test_different_seed_gives_different_tables():
    a = generate_portfolio(missions=80, zones=15, seed=11)
    b = generate_portfolio(missions=80, zones=15, seed=12)
    assert not a["Missions"].equals(b["Missions"])
    assert not a["Requirements"].equals(b["Requirements"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "x".join(str(v) for v in s.values()))
def test_sizes_columns_and_references(size):
    t = generate_portfolio(**size)
    assert list(t) == SHEET_TITLES
    for sheet in SHEETS.values():
        if sheet.title in t:
            assert list(t[sheet.title].columns) == list(sheet.column_names), sheet.title
    missions, zones, res = t["Missions"], t["Zones"], t["Resources"]
    assert len(missions) == size["missions"] and missions["mission_id"].is_unique
    assert len(zones) == size["zones"] and zones["zone_id"].is_unique
    assert len(res) == size["resources"] and res["resource_id"].is_unique
    assert len(t["Periods"]) == size["periods"] and t["Periods"]["period_id"].is_unique
    assert t["Funding"]["source_id"].nunique() == size["sources"]
    periods = set(t["Periods"]["period_id"])
    # every reference resolves
    assert set(missions["zone_id"]) <= set(zones["zone_id"])
    assert set(t["Requirements"]["mission_id"]) <= set(missions["mission_id"])
    assert set(t["Requirements"]["resource_id"]) <= set(res["resource_id"])
    assert not t["Requirements"].duplicated(["mission_id", "resource_id"]).any()
    assert set(missions["mission_id"]) <= set(t["Requirements"]["mission_id"])  # everyone needs something
    assert {
        p for p in missions["start_period"].tolist() + missions["end_period"].tolist() if not _blank(p)
    } <= periods
    for row in missions.itertuples():
        if not _blank(row.start_period) and not _blank(row.end_period):
            assert row.start_period <= row.end_period
    assert {p for p in t["Funding"]["period"] if not _blank(p)} <= periods
    assert set(t["Availability"]["resource_id"]) <= set(res["resource_id"])
    assert set(t["Availability"]["period_id"]) <= periods
    present_types = set(missions["type"])
    present_regions = set(zones.set_index("zone_id").loc[missions["zone_id"], "region"])
    for row in t["Funding"].itertuples():
        assert set(_list(row.eligible_types)) <= present_types
        assert set(_list(row.eligible_zones)) <= set(zones["zone_id"])
        assert set(_list(row.eligible_regions)) <= present_regions
    assert not t["Funding"].duplicated(["source_id", "period"]).any()
    for rule in t["Policies"].itertuples():
        scope = {
            "region": set(zones["region"]),
            "zone": set(zones["zone_id"]),
            "type": present_types,
            "priority": {str(p) for p in missions["priority"]},
        }[rule.scope_type]
        assert str(rule.scope_value) in scope
        assert 0 < rule.value < 1
    # values in range
    assert missions["priority"].between(1, 5).all()
    assert (missions["weight"] > 0).all()
    assert (missions["min_coverage"] <= missions["max_coverage"]).all()
    assert missions["min_coverage"].between(0, 1).all() and missions["max_coverage"].between(0, 1).all()
    assert zones["hazard_multiplier"].between(1.0, 1.6).all()
    assert set(zones["risk"]) <= {"low", "medium", "high", "extreme"}
    assert res["reserve_share"].between(0, 0.5).all()
    assert (t["Requirements"]["quantity"] > 0).all()
    assert missions["must_fund"].sum() >= 1


@pytest.mark.parametrize("size", [*SIZES, LARGEST], ids=lambda s: "x".join(str(v) for v in s.values()))
def test_must_fund_floors_fit_after_reserves_caps_and_money(size):
    t = generate_portfolio(**size)
    missions = t["Missions"].set_index("mission_id")
    must = missions[missions["must_fund"]]
    res = t["Resources"].set_index("resource_id")
    zones = t["Zones"].set_index("zone_id")
    req = t["Requirements"][t["Requirements"]["mission_id"].isin(must.index)]
    active, usable, money = _active(t), _available(t), _money(t)
    for rid in res.index:
        for p in _periods(t):
            need = sum(
                math.ceil(r.quantity * must.loc[r.mission_id, "min_coverage"] - 1e-9)
                for r in req[req["resource_id"] == rid].itertuples()
                if p in active[r.mission_id]
            )
            # e.g. must-fund missions need 480 infantry in 2027-Q1; 900 x (1 - 10%) = 810 usable
            assert need <= usable[rid, p], (rid, p, need, usable[rid, p])
    personnel = set(res.index[res["kind"] == "personnel"])
    for zid, z in zones.iterrows():
        if _blank(z.personnel_cap):
            continue
        for p in _periods(t):
            need = sum(
                math.ceil(r.quantity * must.loc[r.mission_id, "min_coverage"] - 1e-9)
                for r in req.itertuples()
                if r.resource_id in personnel
                and must.loc[r.mission_id, "zone_id"] == zid
                and p in active[r.mission_id]
            )
            assert need <= z.personnel_cap, (zid, p, need)
    # the open (unearmarked) money alone pays for every must-fund floor
    open_sources = [
        row.source_id
        for row in t["Funding"].itertuples()
        if not (_list(row.eligible_types) or _list(row.eligible_zones) or _list(row.eligible_regions))
    ]
    for p in _periods(t):
        floor_cost = 0.0
        for r in req.itertuples():
            if p not in active[r.mission_id]:
                continue
            m = must.loc[r.mission_id]
            unit = res.loc[r.resource_id, "unit_cost"]
            if res.loc[r.resource_id, "kind"] == "personnel":
                unit *= zones.loc[m.zone_id, "hazard_multiplier"]
            floor_cost += unit * math.ceil(r.quantity * m.min_coverage - 1e-9)
        floor_cost += sum(m.running_cost * m.min_coverage for mid, m in must.iterrows() if p in active[mid])
        assert floor_cost <= sum(money.get((s, p), 0) for s in set(open_sources))


def test_money_and_people_are_short():
    t = generate_portfolio(**NATIONAL_ARGS)
    missions = t["Missions"].set_index("mission_id")
    zones = t["Zones"].set_index("zone_id")
    res = t["Resources"].set_index("resource_id")
    req = t["Requirements"].copy()
    haz = missions["zone_id"].map(zones["hazard_multiplier"])
    personnel = req["resource_id"].map(res["kind"]) == "personnel"
    req["cost"] = (
        req["quantity"]
        * req["resource_id"].map(res["unit_cost"])
        * np.where(personnel, req["mission_id"].map(haz), 1.0)
    )
    full = req.groupby("mission_id")["cost"].sum() + missions["running_cost"]
    active, money = _active(t), _money(t)
    for p in _periods(t):
        demand = sum(full[m] for m in missions.index if p in active[m])
        funds = sum(v for (s, q), v in money.items() if q == p)
        assert 0.65 <= funds / demand <= 0.9, (p, funds / demand)
    # at least two personnel types have well under the peak demand
    short = 0
    for rid, r in res[res["kind"] == "personnel"].iterrows():
        rows = req[req["resource_id"] == rid]
        peak = max(
            sum(q for m, q in zip(rows.mission_id, rows.quantity, strict=True) if p in active[m])
            for p in _periods(t)
        )
        short += peak > 0 and r.available * (1 - r.reserve_share) < 0.65 * peak
    assert short >= 2
    assert t["Zones"]["personnel_cap"].notna().sum() >= 3
    assert t["Resources"]["available"].isna().sum() >= 1  # some equipment is bought
    assert len(t["Availability"]) >= 2
    assert set(t["Policies"]["rule"]) == {"min_budget_share", "max_budget_share", "min_average_coverage"}
    assert ((~missions["must_fund"]) & (missions["min_coverage"] > 0)).sum() >= 5


@pytest.mark.parametrize("size", SIZES[:5], ids=lambda s: "x".join(str(v) for v in s.values()))
def test_generated_portfolios_have_a_plan(size):
    assert _is_feasible(generate_portfolio(**size)) == "Optimal"


def test_largest_portfolio_is_generated_quickly():
    start = time.perf_counter()
    t = generate_portfolio(**LARGEST)
    assert time.perf_counter() - start < 10
    assert len(t["Missions"]) == 2000 and len(t["Zones"]) == 60 and len(t["Resources"]) == 20
    assert len(t["Periods"]) == 8 and t["Periods"]["period_id"].iloc[-1] == "2028-Q4"


@pytest.mark.slow
def test_a_large_portfolio_has_a_plan():
    t = generate_portfolio(missions=500, zones=40, resources=20, periods=8, sources=7, seed=9)
    assert _is_feasible(t, time_limit=600) == "Optimal"


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="missions"):
        generate_portfolio(missions=0)
    with pytest.raises(ValueError, match="resources"):
        generate_portfolio(resources=25)


# ----------------------------------------------------------------------------------
# The workbook writer
# ----------------------------------------------------------------------------------


def test_write_workbook_is_clean_and_reads_back(tmp_path):
    t = generate_portfolio(missions=30, zones=8, resources=10, periods=2, sources=5, seed=7)
    path = write_workbook(t, tmp_path / "sub" / "p.xlsx", titles={"Missions": ["A title", "A note"]})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEET_TITLES
    ws = wb["Missions"]
    assert ws["A1"].value == "A title" and ws["A2"].value == "A note" and ws["A3"].value is None
    assert ws["A4"].value == "mission_id" and ws["A4"].font.bold
    assert ws.freeze_panes == "A5"
    assert wb["Zones"].freeze_panes == "A2" and wb["Zones"]["A1"].font.bold
    header = [c.value for c in ws[4]]
    first = dict(zip(header, [c.value for c in ws[5]], strict=True))
    assert isinstance(first["priority"], int) and isinstance(first["running_cost"], (int, float))
    assert first["must_fund"] in ("yes", "no")
    assert ws.cell(5, header.index("running_cost") + 1).number_format == "#,##0"
    assert ws.column_dimensions["B"].width > 20  # names are wide
    back = _read_back(path)
    for title, df in t.items():
        got = back[title]
        assert list(got.columns) == list(df.columns)
        assert len(got) == len(df), title
        for a, b in zip(df.itertuples(index=False), got.itertuples(index=False), strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (title, a, b)


def test_text_is_never_written_as_a_formula(tmp_path):
    t = {"Settings": pd.DataFrame({"key": ["currency"], "value": ['=HYPERLINK("x")']})}
    path = write_workbook(t, tmp_path / "s.xlsx")
    cell = openpyxl.load_workbook(path)["Settings"]["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")'


# ----------------------------------------------------------------------------------
# The sample workbooks
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["national_portfolio.xlsx", "demo.xlsx"])
def test_sample_workbooks_have_the_spec_sheets(name):
    path = SAMPLES / name
    assert path.is_file(), f"{path} is missing: see sample_budgets/README.md"
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    assert set(REQUIRED_TITLES) <= set(names)
    assert set(names) <= set(SHEET_TITLES)
    for title, df in _read_back(path).items():
        assert list(df.columns) == list(SHEETS[canonical(title)].column_names), (name, title)


def test_national_portfolio_is_the_recorded_command_output():
    back = _read_back(SAMPLES / "national_portfolio.xlsx")
    fresh = generate_portfolio(**NATIONAL_ARGS)
    assert list(back) == list(fresh)
    for title, df in fresh.items():
        got = back[title]
        assert len(got) == len(df), title
        for a, b in zip(df.itertuples(index=False), got.itertuples(index=False), strict=True):
            assert all(_same(x, y) for x, y in zip(a, b, strict=True)), (title, a, b)
    ws = openpyxl.load_workbook(SAMPLES / "national_portfolio.xlsx", read_only=True)["Missions"]
    first_rows = [row[0] for row in ws.iter_rows(min_row=1, max_row=10, values_only=True)]
    assert first_rows[0] and "portfolio" in first_rows[0].lower()  # a title above the headers
    assert 0 < first_rows.index("mission_id") < 10
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    command = " ".join(f"--{k} {v}" for k, v in NATIONAL_ARGS.items())
    assert command in text


def test_national_portfolio_shape():
    t = _read_back(SAMPLES / "national_portfolio.xlsx")
    assert len(t["Missions"]) == 150 and len(t["Zones"]) == 30 and len(t["Resources"]) == 16
    assert list(t["Periods"]["period_id"]) == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert 4 <= t["Funding"]["source_id"].nunique() <= 5
    assert t["Missions"]["must_fund"].sum() >= 5
    assert len(t["Policies"]) >= 2


def test_demo_is_small_and_has_every_feature():
    t = _read_back(SAMPLES / "demo.xlsx")
    missions, zones, res, funding = t["Missions"], t["Zones"], t["Resources"], t["Funding"]
    assert len(missions) == 12 and len(zones) == 6 and len(res) == 8
    assert len(t.get("Periods", [None])) == 1
    assert 2 <= funding["source_id"].nunique() <= 3
    earmarked = funding[funding[["eligible_types", "eligible_zones", "eligible_regions"]].notna().any(axis=1)]
    assert earmarked["source_id"].nunique() == 1
    assert missions["must_fund"].sum() == 1
    assert ((~missions["must_fund"]) & (missions["min_coverage"] > 0)).sum() == 1
    assert zones["personnel_cap"].notna().sum() == 1
    assert (res["reserve_share"].fillna(0) > 0).any()
    assert (zones["hazard_multiplier"].fillna(1) > 1).any()


@pytest.mark.parametrize("name", ["national_portfolio.xlsx", "demo.xlsx"])
def test_sample_workbooks_have_a_plan(name):
    assert _is_feasible(_read_back(SAMPLES / name)) == "Optimal"


def test_generate_script(tmp_path):
    out = tmp_path / "small.xlsx"
    args = ["--missions", "9", "--zones", "4", "--resources", "6", "--periods", "2", "--sources", "3"]
    done = subprocess.run(
        [sys.executable, str(SAMPLES / "generate.py"), *args, "--seed", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    back = _read_back(out)
    assert len(back["Missions"]) == 9 and len(back["Periods"]) == 2
    assert str(out) in done.stdout
