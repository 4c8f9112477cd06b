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
- the bytes of a workbook file plus its name, or CSV files as ``{name: bytes}`` (web
  uploads; read in memory, nothing is written to disk);
- inline tables for tests (:func:`read_tables`).

Files from outside are untrusted (SPEC: planners' files are messy, sometimes
malicious). Whatever arrives, reading either returns or raises
:class:`~optimiser.problems.InvalidInput` with a one-line reason, within bounds:

- :data:`MAX_FILE_BYTES` (50 MB) per file or CSV folder; :data:`MAX_UNPACKED_BYTES`
  (500 MB) unpacked and :data:`MAX_PARTS` (10,000) parts per zipped workbook (zip
  bombs); XML parts that declare entities (billion laughs, external entities) are
  refused;
- :data:`MAX_ROWS` (100,000) data rows, :data:`MAX_COLUMNS` (1,000) columns and
  :data:`MAX_CELLS` (10 million) cells per sheet;
- workbook files are parsed in a child process (:mod:`optimiser.read_sandbox`) limited
  to :data:`READ_MEMORY_BYTES` (1 GB) of memory and :data:`READ_TIME_S` (60 s), that
  writes no files: a file built to exhaust memory ends the child, never the tool.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import logging
import marshal
import os
import posixpath
import re
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd
from defusedxml import ElementTree as SafeElementTree

from optimiser.portfolio import InputFile
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.read_errors import error_cells
from optimiser.safe_text import one_line
from optimiser.schema import SHEETS, Sheet, canonical, column_letter

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Largest workbook (or CSV folder, all files together) read, in bytes."""
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
"""Largest total size of the parts inside a zipped workbook (guards against zip bombs).
The zip readers stop at each part's declared size, so the declared total bounds them."""
MAX_PARTS = 10_000
"""Most parts (files) inside a zipped workbook; a real one holds a few dozen."""
MAX_ROWS = 100_000
"""Most data rows read from one sheet."""
MAX_COLUMNS = 1_000
"""Most columns read from one sheet (up to column ALL); the tables need a dozen."""
MAX_CELLS = 10_000_000
"""Most cells of one sheet's area, from A1 to its last filled row and column."""
READ_MEMORY_BYTES = 1024 * 1024 * 1024
"""Address space of the child process that parses a workbook file (see
:mod:`optimiser.read_sandbox`); a file that needs more is refused, the tool keeps running."""
READ_TIME_S = 60
"""Wall-clock seconds the child process may take to parse a workbook file."""
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
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*\bt\s*=\s*[\"']e[\"']")
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
    uncached : cells (``"F7"``) holding a formula with no saved value or an error value
        (``#N/A``); they read as ``None`` and have already been reported.
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


CsvFiles = Mapping[str, bytes] | list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]
"""CSV files given in memory, one per sheet: ``{"missions.csv": bytes}`` or (name, bytes) pairs."""


def read_workbook(source: str | Path | bytes | CsvFiles, name: str | None = None) -> RawWorkbook:
    """Read a workbook, a folder of CSV files, or a workbook's bytes.

    Parameters
    ----------
    source : path of a ``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb`` or ``.ods`` file,
        path of a folder holding ``missions.csv``, ``zones.csv``, ..., the bytes
        of a workbook file, or CSV files as ``{"missions.csv": bytes, ...}`` or as
        ``[("missions.csv", bytes), ...]`` (web uploads; read in memory, never written
        to disk).
    name : the file's name when ``source`` is bytes (its extension helps tell an
        ``.xlsm`` from an ``.xlsx``); for a path or CSV files, an optional name to
        record instead of the path.

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
        picture, an empty, truncated or password-protected file, a zip that is not a
        workbook), is larger than :data:`MAX_FILE_BYTES` or unpacks to more than
        :data:`MAX_UNPACKED_BYTES`, declares XML entities, has a sheet with more
        than :data:`MAX_ROWS` rows, :data:`MAX_COLUMNS` columns or :data:`MAX_CELLS`
        cells, or needs more than :data:`READ_MEMORY_BYTES` of memory or
        :data:`READ_TIME_S` seconds to parse.
    RuntimeError
        when the child process that parses workbook files cannot be started.
    """
    started = time.perf_counter()
    if isinstance(source, Mapping):
        workbook = _read_csv_files_given(list(source.items()), name or "CSV files")
        display = workbook.source.path
    elif isinstance(source, list | tuple):
        workbook = _read_csv_files_given(list(source), name or "CSV files")
        display = workbook.source.path
    elif isinstance(source, bytes | bytearray | memoryview):
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
            workbook = _read_workbook_bytes(read_file_bounded(path, display), display)
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
            grid = _csv_grid(text, str(title))
            digest.update(f"{title}\0{text}\0".encode())
        grids.append((str(title), grid))
    source = InputFile(path="", format="memory", sha256=digest.hexdigest())
    return _assemble(grids, source)


# --------------------------------------------------------------------------- workbook files


def read_file_bounded(path: Path, display: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, at most ``limit`` of them.

    Opened without waiting (a named pipe would block the open for ever) and checked on
    the open file itself: a device (``/dev/zero`` never ends), a pipe or a socket, or a
    symbolic link to one, is refused, and so is a file that grows past ``limit`` while
    it is read, whatever its size said.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise _file_error(f"{display} cannot be read ({error.strerror or error})") from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a device"
            if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
                kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket"
            raise _file_error(f"{display} is {kind}, not a file; give a workbook file or a folder of CSV "
                              "files")
        _check_size(os.fstat(descriptor).st_size, display)
        chunks: list[bytes] = []
        size = 0
        while chunk := handle.read(min(_CHUNK_BYTES, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _file_error(
                    f"{display} is more than {_megabytes(limit)}; the most this tool reads is "
                    f"{_megabytes(limit)}"
                )
    return b"".join(chunks)


def _read_workbook_bytes(data: bytes, display: str) -> RawWorkbook:
    workbook_format = _detect_format(data, display)
    source = InputFile(path=display, format=workbook_format, sha256=hashlib.sha256(data).hexdigest())
    titles, hidden, parsed = _parse_isolated(data, display, workbook_format)
    wanted = _match_sheets(titles, hidden)
    blanked: dict[str, dict[tuple[int, int], str | None]] = {}
    if workbook_format in ("xlsx", "xlsm"):
        blanked = _cells_read_as_blank(data, wanted.values())
    elif workbook_format in ("ods", "xlsb", "xls"):
        blanked = dict(error_cells(data, workbook_format, wanted.values(), MAX_ROWS + HEADER_SEARCH_ROWS,
                                   MAX_COLUMNS))
    grids: list[tuple[str, list[list[object]]]] = []
    for title in titles:
        if wanted.get(canonical(title)) != title:
            grids.append((title, []))  # reported as an extra (or duplicate) sheet
        else:
            grids.append((title, parsed.get(title, [])))
    return _assemble(grids, source, blanked, hidden=frozenset(hidden), chosen=wanted)


_SANDBOX = Path(__file__).with_name("read_sandbox.py")
_SANDBOX_PROTOCOL = 1


def _parse_isolated(
    data: bytes, display: str, workbook_format: str
) -> tuple[list[str], list[str], dict[str, list[list[object]]]]:
    """The file's sheet titles, those of its hidden sheets, and the cells of the sheets this
    tool reads, parsed by python-calamine in a child process bounded by :data:`READ_MEMORY_BYTES` and
    :data:`READ_TIME_S` (see :mod:`optimiser.read_sandbox` for why)."""
    header = json.dumps(
        {
            "version": _SANDBOX_PROTOCOL,
            "wanted": sorted(SHEETS),
            "max_rows": MAX_ROWS + HEADER_SEARCH_ROWS,
            "max_columns": MAX_COLUMNS,
            "max_cells": MAX_CELLS,
            "memory_bytes": READ_MEMORY_BYTES,
            "cpu_seconds": READ_TIME_S + 5,
        }
    ).encode()
    request = len(header).to_bytes(4, "big") + header + data
    try:
        child = subprocess.run(
            [sys.executable, "-I", str(_SANDBOX)],
            input=request,
            capture_output=True,
            timeout=READ_TIME_S,
            check=False,
            env={**_child_environment(), "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"},
        )
    except subprocess.TimeoutExpired:
        raise _file_error(
            f"{display} took more than {READ_TIME_S} s to read; the most this tool allows one file is "
            f"{READ_TIME_S} s (is it far larger than its tables?)"
        ) from None
    except OSError as reason:
        raise RuntimeError(f"could not start the workbook reader ({_one_line(reason)})") from None
    result: object = None
    if child.returncode == 0:
        try:
            result = marshal.loads(child.stdout)
        except (EOFError, ValueError, TypeError):
            result = None
    if not isinstance(result, dict):
        raise _sandbox_failure(child, display, workbook_format)
    if "error" in result:
        raise _sandbox_error(list(result["error"]), display, workbook_format)
    titles = [str(t) for t in result.get("titles", [])]
    hidden = [str(t) for t in result.get("hidden", [])]
    grids = {
        str(title): [[_decoded(cell) for cell in row] for row in rows]
        for title, rows in dict(result.get("grids", {})).items()
    }
    return titles, hidden, grids


def _child_environment() -> dict[str, str]:
    """The parent's environment for the reader child, less the Rust and Python debugging
    switches that would make a crash print a backtrace."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("RUST_", "PYTHON"))}


def _decoded(cell: object) -> object:
    """A cell as the child sent it: dates and times come as tagged tuples."""
    if not isinstance(cell, tuple):
        return cell
    kind, text = cell
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "time":
        return dt.time.fromisoformat(text)
    if kind == "timedelta":
        return dt.timedelta(seconds=float(text))
    return str(text)


def _sandbox_error(error: list[object], display: str, workbook_format: str) -> Exception:
    """The one-line reason for an error the child reported."""
    kind = error[0]
    if kind == "password":
        return _file_error(f"{display} is password-protected; save a copy without a password")
    if kind == "unreadable":
        return _file_error(f"{display} could not be read as {workbook_format}: {error[1]}")
    if kind == "rows":
        return _file_error(
            f"sheet {error[1]} has {_count(error[2]):,} rows; the most this tool reads is {MAX_ROWS:,} "
            "per sheet"
        )
    if kind == "columns":
        columns = _count(error[2])
        return _file_error(
            f"sheet {error[1]} has {columns:,} columns (up to column {column_letter(columns - 1)}); the "
            f"most this tool reads is {MAX_COLUMNS:,} per sheet: delete the columns beyond the table"
        )
    if kind == "cells":
        rows, columns = _count(error[2]), _count(error[3])
        return _file_error(
            f"sheet {error[1]} spans {rows:,} rows by {columns:,} columns ({rows * columns:,} cells); the "
            f"most this tool reads is {MAX_CELLS:,} cells per sheet: delete the rows and columns beyond "
            "the table"
        )
    if kind == "memory":
        return _memory_error(display)
    if kind == "sheet":
        return _file_error(f"{display}: sheet {error[1]} could not be read: {error[2]}")
    return RuntimeError(f"the workbook reader failed ({kind})")


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | float | str) else 0


def _sandbox_failure(
    child: subprocess.CompletedProcess[bytes], display: str, workbook_format: str
) -> Exception:
    """The one-line reason when the child ended without an answer (killed by a limit, or crashed)."""
    stderr = child.stderr.decode("utf-8", errors="replace")
    logger.debug(  # the child's traceback or panic: for a developer's -v log, never the planner's screen
        "the workbook reader stopped on %s (exit %s): %s", display, child.returncode, stderr[-2000:]
    )
    if "memory allocation" in stderr or "MemoryError" in stderr or "out of memory" in stderr.lower():
        return _memory_error(display)
    if child.returncode in (-24, 152):  # SIGXCPU: the CPU-time limit
        return _file_error(f"{display} took more than {READ_TIME_S} s to read; the most this tool allows is "
                           f"{READ_TIME_S} s")
    # The child's last words are a Python traceback or a Rust panic: for the log (above), not
    # the planner. Its exception's one-line reason, when it had one, is enough.
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    if "panicked" in stderr or last.startswith(("note:", "stack backtrace", "[")) or not last:
        reason = f" (exit {child.returncode})"
    else:
        reason = f": {last[:200]}"
    return _file_error(f"{display} could not be read as {workbook_format}: the file is damaged or not a "
                       f"{workbook_format} workbook; the reader stopped{reason}")


def _memory_error(display: str) -> InvalidInput:
    return _file_error(
        f"{display} needs more than {READ_MEMORY_BYTES / 2**30:.3g} GB of memory to read, the most this tool "
        "allows one file: a sheet reaches far beyond its table (look for a value far below or to the "
        f"right of it) or holds more than {MAX_CELLS:,} cells"
    )


def _detect_format(data: bytes, display: str) -> str:
    """The workbook format from the file's content (its extension only tells .xlsm)."""
    suffix = Path(display).suffix.lower()
    if not data:
        raise _file_error(f"{display} is empty")
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = archive.infolist()
                if len(parts) > MAX_PARTS:
                    raise _file_error(
                        f"{display} is a zip of {len(parts):,} files; a workbook holds a few dozen "
                        f"(the most this tool reads is {MAX_PARTS:,})"
                    )
                names = {info.filename for info in parts}
                unpacked = sum(info.file_size for info in parts)
                if unpacked > MAX_UNPACKED_BYTES:
                    raise _file_error(
                        f"{display} unpacks to {_megabytes(unpacked)}; the most this tool reads is "
                        f"{_megabytes(MAX_UNPACKED_BYTES)}"
                    )
                mimetype = _start_of(archive, "mimetype", 100) if "mimetype" in names else b""
                declaring = _part_declaring_entities(archive, parts)
        except InvalidInput:
            raise
        except Exception:  # zipfile and zlib raise many types for damaged archives
            raise _file_error(f"{display} is damaged (a truncated or corrupt zip); save it again") from None
        if declaring:
            raise _file_error(
                f"{display} declares XML entities (<!DOCTYPE> in {declaring}), which spreadsheet programs "
                "never write; it is refused as unsafe"
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
    start = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body")) or (
        start.startswith(b"<") and b"<table" in data[:65536].lower()
    ):
        raise _file_error(
            f"{display} is a web page (HTML) saved under a workbook's name, as web systems export "
            "tables; open it in Excel or LibreOffice and save it as .xlsx (File > Save As)"
        )
    if start.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:65536]:
        raise _file_error(
            f"{display} is an XML Spreadsheet 2003 file, not a workbook this tool reads; open it in Excel "
            "or LibreOffice and save it as .xlsx"
        )
    if suffix in (".csv", ".txt", ".tsv"):
        raise _file_error(
            f"{display} is a single text file; give a folder of CSV files named after the sheets "
            "(missions.csv, zones.csv, ...) or a workbook"
        )
    raise _file_error(f"{display} is not a workbook; expected {_ACCEPTED}")


_DOCTYPE = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_PROLOG_BYTES = 64 * 1024


def _start_of(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    with archive.open(name) as part:
        return part.read(size)


def _part_declaring_entities(archive: zipfile.ZipFile, parts: list[zipfile.ZipInfo]) -> str | None:
    """The first XML part that opens with a document type declaration, if any.

    No spreadsheet program writes one; in a file sent to a server it is an attack
    (entity expansion, "billion laughs", or external entities that read local files).
    calamine and defusedxml refuse the entities anyway; this check names the reason.
    A declaration must come before the root element, so the start of each part is
    enough (a part that hides one further down is refused by the parsers).
    """
    for info in parts:
        if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as part:
            start = part.read(_PROLOG_BYTES)
        if any(marker in start for marker in _DOCTYPE):
            return info.filename
    return None


def _cells_read_as_blank(
    data: bytes, titles: Iterable[str]
) -> dict[str, dict[tuple[int, int], str | None]]:
    """Cells that calamine reads as empty but are not, per sheet title: (Excel row,
    column index) -> the error value (``t="e"``: ``"#N/A"``, ``"#DIV/0!"``, a typed one or
    a formula's saved one), or ``None`` for a formula with no saved value.

    calamine reads both kinds as empty, exactly like an empty cell, so the sheet's XML is
    scanned: a ``<c t="e">``, or a ``<c>`` with an ``<f>`` child and no (or an empty)
    ``<v>``. A byte search first rules out the usual case (no error, no formula without
    its value); only a sheet with a candidate is parsed, with defusedxml's streaming
    parser. Both stream the part from the zip, a megabyte at a time: the tool never holds
    a whole sheet's XML.
    """
    found: dict[str, dict[tuple[int, int], str | None]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = _sheet_parts(archive)
            for title in titles:
                part = parts.get(title)
                if part is None or part not in archive.namelist():
                    continue
                with archive.open(part) as stream:
                    candidate = _has_formula_without_value(stream)
                if candidate:
                    with archive.open(part) as stream:
                        cells = _scan_sheet_xml(stream)
                    if cells:
                        found[title] = cells
    except Exception as reason:  # calamine has read the file; a scan failure only loses this check
        logger.warning("could not scan for error values and formulas without saved values: %s",
                       _one_line(reason))
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


_CHUNK_BYTES = 1024 * 1024
_OVERLAP_BYTES = 64 * 1024  # longer than any formula (Excel allows 8,192 characters)


def _has_formula_without_value(stream: IO[bytes]) -> bool:
    """Whether a sheet's XML, read in chunks, holds a candidate for :func:`_scan_sheet_xml`."""
    tail = b""
    while chunk := stream.read(_CHUNK_BYTES):
        window = tail + chunk
        if _FORMULA_WITHOUT_VALUE.search(window) or _ERROR_CELL.search(window):
            return True
        tail = window[-_OVERLAP_BYTES:]
    return False


def _scan_sheet_xml(xml: bytes | IO[bytes]) -> dict[tuple[int, int], str | None]:
    """(row, column index) -> error value of error cells, ``None`` for formula cells with no
    saved value, by a streaming parse."""
    found: dict[tuple[int, int], str | None] = {}
    row, column = 0, -1
    source = io.BytesIO(xml) if isinstance(xml, bytes) else xml
    for event, element in SafeElementTree.iterparse(source, events=("start", "end")):
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
            if element.get("t") == "e":
                found[(row, column)] = ((saved.text or "").strip() if saved is not None else "") or "(error)"
            elif formula is not None:
                # an empty <v> is a saved empty text only for a text formula (t="str")
                no_saved = saved is None or (not saved.text and element.get("t") != "str")
                if no_saved:
                    found[(row, column)] = None
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
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() == ".csv" and not p.is_dir()),
                   key=lambda p: p.name)
    if not files:
        raise _file_error(
            f"{display} is a folder without CSV files; expected missions.csv, zones.csv, ... "
            "(one file per sheet)"
        )
    contents: list[tuple[str, bytes]] = []
    left = MAX_FILE_BYTES
    for path in files:  # each read with what is left of the folder's bound: a device never ends
        data = read_file_bounded(path, f"{display}/{path.name}", left)
        left -= len(data)
        contents.append((path.name, data))
    return _read_csv_files(contents, display)


def _read_csv_files(files: list[tuple[str, bytes]], display: str) -> RawWorkbook:
    """CSV files given as (file name, bytes), one per sheet, sorted by name."""
    _check_size(sum(len(data) for _, data in files), display)
    digest = hashlib.sha256()
    grids: list[tuple[str, list[list[object]]]] = []
    decoding_problems: list[Problem] = []
    for file_name, data in sorted(files):
        digest.update(file_name.encode() + b"\0" + data + b"\0")
        try:
            text = _decode_csv(data)
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            decoding_problems.append(
                Problem(Severity.WARNING, file_name, "is not UTF-8; read as Windows-1252 (save as CSV UTF-8)")
            )
        grids.append((file_name, _csv_grid(text, file_name)))
    source = InputFile(path=display, format="csv", sha256=digest.hexdigest())
    workbook = _assemble(grids, source, csv_names=True)
    if decoding_problems:
        workbook = RawWorkbook(workbook.sheets, workbook.source, (*decoding_problems, *workbook.problems))
    return workbook


def _read_csv_files_given(files: list[tuple[str, bytes]], display: str) -> RawWorkbook:
    """Uploaded CSV files, read in memory: (file name, bytes) pairs."""
    try:
        named = [(Path(str(name)).name, bytes(data)) for name, data in files]
    except (TypeError, ValueError):
        raise _file_error(f"{display}: give CSV files as (name, bytes) pairs") from None
    others = [name for name, _ in named if not name.lower().endswith(".csv")]
    if others or not named:
        listed = f"; got {', '.join(others)}" if others else ""
        raise _file_error(
            f"{display}: give only CSV files named after the sheets (missions.csv, zones.csv, ...){listed}"
        )
    names = [name for name, _ in named]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _file_error(f"{display}: two files are named {', '.join(repeated)}; give each sheet once")
    return _read_csv_files(named, display)


_UNICODE_MARKS = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)


def _decode_csv(data: bytes) -> str:
    """A CSV file's text: UTF-16 or UTF-32 when it starts with their byte-order mark (Excel's
    "Unicode text"), else UTF-8 with or without one. Raises UnicodeDecodeError otherwise."""
    for mark, encoding in _UNICODE_MARKS:
        if data.startswith(mark):
            return data.decode(encoding)  # the codec reads the mark and drops it
    return data.decode("utf-8-sig")


_CSV_SNIFF_CHARS = 64 * 1024


def _csv_grid(text: str, title: str = "CSV") -> list[list[object]]:
    """Rows of a CSV text (values as text, empty as ``None``, trailing empty cells left
    out), separator sniffed; refused past :data:`MAX_ROWS` rows, :data:`MAX_COLUMNS`
    columns or :data:`MAX_CELLS` cells, before they are all held in memory."""
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    grid: list[list[object]] = []
    cells = 0
    most_rows = MAX_ROWS + HEADER_SEARCH_ROWS
    try:
        for record in reader:
            row: list[object] = [cell if cell.strip() else None for cell in record]
            while row and row[-1] is None:
                row.pop()
            if len(row) > MAX_COLUMNS:
                raise _file_error(
                    f"sheet {title} has {len(row):,} columns on line {reader.line_num:,}; the most this tool "
                    f"reads is {MAX_COLUMNS:,} per sheet"
                )
            cells += len(row)
            if cells > MAX_CELLS:
                raise _file_error(
                    f"sheet {title} has more than {MAX_CELLS:,} cells; the most this tool reads is "
                    f"{MAX_CELLS:,} per sheet"
                )
            grid.append(row)
            if len(grid) > most_rows:
                raise _file_error(
                    f"sheet {title} has more than {MAX_ROWS:,} rows; the most this tool reads is "
                    f"{MAX_ROWS:,} per sheet"
                )
    except csv.Error as reason:
        raise _file_error(
            f"{title} could not be read as CSV (line {reader.line_num:,}): {_one_line(reason)}"
        ) from None
    return grid


def _sniff_delimiter(text: str) -> str:
    """The separator among ``,`` ``;`` tab and ``|`` that splits the first lines most
    consistently into more than one field."""
    lines = [line for line in text[:_CSV_SNIFF_CHARS].splitlines()[:50] if line.strip()]
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


def _match_sheets(titles: Iterable[str], hidden: Iterable[str] = ()) -> dict[str, str]:
    """Canonical name -> the title read, for the sheets the tool knows: the first visible
    sheet of that name, else the first hidden one (the child reader uses the same rule)."""
    hidden_titles = set(hidden)
    wanted: dict[str, str] = {}
    for title in sorted(titles, key=lambda t: t in hidden_titles):  # stable: visible ones first
        key = canonical(title)
        if key in SHEETS and key not in wanted:
            wanted[key] = title
    return wanted


EXTRA_SHEETS_LISTED = 5
"""Extra sheets warned about one by one; the rest are counted in one more warning."""


def _assemble(
    grids: list[tuple[str, list[list[object]]]],
    source: InputFile,
    blanked: Mapping[str, Mapping[tuple[int, int], str | None]] | None = None,
    csv_names: bool = False,
    hidden: frozenset[str] = frozenset(),
    chosen: Mapping[str, str] | None = None,
) -> RawWorkbook:
    """Turn (title, grid of cells) pairs into a :class:`RawWorkbook`, collecting problems.

    ``blanked`` gives, per title, the cells the parser read as empty that were not:
    (Excel row, column index) -> an Excel error value (``"#N/A"``), or ``None`` for a
    formula with no saved value. ``hidden`` names the hidden sheets; ``chosen`` the
    title read for each sheet name (default: the first). In a workbook file, cells say
    whether they hold an error or a text (``'#N/A`` typed with an apostrophe is a text);
    in CSV files and inline tables (format ``csv``, ``memory``), which have no types, a
    cell whose whole text is an error value (``#N/A``, as Excel exports it) is one.
    """
    text_errors = source.format in ("csv", "memory")
    problems: list[Problem] = []
    sheets: dict[str, RawSheet] = {}
    unreadable: set[str] = set()  # known sheets already reported as unusable
    extras: list[Problem] = []
    for title, grid in grids:
        stem = Path(title).stem if csv_names else title
        key = canonical(stem)
        if csv_names and key not in SHEETS:
            key = _exported_sheet_name(stem) or key
        if key not in SHEETS:
            if key not in IGNORED_SHEETS:
                extras.append(_extra_sheet(title, stem))
                if len(extras) <= EXTRA_SHEETS_LISTED:
                    problems.append(extras[-1])
            continue
        read_title = (chosen or {}).get(key)
        if key in sheets or (read_title is not None and read_title != title):
            other = sheets[key].title if key in sheets else read_title
            seen = " (hidden)" if title in hidden else ""
            kept = " (visible)" if title in hidden and other not in hidden else ""
            problems.append(
                Problem(
                    Severity.WARNING,
                    title,
                    f"is a second {SHEETS[key].title} sheet{seen}; {plain_text(other)}{kept} is read and "
                    "this one is ignored",
                )
            )
            continue
        if key in unreadable:
            continue
        if title in hidden:
            problems.append(
                Problem(
                    Severity.WARNING,
                    title,
                    f"is hidden in the workbook; it is read as the {SHEETS[key].title} sheet (unhide it to "
                    "check what is planned)",
                )
            )
        cells_blanked = (blanked or {}).get(title, {})
        sheet, sheet_problems = _read_sheet(SHEETS[key], title, grid, cells_blanked, text_errors)
        problems.extend(sheet_problems)
        if sheet is None:
            unreadable.add(key)
        else:
            sheets[key] = sheet
    if len(extras) > EXTRA_SHEETS_LISTED:
        rest = extras[EXTRA_SHEETS_LISTED:]
        listed = ", ".join(plain_text(p.sheet, 30) for p in rest[:3])
        problems.append(
            Problem(
                Severity.WARNING,
                "file",
                f"{len(rest):,} more sheets are not sheets this tool reads ({listed}, ...); they are ignored",
            )
        )
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


def _exported_sheet_name(stem: str) -> str | None:
    """The sheet of a CSV file exported whole from a workbook, named after both:
    Google Sheets writes "Portfolio - Missions.csv", LibreOffice "Portfolio-Missions.csv"."""
    for separator in (" - ", "-"):
        if separator in stem:
            key = canonical(stem.rsplit(separator, 1)[1])
            if key in SHEETS:
                return key
    return canonical(stem.rsplit(" - ", 1)[1]) if " - " in stem else None


def _extra_sheet(title: str, stem: str) -> Problem:
    close = difflib.get_close_matches(canonical(stem), list(SHEETS), n=1, cutoff=0.75)
    hint = f" (did you mean {SHEETS[close[0]].title}?)" if close else ""
    known = ", ".join(s.title for s in SHEETS.values())
    return Problem(
        Severity.WARNING, title, f"is not a sheet this tool reads{hint}; it is ignored. Sheets read: {known}"
    )


def _read_sheet(
    spec: Sheet,
    title: str,
    grid: list[list[object]],
    blanked: Mapping[tuple[int, int], str | None],
    text_errors: bool = False,
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
                    f"column '{plain_text(header)}' repeats {key} (column {column_letter(positions[key])}); "
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
                    f"column '{plain_text(header)}' is not a {spec.title} column{hint}; it is ignored. "
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
        marks = {i: blanked[(excel_row, i)] for i in indices if (excel_row, i) in blanked}
        for position, index in enumerate(indices):
            code = error_value(values[position]) if text_errors else None
            if code is not None:
                marks.setdefault(index, code)
        if all(v is None for v in values) and not marks:
            continue
        for index, code in marks.items():
            position = indices.index(index)
            ref = f"{column_letter(index)}{excel_row}"
            flagged.add(ref)
            if code is None:
                message = (
                    "holds a formula with no saved value; open the file in Excel or LibreOffice, "
                    "let it calculate, and save it again"
                )
            else:
                message = (
                    f"'{plain_text(code)}' is a spreadsheet error, not a value; fix the formula or lookup "
                    "that gives it (an error is never read as blank)"
                )
            problems.append(
                Problem(Severity.ERROR, title, message, cell=ref, row=excel_row, column=columns[position],
                        value=code)
            )
            values[position] = None
        records.append(values)
        row_numbers.append(excel_row)
    frame = pd.DataFrame(records, columns=columns, index=pd.Index(row_numbers, name="row"), dtype=object)
    letters = {column: column_letter(index) for column, index in positions.items()}
    return RawSheet(spec.name, title, frame, letters, header_row, frozenset(flagged)), problems


ERROR_VALUES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
     "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#PYTHON!", "#EXTERNAL!"}
)
"""Excel's error values, as a cell shows them (and as CSV exports write them)."""
_LIBREOFFICE_ERROR = re.compile(r"Err:\d{3}|#N/A|#NAME\?|#VALUE!|#REF!|#DIV/0!|#NUM!|#NULL!")


def error_value(value: object) -> str | None:
    """The error value a cell holds (``"#N/A"``; LibreOffice's ``"Err:502"``), else ``None``."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    if text in ERROR_VALUES:
        return text
    return value.strip() if _LIBREOFFICE_ERROR.fullmatch(value.strip()) else None


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
    return InvalidInput([Problem(Severity.ERROR, "file", plain_text(message, MESSAGE_CHARS))])


MESSAGE_CHARS = 1_000
"""Longest problem message; a value quoted in it is cut to :data:`QUOTED_CHARS`."""
QUOTED_CHARS = 60


def plain_text(text: object, limit: int = QUOTED_CHARS) -> str:
    """Text from a file made safe to show on one line of a message (see
    :func:`optimiser.safe_text.one_line`)."""
    return one_line(text, limit)


def _one_line(reason: object) -> str:
    text = str(reason).strip().splitlines()
    line = text[0] if text else type(reason).__name__
    return line if len(line) <= 200 else line[:197] + "..."
