"""Validation: one test per rule (corrupt one cell of a valid portfolio, match the message
and the cell), then the defaults and the normalised tables a valid portfolio becomes."""

import math

import pandas as pd
import pytest
from conftest_reading import VALID, problems_of, the_problem, with_cell, with_row, without

from optimiser.levers import Levers
from optimiser.problems import InvalidInput, Severity
from optimiser.read import read_tables
from optimiser.validate import validate

# ------------------------------------------------------------------ the valid fixture


def test_valid_portfolio_has_no_problems():
    portfolio = validate(read_tables(VALID))
    assert portfolio.warnings == ()
    assert list(portfolio.missions.index) == ["M1", "M2", "M3"]
    assert portfolio.period_ids == ["Q1", "Q2"]


# ------------------------------------------------------------------ cells that cannot be read


def test_required_cell_blank():
    problem = the_problem(with_cell("Missions", "C3", ""))
    assert str(problem) == "Missions!C3 (zone_id): blank; every mission needs a zone_id"
    assert (problem.sheet, problem.cell, problem.row, problem.column) == ("Missions", "C3", 3, "zone_id")


def test_non_numeric_number():
    problem = the_problem(with_cell("Missions", "J3", "lots"))
    assert str(problem).startswith("Missions!J3 (running_cost): 'lots' is not a number")
    assert problem.value == "lots"


@pytest.mark.parametrize(
    ("sheet", "cell", "column"),
    [
        ("Funding", "C2", "amount"),
        ("Requirements", "C2", "quantity"),
        ("Resources", "E2", "unit_cost"),
        ("Resources", "F3", "available"),
        ("Zones", "E2", "personnel_cap"),
        ("Missions", "J2", "running_cost"),
    ],
)
def test_negative_amount_quantity_or_cost(sheet, cell, column):
    problem = the_problem(with_cell(sheet, cell, "-5"))
    assert problem.cell == cell and problem.column == column
    assert f"is negative; {column} must be 0 or more" in problem.message


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_weight_must_be_above_zero(weight):
    problem = the_problem(with_cell("Missions", "F3", weight))
    assert (
        str(problem) == f"Missions!F3 (weight): '{weight}' is not above 0; weight must be above 0 (default 1)"
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("7", "'7' is outside 1–5; use a whole number from 1 (highest) to 5 (lowest)"),
        ("0", "'0' is outside 1–5; use a whole number from 1 (highest) to 5 (lowest)"),
        ("2.5", "'2.5' is not a whole number from 1 (highest) to 5 (lowest)"),
        ("high", "'high' is not a whole number from 1 (highest) to 5 (lowest)"),
    ],
)
def test_priority_outside_one_to_five_or_not_whole(typed, message):
    problem = the_problem(with_cell("Missions", "E3", typed))
    assert (problem.cell, problem.message) == ("E3", message)


@pytest.mark.parametrize(
    ("sheet", "cell", "typed"),
    [
        ("Missions", "H2", "150%"),
        ("Missions", "I2", "40"),
        ("Resources", "G2", "-10%"),
        ("Policies", "D2", "2"),
    ],
)
def test_share_outside_zero_to_one(sheet, cell, typed):
    problem = the_problem(with_cell(sheet, cell, typed))
    assert problem.cell == cell
    assert problem.message == f"'{typed}' is not a share between 0 and 1; write it as 40% or 0.4"


@pytest.mark.parametrize(("sheet", "cell", "default"), [("Missions", "G2", "no"), ("Resources", "H2", "yes")])
def test_bad_yes_no(sheet, cell, default):
    problem = the_problem(with_cell(sheet, cell, "maybe"))
    assert problem.cell == cell
    assert problem.message == (
        f"'maybe' is not yes or no; use yes/no, y/n, true/false, 1/0 or x (blank means {default})"
    )


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "message"),
    [
        ("Resources", "C2", "people", "'people' is not a resource kind; use personnel or equipment"),
        ("Zones", "D2", "huge", "'huge' is not a risk level; use low, medium, high or extreme"),
        (
            "Policies",
            "A2",
            "max_share",
            "'max_share' is not a policy rule; use min_budget_share, "
            "max_budget_share or min_average_coverage",
        ),
        ("Policies", "B2", "country", "'country' is not a scope type; use region, zone, type or priority"),
    ],
)
def test_bad_choice(sheet, cell, typed, message):
    problem = the_problem(with_cell(sheet, cell, typed))
    assert (problem.sheet, problem.cell, problem.message) == (sheet, cell, message)


def test_unknown_policy_rule_names_the_rules():
    problem = the_problem(with_cell("Policies", "A3", "min_coverage_share"))
    assert problem.location == "Policies!A3" and problem.column == "rule"
    assert "min_budget_share, max_budget_share or min_average_coverage" in problem.message


def test_choices_match_whatever_the_case_and_spacing():
    tables = with_cell("Zones", "D2", "High", with_cell("Policies", "A2", "Min Budget Share"))
    portfolio = validate(read_tables(tables))
    assert portfolio.zones.loc["Z1", "risk"] == "high"
    assert portfolio.policies.loc[0, "rule"] == "min_budget_share"


def test_spreadsheet_error_value_is_named_as_such():
    problem = the_problem(with_cell("Funding", "C2", "#DIV/0!"))
    assert problem.message == "'#DIV/0!' is a spreadsheet error; fix the formula that gives it"


# ------------------------------------------------------------------ ids and references


@pytest.mark.parametrize(
    ("sheet", "cell", "same_as", "noun"),
    [
        ("Missions", "A4", "M2", "mission"),
        ("Zones", "A3", "Z1", "zone"),
        ("Resources", "A3", "INF", "resource"),
        ("Periods", "A3", "Q1", "period"),
    ],
)
def test_duplicate_ids(sheet, cell, same_as, noun):
    problems = problems_of(with_cell(sheet, cell, same_as))
    duplicate = next(p for p in problems if p.cell == cell and p.sheet == sheet)
    assert duplicate.severity is Severity.ERROR
    assert duplicate.message.startswith(f"{noun} id '{same_as}' is already used on row ")
    assert duplicate.message.endswith("ids must be unique")


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "message"),
    [
        ("Missions", "C3", "Z-2", "'Z-2' is not a zone (did you mean Z2?); known zones: Z1, Z2"),
        ("Missions", "K2", "Q9", "'Q9' is not a period; known periods: Q1, Q2"),
        ("Missions", "L2", "2027-Q2", "'2027-Q2' is not a period; known periods: Q1, Q2"),
        ("Requirements", "A4", "M9", "'M9' is not a mission; known missions: M1, M2, M3"),
        (
            "Requirements",
            "B4",
            "inf",
            "'inf' is not a resource (did you mean INF?); known resources: INF, VEH",
        ),
        ("Availability", "A2", "ART", "'ART' is not a resource; known resources: INF, VEH"),
        ("Availability", "B2", "Q5", "'Q5' is not a period; known periods: Q1, Q2"),
        ("Funding", "D3", "Q3", "'Q3' is not a period; known periods: Q1, Q2"),
        ("Policies", "C2", "Arctic", "'Arctic' is not a region; known regions: Sahel, Levant"),
    ],
)
def test_unknown_reference(sheet, cell, typed, message):
    problem = the_problem(with_cell(sheet, cell, typed))
    assert (problem.sheet, problem.cell, problem.message) == (sheet, cell, message)


@pytest.mark.parametrize(
    ("scope", "typed", "message"),
    [
        ("zone", "Z7", "'Z7' is not a zone; known zones: Z1, Z2"),
        (
            "type",
            "patrol",
            "'patrol' is not a mission type; known mission types: attache, mediation, monitoring",
        ),
        ("priority", "6", "'6' is not a priority; use a whole number from 1 (highest) to 5"),
    ],
)
def test_unknown_policy_scope_value(scope, typed, message):
    tables = with_cell("Policies", "B2", scope, with_cell("Policies", "C2", typed))
    problem = the_problem(tables)
    assert (problem.cell, problem.column, problem.message) == ("C2", "scope_value", message)


def test_policy_scope_values_are_normalised():
    tables = with_row(
        "Policies",
        "max_budget_share,type,Capacity Building,10%",
        with_row("Missions", "M4,,Z1,capacity building,4,,,,,100"),
    )
    tables = with_cell("Policies", "C2", "sahel", with_cell("Policies", "C3", "1.0", tables))
    policies = validate(read_tables(tables)).policies
    assert list(policies["scope_value"]) == ["Sahel", "1", "capacity_building"]


def test_long_lists_of_known_ids_are_abbreviated():
    zones = "zone_id\n" + "\n".join(f"Z{i:02d}" for i in range(1, 31))
    tables = with_cell("Missions", "C3", "Z-19", {**without("Policies"), "Zones": zones})
    tables = with_cell("Missions", "C2", "Z01", with_cell("Missions", "C4", "Z02", tables))
    tables = with_cell("Funding", "F3", "Z01", with_cell("Funding", "F4", "Z01", tables))
    problem = the_problem(tables)
    assert str(problem) == (
        "Missions!C3 (zone_id): 'Z-19' is not a zone (did you mean Z19?); "
        "known zones: Z01, Z02, Z03, Z04, Z05, …, Z30 (30 in all)"
    )


def test_eligible_zone_not_in_portfolio_is_a_warning():
    tables = with_cell("Funding", "F3", "Z1,Z9", with_cell("Funding", "F4", "Z9, Z1"))
    portfolio = validate(read_tables(tables))
    (warning,) = portfolio.warnings
    assert warning.severity is Severity.WARNING
    assert str(warning) == (
        "Funding!F3 (eligible_zones): 'Z9' is not a zone in this portfolio, so source EARM pays for none "
        "there; known zones: Z1, Z2"
    )
    assert portfolio.sources.loc["EARM", "eligible_zones"] == ("Z1", "Z9")


def test_eligible_types_and_regions_match_whatever_the_spelling():
    tables = with_cell("Funding", "E2", "Monitoring, MEDIATION", with_cell("Funding", "G3", "sahel"))
    tables = with_cell("Funding", "G4", "SAHEL", tables)
    sources = validate(read_tables(tables)).sources
    assert sources.loc["CORE", "eligible_types"] == ("monitoring", "mediation")
    assert sources.loc["EARM", "eligible_regions"] == ("Sahel",)


# ------------------------------------------------------------------ Missions


def test_min_coverage_above_max_coverage():
    problem = the_problem(with_cell("Missions", "H2", "100%", with_cell("Missions", "I2", "50%")))
    assert str(problem) == (
        "Missions!H2 (min_coverage): min_coverage 100% is above max_coverage 50%; "
        "the floor cannot exceed the ceiling"
    )


def test_start_period_after_end_period():
    problem = the_problem(with_cell("Missions", "K2", "Q2", with_cell("Missions", "L2", "Q1")))
    assert str(problem) == (
        "Missions!K2 (start_period): start_period Q2 comes after end_period Q1; "
        "periods run in the order Q1, Q2"
    )


def test_mission_without_requirements_or_running_cost_is_a_warning():
    portfolio = validate(read_tables(with_row("Missions", "M4,Liaison,Z1,other,4,,,,,0")))
    (warning,) = portfolio.warnings
    assert warning.severity is Severity.WARNING
    assert (warning.cell, warning.column) == ("A5", "mission_id")
    assert "mission M4 has no Requirements rows and no running_cost" in warning.message
    assert "M4" in portfolio.missions.index


def test_must_fund_mission_with_zero_min_coverage_is_a_warning():
    portfolio = validate(read_tables(with_cell("Missions", "H2", "0")))
    (warning,) = portfolio.warnings
    assert (warning.severity, warning.cell, warning.column) == (Severity.WARNING, "H2", "min_coverage")
    assert "must-fund mission M1 has min_coverage 0, so it is guaranteed nothing" in warning.message


# ------------------------------------------------------------------ pairs listed twice


def test_requirements_pair_listed_twice():
    problem = the_problem(with_row("Requirements", "M1,INF,7"))
    assert str(problem) == (
        "Requirements!B5 (resource_id): mission M1 already needs INF on row 2; "
        "list each mission and resource pair once"
    )


def test_availability_pair_listed_twice():
    problem = the_problem(with_row("Availability", "INF,Q2,100"))
    assert str(problem) == (
        "Availability!B3 (period_id): INF in Q2 is already given on row 2; give each resource and period once"
    )


# ------------------------------------------------------------------ Funding


def test_funding_period_not_a_periods_id():
    problem = the_problem(with_cell("Funding", "D4", "2027-Q2"))
    assert (problem.cell, problem.column) == ("D4", "period")
    assert problem.message == "'2027-Q2' is not a period; known periods: Q1, Q2"


def test_funding_same_source_and_period_twice():
    problem = the_problem(with_row("Funding", "EARM,Sahel fund,5,Q2,,Z1,Sahel"))
    assert str(problem) == (
        "Funding!D5 (period): source EARM already has an amount for Q2 on row 4; "
        "give each source one amount per period"
    )


def test_funding_period_row_does_not_override_an_every_period_row():
    problem = the_problem(with_row("Funding", "CORE,,5,Q2"))
    assert problem.cell == "D5"
    assert "source CORE already has an amount for Q2 on row 2 (blank period: every period)" in problem.message


def test_source_rows_disagree_on_name():
    problem = the_problem(with_cell("Funding", "B4", "Other fund"))
    assert str(problem) == (
        "Funding!B4 (name): source EARM is called 'Sahel fund' on row 3; "
        "every row of a source must give the same name (or none)"
    )


def test_source_rows_disagree_on_eligibility():
    problem = the_problem(with_cell("Funding", "G4", ""))
    assert str(problem) == (
        "Funding!G4 (eligible_regions): source EARM has eligible_regions Sahel on row 3; "
        "repeat the same list on every row of a source (blank means any)"
    )


def test_funding_blank_period_means_every_period_and_missing_periods_are_zero():
    tables = with_row("Funding", "ONCE,One-off grant,7000,Q2")
    funding = validate(read_tables(tables)).funding
    amounts = funding.set_index(["source_id", "period_id"])["amount"].to_dict()
    assert amounts == {
        ("CORE", "Q1"): 100_000.0,
        ("CORE", "Q2"): 100_000.0,
        ("EARM", "Q1"): 20_000.0,
        ("EARM", "Q2"): 30_000.0,
        ("ONCE", "Q1"): 0.0,
        ("ONCE", "Q2"): 7000.0,
    }


def test_source_name_may_be_given_on_one_row_only():
    portfolio = validate(read_tables(with_cell("Funding", "B3", "")))
    assert portfolio.sources.loc["EARM", "name"] == "Sahel fund"


# ------------------------------------------------------------------ Settings


def test_unknown_settings_key():
    problem = the_problem(with_cell("Settings", "A2", "budget_cut"))
    assert (problem.sheet, problem.cell, problem.column) == ("Settings", "A2", "key")
    assert problem.message.startswith("'budget_cut' is not a setting; known: currency, budget_scale")


def test_bad_settings_value():
    problem = the_problem(with_cell("Settings", "B2", "lots"))
    assert str(problem) == "Settings!B2 (value): budget_scale = 'lots' is not a number"
    assert problem.row == 2


def test_setting_given_twice():
    problem = the_problem(with_row("Settings", "Budget Scale,1"))
    assert (
        str(problem)
        == "Settings!A4 (key): setting Budget Scale is already given on row 2; give each setting once"
    )


def test_item_lever_naming_an_unknown_source():
    problem = the_problem(with_cell("Settings", "A3", "source_scale.AID"))
    assert str(problem) == (
        "Settings!A3 (key): source_scale.AID: 'AID' is not a funding source; known sources: CORE, EARM"
    )


def test_settings_become_the_portfolio_levers():
    tables = with_row("Settings", "priority_mode,Strict", with_row("Settings", "zone_cap.Z2,40"))
    levers = validate(read_tables(tables)).levers
    assert levers == Levers(
        budget_scale=0.9, source_scale={"EARM": 1.1}, zone_cap={"Z2": 40.0}, priority_mode="strict"
    )


# ------------------------------------------------------------------ sheets and columns


def test_missing_required_sheet():
    problems = problems_of(without("Zones"))
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert [str(p) for p in errors] == [
        "Zones: is missing; add a sheet named Zones with the columns zone_id, name, region, risk, "
        "personnel_cap, hazard_multiplier"
    ]  # and no avalanche of "not a zone" errors


def test_missing_required_column():
    tables = {**VALID, "Requirements": "mission_id,resource_id\nM1,INF\nM1,VEH\nM2,INF"}
    problem = the_problem(tables)
    assert (problem.sheet, problem.cell, problem.column) == ("Requirements", None, None)
    assert problem.message.startswith("has no quantity column (headers are on row 1)")


def test_every_problem_is_reported_at_once_in_sheet_and_row_order():
    tables = with_cell("Missions", "C3", "Z9", with_cell("Missions", "E2", "9"))
    tables = with_cell("Zones", "D3", "deadly", with_cell("Funding", "C4", "-1", tables))
    with pytest.raises(InvalidInput) as caught:
        validate(read_tables(tables))
    assert [p.location for p in caught.value.errors] == [
        "Missions!E2",
        "Missions!C3",
        "Zones!D3",
        "Funding!C4",
    ]
    assert "4 problem(s) in the input" in str(caught.value)


def test_reading_warnings_reach_the_portfolio():
    tables = {**VALID, "Zones": "zone_id,name,region,risk,notes\nZ1,North,Sahel,high,calm\nZ2,East,Levant,,"}
    tables["Notes"] = "a\nb"
    portfolio = validate(read_tables(tables))
    assert [str(p) for p in portfolio.warnings] == [
        "Zones!E1: column 'notes' is not a Zones column; it is ignored. "
        "Zones columns: zone_id, name, region, risk, personnel_cap, hazard_multiplier",
        "Notes: is not a sheet this tool reads; it is ignored. Sheets read: Missions, Zones, Resources, "
        "Requirements, Funding, Periods, Availability, Policies, Baseline, Settings",
    ]


# ------------------------------------------------------------------ defaults and normalised tables

MINIMAL = {
    "Missions": """
        Mission ID, Zone ID, Priority
        M3, Z1, 2
        M1, Z1, 1
    """,
    "Zones": "zone_id\nZ1",
    "Resources": """
        resource_id, kind, unit_cost
        INF, Personnel, "1,000"
    """,
    "Requirements": """
        mission_id, resource_id, quantity
        M3, INF, 4
        M1, INF, 2
    """,
    "Funding": "source_id, amount\nCORE, $ 5000",
}


def test_only_the_five_required_sheets_are_needed_and_defaults_fill_the_rest():
    portfolio = validate(read_tables(MINIMAL))
    assert portfolio.period_ids == ["P1"]
    assert portfolio.periods.loc["P1", "name"] == "P1"
    missions = portfolio.missions
    assert list(missions.index) == ["M3", "M1"]  # workbook order
    m3 = missions.loc["M3"].to_dict()
    assert math.isnan(m3.pop("max_step"))  # no limit
    assert m3 == {
        "name": "M3",
        "zone_id": "Z1",
        "type": "other",
        "priority": 2,
        "weight": 1.0,
        "must_fund": False,
        "min_coverage": 0.0,
        "max_coverage": 1.0,
        "running_cost": 0.0,
        "start_period": "P1",
        "end_period": "P1",
        "continuity": True,
        "min_run": 1,
        "running_now": False,
        "startup_cost": 0.0,
        "closure_cost": 0.0,
    }
    zone = portfolio.zones.loc["Z1"]
    assert (zone["name"], zone["region"], zone["risk"], zone["hazard_multiplier"]) == (
        "Z1",
        "unassigned",
        "medium",
        1,
    )
    assert math.isnan(zone["personnel_cap"])
    resource = portfolio.resources.loc["INF"]
    assert (resource["kind"], resource["unit"], resource["unit_cost"]) == ("personnel", "unit", 1000.0)
    assert math.isnan(resource["available"]) and resource["reserve_share"] == 0.0 and resource["integer"]
    assert portfolio.funding.to_dict("records") == [
        {"source_id": "CORE", "period_id": "P1", "amount": 5000.0}
    ]
    assert portfolio.sources.loc["CORE"].to_dict() == {
        "name": "CORE",
        "eligible_types": (),
        "eligible_zones": (),
        "eligible_regions": (),
    }
    assert portfolio.availability.empty and portfolio.policies.empty
    assert list(portfolio.availability.columns) == ["resource_id", "period_id", "available"]
    assert portfolio.levers == Levers()


def test_without_periods_a_named_period_is_explained():
    missions = "mission_id,zone_id,priority,start_period\nM3,Z1,2,2027-Q1\nM1,Z1,1,"
    problem = the_problem({**MINIMAL, "Missions": missions})
    assert (problem.cell, problem.column) == ("D2", "start_period")
    assert problem.message == (
        "'2027-Q1' is not a period; known periods: P1 (without Periods rows there is one period, P1)"
    )


def test_unreadable_periods_are_reported_without_a_crash():
    problems = problems_of(with_cell("Periods", "A2", "", with_cell("Periods", "A3", "")))
    assert [p.location for p in problems if p.sheet == "Periods"] == ["Periods!A2", "Periods!A3"]


def test_blank_start_and_end_are_the_first_and_last_period():
    missions = validate(read_tables(VALID)).missions
    assert missions.loc["M2", ["start_period", "end_period"]].tolist() == ["Q2", "Q2"]
    assert missions.loc["M3", ["start_period", "end_period"]].tolist() == ["Q1", "Q2"]


def test_numbers_written_as_ids_become_text():
    tables = {
        **MINIMAL,
        "Missions": pd.DataFrame(
            {"mission_id": [101.0, 102.0], "zone_id": [7.0, 7.0], "priority": [1.0, 2.0]}
        ),
        "Zones": pd.DataFrame({"zone_id": [7]}),
        "Requirements": pd.DataFrame(
            {"mission_id": [101.0, 102.0], "resource_id": ["INF", "INF"], "quantity": [1, 2]}
        ),
    }
    portfolio = validate(read_tables(tables))
    assert list(portfolio.missions.index) == ["101", "102"]
    assert portfolio.missions.loc["101", "zone_id"] == "7"
    assert list(portfolio.requirements["mission_id"]) == ["101", "102"]


def test_empty_optional_sheets_are_the_same_as_none():
    tables = {**MINIMAL, "Periods": "period_id,name", "Settings": "key,value", "Policies": "rule,scope_type"}
    portfolio = validate(read_tables(tables))
    assert portfolio.period_ids == ["P1"] and portfolio.warnings == ()


def test_normalised_tables_have_the_documented_types():
    portfolio = validate(read_tables(VALID))
    missions = portfolio.missions
    assert missions.index.name == "mission_id"
    assert missions["priority"].dtype == "int64" and missions["must_fund"].dtype == bool
    assert missions["weight"].dtype == float and missions["running_cost"].dtype == float
    assert portfolio.resources["integer"].tolist() == [True, False]
    assert portfolio.resources.loc["INF", "reserve_share"] == pytest.approx(0.1)
    assert portfolio.zones.loc["Z1", "hazard_multiplier"] == 1.5
    requirements = portfolio.requirements.sort_values(["mission_id", "resource_id"]).reset_index(drop=True)
    expected = pd.DataFrame(
        {"mission_id": ["M1", "M1", "M2"], "resource_id": ["INF", "VEH", "INF"], "quantity": [50.0, 5.0, 3.0]}
    )
    pd.testing.assert_frame_equal(requirements, expected, check_dtype=False)
    assert portfolio.availability.to_dict("records") == [
        {"resource_id": "INF", "period_id": "Q2", "available": 150.0}
    ]
    assert portfolio.policies.to_dict("records") == [
        {"rule": "min_budget_share", "scope_type": "region", "scope_value": "Sahel", "value": 0.2},
        {"rule": "min_average_coverage", "scope_type": "priority", "scope_value": "1", "value": 0.5},
    ]
    assert portfolio.sources.loc["EARM"].to_dict() == {
        "name": "Sahel fund",
        "eligible_types": (),
        "eligible_zones": ("Z1",),
        "eligible_regions": ("Sahel",),
    }
    assert portfolio.missions.loc["M1", "type"] == "monitoring"
