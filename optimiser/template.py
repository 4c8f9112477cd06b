"""An empty workbook for planners to fill in: every sheet, headers, drop-downs, instructions.

Everything written here comes from :mod:`optimiser.schema`, so the template, the reader
and the validator cannot drift apart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from optimiser.schema import ITEM_LEVERS, PRIORITIES, SETTING_KEYS, SHEETS, Column, Kind, Sheet

logger = logging.getLogger(__name__)

TEMPLATE_ROWS = 2000
"""Rows (below the header) that carry the drop-down lists and number formats."""

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_TITLE_FONT = Font(bold=True, size=14)
_SECTION_FONT = Font(bold=True, size=12)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")

_ABOUT = (
    "This workbook is the input of the mission resource optimiser. The optimiser allocates "
    "personnel, equipment and money to missions, period by period, so that the most valuable "
    "coverage is bought within the people, equipment and funds available: must-fund missions "
    "first, then by priority tier and weight, with earmarked funds paying only for the missions "
    "they are eligible for.",
    "Fill in one row per item below each sheet's header row. Sheet names and headers may be "
    "written in any case, with spaces, hyphens or underscores (Mission ID = mission_id). Money "
    "may be typed as 1200000, $ 1,200,000 or 1 200 000 €; shares as 40% or 0.4; yes/no as "
    "yes/no, y/n, true/false, 1/0 or x. A blank cell takes the column's default.",
    "Required sheets: Missions, Zones, Resources, Requirements, Funding. Optional: Periods, "
    "Availability, Policies, Baseline (today's plan), Settings (an empty optional sheet is the same "
    "as no sheet). "
    "This Instructions sheet is ignored when the workbook is read.",
)


def write_template(path: str | Path) -> Path:
    """Write an empty input workbook (``.xlsx``) for planners to fill in.

    The workbook has an Instructions sheet first (what the tool does; every sheet and
    column with its meaning, kind and default; the Settings keys and per-item levers),
    then one sheet per input table with bold, frozen headers, readable column widths,
    number formats, and drop-down lists for resource kind, zone risk, priority (1-5),
    yes/no columns, policy rule, scope type and Settings keys.

    Parameters
    ----------
    path : where to write the workbook; the folder must exist.

    Returns
    -------
    Path
        the path written.
    """
    path = Path(path)
    book = Workbook()
    instructions = book.active
    instructions.title = "Instructions"
    _write_instructions(instructions)
    for spec in SHEETS.values():
        _write_sheet(book.create_sheet(spec.title), spec)
    book.save(path)
    logger.info("wrote the template %s", path)
    return path


def _write_instructions(sheet: Worksheet) -> None:
    sheet.append(["Mission resource optimiser: input workbook"])
    sheet["A1"].font = _TITLE_FONT
    for paragraph in _ABOUT:
        sheet.append([paragraph])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=6)
        sheet.cell(sheet.max_row, 1).alignment = _WRAP
        sheet.row_dimensions[sheet.max_row].height = 60
    for spec in SHEETS.values():
        sheet.append([])
        sheet.append([f"{spec.title} ({'required' if spec.required else 'optional'})"])
        sheet.cell(sheet.max_row, 1).font = _SECTION_FONT
        sheet.append([spec.help])
        _header(sheet, ["column", "meaning", "kind", "required", "default", "allowed values"])
        for column in spec.columns:
            sheet.append(
                [
                    column.name,
                    column.help,
                    _kind_words(column),
                    "yes" if column.required else "no",
                    _default_words(spec, column),
                    _allowed_words(column),
                ]
            )
            for cell in sheet[sheet.max_row]:
                cell.alignment = _WRAP
    sheet.append([])
    sheet.append(["Settings keys (scenario levers; the command line's --set key=value overrides them)"])
    sheet.cell(sheet.max_row, 1).font = _SECTION_FONT
    _header(sheet, ["key", "meaning", "default"])
    for setting in SETTING_KEYS.values():
        sheet.append([setting.key, setting.help, setting.default or "(none)"])
    for prefix, meaning in ITEM_LEVERS.items():
        sheet.append([f"{prefix}.<id>", meaning, "(none)"])
    for letter, width in zip("ABCDEF", (24, 70, 12, 10, 22, 40), strict=True):
        sheet.column_dimensions[letter].width = width


def _header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[sheet.max_row]:
        cell.font = _BOLD


def _write_sheet(sheet: Worksheet, spec: Sheet) -> None:
    sheet.append(list(spec.column_names))
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(1, index)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _width(column)
        number_format = _number_format(spec, column)
        if number_format:  # a column style: cells typed later take it, no empty cells are written
            sheet.column_dimensions[letter].number_format = number_format
        validation = _validation(spec, column)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    sheet.freeze_panes = "A2"


def _validation(spec: Sheet, column: Column) -> DataValidation | None:
    """A drop-down list (or a range check) for a column, lenient: the validator has the last word."""
    if column.kind is Kind.CHOICE:
        choices = list(column.choices)
    elif column.kind is Kind.BOOL:
        choices = ["yes", "no"]
    elif spec.name == "missions" and column.name == "priority":
        choices = [str(p) for p in PRIORITIES]
    elif spec.name == "settings" and column.name == "key":
        choices = list(SETTING_KEYS)  # per-item levers (source_scale.<id> ...) may be typed too
    elif column.kind is Kind.SHARE:
        return _lenient(
            DataValidation(type="decimal", operator="between", formula1="0", formula2="1"),
            f"{column.name} is a share from 0 to 1 (40% or 0.4).",
        )
    else:
        return None
    return _lenient(
        DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True),
        f"{column.name}: {', '.join(choices)}.",
    )


def _lenient(validation: DataValidation, prompt: str) -> DataValidation:
    validation.allow_blank = True
    validation.showErrorMessage = True
    validation.errorStyle = "warning"  # a warning the planner may accept, never a hard stop
    validation.error = f"Expected: {prompt}"
    validation.showInputMessage = True
    validation.prompt = prompt
    return validation


def _width(column: Column) -> float:
    if column.kind is Kind.TEXT or column.kind is Kind.LIST:
        return max(24, len(column.name) + 4)
    return max(12, len(column.name) + 4)


def _number_format(spec: Sheet, column: Column) -> str | None:
    if column.kind is Kind.SHARE:
        return "0%"
    if column.kind is Kind.NUMBER:
        money = column.name in ("amount", "unit_cost", "running_cost")
        return "#,##0" if money else "#,##0.##"
    return None


def _kind_words(column: Column) -> str:
    return {
        Kind.ID: "id",
        Kind.TEXT: "text",
        Kind.NUMBER: "number",
        Kind.INTEGER: "whole number",
        Kind.SHARE: "share 0-1",
        Kind.BOOL: "yes/no",
        Kind.LIST: "comma-separated list",
        Kind.CHOICE: "one of a list",
    }[column.kind]


def _default_words(spec: Sheet, column: Column) -> str:
    if column.required:
        return "(required)"
    if column.kind is Kind.BOOL:
        return "yes" if column.default else "no"
    if column.kind is Kind.LIST:
        return "any"
    if column.name == "name":
        return f"the {spec.id_column}"
    if column.name in ("start_period", "end_period"):
        return "first period" if column.name == "start_period" else "last period"
    if column.name == "period":
        return "every period"
    if column.name == "personnel_cap":
        return "no cap"
    if column.name == "available":
        return "unlimited"
    if column.default is None:
        return "(blank)"
    if column.kind is Kind.SHARE:
        return f"{column.default:.0%}"
    if isinstance(column.default, float):
        return f"{column.default:g}"
    return str(column.default)


def _allowed_words(column: Column) -> str:
    if column.choices:
        return ", ".join(column.choices)
    if column.kind is Kind.BOOL:
        return "yes, no"
    if column.name == "priority":
        return "1 (highest) to 5 (lowest)"
    if column.name == "weight":
        return "above 0"
    if column.kind is Kind.SHARE:
        return "0 to 1 (or 0% to 100%)"
    if column.minimum is not None:
        return f"{column.minimum:g} or more"
    return ""
