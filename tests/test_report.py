"""The report workbook, the JSON result and the text summary, on a plan whose numbers we know.

The plan is built by hand (no solver): five missions over two periods, two zones, two
resources, two funding sources. Mission names that look like formulas ("=HYPERLINK(...)",
"+1", "@SUM(A1)", "-2") and names in Arabic, Cyrillic and French run through every
test. Hand-computed figures:

- money spent 25,400 EUR of 32,000 EUR available (13,200 in P1, 12,200 in P2);
- value 60 of 74 possible (tiers: 32, 20, 8, 0, 0);
- under-covered: M2 (P2 off), M4 (50% then 75%), M5 (off); 6,000 EUR would close every gap.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import optimiser.report.workbook as report_workbook_module
from optimiser import __version__
from optimiser.levers import Levers
from optimiser.plan import Plan, SolverInfo, Status
from optimiser.portfolio import InputFile, Portfolio
from optimiser.problems import Problem, Severity
from optimiser.report import plan_to_dict, summary_text, write_json, write_report
from optimiser.wording import lever_label

# --- The fixture -------------------------------------------------------------------------

HYPERLINK = '=HYPERLINK("http://x")'
ARABIC = "بعثة المراقبة الأممية"
CYRILLIC = "Южный сектор"
ACCENTED = "Fonds de sécurité"
SHA = "ab" * 32

MISSIONS = [  # id, name, zone, type, priority, must_fund, min_cov, running_cost, start
    ("M1", HYPERLINK, "Z1", "peacekeeping", 1, True, 0.5, 1000.0, "P1"),
    ("M2", "+1", "Z2", "mediation", 2, False, 0.0, 0.0, "P1"),
    ("M3", "@SUM(A1)", "Z1", "monitoring", 3, False, 0.0, 200.0, "P1"),
    ("M4", ARABIC, "Z2", "humanitarian", 2, False, 0.0, 0.0, "P1"),
    ("M5", "-2", "Z2", "capacity_building", 4, False, 0.0, 0.0, "P2"),
]
ZONES = [  # id, name, region, risk, cap, hazard
    ("Z1", CYRILLIC, "Levant", "high", 10.0, 1.5),
    ("Z2", "Zone côtière", "Sahel", "medium", float("nan"), 1.0),
]
RESOURCES = [  # id, name, kind, unit, unit_cost, available, reserve_share
    ("INF", "Infantry", "personnel", "person", 1000.0, 12.0, 0.25),
    ("VEH", "Véhicule blindé", "equipment", "vehicle", 500.0, float("nan"), 0.0),
]
REQUIREMENTS = {("M1", "INF"): 4.0, ("M1", "VEH"): 2.0, ("M2", "INF"): 2.0, ("M3", "VEH"): 1.0,
                ("M4", "INF"): 4.0, ("M4", "VEH"): 1.0, ("M5", "VEH"): 2.0}
PERIODS = {"P1": "2027-Q1", "P2": "2027-Q2"}
SOURCES = {"CORE": (ACCENTED, ()), "UN": ("Contributions de l'ONU", ("peacekeeping", "monitoring"))}
AMOUNTS = {("CORE", "P1"): 10_000.0, ("CORE", "P2"): 10_000.0, ("UN", "P1"): 6_000.0, ("UN", "P2"): 6_000.0}

COVERAGE = {("M1", "P1"): 1.0, ("M1", "P2"): 1.0, ("M2", "P1"): 1.0, ("M2", "P2"): 0.0,
            ("M3", "P1"): 1.0, ("M3", "P2"): 1.0, ("M4", "P1"): 0.5, ("M4", "P2"): 0.75, ("M5", "P2"): 0.0}
UNITS = {("M1", "INF", "P1"): 4, ("M1", "VEH", "P1"): 2, ("M2", "INF", "P1"): 2, ("M3", "VEH", "P1"): 1,
         ("M4", "INF", "P1"): 2, ("M4", "VEH", "P1"): 1,
         ("M1", "INF", "P2"): 4, ("M1", "VEH", "P2"): 2, ("M2", "INF", "P2"): 0, ("M3", "VEH", "P2"): 1,
         ("M4", "INF", "P2"): 3, ("M4", "VEH", "P2"): 1, ("M5", "VEH", "P2"): 0}
FLOWS = {("UN", "M1", "P1"): 6000.0, ("CORE", "M1", "P1"): 2000.0, ("CORE", "M2", "P1"): 2000.0,
         ("CORE", "M3", "P1"): 700.0, ("CORE", "M4", "P1"): 2500.0,
         ("UN", "M1", "P2"): 6000.0, ("CORE", "M1", "P2"): 2000.0, ("CORE", "M3", "P2"): 700.0,
         ("CORE", "M4", "P2"): 3500.0}
SENSITIVITY = [  # deliberately not in order: reports rank them
    ("budget", "UN", "P1", 0.0012, "EUR", "One more EUR from the UN in 2027-Q1 would add 0.0012."),
    ("resource", "INF", "P1", 2.0, "person", "One more Infantry in 2027-Q1 would add 2 to the value."),
    ("budget", "UN", "P2", 0.0012, "EUR", "One more EUR from the UN in 2027-Q2 would add 0.0012."),
    ("resource", "INF", "P2", 1.25, "person", "One more Infantry in 2027-Q2 would add 1.25 to the value."),
]
TOTAL_COST = 25_400.0
MONEY_AVAILABLE = 32_000.0
DIAGNOSIS = ("Must-fund M1 needs 4 Infantry in 2027-Q1; 3 are available after the 25% reserve (short 1)",)


def _g(coverage: float) -> float:
    """SPEC section 3's diminishing returns: the first half is worth twice the second."""
    return 4 / 3 * min(coverage, 0.5) + 2 / 3 * max(coverage - 0.5, 0.0)


def make_portfolio(levers: Levers) -> Portfolio:
    """The portfolio in the normalised form documented on :class:`Portfolio`."""
    missions = pd.DataFrame(
        [dict(mission_id=m, name=n, zone_id=z, type=t, priority=p, weight=1.0, must_fund=f, min_coverage=lo,
              max_coverage=1.0, running_cost=rc, start_period=s, end_period="P2")
         for m, n, z, t, p, f, lo, rc, s in MISSIONS]
    ).set_index("mission_id")
    zones = pd.DataFrame(
        [dict(zone_id=z, name=n, region=r, risk=k, personnel_cap=c, hazard_multiplier=h)
         for z, n, r, k, c, h in ZONES]
    ).set_index("zone_id")
    resources = pd.DataFrame(
        [dict(resource_id=r, name=n, kind=k, unit=u, unit_cost=c, available=a, reserve_share=s, integer=True)
         for r, n, k, u, c, a, s in RESOURCES]
    ).set_index("resource_id")
    requirements = pd.DataFrame(
        [dict(mission_id=m, resource_id=r, quantity=q) for (m, r), q in REQUIREMENTS.items()]
    )
    sources = pd.DataFrame(
        [dict(source_id=s, name=n, eligible_types=types, eligible_zones=(), eligible_regions=())
         for s, (n, types) in SOURCES.items()]
    ).set_index("source_id")
    funding = pd.DataFrame([dict(source_id=s, period_id=p, amount=a) for (s, p), a in AMOUNTS.items()])
    periods = pd.DataFrame([dict(period_id=p, name=n) for p, n in PERIODS.items()]).set_index("period_id")
    availability = pd.DataFrame(columns=["resource_id", "period_id", "available"])
    policies = pd.DataFrame([dict(rule="min_average_coverage", scope_type="priority", scope_value="1",
                                  value=0.8)])
    return Portfolio(
        missions=missions, zones=zones, resources=resources, requirements=requirements, sources=sources,
        funding=funding, periods=periods, availability=availability, policies=policies, levers=levers,
        source=InputFile("budgets/national_portfolio.xlsx", "xlsx", SHA),
        warnings=(Problem(Severity.WARNING, "Missions", "extra column 'notes' ignored", column="notes"),),
    )


def make_plan() -> Plan:
    """A feasible plan over :func:`make_portfolio`, its tables derived from the dicts above."""
    levers = Levers(currency="EUR")
    portfolio = make_portfolio(levers)
    m, z, r = portfolio.missions, portfolio.zones, portfolio.resources

    def unit_cost(mission: str, resource: str) -> float:
        personnel = r.loc[resource, "kind"] == "personnel"
        hazard = z.loc[m.loc[mission, "zone_id"], "hazard_multiplier"] if personnel else 1.0
        return float(r.loc[resource, "unit_cost"] * hazard)

    allocation = pd.DataFrame([
        dict(mission_id=mi, period_id=p, resource_id=ri, kind=r.loc[ri, "kind"], needed=REQUIREMENTS[mi, ri],
             units=float(u), unit_cost=unit_cost(mi, ri), cost=u * unit_cost(mi, ri))
        for (mi, ri, p), u in UNITS.items()
    ])
    missions = []
    for (mi, p), c in COVERAGE.items():
        row = m.loc[mi]
        cost = allocation.query("mission_id == @mi and period_id == @p")["cost"].sum() + row.running_cost * c
        missions.append(dict(
            mission_id=mi, period_id=p, name=row["name"], zone_id=row.zone_id,
            region=z.loc[row.zone_id, "region"],
            type=row.type, priority=row.priority, must_fund=row.must_fund, coverage=c,
            value=levers.tier_weight(row.priority) * _g(c), cost=cost,
        ))
    missions_frame = pd.DataFrame(missions)
    max_value = sum(levers.tier_weight(m.loc[mi, "priority"]) for mi, _ in COVERAGE)
    value_by_priority = {t: float(missions_frame.loc[missions_frame.priority == t, "value"].sum())
                         for t in range(1, 6)}
    short = allocation[allocation.units < allocation.needed]
    unmet = pd.DataFrame(dict(
        mission_id=short.mission_id, period_id=short.period_id, resource_id=short.resource_id,
        needed=short.needed, allocated=short.units, shortfall=short.needed - short.units,
        shortfall_cost=(short.needed - short.units) * short.unit_cost,
    ))
    used = allocation.groupby(["resource_id", "period_id"])["units"].sum()
    resources = pd.DataFrame([
        dict(resource_id=ri, period_id=p, kind=r.loc[ri, "kind"], used=used[ri, p],
             available=r.loc[ri, "available"], reserve=r.loc[ri, "available"] * r.loc[ri, "reserve_share"],
             usable=r.loc[ri, "available"] * (1 - r.loc[ri, "reserve_share"]),
             shadow_price={("INF", "P1"): 2.0, ("INF", "P2"): 1.25}.get((ri, p), 0.0))
        for ri in r.index for p in PERIODS
    ])
    spent = pd.Series(FLOWS).groupby(level=[0, 2]).sum()
    budgets = pd.DataFrame([
        dict(source_id=s, period_id=p, amount=a, used=spent.get((s, p), 0.0),
             shadow_price=0.0012 if s == "UN" else 0.0)
        for (s, p), a in AMOUNTS.items()
    ])
    personnel = allocation[allocation.kind == "personnel"].assign(
        zone_id=lambda f: f.mission_id.map(m.zone_id)).groupby(["zone_id", "period_id"])["units"].sum()
    zones = pd.DataFrame([
        dict(zone_id=zi, period_id=p, personnel=personnel.get((zi, p), 0.0), cap=z.loc[zi, "personnel_cap"],
             shadow_price=0.0)
        for zi in z.index for p in PERIODS
    ])
    return Plan(
        status=Status.OPTIMAL,
        value=float(missions_frame.value.sum()),
        best_bound=60.1,
        max_value=float(max_value),
        value_by_priority=value_by_priority,
        gap=0.0012,
        total_cost=float(missions_frame.cost.sum()),
        money_available=sum(AMOUNTS.values()),
        levers=levers,
        missions=missions_frame,
        allocation=allocation,
        funding=pd.DataFrame([dict(source_id=s, mission_id=mi, period_id=p, money=v)
                              for (s, mi, p), v in FLOWS.items()]),
        resources=resources,
        budgets=budgets,
        zones=zones,
        unmet=unmet.reset_index(drop=True),
        sensitivity=pd.DataFrame(
            SENSITIVITY, columns=["constraint", "id", "period_id", "shadow_price", "unit", "sentence"]
        ),
        solver=SolverInfo("highs", "1.7.2", build_s=0.12, solve_s=0.34, total_s=0.5,
                          stages=("value", "cost", "duals")),
        message="Optimal plan: value 60.00 of 74.00 possible; 25,400 of 32,000 EUR spent.",
        portfolio=portfolio,
    )


def make_infeasible_plan() -> Plan:
    """What the solver returns when must-fund floors need more people than exist."""
    levers = Levers(currency="EUR")
    empty = pd.DataFrame()
    return Plan(
        status=Status.INFEASIBLE, value=None, best_bound=None, max_value=74.0, value_by_priority={}, gap=None,
        total_cost=0.0, money_available=MONEY_AVAILABLE, levers=levers, missions=empty, allocation=empty,
        funding=empty, resources=empty, budgets=empty, zones=empty, unmet=empty, sensitivity=empty,
        solver=SolverInfo("highs", "1.7.2", build_s=0.1, solve_s=0.2, total_s=0.3, stages=("value",)),
        message="No plan is possible: must-fund commitments need more people than exist.",
        diagnosis=DIAGNOSIS,
        portfolio=make_portfolio(levers),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan()


@pytest.fixture(scope="module")
def report(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = write_report(plan, tmp_path_factory.mktemp("report") / "plan.xlsx")
    return openpyxl.load_workbook(path)


def table(ws) -> list[dict[str, object]]:
    """The rows of a sheet's table (header on row 1, up to the first blank row), by header."""
    header = [c.value for c in ws[1]]
    rows = []
    for values in ws.iter_rows(min_row=2, values_only=True):
        if all(v is None for v in values):
            break
        rows.append(dict(zip(header, values, strict=False)))
    return rows


def cells_of(ws, header: str) -> list:
    """The data cells (objects, not values) of one column of a sheet's table."""
    column = [c.value for c in ws[1]].index(header) + 1
    found = []
    for row in range(2, ws.max_row + 1):
        cell = ws.cell(row=row, column=column)
        if all(ws.cell(row=row, column=c).value is None for c in range(1, ws.max_column + 1)):
            break
        found.append(cell)
    return found


def summary_value(ws, label: str) -> object:
    """The value next to a label in the Summary sheet's first column."""
    for row in ws.iter_rows(min_col=1, max_col=2):
        if row[0].value == label:
            return row[1].value
    raise KeyError(label)


# --- The fixture's own arithmetic ---------------------------------------------------------


def test_fixture_numbers_are_the_hand_computed_ones(plan: Plan) -> None:
    assert plan.total_cost == pytest.approx(TOTAL_COST)
    assert plan.money_available == pytest.approx(MONEY_AVAILABLE)
    assert plan.value == pytest.approx(60.0)
    assert plan.max_value == pytest.approx(74.0)
    assert plan.value_by_priority == pytest.approx({1: 32.0, 2: 20.0, 3: 8.0, 4: 0.0, 5: 0.0})
    assert plan.funding.money.sum() == pytest.approx(TOTAL_COST)
    assert plan.unmet.shortfall_cost.sum() == pytest.approx(6000.0)


# --- Workbook -------------------------------------------------------------------------------


def test_report_sheets_come_in_the_planners_order(report: openpyxl.Workbook) -> None:
    assert report.sheetnames == [
        "Summary", "Allocation", "Timeline", "Units", "Funding", "Resources", "Zones", "Unmet",
        "Why short", "Sensitivity", "Charts",
        "Input Missions", "Input Zones", "Input Resources", "Input Requirements", "Input Funding",
        "Input Periods", "Input Availability", "Input Policies",
    ]


def test_allocation_cost_adds_up_to_the_plans_and_the_jsons_total_cost(
    plan: Plan, report: openpyxl.Workbook, tmp_path: Path
) -> None:
    ws = report["Allocation"]
    rows = table(ws)
    assert len(rows) == len(plan.missions) == 9
    assert sum(row["Cost (EUR)"] for row in rows) == pytest.approx(TOTAL_COST)
    totals = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Total")
    header = [c.value for c in ws[1]]
    assert totals[header.index("Cost (EUR)")] == pytest.approx(TOTAL_COST)
    result = json.loads(write_json(plan, tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert result["total_cost"] == pytest.approx(TOTAL_COST)
    assert sum(m["cost"] for m in result["missions"]) == pytest.approx(TOTAL_COST)


def test_units_sheet_shows_each_resource_each_mission_needs_one_row_each(
    report: openpyxl.Workbook,
) -> None:
    allocation = {(r["Mission ID"], r["Period"]): r for r in table(report["Allocation"])}
    m4 = allocation["M4", "P2"]
    assert m4["Coverage"] == pytest.approx(0.75)
    assert m4["Cost (EUR)"] == pytest.approx(3500.0)
    assert allocation["M1", "P1"]["Must fund"] == "yes"
    units = {(r["Mission ID"], r["Period"], r["Resource"]): r for r in table(report["Units"])}
    assert units["M4", "P2", "Infantry (person)"]["Allocated"] == 3
    assert units["M4", "P2", "Véhicule blindé (vehicle)"]["Allocated"] == 1
    assert ("M2", "P1", "Véhicule blindé (vehicle)") not in units  # M2 needs no vehicles
    assert {c.number_format for c in cells_of(report["Units"], "Allocated")} == {"#,##0"}


def test_money_and_percent_cells_are_formatted(report: openpyxl.Workbook) -> None:
    allocation = report["Allocation"]
    assert {c.number_format for c in cells_of(allocation, "Cost (EUR)")} == {"#,##0"}
    assert {c.number_format for c in cells_of(allocation, "Coverage")} == {"0.0%"}
    funding = report["Funding"]
    assert {c.number_format for c in cells_of(funding, "P1 (EUR)") if c.value is not None} == {"#,##0"}
    assert {c.number_format for c in cells_of(report["Resources"], "Utilisation") if c.value is not None} == {
        "0.0%"}
    assert {c.number_format for c in cells_of(report["Unmet"], "Cost to close (EUR)")} == {"#,##0"}
    summary = report["Summary"]
    spent = next(row[1] for row in summary.iter_rows(max_col=2) if row[0].value == "Money spent (EUR)")
    assert spent.value == pytest.approx(TOTAL_COST)
    assert spent.number_format == "#,##0"
    label = "Share of the most possible value"
    share = next(row[1] for row in summary.iter_rows(max_col=2) if row[0].value == label)
    assert share.value == pytest.approx(60 / 74)
    assert "%" in share.number_format


def test_every_table_sheet_has_a_frozen_bold_header_and_filters(report: openpyxl.Workbook) -> None:
    for ws in report.worksheets[1:]:
        if ws.title == "Charts":
            continue  # two small tables under their charts
        assert ws.freeze_panes is not None and ws.freeze_panes != "A1", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None), ws.title
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1] if c.value), ws.title


def test_the_charts_sheet_has_native_bar_charts(plan: Plan, tmp_path: Path) -> None:
    path = write_report(plan, tmp_path / "plan.xlsx")
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        xml = "".join(archive.read(n).decode("utf-8") for n in charts)
    assert len(charts) == 2
    assert "<barChart>" in xml or "<c:barChart>" in xml
    assert "Mean coverage by priority tier" in xml
    assert len(openpyxl.load_workbook(path)["Charts"]._charts) == 2
    assert not openpyxl.load_workbook(path)["Summary"]._charts  # the Summary prints on one page


def test_summary_states_result_tiers_levers_input_and_run(plan: Plan, report: openpyxl.Workbook) -> None:
    ws = report["Summary"]
    assert summary_value(ws, "Status") == "optimal"
    assert summary_value(ws, "Value") == pytest.approx(60.0)
    assert summary_value(ws, "Money available (EUR)") == pytest.approx(MONEY_AVAILABLE)
    assert summary_value(ws, "SHA-256 of the input file") == SHA
    assert summary_value(ws, "Input file") == "budgets/national_portfolio.xlsx"
    assert summary_value(ws, "Tool") == f"mission-optimiser {__version__}"
    assert summary_value(ws, "Solver") == "highs 1.7.2"
    assert summary_value(ws, "Total time (s)") == pytest.approx(0.5)
    assert summary_value(ws, lever_label("currency")) == "EUR"  # the levers, as --set would take them
    assert summary_value(ws, lever_label("priority_weights")) == "1:16,2:8,3:4,4:2,5:1"
    tiers = {row[0]: row for row in ws.iter_rows(values_only=True) if str(row[0]).startswith("Priority ")}
    # Priority 2: M2 (100% then 0%) and M4 (50% then 75%): both partly covered, mean 56.25%.
    assert tiers["Priority 2"][1:6] == (2, 0, 2, 0, pytest.approx(0.5625))
    assert tiers["Priority 1"][1:6] == (1, 1, 0, 0, pytest.approx(1.0))
    assert tiers["Priority 4"][1:6] == (1, 0, 0, 1, pytest.approx(0.0))
    assert tiers["Priority 5"][1] == 0
    assert tiers["Priority 2"][6] == pytest.approx(20.0)
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("extra column 'notes' ignored" in t for t in texts)


@pytest.mark.parametrize("name", [HYPERLINK, "+1", "@SUM(A1)", "-2"])
def test_mission_names_that_look_like_formulas_are_stored_as_text(
    report: openpyxl.Workbook, name: str
) -> None:
    for sheet, header in (("Allocation", "Mission"), ("Unmet", "Mission"), ("Input Missions", "name")):
        cells = [c for c in cells_of(report[sheet], header) if c.value == name]
        if sheet == "Unmet" and name in (HYPERLINK, "@SUM(A1)"):
            continue  # fully covered: not in Unmet
        assert cells, (sheet, name)
        assert all(c.data_type == "s" for c in cells), (sheet, name)
        assert all(c.quotePrefix for c in cells), (sheet, name)


def test_the_report_holds_no_formula_at_all(plan: Plan, tmp_path: Path) -> None:
    path = write_report(plan, tmp_path / "plan.xlsx")
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        sheets = [archive.read(n).decode("utf-8") for n in names]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)


def test_text_that_xlsx_cannot_hold_is_cleaned_not_fatal(tmp_path: Path) -> None:
    plan = make_plan()
    missions = plan.missions.assign(name=plan.missions.name.replace("+1", "Bell\x07 mission\x00"))
    path = write_report(dataclasses.replace(plan, missions=missions), tmp_path / "plan.xlsx")
    names = [c.value for c in cells_of(openpyxl.load_workbook(path)["Allocation"], "Mission")]
    assert "Bell mission" in names


def test_unicode_names_survive_workbook_json_and_text(plan: Plan, report: openpyxl.Workbook,
                                                      tmp_path: Path) -> None:
    assert ARABIC in [c.value for c in cells_of(report["Allocation"], "Mission")]
    assert CYRILLIC in [c.value for c in cells_of(report["Zones"], "Zone")]
    assert ACCENTED in [c.value for c in cells_of(report["Funding"], "Source")]
    assert "Véhicule blindé (vehicle)" in [c.value for c in cells_of(report["Units"], "Resource")]
    assert CYRILLIC in [c.value for c in cells_of(report["Input Zones"], "name")]
    raw = write_json(plan, tmp_path / "plan.json").read_bytes()
    assert ARABIC.encode("utf-8") in raw  # readable UTF-8, not \u escapes
    assert ARABIC in {m["name"] for m in json.loads(raw)["missions"]}
    assert ARABIC in summary_text(plan)


def test_funding_sheet_shows_money_from_each_source_to_each_mission_by_period(
    report: openpyxl.Workbook,
) -> None:
    rows = {(r["Source ID"], r["Mission ID"]): r for r in table(report["Funding"])}
    assert rows["UN", "M1"]["P1 (EUR)"] == pytest.approx(6000.0)
    assert rows["CORE", "M4"]["Total (EUR)"] == pytest.approx(6000.0)
    assert rows["CORE", "M2"]["P2 (EUR)"] is None
    totals = next(r for r in report["Funding"].iter_rows(values_only=True) if r[0] == "Total")
    assert totals[4:7] == (pytest.approx(13_200.0), pytest.approx(12_200.0), pytest.approx(TOTAL_COST))


def test_resources_and_zones_sheets_show_use_against_what_is_available(report: openpyxl.Workbook) -> None:
    resources = {(r["Resource ID"], r["Period"]): r for r in table(report["Resources"])}
    infantry = resources["INF", "P1"]
    assert (infantry["Used"], infantry["Available"], infantry["Reserve"], infantry["Usable"]) == (8, 12, 3, 9)
    assert infantry["Utilisation"] == pytest.approx(8 / 9)
    assert infantry["Shadow price (value per unit)"] == pytest.approx(2.0)
    assert resources["VEH", "P1"]["Available"] == "unlimited"
    zones = {(r["Zone ID"], r["Period"]): r for r in table(report["Zones"])}
    assert zones["Z1", "P1"]["Personnel"] == 4
    assert zones["Z1", "P1"]["Utilisation"] == pytest.approx(0.4)
    assert zones["Z2", "P2"]["Personnel cap"] == "no cap"
    assert zones["Z1", "P1"]["Money spent (EUR)"] == pytest.approx(8700.0)


def test_unmet_lists_what_each_under_covered_mission_lacks_most_important_first(
    report: openpyxl.Workbook,
) -> None:
    rows = table(report["Unmet"])
    assert [(r["Mission ID"], r["Period"], r["Resource ID"], r["Shortfall"]) for r in rows] == [
        ("M2", "P2", "INF", 2), ("M4", "P1", "INF", 2), ("M4", "P2", "INF", 1), ("M5", "P2", "VEH", 2),
    ]
    assert sum(r["Cost to close (EUR)"] for r in rows) == pytest.approx(6000.0)


def test_sensitivity_ranks_shadow_prices_with_their_sentences(report: openpyxl.Workbook) -> None:
    ws = report["Sensitivity"]
    rows = table(ws)
    assert [(r["Rank"], r["ID"], r["Period"]) for r in rows] == [
        (1, "INF", "P1"), (2, "INF", "P2"), (3, "UN", "P1"), (4, "UN", "P2")]
    assert rows[0]["What it means"] == SENSITIVITY[1][5]
    assert rows[2]["Name"] == "Contributions de l'ONU"
    # The value of a round sum of money, never a price per unit of money such as 1.2E-03.
    assert [c.number_format for c in cells_of(ws, "Value added")] == ["#,##0.000"] * 4
    assert all("E" not in c.number_format for row in ws.iter_rows() for c in row)


def test_report_without_a_portfolio_has_no_input_sheets(plan: Plan, tmp_path: Path) -> None:
    path = write_report(dataclasses.replace(plan, portfolio=None), tmp_path / "plan.xlsx")
    assert openpyxl.load_workbook(path).sheetnames[-1] == "Charts"


def test_an_input_table_without_rows_or_columns_still_gets_its_sheet(plan: Plan, tmp_path: Path) -> None:
    portfolio = dataclasses.replace(plan.portfolio, availability=pd.DataFrame(), policies=pd.DataFrame())
    path = write_report(dataclasses.replace(plan, portfolio=portfolio), tmp_path / "plan.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook["Input Availability"]["A2"].value == "(no rows)"
    assert workbook.sheetnames[-1] == "Input Policies"


def test_report_code_never_imports_the_solver() -> None:
    import optimiser.report

    for source in Path(optimiser.report.__file__).parent.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "import pulp" not in text and "from pulp" not in text, source.name


def test_report_must_be_an_xlsx_file(plan: Plan, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_report(plan, tmp_path / "plan.xls")


# --- Infeasible plans ------------------------------------------------------------------------


def test_infeasible_plan_still_gets_a_report_with_diagnosis_and_inputs(tmp_path: Path) -> None:
    path = write_report(make_infeasible_plan(), tmp_path / "infeasible.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames[0] == "Summary"
    inputs = ("Missions", "Zones", "Resources", "Requirements", "Funding", "Periods", "Availability",
              "Policies")
    assert workbook.sheetnames[1:] == [f"Input {s}" for s in inputs]
    summary = workbook["Summary"]
    assert summary_value(summary, "Status") == "infeasible"
    texts = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)]
    assert f"• {DIAGNOSIS[0]}" in texts
    assert "Why no plan is possible" in texts
    assert summary_value(summary, "SHA-256 of the input file") == SHA


def test_infeasible_plan_json_and_text_explain_why(tmp_path: Path) -> None:
    plan = make_infeasible_plan()
    result = json.loads(write_json(plan, tmp_path / "infeasible.json").read_text(encoding="utf-8"))
    assert result["status"] == "infeasible"
    assert result["value"] is None and result["gap"] is None
    assert result["diagnosis"] == list(DIAGNOSIS)
    assert result["missions"] == [] and result["unmet"] == []
    assert result["value_by_priority"] == {str(t): None for t in range(1, 6)}
    text = summary_text(plan)
    assert "infeasible" in text
    assert plan.message in text
    assert DIAGNOSIS[0] in text


# --- JSON ------------------------------------------------------------------------------------


def test_json_has_every_key_scripts_rely_on(plan: Plan) -> None:
    result = plan_to_dict(plan)
    for key in ("status", "value", "value_by_priority", "gap", "total_cost", "money_available", "max_value",
                "levers", "input", "solver", "message", "diagnosis", "missions", "resources", "budgets",
                "zones", "unmet", "sensitivity", "generated_at"):
        assert key in result, key
    assert result["status"] == "optimal"
    assert result["value"] == pytest.approx(60.0)
    assert result["value_by_priority"] == pytest.approx({"1": 32.0, "2": 20.0, "3": 8.0, "4": 0.0, "5": 0.0})
    assert result["levers"] == plan.levers.as_settings()
    assert result["input"] == {"path": "budgets/national_portfolio.xlsx", "format": "xlsx", "sha256": SHA}
    assert result["solver"] == {"name": "highs", "version": "1.7.2", "build_s": 0.12, "solve_s": 0.34,
                                "total_s": 0.5, "stages": ["value", "cost", "duals"]}
    assert result["money_available"] == pytest.approx(MONEY_AVAILABLE)
    assert [r["id"] for r in result["sensitivity"]] == ["INF", "INF", "UN", "UN"]
    assert json.dumps(result, allow_nan=False)  # plain, strict JSON


def test_json_mission_records_match_the_plan(plan: Plan) -> None:
    records = {(r["mission_id"], r["period_id"]): r for r in plan_to_dict(plan)["missions"]}
    assert set(records) == set(COVERAGE)
    for (mission_id, period_id), record in records.items():
        expected_units = {r: float(u) for (m, r, p), u in UNITS.items() if (m, p) == (mission_id, period_id)}
        expected_money = {s: v for (s, m, p), v in FLOWS.items() if (m, p) == (mission_id, period_id)}
        assert record["resources"] == expected_units
        assert record["funding"] == expected_money
        assert record["coverage"] == COVERAGE[mission_id, period_id]
    assert records["M4", "P1"]["value"] == 5.33333333  # 8 x g(0.5) = 16/3, to 9 significant digits
    assert records["M5", "P2"] == {**records["M5", "P2"], "resources": {"VEH": 0.0}, "funding": {}}


def test_json_writes_unlimited_as_null(plan: Plan) -> None:
    resources = {(r["resource_id"], r["period_id"]): r for r in plan_to_dict(plan)["resources"]}
    assert resources["VEH", "P1"]["available"] is None
    assert resources["INF", "P1"]["available"] == 12.0


def _without_timings(text: str) -> dict:
    data = json.loads(text)
    data.pop("generated_at")
    for field in ("build_s", "solve_s", "total_s"):
        data["solver"].pop(field)
    return data


def test_json_is_the_same_bytes_for_the_same_plan_apart_from_timings(plan: Plan, tmp_path: Path) -> None:
    first = write_json(plan, tmp_path / "first.json").read_text(encoding="utf-8")
    slower = dataclasses.replace(plan, solver=dataclasses.replace(plan.solver, solve_s=9.87, total_s=10.5))
    second = write_json(slower, tmp_path / "second.json").read_text(encoding="utf-8")
    assert _without_timings(first) == _without_timings(second)

    def strip(text: str) -> list[str]:
        timing = ('"generated_at"', '"build_s"', '"solve_s"', '"total_s"')
        return [line for line in text.splitlines() if not line.strip().startswith(timing)]

    assert strip(first) == strip(second)  # same bytes, line by line, once the timings are gone
    assert first.endswith("\n")


# --- Atomic writes --------------------------------------------------------------------------


def test_an_interrupted_report_leaves_the_existing_good_one_untouched(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_report(plan, tmp_path / "plan.xlsx")
    good = path.read_bytes()

    def crash_mid_write(workbook, handle) -> None:
        handle.write(b"PK\x03\x04 half a zip")
        raise OSError("No space left on device")

    monkeypatch.setattr(report_workbook_module, "save_in_memory", crash_mid_write)
    with pytest.raises(OSError, match="No space left"):
        write_report(plan, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["plan.xlsx"]  # no temporary file left behind


def test_an_interrupted_json_write_leaves_the_existing_file_untouched(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_json(plan, tmp_path / "plan.json")
    good = path.read_bytes()

    def disk_fails(descriptor: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", disk_fails)
    with pytest.raises(OSError, match="I/O error"):
        write_json(plan, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["plan.json"]


def test_a_report_replaces_a_stale_file_whole(plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "reports" / "plan.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"stale")
    write_report(plan, path)
    assert openpyxl.load_workbook(path).sheetnames[0] == "Summary"


# --- Text summary ----------------------------------------------------------------------------


def test_text_summary_gives_the_key_numbers(plan: Plan) -> None:
    text = summary_text(plan)
    # The headline once, the currency always before the amount.
    assert text.splitlines()[:1] == [
        "Optimal plan: value 60.0 of 74.0 possible (81.1%), proven within 0.12% of the best possible; "
        "spends EUR 25,400 of EUR 32,000.",
    ]
    assert text.count("74.0") == 1 and "25,400 EUR" not in text
    assert "Priority 1: 1 mission - 1 fully, 0 partly, 0 not covered; mean coverage 100.0%" in text
    assert "Priority 2: 2 missions - 0 fully, 2 partly, 0 not covered; mean coverage 56.2%" in text
    assert "One point of value = one period of a weight-1 mission fully covered" in text
    # The three largest shadow prices, by their sentences; the fourth is left out.
    assert SENSITIVITY[1][5] in text and SENSITIVITY[3][5] in text and SENSITIVITY[0][5] in text
    assert SENSITIVITY[2][5] not in text
    # Under-covered, most important first; within a tier, the lowest mean coverage first:
    # M2 (priority 2, 50%), M4 (priority 2, 62.5%), then M5 (priority 4).
    lines = text.splitlines()
    m2 = next(i for i, line in enumerate(lines) if line.startswith("  - M2 "))
    m4 = next(i for i, line in enumerate(lines) if line.startswith("  - M4 "))
    m5 = next(i for i, line in enumerate(lines) if line.startswith("  - M5 "))
    assert m2 < m4 < m5
    assert "mean coverage 62.5%, EUR 3,000 to close; lacks 2 Infantry" in lines[m4]


# --- Printing --------------------------------------------------------------------------------


def test_the_summary_prints_on_one_portrait_page_and_tables_landscape_one_page_wide(
    report: openpyxl.Workbook,
) -> None:
    summary = report["Summary"]
    assert summary.sheet_properties.pageSetUpPr.fitToPage
    setup = summary.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("portrait", 1, 1)
    assert summary.print_area is not None
    for title in ("Allocation", "Units", "Unmet", "Input Missions"):
        ws = report[title]
        assert (ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (
            "landscape", 1, 0), title
        assert ws.print_title_rows == "$1:$1", title  # the header row on every printed page
        assert ws.oddFooter.right.text == "Page &P of &N", title
    assert report["Allocation"].max_column <= 10  # the units of each resource are on the Units sheet


def test_report_written_is_a_date_in_a_column_wide_enough_to_print(report: openpyxl.Workbook) -> None:
    ws = report["Summary"]
    written = next(row[1] for row in ws.iter_rows(max_col=2) if row[0].value == "Report written")
    assert isinstance(written.value, datetime.datetime)
    assert ws.column_dimensions["B"].width >= len("2027-01-01 00:00:00") + 1  # never ###


def test_lever_values_are_stored_as_numbers_where_they_are_numbers(report: openpyxl.Workbook) -> None:
    ws = report["Summary"]
    # each lever in a planner's words, its Settings key beside it (to type into Settings)
    budget = summary_value(ws, lever_label("budget_scale"))
    assert budget == 1 and isinstance(budget, int)
    assert summary_value(ws, lever_label("mip_gap")) == pytest.approx(0.005)
    assert summary_value(ws, lever_label("priority_mode")) == "weighted"
    keys = {row[0].value: row[2].value for row in ws.iter_rows(min_col=1, max_col=3)}
    assert keys[lever_label("budget_scale")] == "Multiplies every Funding amount. (budget_scale)"


def test_people_print_as_whole_numbers_and_money_per_million(report: openpyxl.Workbook) -> None:
    assert {c.number_format for c in cells_of(report["Zones"], "Personnel")} == {"#,##0"}
    assert {c.number_format for c in cells_of(report["Resources"], "Used")} == {"#,##0"}
    funding = report["Funding"]
    header = next(row for row in funding.iter_rows() if any(c.value == "Value of EUR 1m more" for c in row))
    column = next(c.column for c in header if c.value == "Value of EUR 1m more")
    prices = [funding.cell(row=r, column=column) for r in range(header[0].row + 1, funding.max_row + 1)]
    prices = [c for c in prices if c.value is not None]
    # EUR 0.0012 per EUR from the UN is 1,200 per EUR 1m, never 1.2E-03.
    assert max(c.value for c in prices) == pytest.approx(1200.0)
    assert all("E" not in c.number_format for c in prices)


def test_the_money_line_says_in_a_planners_words_what_the_search_for_the_cheapest_plan_achieved() -> None:
    from optimiser.wording import money_note

    assert money_note(5.2, 0.004) == ("The money spent is at most 0.4% above the least this value needs "
                                      "(the search for a cheaper plan stopped after 5.2 s).")
    assert money_note(0.3, 0.5) == ("A plan of the same value may cost less: the search for the cheapest one "
                                    "stopped after 0.3 s, before it could say how much less.")
