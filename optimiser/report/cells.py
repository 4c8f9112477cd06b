"""Writing cells a planner can trust, and tables formatted for reading.

Every cell of the report is written by :meth:`SheetWriter.put`, which

- stores text as text, always: a mission called ``=HYPERLINK("http://x")``, ``+1``,
  ``@SUM(A1)`` or ``-2`` is shown as typed and never evaluated as a formula (the
  cell is typed as a string and given Excel's quote prefix, as if the planner had
  typed a leading apostrophe);
- turns NaN and infinities into empty cells (Excel cannot store them), numpy numbers
  into Python ones, enums into their text, tuples into comma-separated lists, and
  strips the control characters that the xlsx format forbids;
- measures what it writes, so that :meth:`SheetWriter.fit_columns` can give every
  column a readable width.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from enum import Enum

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# Number formats (Excel codes). Money is shown in whole units with thousands
# separators; the currency is named in the column header.
MONEY = "#,##0"
PERCENT = "0.0%"
PERCENT_FINE = "0.00%"
UNITS = "#,##0"
UNITS_FRACTION = "#,##0.00"
UNITS_ONE_DECIMAL = "#,##0.0"
VALUE = "#,##0.00"
RATIO = "0.00"
SECONDS = "0.00"
SHADOW = "#,##0.000"
SHADOW_SMALL = "0.000E+00"
DATETIME = "yyyy-mm-dd hh:mm:ss"

# A column's number format: an Excel code, none, or a function of the cell's value.
Format = str | Callable[[object], str] | None

# Text starting with one of these is a formula (or a DDE/CSV injection vector)
# to a spreadsheet program.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_TEXT = 32_767  # Excel's limit on the characters in one cell

TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
BOLD = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"))
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
WRAP = Alignment(wrap_text=True, vertical="top")
LINE_HEIGHT = 12.75  # points: one line of the default font
# Characters of text a column holds per unit of its width (the width of a "0"; text in a
# proportional font is narrower), measured on the printed report.
CHARACTERS_PER_WIDTH = 1.2


def excel_value(value: object) -> object:
    """The value as openpyxl should store it: a number, bool, date or clean text.

    ``None``, NaN, ``pd.NA`` and infinities become ``None`` (an empty cell).
    """
    kind = type(value)
    if kind is float:  # the common cases first: reports write hundreds of thousands of cells
        return value if math.isfinite(value) else None  # type: ignore[arg-type]
    if kind is int:
        return value
    if kind is str:
        return clean_text(value)  # type: ignore[arg-type]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, date | time):
        return value
    if isinstance(value, tuple | list | set | frozenset):
        return clean_text(", ".join(str(item) for item in value))
    return clean_text(str(value))


def clean_text(text: str) -> str:
    """Text without the control characters xlsx forbids, cut to Excel's cell limit."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


def yes_no(value: object) -> str | None:
    """A planner's yes/no for a flag; ``None`` for a blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return "yes" if bool(value) else "no"


def units_format(values: Iterable[object]) -> str:
    """Whole-number format when every value is whole, else two decimals."""
    for value in values:
        number = excel_value(value)
        if isinstance(number, float) and not number.is_integer():
            return UNITS_FRACTION
    return UNITS


def units_cell_format(value: object) -> str:
    """Whole units without decimals, a fraction of a unit with one (per cell)."""
    number = excel_value(value)
    if isinstance(number, float) and abs(number - round(number)) > 1e-6:
        return UNITS_ONE_DECIMAL
    return UNITS


def shadow_format(value: object) -> str:
    """Readable format for a shadow price: scientific when it is tiny (value per unit of money)."""
    number = excel_value(value)
    if isinstance(number, int | float) and number != 0 and abs(number) < 0.01:
        return SHADOW_SMALL
    return SHADOW


def _display_length(value: object, number_format: str | None) -> int:
    """About how many characters a cell shows, for column widths."""
    if value is None:
        return 0
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    if isinstance(value, bool):
        return 5
    if isinstance(value, datetime):
        return 19
    if isinstance(value, int | float):
        if number_format and "%" in number_format:
            return 7
        if number_format and "E" in number_format:
            return 10
        magnitude = abs(value)
        digits = 1 if magnitude < 10 else int(math.log10(magnitude)) + 1
        return digits + (digits - 1) // 3 + 3 + (value < 0)  # thousands separators, ".00", sign
    return len(str(value))


class SheetWriter:
    """Writes one worksheet, cell by cell, through a single safe path.

    Parameters
    ----------
    worksheet : the openpyxl worksheet to fill.
    """

    def __init__(self, worksheet: Worksheet):
        self.ws = worksheet
        self._widths: dict[int, int] = {}

    def put(
        self,
        row: int,
        column: int,
        value: object,
        number_format: str | None = None,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        alignment: Alignment | None = None,
        measure: bool = True,
    ) -> Cell:
        """Write one cell. Text is always stored as text, never as a formula.

        Parameters
        ----------
        row, column : 1-based position.
        value : anything; see :func:`excel_value`.
        number_format : an Excel number format code for numbers.
        font, fill, alignment : optional styles.
        measure : whether the value counts towards the column's width.
        """
        cell = self.ws.cell(row=row, column=column)
        stored = excel_value(value)
        cell.value = stored
        if isinstance(stored, str):
            # openpyxl types "=..." as a formula and "#N/A" as an error: force text.
            cell.data_type = "s"
            if stored.startswith(FORMULA_PREFIXES) or stored in ERROR_CODES:
                cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
        if number_format and stored is not None and not isinstance(stored, str):
            cell.number_format = number_format
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if alignment is not None:
            cell.alignment = alignment
        if measure:
            length = _display_length(stored, number_format)
            if font is not None and font.b:
                length += 1
            self._widths[column] = max(self._widths.get(column, 0), length)
        return cell

    def header(self, row: int, column: int, labels: Sequence[str]) -> None:
        """A table's header row: bold white on dark blue, wrapped."""
        for offset, label in enumerate(labels):
            self.put(row, column + offset, label, font=HEADER_FONT, fill=HEADER_FILL,
                     alignment=HEADER_ALIGNMENT)

    def table(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[object]],
        formats: Sequence[Format],
        *,
        top: int = 1,
        left: int = 1,
        autofilter: bool = True,
        totals: Sequence[object] | None = None,
    ) -> int:
        """Write a table: header, rows, and an optional totals row after one blank row.

        Parameters
        ----------
        header : column labels.
        rows : one sequence of values per row, in column order.
        formats : one number format per column: an Excel code, ``None``, or a function
            of the cell's value giving the code (e.g. :func:`shadow_format`).
        top, left : 1-based position of the header's first cell.
        autofilter : put Excel's filter buttons on the header (header and rows only,
            so sorting never moves the totals).
        totals : values of the totals row (first cell usually "Total"), or ``None``.

        Returns
        -------
        int
            the last row written.
        """
        self.header(top, left, header)
        row = top
        for values in rows:
            row += 1
            for offset, (value, number_format) in enumerate(zip(values, formats, strict=True)):
                code = number_format(value) if callable(number_format) else number_format
                self.put(row, left + offset, value, code)
        if autofilter and header:
            last_column = get_column_letter(left + len(header) - 1)
            self.ws.auto_filter.ref = f"{get_column_letter(left)}{top}:{last_column}{max(row, top + 1)}"
        if totals is not None:
            row += 2
            for offset, (value, number_format) in enumerate(zip(totals, formats, strict=True)):
                code = number_format(value) if callable(number_format) else number_format
                cell = self.put(row, left + offset, value, code, font=BOLD)
                cell.border = TOTAL_BORDER
        return row

    def note(self, row: int, column: int, text: str, *, font: Font | None = None) -> Cell:
        """A line of explanation; not measured, so it may overflow into empty cells."""
        return self.put(row, column, text, font=font, measure=False)

    def section(self, row: int, title: str) -> int:
        """A section title in the first column (bold, dark blue); returns the next row."""
        self.note(row, 1, title, font=SECTION_FONT)
        return row + 1

    def fit_columns(self, minimum: int = 8, maximum: int = 60, fixed: dict[int, float] | None = None) -> None:
        """Set every written column's width from what it holds, within ``minimum..maximum``.

        ``fixed`` maps a 1-based column to a width that overrides the measure.
        """
        widths: dict[int, float] = {c: min(max(n + 2, minimum), maximum) for c, n in self._widths.items()}
        widths.update(fixed or {})
        for column, width in widths.items():
            self.ws.column_dimensions[get_column_letter(column)].width = width
        wrapped: set[int] = set()
        for column, longest in self._widths.items():  # text wider than its column wraps, never cut
            if longest > widths[column] * CHARACTERS_PER_WIDTH:
                wrapped |= self._wrap(column, widths[column] * CHARACTERS_PER_WIDTH)
        for row in wrapped:  # a wrapped row reads from its top line, every cell
            for cell in self.ws[row]:
                old = cell.alignment
                cell.alignment = Alignment(horizontal=old.horizontal, vertical="top", wrap_text=old.wrap_text)

    def _wrap(self, column: int, characters: float) -> set[int]:
        """Wrap the column's cells longer than ``characters``, their rows made as tall as
        their lines (a spreadsheet reading the file need not grow them itself); returns the
        rows wrapped."""
        rows = set()
        for (cell,) in self.ws.iter_rows(min_col=column, max_col=column):
            if isinstance(cell.value, str) and len(cell.value) > characters:
                old = cell.alignment
                cell.alignment = Alignment(horizontal=old.horizontal, vertical="top", wrap_text=True)
                height = LINE_HEIGHT * math.ceil(len(cell.value) / max(characters, 1.0)) + 2
                dimension = self.ws.row_dimensions[cell.row]
                if dimension.height is None or dimension.height < height:
                    dimension.height = height
                rows.add(cell.row)
        return rows
