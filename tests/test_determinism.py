"""The same input and levers give the same plan, byte for byte in the JSON apart from
the run's time, and rows in another order give the same plan.

Row order is the planner's, not the plan's: two missions that are equal in every way
must not be funded or left out according to which row comes first. Reading and
validation keep the workbook's order (reports list missions as the planner does) and
are checked here to depend on nothing else; the model builds its variables and
constraints in a canonical order (ids sorted, periods in Periods order), so that ties
are broken the same way whatever the rows' order.

Periods are never shuffled: their row order *is* the calendar (SPEC 2).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from builders import make_portfolio

from optimiser import Plan, Portfolio, optimise, read_workbook, validate
from optimiser.report import result_json
from optimiser.report.result import TIMING_FIELDS

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT / "sample_budgets" / "national_portfolio.xlsx"
DEMO = ROOT / "sample_budgets" / "demo.xlsx"
FIXED_TIME = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
TABLES = ("missions", "zones", "resources", "requirements", "sources", "funding", "periods", "availability",
          "policies")


def json_bytes(plan: Plan) -> bytes:
    """The JSON result as written, with the run's time and timings blanked."""
    data = json.loads(result_json(plan, generated_at=FIXED_TIME))
    for field in TIMING_FIELDS:
        *path, last = field.split(".")
        holder = data
        for key in path:
            holder = holder[key]
        holder[last] = None
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def plan_without_input(plan: Plan) -> dict[str, object]:
    """The plan's JSON without the input file's identity, with every list of records in
    a canonical order (the JSON lists rows in the workbook's order)."""
    data = json.loads(json_bytes(plan))
    data.pop("input")
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            data[key] = sorted(value, key=lambda record: json.dumps(record, sort_keys=True))
    return data


def shuffled_workbook(path: Path, seed: int) -> bytes:
    """The workbook with the data rows of every sheet but Periods in a random order."""
    raw = read_workbook(path)
    rng = random.Random(seed)
    book = openpyxl.load_workbook(path)
    for name, sheet in raw.sheets.items():
        if name == "periods":
            continue
        worksheet = book[sheet.title]
        first = sheet.header_row + 1
        rows = [[cell.value for cell in row] for row in worksheet.iter_rows(min_row=first)]
        rng.shuffle(rows)
        for offset, values in enumerate(rows):
            for column, value in enumerate(values, start=1):
                worksheet.cell(first + offset, column).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def relaxed(portfolio: Portfolio) -> Plan:
    return optimise(portfolio, portfolio.levers.changed(integer=False))


@pytest.fixture(scope="module")
def national() -> Portfolio:
    return validate(read_workbook(NATIONAL))


# --------------------------------------------------------------------------- the same run twice


def test_the_same_workbook_and_levers_give_the_same_json_bytes(national):
    first = json_bytes(relaxed(national))
    second = json_bytes(relaxed(validate(read_workbook(NATIONAL))))
    assert first == second


def test_an_integer_plan_is_the_same_bytes_twice():
    portfolio = validate(read_workbook(DEMO))
    assert json_bytes(optimise(portfolio)) == json_bytes(optimise(portfolio))


def test_the_same_bytes_uploaded_under_another_name_give_the_same_plan(national):
    upload = validate(read_workbook(NATIONAL.read_bytes(), name="renamed.xlsx"))
    assert upload.source.sha256 == national.source.sha256
    assert plan_without_input(relaxed(upload)) == plan_without_input(relaxed(national))


# --------------------------------------------------------------------------- row order


@pytest.mark.parametrize("seed", [1, 2])
def test_reading_and_validating_depend_on_nothing_but_row_order(seed, national):
    """Shuffled rows give the same tables, once sorted by their ids (the reader keeps the
    workbook's order on purpose)."""
    shuffled = validate(read_workbook(shuffled_workbook(NATIONAL, seed), name="shuffled.xlsx"))
    for table in TABLES:
        left, right = getattr(shuffled, table), getattr(national, table)
        if table != "periods":
            left = _sorted(left)
            right = _sorted(right)
        pd.testing.assert_frame_equal(left, right, obj=table)
    assert shuffled.levers == national.levers


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    ordered = frame.reset_index(drop=frame.index.name is None)  # keep ids, not row positions
    ordered = ordered.sort_values(list(ordered.columns), key=lambda s: s.astype(str), kind="stable")
    return ordered.reset_index(drop=True)


@pytest.mark.parametrize("integer", [False, True], ids=["relaxed", "integer"])
def test_the_plan_does_not_depend_on_the_order_of_rows(integer):
    """Every sheet's rows shuffled (the small demo, so that the integer plan is quick too)."""
    levers = {"integer": integer}
    original = validate(read_workbook(DEMO))
    for seed in (1, 2):
        shuffled = validate(read_workbook(shuffled_workbook(DEMO, seed), name="shuffled.xlsx"))
        assert plan_without_input(optimise(shuffled, shuffled.levers.changed(**levers))) == (
            plan_without_input(optimise(original, original.levers.changed(**levers))))


def test_the_national_plan_does_not_depend_on_the_order_of_rows(national):
    shuffled = validate(read_workbook(shuffled_workbook(NATIONAL, 1), name="shuffled.xlsx"))
    assert plan_without_input(relaxed(shuffled)) == plan_without_input(relaxed(national))


def _twins(order: str, integer: bool) -> dict[str, float]:
    """Two missions equal in every way, people for only one (diminishing returns off, so
    half each is worth no more than one whole): coverage of each."""
    missions = {"A": "A,Alpha,Z1,monitoring,1,1", "B": "B,Bravo,Z1,monitoring,1,1"}
    needs = {"A": "A,INF,10", "B": "B,INF,10"}
    portfolio = make_portfolio(
        missions="mission_id,name,zone_id,type,priority,weight\n" + "\n".join(missions[k] for k in order),
        zones="zone_id\nZ1",
        resources="resource_id,kind,unit_cost,available\nINF,personnel,100,10",
        requirements="mission_id,resource_id,quantity\n" + "\n".join(needs[k] for k in order),
        funding="source_id,amount\nCORE,1000000",
        settings="key,value\ndiminishing_returns,no",
    )
    plan = optimise(portfolio, portfolio.levers.changed(integer=integer))
    return dict(zip(plan.missions["mission_id"], plan.missions["coverage"], strict=True))


@pytest.mark.parametrize("integer", [False, True], ids=["relaxed", "integer"])
def test_twins_get_a_plan_worth_the_same_whatever_their_order(integer):
    for order in ("AB", "BA"):
        assert sum(_twins(order, integer).values()) == pytest.approx(1.0)


@pytest.mark.parametrize("integer", [False, True], ids=["relaxed", "integer"])
def test_which_twin_is_funded_does_not_depend_on_which_row_comes_first(integer):
    assert _twins("AB", integer) == pytest.approx(_twins("BA", integer))


def test_the_order_of_sheets_and_columns_changes_nothing(national):
    """Sheets and columns in reverse order: the same plan."""
    book = openpyxl.load_workbook(NATIONAL)
    book._sheets.reverse()
    raw = read_workbook(NATIONAL)
    for sheet in raw.sheets.values():
        worksheet = book[sheet.title]
        rows = [[cell.value for cell in row] for row in worksheet.iter_rows(min_row=sheet.header_row)]
        width = max(len(r) for r in rows)
        for offset, values in enumerate(rows):
            values = list(values) + [None] * (width - len(values))
            for column, value in enumerate(reversed(values), start=1):
                worksheet.cell(sheet.header_row + offset, column).value = value
    out = io.BytesIO()
    book.save(out)
    reordered = validate(read_workbook(out.getvalue(), name="reordered.xlsx"))
    assert plan_without_input(relaxed(reordered)) == plan_without_input(relaxed(national))
