"""The empty workbook planners fill in: sheets, headers, drop-downs, instructions, round trip."""

import re

import openpyxl
import pandas as pd
import pytest
from conftest_reading import VALID, grid

from optimiser.problems import InvalidInput
from optimiser.read import read_tables, read_workbook
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS, SHEETS
from optimiser.template import write_template
from optimiser.validate import validate


@pytest.fixture
def template(tmp_path):
    return write_template(tmp_path / "template.xlsx")


def test_instructions_come_first_then_every_sheet(template):
    book = openpyxl.load_workbook(template)
    assert book.sheetnames == ["Instructions", *(s.title for s in SHEETS.values())]


def test_every_sheet_has_bold_frozen_headers_and_readable_widths(template):
    book = openpyxl.load_workbook(template)
    for spec in SHEETS.values():
        sheet = book[spec.title]
        headers = [cell.value for cell in sheet[1]]
        assert headers == list(spec.column_names)
        assert all(cell.font.bold for cell in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.max_row == 1  # empty below the headers
        for index, name in enumerate(headers, start=1):
            width = sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width
            assert width >= max(12, len(name)), (spec.title, name)


def _drop_downs(sheet):
    """Header -> the drop-down list's items, for every list validation on a sheet."""
    headers = {openpyxl.utils.get_column_letter(i): c.value for i, c in enumerate(sheet[1], start=1)}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type != "list":
            continue
        for cell_range in validation.sqref.ranges:
            letter = cell_range.coord.split(":")[0].rstrip("0123456789")
            assert cell_range.coord == f"{letter}2:{letter}2001"
            found[headers[letter]] = validation.formula1.strip('"').split(",")
    return found


def test_drop_down_lists(template):
    book = openpyxl.load_workbook(template)
    assert _drop_downs(book["Missions"]) == {
        "priority": ["1", "2", "3", "4", "5"],
        "must_fund": ["yes", "no"],
        "continuity": ["yes", "no"],
        "running_now": ["yes", "no"],
    }
    assert _drop_downs(book["Zones"]) == {"risk": ["low", "medium", "high", "extreme"]}
    assert _drop_downs(book["Resources"]) == {"kind": ["personnel", "equipment"], "integer": ["yes", "no"]}
    assert _drop_downs(book["Policies"]) == {
        "rule": ["min_budget_share", "max_budget_share", "min_average_coverage"],
        "scope_type": ["region", "zone", "type", "priority"],
    }
    assert _drop_downs(book["Settings"]) == {"key": list(SETTING_KEYS)}


def test_drop_downs_warn_but_never_block_what_the_validator_accepts(template):
    book = openpyxl.load_workbook(template)
    for sheet in book.worksheets[1:]:
        for validation in sheet.data_validations.dataValidation:
            assert validation.errorStyle == "warning" and validation.allow_blank


def test_instructions_explain_every_sheet_column_and_setting(template):
    sheet = openpyxl.load_workbook(template)["Instructions"]
    text = [[c.value for c in row] for row in sheet.iter_rows()]
    first_cells = [row[0] for row in text if row[0]]
    for spec in SHEETS.values():
        assert f"{spec.title} ({'required' if spec.required else 'optional'})" in first_cells
        for column in spec.columns:
            row = next(r for r in text if r[0] == column.name and r[1] == column.help)
            assert row[3] == ("yes" if column.required else "no")
    for key, setting in SETTING_KEYS.items():
        assert [key, setting.help, setting.default or "(none)"] in [r[:3] for r in text]
    for prefix in ITEM_LEVERS:
        assert f"{prefix}.<id>" in first_cells
    columns = ("weight", "risk", "integer", "min_coverage", "personnel_cap")
    defaults = {r[0]: r[4] for r in text if r[0] in columns and r[4]}  # the column tables, not Settings
    assert defaults == {
        "weight": "1",
        "risk": "medium",
        "integer": "yes",
        "min_coverage": "0%",
        "personnel_cap": "no cap",
    }


def _typed(text):
    """A cell as a planner types it: numbers as numbers, the rest as text."""
    if text == "":
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    return text


def test_round_trip_template_filled_reads_back_what_was_written(template):
    book = openpyxl.load_workbook(template)
    for title, table in VALID.items():
        rows = grid(table)
        sheet = book[title]
        position = {cell.value: cell.column for cell in sheet[1]}
        for r, row in enumerate(rows[1:], start=2):
            for header, text in zip(rows[0], row, strict=True):
                sheet.cell(r, position[header], _typed(text))
    book.save(template)

    portfolio = validate(read_workbook(template))
    assert portfolio.warnings == ()
    expected = validate(read_tables(VALID))
    for name in (
        "missions",
        "zones",
        "resources",
        "requirements",
        "sources",
        "funding",
        "periods",
        "availability",
        "policies",
    ):
        pd.testing.assert_frame_equal(getattr(portfolio, name), getattr(expected, name), obj=name)
    assert portfolio.levers == expected.levers
    assert portfolio.missions.loc["M1", ["running_cost", "min_coverage", "must_fund"]].tolist() == [
        1000.0,
        0.5,
        True,
    ]
    assert portfolio.funding["amount"].tolist() == [100_000.0, 100_000.0, 20_000.0, 30_000.0]


def test_empty_template_lacks_the_rows_of_every_required_sheet_and_nothing_else(template):
    with pytest.raises(InvalidInput) as caught:
        validate(read_workbook(template))
    assert [str(p) for p in caught.value.problems] == [
        "Missions: has no missions; add one row per mission below the headers (row 1)",
        "Zones: has no rows; add one row per zone below the headers (row 1)",
        "Resources: has no rows; add one row per resource below the headers (row 1)",
        "Requirements: has no rows; add one row per requirement below the headers (row 1)",
        "Funding: has no rows; add one row per funding source and period below the headers (row 1)",
    ]
