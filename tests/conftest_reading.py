"""Shared helpers for the reading, validation and template tests.

Imported as a plain module (``from conftest_reading import ...``), not a conftest, so
the fixtures of other test modules stay out of its way.

- :data:`VALID`: a small valid portfolio as inline CSV, one table per sheet, whose
  cells the validation tests corrupt one at a time with :func:`with_cell`.
- :func:`write_xlsx`, :func:`set_saved_values`: build real ``.xlsx`` files, including
  formulas with a saved value (openpyxl writes formulas without one).
- :func:`write_csv_folder`, :func:`write_ods`: the same sheets as a CSV folder or an
  OpenDocument spreadsheet, written by hand.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from optimiser.problems import InvalidInput, Problem
from optimiser.read import read_tables
from optimiser.validate import validate

VALID: dict[str, str] = {
    # columns A..L; rows 2..4
    "Missions": """
        mission_id,name,zone_id,type,priority,weight,must_fund,min_coverage,max_coverage,running_cost,start_period,end_period
        M1,Ceasefire monitors,Z1,monitoring,1,1,yes,50%,100%,1000,Q1,Q2
        M2,Mediation team,Z2,mediation,2,2,no,0,1,0,Q2,
        M3,Attache office,Z2,attache,3,,,,,500,,
    """,
    # columns A..F; rows 2..3
    "Zones": """
        zone_id,name,region,risk,personnel_cap,hazard_multiplier
        Z1,North,Sahel,high,100,1.5
        Z2,East,Levant,medium,,
    """,
    # columns A..H; rows 2..3
    "Resources": """
        resource_id,name,kind,unit,unit_cost,available,reserve_share,integer
        INF,Infantry,personnel,person,1000,200,10%,yes
        VEH,Vehicles,equipment,vehicle,500,40,0,no
    """,
    # columns A..C; rows 2..4
    "Requirements": """
        mission_id,resource_id,quantity
        M1,INF,50
        M1,VEH,5
        M2,INF,3
    """,
    # columns A..G; rows 2..4
    "Funding": """
        source_id,name,amount,period,eligible_types,eligible_zones,eligible_regions
        CORE,Core budget,100000,,,,
        EARM,Sahel fund,20000,Q1,,Z1,Sahel
        EARM,Sahel fund,30000,Q2,,Z1,Sahel
    """,
    "Periods": """
        period_id,name
        Q1,2027-Q1
        Q2,2027-Q2
    """,
    "Availability": """
        resource_id,period_id,available
        INF,Q2,150
    """,
    # columns A..D; rows 2..3
    "Policies": """
        rule,scope_type,scope_value,value
        min_budget_share,region,Sahel,20%
        min_average_coverage,priority,1,0.5
    """,
    # columns A..B; rows 2..3
    "Settings": """
        key,value
        budget_scale,0.9
        source_scale.EARM,1.1
    """,
}


def grid(text: str) -> list[list[str]]:
    """An inline CSV table as rows of cells (row 1 is the header)."""
    return [list(r) for r in csv.reader(io.StringIO(textwrap.dedent(text).strip("\n")))]


def to_csv(rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def with_cell(sheet: str, cell: str, value: str, tables: Mapping[str, str] = VALID) -> dict[str, str]:
    """A copy of ``tables`` with one cell (``"C3"``) of one sheet set to ``value``."""
    match = re.fullmatch(r"([A-Z]+)(\d+)", cell)
    assert match, cell
    column = ord(match.group(1)) - ord("A")
    row = int(match.group(2)) - 1
    rows = grid(tables[sheet])
    while len(rows) <= row:
        rows.append([""] * len(rows[0]))
    while len(rows[row]) <= column:
        rows[row].append("")
    rows[row][column] = value
    return {**tables, sheet: to_csv(rows)}


def with_row(sheet: str, row: str, tables: Mapping[str, str] = VALID) -> dict[str, str]:
    """A copy of ``tables`` with a CSV row appended to one sheet."""
    return {**tables, sheet: to_csv([*grid(tables[sheet]), next(csv.reader([row]))])}


def without(*sheets: str, tables: Mapping[str, str] = VALID) -> dict[str, str]:
    return {k: v for k, v in tables.items() if k not in sheets}


def problems_of(tables: Mapping[str, str]) -> tuple[Problem, ...]:
    """Every problem validation finds (it must find at least one error)."""
    with pytest.raises(InvalidInput) as caught:
        validate(read_tables(tables))
    return caught.value.problems


def the_problem(tables: Mapping[str, str], cell: str | None = None, sheet: str | None = None) -> Problem:
    """The one error validation reports (at ``cell`` of ``sheet``, when given)."""
    errors = [p for p in problems_of(tables) if p.severity == "error"]
    if cell is not None:
        errors = [p for p in errors if p.cell == cell and (sheet is None or p.sheet == sheet)]
    assert len(errors) == 1, [str(p) for p in errors]
    return errors[0]


# ------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class Formula:
    """A formula cell: written as ``text`` with ``saved`` as its saved value (None: none)."""

    text: str
    saved: float | str | None = None


Sheets = Mapping[str, Sequence[Sequence[object]]]


def write_xlsx(path: Path | io.BytesIO, sheets: Sheets) -> Path | io.BytesIO:
    """An .xlsx with the given rows (None: empty cell); formulas get their saved values."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    saved: dict[str, dict[str, object]] = {}
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                if isinstance(value, Formula):
                    sheet.cell(r, c, value.text)
                    if value.saved is not None:
                        saved.setdefault(title, {})[sheet.cell(r, c).coordinate] = value.saved
                else:
                    sheet.cell(r, c, value)
    book.save(path)
    if saved:
        set_saved_values(path, saved)
    return path


def xlsx_bytes(sheets: Sheets) -> bytes:
    """The bytes of an .xlsx with the given rows (None: empty cell), as an upload gives
    them; formulas are written without saved values."""
    out = io.BytesIO()
    write_xlsx(out, {title: [[v.text if isinstance(v, Formula) else v for v in row] for row in rows]
                     for title, rows in sheets.items()})
    return out.getvalue()


def set_saved_values(path: Path, values: Mapping[str, Mapping[str, object]]) -> None:
    """Give formula cells a saved value, as Excel does on saving (openpyxl never does).

    ``values``: sheet title -> cell -> value. Relies on openpyxl's part names
    (``xl/worksheets/sheet<n>.xml`` in sheet order).
    """
    titles = openpyxl.load_workbook(path, read_only=True).sheetnames
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for title, cells in values.items():
        part = f"xl/worksheets/sheet{titles.index(title) + 1}.xml"
        xml = parts[part].decode()
        for cell, value in cells.items():
            pattern = re.compile(rf'<c r="{cell}"([^>]*)><f>(.*?)</f><v\s*/>(</c>)?')
            if isinstance(value, str):
                replacement = rf'<c r="{cell}" t="str"><f>\2</f><v>{escape(value)}</v></c>'
            else:
                replacement = rf'<c r="{cell}"\1><f>\2</f><v>{value}</v></c>'
            xml, count = pattern.subn(replacement, xml)
            assert count == 1, f"no formula at {title}!{cell}"
        parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def csv_text(value: object) -> str:
    """A cell as a European spreadsheet exports it to CSV: decimal comma, no formulas."""
    if isinstance(value, Formula):
        value = value.saved
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)).replace(".", ",")
    return str(value)


def write_csv_folder(folder: Path, sheets: Sheets, delimiter: str = ";", bom: bool = True) -> Path:
    """One ``<sheet>.csv`` per sheet, UTF-8 with a byte-order mark, ';'-separated."""
    folder.mkdir(parents=True, exist_ok=True)
    for title, rows in sheets.items():
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
            [[csv_text(v) for v in row] for row in rows]
        )
        data = out.getvalue().encode("utf-8-sig" if bom else "utf-8")
        (folder / f"{title.lower()}.csv").write_bytes(data)
    return folder


def write_csv_texts(folder: Path, tables: Mapping[str, str]) -> Path:
    """Inline CSV tables (indented in a test) as plain UTF-8 ``<sheet>.csv`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, text in tables.items():
        lines = [line.strip() for line in text.strip().splitlines()]
        (folder / f"{sheet}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_ods(path: Path, sheets: Sheets) -> Path:
    """A minimal OpenDocument spreadsheet (odfpy is not needed for this much)."""
    tables = []
    for title, rows in sheets.items():
        xml_rows = []
        for row in rows:
            cells = []
            for cell in row:
                value = cell.saved if isinstance(cell, Formula) else cell
                if value is None:
                    cells.append("<table:table-cell/>")
                elif isinstance(value, bool):
                    flag = "true" if value else "false"
                    cells.append(
                        f'<table:table-cell office:value-type="boolean" office:boolean-value="{flag}">'
                        f"<text:p>{flag.upper()}</text:p></table:table-cell>"
                    )
                elif isinstance(value, int | float):
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{value}">'
                        f"<text:p>{value}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
                        "</text:p></table:table-cell>"
                    )
            xml_rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
        tables.append(f'<table:table table:name="{escape(title)}">{"".join(xml_rows)}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def sheets_from_tables(tables: Mapping[str, str]) -> dict[str, list[list[object]]]:
    """Inline CSV tables as rows of cells for the file writers (numbers stay text)."""
    return {
        title: [[v if v != "" else None for v in row] for row in grid(text)] for title, text in tables.items()
    }


def xls_bytes(sheets: Sheets) -> bytes:
    """A minimal Excel 97-2003 (.xls, BIFF8) workbook, written by hand (no library here
    writes one): each sheet's cells as text (LABEL) or numbers (NUMBER); a cell given as
    ``("error", code)`` is an error value (BOOLERR) and ``("formula", code)`` a formula
    whose saved value is that error (FORMULA); codes as in [MS-XLS] (0x2A is #N/A)."""

    def record(kind: int, payload: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(payload)) + payload

    def bof(kind: int) -> bytes:
        return record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))

    def cell(row: int, column: int, value: object) -> bytes:
        if isinstance(value, tuple):
            kind, code = value
            if kind == "formula":
                saved = bytes([2, 0, code, 0, 0, 0, 0xFF, 0xFF])
                return record(0x0006, struct.pack("<HHH", row, column, 15) + saved + bytes(8))
            return record(0x0205, struct.pack("<HHHBB", row, column, 15, code, 1))
        if isinstance(value, str):
            text = value.encode("utf-16-le")
            return record(0x0204, struct.pack("<HHHH", row, column, 15, len(value)) + b"\x01" + text)
        return record(0x0203, struct.pack("<HHHd", row, column, 15, float(value)))  # type: ignore[arg-type]

    bodies = []
    for rows in sheets.values():
        cells = b"".join(cell(r, c, value) for r, row in enumerate(rows) for c, value in enumerate(row)
                         if value is not None)
        width = max((len(row) for row in rows), default=0)
        bodies.append(bof(0x0010) + record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, width, 0)) + cells
                      + record(0x000A))

    def boundsheet(offset: int, title: str) -> bytes:
        return record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(title), 1) + title.encode("utf-16-le"))

    head = bof(0x0005) + record(0x0042, struct.pack("<H", 1200))  # CODEPAGE: UTF-16
    offset = len(head) + sum(len(boundsheet(0, t)) for t in sheets) + len(record(0x000A))
    entries = b""
    for title, body in zip(sheets, bodies, strict=True):
        entries += boundsheet(offset, title)
        offset += len(body)
    stream = head + entries + record(0x000A) + b"".join(bodies)
    return compound_file(stream.ljust(4096, b"\0"))


def compound_file(stream: bytes, name: str = "Workbook") -> bytes:
    """A compound file ([MS-CFB] version 3) holding one stream of at least 4,096 bytes."""
    sectors = -(-len(stream) // 512)
    fat = [0xFFFFFFFD, 0xFFFFFFFE, *range(3, 3 + sectors - 1), 0xFFFFFFFE]
    assert len(fat) <= 128, "one FAT sector: streams up to 63 KB"
    fat += [0xFFFFFFFF] * (128 - len(fat))

    def entry(entry_name: str, kind: int, start: int, size: int) -> bytes:
        raw = entry_name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + bytes(36)
                + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, 0xFFFFFFFE, 0) + entry(name, 2, 2, len(stream))).ljust(512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + bytes(6) + struct.pack("<9I", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
              + struct.pack("<I108I", 0, *([0xFFFFFFFF] * 108)))
    return header + struct.pack("<128I", *fat) + directory + stream.ljust(sectors * 512, b"\0")
