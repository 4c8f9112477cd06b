"""Validation of the plans-over-time columns (SPEC 3.1): one test per rule, each corrupting
one cell of a valid portfolio that has the six columns (M..R) and matching the message
and the cell."""

import math

import pytest
from conftest_reading import VALID, grid, to_csv, with_cell

from optimiser.problems import InvalidInput, Severity
from optimiser.read import read_tables
from optimiser.validate import validate

HEADERS = ["continuity", "min_run", "running_now", "startup_cost", "closure_cost", "max_step"]
ROWS = [
    ["yes", "2", "yes", "0", "250000", "25%"],
    ["", "", "", "90000", "", ""],
    ["no", "1", "no", "", "", ""],
]
# columns M (continuity), N (min_run), O (running_now), P (startup_cost), Q (closure_cost),
# R (max_step); rows 2..4 are M1, M2, M3
_missions = grid(VALID["Missions"])
TIMELINE = {
    **VALID,
    "Missions": to_csv(
        [_missions[0] + HEADERS] + [r + extra for r, extra in zip(_missions[1:], ROWS, strict=True)]
    ),
}


def the_error(cell: str, value: str):
    with pytest.raises(InvalidInput) as caught:
        validate(read_tables(with_cell("Missions", cell, value, TIMELINE)))
    errors = [p for p in caught.value.problems if p.severity is Severity.ERROR]
    assert len(errors) == 1, [str(p) for p in errors]
    return errors[0]


def test_the_columns_are_read_with_their_defaults():
    portfolio = validate(read_tables(TIMELINE))
    m = portfolio.missions
    assert m["continuity"].tolist() == [True, True, False]
    assert m["min_run"].tolist() == [2, 1, 1] and m["min_run"].dtype == "int64"
    assert m["running_now"].tolist() == [True, False, False]
    assert m["startup_cost"].tolist() == [0.0, 90000.0, 0.0]
    assert m["closure_cost"].tolist() == [250000.0, 0.0, 0.0]
    assert m.loc["M1", "max_step"] == 0.25 and math.isnan(m.loc["M2", "max_step"])


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "'0' is below 1; use a whole number of 1 or more"),
        ("-2", "'-2' is below 1; use a whole number of 1 or more"),
        ("1.5", "'1.5' is not a whole number"),
        ("long", "'long' is not a whole number"),
    ],
)
def test_min_run_is_a_whole_number_of_one_or_more(typed, message):
    problem = the_error("N3", typed)
    assert str(problem) == f"Missions!N3 (min_run): {message}"


@pytest.mark.parametrize("typed", ["1.5", "150%", "-10%"])
def test_max_step_is_a_share_from_zero_to_one(typed):
    problem = the_error("R2", typed)
    assert str(problem).startswith(f"Missions!R2 (max_step): '{typed}' is not a share between 0 and 1")


@pytest.mark.parametrize(("cell", "column"), [("P3", "startup_cost"), ("Q2", "closure_cost")])
def test_start_up_and_closure_costs_are_not_negative(cell, column):
    problem = the_error(cell, "-5")
    assert str(problem) == f"Missions!{cell} ({column}): '-5' is negative; {column} must be 0 or more"


@pytest.mark.parametrize(("cell", "column"), [("M2", "continuity"), ("O4", "running_now")])
def test_continuity_and_running_now_are_yes_or_no(cell, column):
    problem = the_error(cell, "maybe")
    assert str(problem).startswith(f"Missions!{cell} ({column}): 'maybe' is not yes or no")


def test_running_now_with_a_later_start_period_is_a_warning():
    # M2 starts in Q2; saying it runs now is taken as running on from today into Q2
    portfolio = validate(read_tables(with_cell("Missions", "O3", "yes", TIMELINE)))
    (warning,) = [w for w in portfolio.warnings if w.column == "running_now"]
    assert warning.severity is Severity.WARNING and warning.cell == "O3"
    assert "M2 is running now but its start_period is Q2, not the first period Q1" in warning.message


def test_a_must_fund_floor_below_the_one_percent_running_floor_is_explained():
    # M1 is must-fund at 0.5%; with continuity over two periods a running mission is at 1% or more
    portfolio = validate(read_tables(with_cell("Missions", "H2", "0.5%", TIMELINE)))
    (warning,) = [w for w in portfolio.warnings if w.column == "min_coverage"]
    assert warning.cell == "H2"
    assert (
        "must-fund mission M1 has min_coverage 0.5%" in warning.message
        and "its floor is 1%" in warning.message
    )
