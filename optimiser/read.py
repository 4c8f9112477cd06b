"""Read a planner's workbook into raw sheets, keeping every cell's Excel reference.

This is the first stage of the journey (SPEC section 2). It knows spreadsheets and
nothing of optimisation: it finds each sheet by name, the header row by the sheet's
id column, and hands the validator the cells *as read* (text, numbers, yes/no or
``None``), each with its Excel row and column letter so that every later problem can
name its cell. Nothing here parses money or shares: that is
:mod:`optimiser.validate`'s job.

Accepted sources:

- ``.xlsx``, ``.xlsm`` (macros are never run), ``.xls``, ``.xlsb`` and ``.ods`` files,
  read with python-calamine (formulas are read by their saved value);
- a folder of CSV files named after the sheets (``missions.csv`` ...), UTF-8 with or
  without a byte-order mark, separated by ``,`` ``;`` or tabs;
- the bytes of any of those files plus the file's name (web uploads; nothing is
  written to disk);
- inline tables for tests (:func:`read_tables`).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import posixpath
import re
import textwrap
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd
from defusedxml import ElementTree as SafeElementTree

from optimiser.portfolio import InputFile
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.schema import SHEETS, Sheet, canonical, column_letter

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest workbook (or CSV folder, all files together) read, in bytes."""
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
"""Largest total size of the parts inside a zipped workbook (guards against zip bombs)."""
MAX_ROWS = 100_000
"""Most data rows read from one sheet."""
HEADER_SEARCH_ROWS = 10
"""The header row is looked for in this many rows at the top of a sheet."""
WORKBOOK_FORMATS = ("xlsx", "xlsm", "xls", "xlsb", "ods")
IGNORED_SHEETS = ("instructions",)
"""Sheets ignored without a warning (the template's own Instructions sheet)."""

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, or encrypted OOXML
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
# A formula (<f .../> or <f>...</f>) not followed by a non-empty saved value <v>: a
# candidate for "no saved value", confirmed by parsing. Cells are f?, v?, is?, extLst?.
_FORMULA_WITHOUT_VALUE = re.compile(
    rb"<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"  # formula text holds no '<' (it is escaped)
    rb"(?:<(?:\w+:)?v\b[^>]*/>|<(?:\w+:)?v\b[^>]*>\s*</(?:\w+:)?v>|</(?:\w+:)?c>|<(?:\w+:)?(?:is|extLst)\b)"
)
_CELL_REF = re.compile(r"([A-Za-z]+)(\d+)")
_ACCEPTED = ".xlsx, .xlsm, .xls, .xlsb or .ods, or a folder of CSV files named after the sheets"


@dataclass(frozen=True, eq=False)
class RawSheet:
    """One sheet as read: cells untouched, each row with its Excel row number.

    Attributes
    ----------
    name : canonical sheet name (``"missions"``).
    title : the sheet's name as written in the file (``"Missions "``), or the CSV
        file's name (``"missions.csv"``); problems are located with it.
    frame : the data rows, one column per schema column found in the header
        (canonical names, in the file's order), values as read (``str``, ``float``,
        ``int``, ``bool``, dates, or ``None`` for an empty cell), dtype ``object``.
        The index, named ``row``, is each row's 1-based Excel row number. Blank rows
        are left out.
    letters : canonical column -> Excel column letter (``{"zone_id": "C"}``).
    header_row : the Excel row that holds the headers.
    uncached : cells (``"F7"``) holding a formula with no saved value; they read as
        ``None`` and have already been reported.
    """

    name: str
    title: str
    frame: pd.DataFrame
    letters: Mapping[str, str]
    header_row: int
    uncached: frozenset[str] = frozenset()

    @property
    def spec(self) -> Sheet:
        """The sheet's definition in :mod:`optimiser.schema`."""
        return SHEETS[self.name]

    def cell(self, column: str, row: int) -> str | None:
        """Excel reference of ``column`` in ``row`` (``"C14"``); ``None`` if the column is absent."""
        letter = self.letters.get(column)
        return f"{letter}{row}" if letter else None


@dataclass(frozen=True, eq=False)
class RawWorkbook:
    """A workbook as read: the sheets the tool knows, where they came from, and the
    problems found while reading (extra sheets and columns, missing sheets, formulas
    without a saved value). :func:`optimiser.validate.validate` turns it into a
    :class:`~optimiser.portfolio.Portfolio`.

    Attributes
    ----------
    sheets : canonical sheet name -> :class:`RawSheet`, in the file's order; only
        sheets named in :data:`optimiser.schema.SHEETS`.
    source : the file: path as given, format, SHA-256 of its bytes.
    problems : errors and warnings found while reading.
    """

    sheets: Mapping[str, RawSheet]
    source: InputFile
    problems: tuple[Problem, ...] = field(default=())

    def __contains__(self, name: object) -> bool:
        return name in self.sheets

    def __getitem__(self, name: str) -> RawSheet:
        return self.sheets[name]

    def get(self, name: str) -> RawSheet | None:
        return self.sheets.get(name)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s.title}: {len(s.frame)}" for s in self.sheets.values())
        return f"RawWorkbook({self.source.path or 'memory'!r}, {self.source.format}; {sizes})"


# --------------------------------------------------------------------------- entry points


def read_workbook(source: str | Path | bytes, name: str | None = None) -> RawWorkbook:
    """Read a workbook, a folder of CSV files, or a workbook's bytes.

    Parameters
    ----------
    source : path of a ``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb`` or ``.ods`` file,
        path of a folder holding ``missions.csv``, ``zones.csv``, ..., or the bytes
        of a workbook file (a web upload; read in memory, never written to disk).
    name : the file's name when ``source`` is bytes (its extension helps tell an
        ``.xlsm`` from an ``.xlsx``); for a path, an optional name to record instead
        of the path.

    Returns
    -------
    RawWorkbook
        the sheets as read, with reading problems (errors included: a missing
        required sheet, a formula with no saved value) for the validator to report
        together with its own.

    Raises
    ------
    InvalidInput
        with a one-line reason when the source is not a workbook at all (text, a
        picture, an empty, truncated or password-protected file), is larger than
        :data:`MAX_FILE_BYTES`, or a sheet has more than :data:`MAX_ROWS` rows.
    """
    started = time.perf_counter()
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        display = name or "upload"
        _check_size(len(data), display)
        workbook = _read_workbook_bytes(data, display)
    else:
        path = Path(source)
        display = name or str(source)
        if path.is_dir():
            workbook = _read_csv_folder(path, display)
        elif not path.exists():
            raise _file_error(f"{display} does not exist")
        else:
            _check_size(path.stat().st_size, display)
            workbook = _read_workbook_bytes(path.read_bytes(), display)
    logger.info(
        "read %s (%s): %s in %.3f s",
        display,
        workbook.source.format,
        ", ".join(f"{s.title} {len(s.frame)} rows" for s in workbook.sheets.values()),
        time.perf_counter() - started,
    )
    return workbook


def read_tables(tables: Mapping[str, str | pd.DataFrame]) -> RawWorkbook:
    """Build a workbook from inline tables: the easy way to write a test.

    Parameters
    ----------
    tables : sheet name -> CSV text (dedented; ``,`` ``;`` or tab separated, spaces
        after separators ignored) or a DataFrame whose columns are the headers. Rows
        are numbered as in a sheet whose header is on row 1.

    Examples
    --------
    >>> raw = read_tables({"Missions": '''
    ...     mission_id, zone_id, priority
    ...     M1, Z1, 1
    ... ''', "Zones": "zone_id\\nZ1"})
    >>> raw["missions"].cell("zone_id", 2)
    'B2'
    """
    grids: list[tuple[str, list[list[object]]]] = []
    digest = hashlib.sha256()
    for title, table in tables.items():
        if isinstance(table, pd.DataFrame):
            grid = [list(table.columns), *(list(row) for row in table.itertuples(index=False))]
            digest.update(f"{title}\0{table.to_csv(index=False)}\0".encode())
        else:
            text = textwrap.dedent(table).strip("\n")
            grid = _csv_grid(text)
            digest.update(f"{title}\0{text}\0".encode())
        grids.append((str(title), grid))
    source = InputFile(path="", format="memory", sha256=digest.hexdigest())
    return _assemble(grids, source)


# --------------------------------------------------------------------------- workbook files


def _read_workbook_bytes(data: bytes, display: str) -> RawWorkbook:
    import python_calamine  # imported here: CSV-only and inline uses never need it

    workbook_format = _detect_format(data, display)
    source = InputFile(path=display, format=workbook_format, sha256=hashlib.sha256(data).hexdigest())
    try:
        book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise _file_error(f"{display} is password-protected; save a copy without a password") from None
    except Exception as reason:  # calamine raises several types for damaged files
        raise _file_error(f"{display} could not be read as {workbook_format}: {_one_line(reason)}") from None

    wanted = _match_sheets(book.sheet_names)
    uncached: dict[str, set[tuple[int, int]]] = {}
    if workbook_format in ("xlsx", "xlsm"):
        uncached = _formulas_without_saved_value(data, wanted.values())

    grids: list[tuple[str, list[list[object]]]] = []
    for title in book.sheet_names:
        if wanted.get(canonical(title)) != title:
            grids.append((title, []))  # reported as an extra (or duplicate) sheet
            continue
        try:
            sheet = book.get_sheet_by_name(title)
            rows_in_sheet = sheet.end[0] + 1 if sheet.end else 0
            if rows_in_sheet > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise _file_error(
                    f"sheet {title} has {rows_in_sheet:,} rows; the most this tool reads is "
                    f"{MAX_ROWS:,} per sheet"
                )
            grid = cast(list[list[object]], sheet.to_python(skip_empty_area=False))
        except InvalidInput:
            raise
        except Exception as reason:
            raise _file_error(f"{display}: sheet {title} could not be read: {_one_line(reason)}") from None
        grids.append((title, grid))
    return _assemble(grids, source, uncached)


def _detect_format(data: bytes, display: str) -> str:
    """The workbook format from the file's content (its extension only tells .xlsm)."""
    suffix = Path(display).suffix.lower()
    if not data:
        raise _file_error(f"{display} is empty")
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
                mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, EOFError, OSError, KeyError):
            raise _file_error(f"{display} is damaged (a truncated or corrupt zip); save it again") from None
        if unpacked > MAX_UNPACKED_BYTES:
            raise _file_error(
                f"{display} unpacks to {_megabytes(unpacked)}; the most this tool reads is "
                f"{_megabytes(MAX_UNPACKED_BYTES)}"
            )
        if "xl/workbook.xml" in names:
            macro = suffix == ".xlsm" or "xl/vbaProject.bin" in names
            return "xlsm" if macro else "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
        if b"spreadsheet" in mimetype or ("content.xml" in names and suffix == ".ods"):
            return "ods"
        raise _file_error(f"{display} is a zip archive but not a workbook; expected {_ACCEPTED}")
    if data.startswith(_CFB_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise _file_error(f"{display} is password-protected; save a copy without a password")
        return "xls"
    if suffix in (".csv", ".txt", ".tsv"):
        raise _file_error(
            f"{display} is a single text file; give a folder of CSV files named after the sheets "
            "(missions.csv, zones.csv, ...) or a workbook"
        )
    raise _file_error(f"{display} is not a workbook; expected {_ACCEPTED}")


def _formulas_without_saved_value(data: bytes, titles: Iterable[str]) -> dict[str, set[tuple[int, int]]]:
    """Cells holding a formula but no saved value, per sheet title, as (row, column index).

    calamine reads such a cell as empty, exactly like an empty cell, so the sheet's XML
    is scanned: a ``<c>`` with an ``<f>`` child and no (or an empty) ``<v>``. A byte
    search first rules out the usual case (no formula, or every formula saved); only a
    sheet with a candidate is parsed, with defusedxml's streaming parser.
    """
    found: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = _sheet_parts(archive)
            for title in titles:
                part = parts.get(title)
                if part is None or part not in archive.namelist():
                    continue
                xml = archive.read(part)
                if _FORMULA_WITHOUT_VALUE.search(xml):
                    cells = _scan_sheet_xml(xml)
                    if cells:
                        found[title] = cells
    except Exception as reason:  # calamine has read the file; a scan failure only loses this check
        logger.warning("could not scan for formulas without saved values: %s", _one_line(reason))
    return found


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> path of its XML part inside an .xlsx/.xlsm zip."""
    workbook = SafeElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = SafeElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels if _local(rel.tag) == "Relationship"}
    parts: dict[str, str] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        target = targets.get(rel_id, "")
        if not target:
            continue
        if target.startswith("/"):
            parts[element.get("name", "")] = target.lstrip("/")
        else:
            parts[element.get("name", "")] = posixpath.normpath(posixpath.join("xl", target))
    return parts


def _scan_sheet_xml(xml: bytes) -> set[tuple[int, int]]:
    """(row, column index) of formula cells with no saved value, by a streaming parse."""
    found: set[tuple[int, int]] = set()
    row, column = 0, -1
    for event, element in SafeElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                row = int(element.get("r") or row + 1)
                column = -1
            elif tag == "c":
                ref = element.get("r")
                match = _CELL_REF.fullmatch(ref) if ref else None
                column = _column_index(match.group(1)) if match else column + 1
            continue
        if tag == "c":
            formula = saved = None
            for child in element:
                child_tag = _local(child.tag)
                if child_tag == "f":
                    formula = child
                elif child_tag == "v":
                    saved = child
            if formula is not None:
                # an empty <v> is a saved empty text only for a text formula (t="str")
                no_saved = saved is None or (not saved.text and element.get("t") != "str")
                if no_saved:
                    found.add((row, column))
            element.clear()
        elif tag == "row":
            element.clear()
    return found


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


# --------------------------------------------------------------------------- CSV folders


def _read_csv_folder(folder: Path, display: str) -> RawWorkbook:
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv"), key=lambda p: p.name
    )
    if not files:
        raise _file_error(
            f"{display} is a folder without CSV files; expected missions.csv, zones.csv, ... "
            "(one file per sheet)"
        )
    _check_size(sum(p.stat().st_size for p in files), display)
    digest = hashlib.sha256()
    grids: list[tuple[str, list[list[object]]]] = []
    decoding_problems: list[Problem] = []
    for path in files:
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            decoding_problems.append(
                Problem(Severity.WARNING, path.name, "is not UTF-8; read as Windows-1252 (save as CSV UTF-8)")
            )
        grids.append((path.name, _csv_grid(text)))
    source = InputFile(path=display, format="csv", sha256=digest.hexdigest())
    workbook = _assemble(grids, source, csv_names=True)
    if decoding_problems:
        workbook = RawWorkbook(workbook.sheets, workbook.source, (*decoding_problems, *workbook.problems))
    return workbook


def _csv_grid(text: str) -> list[list[object]]:
    """Rows of a CSV text (values as text, empty as ``None``), separator sniffed."""
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    return [[cell if cell.strip() else None for cell in record] for record in reader]


def _sniff_delimiter(text: str) -> str:
    """The separator among ``,`` ``;`` tab and ``|`` that splits the first lines most
    consistently into more than one field."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", (0.0, 0)
    for candidate in (",", ";", "\t", "|"):
        counts = [len(r) for r in csv.reader(lines, delimiter=candidate)]
        if not counts:
            continue
        widest = max(counts)
        if widest < 2:
            continue
        modal = max(set(counts), key=lambda n: (counts.count(n), n))
        if modal < 2:
            continue
        score = (counts.count(modal) / len(counts), modal)
        if score > best_score:
            best, best_score = candidate, score
    return best


# --------------------------------------------------------------------------- sheets


def _match_sheets(titles: Iterable[str]) -> dict[str, str]:
    """Canonical name -> the first title with that name, for the sheets the tool knows."""
    wanted: dict[str, str] = {}
    for title in titles:
        key = canonical(title)
        if key in SHEETS and key not in wanted:
            wanted[key] = title
    return wanted


def _assemble(
    grids: list[tuple[str, list[list[object]]]],
    source: InputFile,
    uncached: Mapping[str, set[tuple[int, int]]] | None = None,
    csv_names: bool = False,
) -> RawWorkbook:
    """Turn (title, grid of cells) pairs into a :class:`RawWorkbook`, collecting problems."""
    problems: list[Problem] = []
    sheets: dict[str, RawSheet] = {}
    unreadable: set[str] = set()  # known sheets already reported as unusable
    for title, grid in grids:
        stem = Path(title).stem if csv_names else title
        key = canonical(stem)
        if csv_names and key not in SHEETS and " - " in stem:  # Google Sheets: "Portfolio - Missions.csv"
            key = canonical(stem.rsplit(" - ", 1)[1])
        if key not in SHEETS:
            if key not in IGNORED_SHEETS:
                problems.append(_extra_sheet(title, stem))
            continue
        if key in sheets:
            problems.append(
                Problem(
                    Severity.WARNING,
                    title,
                    f"is a second {SHEETS[key].title} sheet (after {sheets[key].title}); it is ignored",
                )
            )
            continue
        if key in unreadable:
            continue
        sheet, sheet_problems = _read_sheet(SHEETS[key], title, grid, (uncached or {}).get(title, set()))
        problems.extend(sheet_problems)
        if sheet is None:
            unreadable.add(key)
        else:
            sheets[key] = sheet
    for spec in SHEETS.values():
        if spec.required and spec.name not in sheets and spec.name not in unreadable:
            where = f"{spec.name}.csv" if csv_names else f"a sheet named {spec.title}"
            problems.append(
                Problem(
                    Severity.ERROR,
                    spec.title,
                    f"is missing; add {where} with the columns {', '.join(spec.column_names)}",
                )
            )
    return RawWorkbook(sheets=sheets, source=source, problems=tuple(problems))


def _extra_sheet(title: str, stem: str) -> Problem:
    close = difflib.get_close_matches(canonical(stem), list(SHEETS), n=1, cutoff=0.75)
    hint = f" (did you mean {SHEETS[close[0]].title}?)" if close else ""
    known = ", ".join(s.title for s in SHEETS.values())
    return Problem(
        Severity.WARNING, title, f"is not a sheet this tool reads{hint}; it is ignored. Sheets read: {known}"
    )


def _read_sheet(
    spec: Sheet, title: str, grid: list[list[object]], uncached: set[tuple[int, int]]
) -> tuple[RawSheet | None, list[Problem]]:
    """Find the header row, map headers to schema columns, keep the non-blank rows."""
    problems: list[Problem] = []
    header_index = _find_header(spec, grid)
    if header_index is None:
        if not any(not _empty(v) for row in grid for v in row):
            if spec.required:
                problems.append(
                    Problem(
                        Severity.ERROR,
                        title,
                        f"is empty; it needs a header row with {', '.join(spec.column_names)} and "
                        "at least one row",
                    )
                )
            sheet = RawSheet(spec.name, title, _empty_frame(), {}, 0) if not spec.required else None
            return sheet, problems
        problems.append(
            Problem(
                Severity.ERROR,
                title,
                f"has no header row with {spec.id_column} in its first {HEADER_SEARCH_ROWS} rows; "
                f"put the column names ({', '.join(spec.column_names)}) in one row above the data",
            )
        )
        return None, problems

    header_row = header_index + 1
    positions: dict[str, int] = {}
    for index, header in enumerate(grid[header_index]):
        if _empty(header):
            if any(not _empty(_at(row, index)) for row in grid[header_index + 1 :]):
                problems.append(
                    Problem(
                        Severity.WARNING,
                        title,
                        f"column {column_letter(index)} has data but no header; it is ignored",
                        cell=f"{column_letter(index)}{header_row}",
                        row=header_row,
                    )
                )
            continue
        key = canonical(header)
        cell = f"{column_letter(index)}{header_row}"
        if key in spec.column_names and key not in positions:
            positions[key] = index
        elif key in positions:
            problems.append(
                Problem(
                    Severity.WARNING,
                    title,
                    f"column '{header}' repeats {key} (column {column_letter(positions[key])}); "
                    "it is ignored",
                    cell=cell,
                    row=header_row,
                    value=header,
                )
            )
        else:
            close = [f"{key}_id"] if f"{key}_id" in spec.column_names else []
            close = close or difflib.get_close_matches(key, spec.column_names, n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close and close[0] not in positions else ""
            problems.append(
                Problem(
                    Severity.WARNING,
                    title,
                    f"column '{header}' is not a {spec.title} column{hint}; it is ignored. "
                    f"{spec.title} columns: {', '.join(spec.column_names)}",
                    cell=cell,
                    row=header_row,
                    value=header,
                )
            )

    data_rows = len(grid) - header_row
    if data_rows > MAX_ROWS:
        raise _file_error(f"sheet {title} has {data_rows:,} rows; the most this tool reads is {MAX_ROWS:,}")

    columns = list(positions)
    indices = list(positions.values())
    records: list[list[object]] = []
    row_numbers: list[int] = []
    flagged: set[str] = set()
    for offset, cells in enumerate(grid[header_row:]):
        excel_row = header_row + offset + 1
        values = [_raw_value(_at(cells, i)) for i in indices]
        missing_saved = [i for i in indices if (excel_row, i) in uncached]
        if all(v is None for v in values) and not missing_saved:
            continue
        for index in missing_saved:
            column = columns[indices.index(index)]
            ref = f"{column_letter(index)}{excel_row}"
            flagged.add(ref)
            problems.append(
                Problem(
                    Severity.ERROR,
                    title,
                    "holds a formula with no saved value; open the file in Excel or LibreOffice, "
                    "let it calculate, and save it again",
                    cell=ref,
                    row=excel_row,
                    column=column,
                )
            )
            values[indices.index(index)] = None
        records.append(values)
        row_numbers.append(excel_row)
    frame = pd.DataFrame(records, columns=columns, index=pd.Index(row_numbers, name="row"), dtype=object)
    letters = {column: column_letter(index) for column, index in positions.items()}
    return RawSheet(spec.name, title, frame, letters, header_row, frozenset(flagged)), problems


def _find_header(spec: Sheet, grid: list[list[object]]) -> int | None:
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if any(not _empty(cell) and canonical(cell) == spec.id_column for cell in row):
            return index
    return None


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(index=pd.Index([], name="row", dtype=int), dtype=object)


def _raw_value(value: object) -> object:
    """A cell as read, with every kind of empty made ``None`` (and nothing else changed)."""
    if _empty(value):
        return None
    return value


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return value != value  # NaN
    return value is pd.NA or value is pd.NaT


def _at(row: list[object], index: int) -> object:
    return row[index] if index < len(row) else None


# --------------------------------------------------------------------------- helpers


def _check_size(size: int, display: str) -> None:
    if size > MAX_FILE_BYTES:
        raise _file_error(
            f"{display} is {_megabytes(size)}; the most this tool reads is {_megabytes(MAX_FILE_BYTES)}"
        )


def _megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 1e5 else f"{size:,.0f} bytes"


def _file_error(message: str) -> InvalidInput:
    return InvalidInput([Problem(Severity.ERROR, "file", message)])


def _one_line(reason: object) -> str:
    text = str(reason).strip().splitlines()
    line = text[0] if text else type(reason).__name__
    return line if len(line) <= 200 else line[:197] + "..."
