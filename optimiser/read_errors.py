"""Find the Excel error values (``#N/A``, ``#DIV/0!`` ...) that python-calamine reads as blank.

calamine hands an error cell over as an empty cell, and blank means "unlimited" for an
``available`` or "no cap" for a ``personnel_cap``: a lookup that failed in the planner's
workbook would silently remove a limit. :mod:`optimiser.read` therefore scans each
sheet it reads for error cells, in the file itself, and reports each one as an error
naming its cell. ``.xlsx``/``.xlsm`` sheets are scanned in :mod:`optimiser.read` with
the check for formulas without a saved value; this module scans the other formats:

- ``.ods``: cells of ``calcext:value-type="error"`` (LibreOffice), or formula cells
  whose shown text is an error value, in ``content.xml`` (streamed with defusedxml);
- ``.xlsb``: the binary records ``BrtCellError`` and ``BrtFmlaError`` of each sheet
  part ([MS-XLSB] 2.4), streamed from the zip;
- ``.xls``: the ``BOOLERR`` and ``FORMULA`` records holding an error ([MS-XLS] 2.4)
  of each sheet's substream in the ``Workbook`` stream, read from the compound file
  ([MS-CFB]) by the small reader here.

Only the first ``max_rows`` rows and ``max_columns`` columns are scanned: the reader
refuses larger sheets anyway. A file this module cannot scan loses only this check.
"""

from __future__ import annotations

import io
import logging
import posixpath
import struct
import zipfile
from collections.abc import Iterable
from typing import IO

from defusedxml import ElementTree as SafeElementTree

from optimiser.problems import InvalidInput, Problem, Severity

logger = logging.getLogger(__name__)

Cells = dict[tuple[int, int], str | None]
"""(1-based Excel row, 0-based column index) -> the error value shown (``"#N/A"``)."""

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_TEXT_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")

# [MS-XLSB] 2.5.97.2 BErr: the error codes of BrtCellError and BrtFmlaError.
XLSB_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
               0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
MAX_ERROR_CELLS = 100_000
"""Most error cells reported in one sheet; a sheet with more is refused as a whole."""
_BRT_ROW_HDR, _BRT_CELL_ERROR, _BRT_FMLA_ERROR, _BRT_BUNDLE_SH = 0x0000, 0x0003, 0x000B, 0x009C


def error_cells(
    data: bytes, workbook_format: str, titles: Iterable[str], max_rows: int, max_columns: int
) -> dict[str, Cells]:
    """Error cells per sheet title, for the sheets named in ``titles``.

    Parameters
    ----------
    data : the workbook file's bytes.
    workbook_format : ``"ods"``, ``"xlsb"`` or ``"xls"`` (anything else finds nothing).
    titles : the sheets to scan, as titled in the file.
    max_rows, max_columns : how far to scan.
    """
    wanted = set(titles)
    try:
        if workbook_format == "xls":
            return _xls_errors(data, wanted, max_rows, max_columns)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if workbook_format == "ods":
                with archive.open("content.xml") as stream:
                    return _ods_errors(stream, wanted, max_rows, max_columns)
            if workbook_format == "xlsb":
                return _xlsb_errors(archive, wanted, max_rows, max_columns)
    except InvalidInput:
        raise
    except Exception as reason:  # calamine has read the file; a scan failure only loses this check
        logger.warning("could not scan %s for error values: %s", workbook_format, reason)
    return {}


# --------------------------------------------------------------------------- OpenDocument


def _ods_errors(stream: IO[bytes], wanted: set[str], max_rows: int, max_columns: int) -> dict[str, Cells]:
    found: dict[str, Cells] = {}
    title: str | None = None
    row = column = 0
    rows_repeated = 1
    for event, element in SafeElementTree.iterparse(stream, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{{{_TABLE}}}table":
                name = element.get(f"{{{_TABLE}}}name")
                title = name if name in wanted else None
                row = 0
            elif tag == f"{{{_TABLE}}}table-row" and title is not None:
                rows_repeated = _count(element.get(f"{{{_TABLE}}}number-rows-repeated"))
                column = 0
            continue
        if title is None:
            if tag == f"{{{_TABLE}}}table":
                element.clear()
            continue
        if tag in (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"):
            repeated = _count(element.get(f"{{{_TABLE}}}number-columns-repeated"))
            code = _ods_error(element)
            if code is not None and row < max_rows:
                columns = min(repeated, max(0, max_columns - column))
                rows = min(rows_repeated, max_rows - row)
                cells = found.setdefault(title, {})
                if len(cells) + columns * rows > MAX_ERROR_CELLS:
                    raise _too_many(title)
                for offset in range(columns):
                    for extra_row in range(rows):
                        cells[(row + extra_row + 1, column + offset)] = code
            column += repeated
            element.clear()
        elif tag == f"{{{_TABLE}}}table-row":
            row += rows_repeated
            element.clear()
        elif tag == f"{{{_TABLE}}}table":
            title = None
            element.clear()
    return found


def _ods_error(cell: object) -> str | None:
    get = cell.get  # type: ignore[attr-defined]
    text = " ".join("".join(cell.itertext()).split())  # type: ignore[attr-defined]
    if get(f"{{{_CALCEXT}}}value-type") == "error":
        return text or "(error)"
    if get(f"{{{_TABLE}}}formula") and (text in _TEXT_ERRORS or text.startswith("Err:")):
        return text
    return None


def _count(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


# --------------------------------------------------------------------------- Excel binary


def _xlsb_errors(
    archive: zipfile.ZipFile, wanted: set[str], max_rows: int, max_columns: int
) -> dict[str, Cells]:
    parts = _xlsb_sheet_parts(archive)
    found: dict[str, Cells] = {}
    names = set(archive.namelist())
    for title in wanted:
        part = parts.get(title)
        if part is None or part not in names:
            continue
        with archive.open(part) as raw:
            buffered = io.BufferedReader(raw, 1024 * 1024)  # type: ignore[type-var]
            cells = _xlsb_sheet_errors(buffered, max_rows, max_columns)
        if cells:
            found[title] = cells
    return found


def _xlsb_sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> path of its part, from ``BrtBundleSh`` records and the relationships."""
    rels = SafeElementTree.fromstring(archive.read("xl/_rels/workbook.bin.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels if rel.tag.endswith("Relationship")}
    parts: dict[str, str] = {}
    with archive.open("xl/workbook.bin") as stream:
        for kind, payload in _records(stream, {_BRT_BUNDLE_SH}):
            if kind != _BRT_BUNDLE_SH or len(payload) < 12:
                continue
            relation, offset = _wide_string(payload, 8)
            name, _ = _wide_string(payload, offset)
            target = targets.get(relation, "")
            if target:
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join("xl", target))
                parts[name] = path
    return parts


def _wide_string(payload: bytes, offset: int) -> tuple[str, int]:
    """An XLWideString (4-byte character count, UTF-16LE) at ``offset``; and the offset after it."""
    count = int.from_bytes(payload[offset : offset + 4], "little")
    if count == 0xFFFFFFFF:
        return "", offset + 4
    end = offset + 4 + 2 * count
    return payload[offset + 4 : end].decode("utf-16-le", errors="replace"), end


def _xlsb_sheet_errors(stream: IO[bytes], max_rows: int, max_columns: int) -> Cells:
    found: Cells = {}
    row = 0
    for kind, payload in _records(stream, {_BRT_ROW_HDR, _BRT_CELL_ERROR, _BRT_FMLA_ERROR}):
        if kind == _BRT_ROW_HDR and len(payload) >= 4:
            row = int.from_bytes(payload[:4], "little")
            if row >= max_rows:
                break
        elif kind in (_BRT_CELL_ERROR, _BRT_FMLA_ERROR) and len(payload) >= 9:
            column = int.from_bytes(payload[:4], "little")
            if column < max_columns:
                found[(row + 1, column)] = XLSB_ERRORS.get(payload[8], "(error)")
                if len(found) > MAX_ERROR_CELLS:
                    raise _too_many("a sheet")
    return found


def _too_many(title: str) -> InvalidInput:
    return InvalidInput([Problem(Severity.ERROR, title, f"holds more than {MAX_ERROR_CELLS:,} error values "
                                 "(#N/A, #REF! ...); fix the formulas they come from")])


def _records(stream: IO[bytes], kept: set[int]) -> Iterable[tuple[int, bytes]]:
    """(record type, payload) of a BIFF12 stream; payloads of other types are read and dropped."""
    read = stream.read
    while True:
        first = read(1)
        if not first:
            return
        kind = first[0]
        if kind & 0x80:
            second = read(1)
            if not second:
                return
            kind = (kind & 0x7F) | ((second[0] & 0x7F) << 7)
        size = 0
        for shift in (0, 7, 14, 21):
            byte = read(1)
            if not byte:
                return
            size |= (byte[0] & 0x7F) << shift
            if not byte[0] & 0x80:
                break
        payload = read(size)
        if len(payload) < size:
            return
        if kind in kept:
            yield kind, payload


# --------------------------------------------------------------------------- Excel 97-2003


_END_OF_CHAIN, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
_NOT_A_NUMBER = b"\xff\xff"  # fExprO of a FORMULA whose saved value is not a number
_EOF, _BOUNDSHEET, _BOOLERR, _FORMULA = 0x000A, 0x0085, 0x0205, 0x0006


def _xls_errors(data: bytes, wanted: set[str], max_rows: int, max_columns: int) -> dict[str, Cells]:
    stream = compound_stream(data, ("Workbook", "Book"))
    if stream is None:
        return {}
    found: dict[str, Cells] = {}
    for title, offset in _xls_sheets(stream):
        if title not in wanted:
            continue
        cells: Cells = {}
        for kind, payload in _biff_records(stream, offset):
            if kind == _EOF:
                break
            if len(payload) < 8:
                continue
            row, column = struct.unpack_from("<HH", payload)
            if row >= max_rows or column >= max_columns:
                continue
            if kind == _BOOLERR and payload[7] == 1:
                cells[(row + 1, column)] = XLSB_ERRORS.get(payload[6], "(error)")
            elif kind == _FORMULA and payload[6:7] == b"\x02" and payload[12:14] == _NOT_A_NUMBER:
                cells[(row + 1, column)] = XLSB_ERRORS.get(payload[8], "(error)")
            if len(cells) > MAX_ERROR_CELLS:
                raise _too_many(title)
        if cells:
            found[title] = cells
    return found


def _xls_sheets(stream: bytes) -> list[tuple[str, int]]:
    """(title, offset of its BOF) of each sheet, from the BOUNDSHEET records of the globals."""
    sheets: list[tuple[str, int]] = []
    for kind, payload in _biff_records(stream, 0):
        if kind == _EOF:
            break
        if kind != _BOUNDSHEET or len(payload) < 8:
            continue
        offset, count, flags = struct.unpack_from("<I", payload)[0], payload[6], payload[7]
        if flags & 1:  # BIFF8 ShortXLUnicodeString: 16-bit characters
            name = payload[8 : 8 + 2 * count].decode("utf-16-le", errors="replace")
        else:
            name = payload[8 : 8 + count].decode("latin-1")
        sheets.append((name, offset))
    return sheets


def _biff_records(stream: bytes, offset: int) -> Iterable[tuple[int, bytes]]:
    while offset + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, offset)
        yield kind, stream[offset + 4 : offset + 4 + size]
        offset += 4 + size


def compound_stream(data: bytes, names: Iterable[str]) -> bytes | None:
    """The first stream of a compound file ([MS-CFB], the container of ``.xls``) whose
    name is in ``names``, or ``None``; chains are followed at most once per sector."""
    if len(data) < 512 or not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return None
    sector_size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    directory_start, = struct.unpack_from("<I", data, 0x30)
    cutoff, mini_fat_start, _, difat_start, difat_count = struct.unpack_from("<IIIII", data, 0x38)
    sectors = max(0, (len(data) - sector_size) // sector_size)

    def sector(number: int) -> bytes:
        start = (number + 1) * sector_size
        return data[start : start + sector_size]

    fat_sectors = [n for n in struct.unpack_from("<109I", data, 0x4C) if n < sectors]
    next_difat, seen = difat_start, 0
    while next_difat < sectors and seen < difat_count:
        more = struct.unpack(f"<{sector_size // 4}I", sector(next_difat))
        fat_sectors += [n for n in more[:-1] if n < sectors]
        next_difat, seen = more[-1], seen + 1
    fat = [entry for n in fat_sectors for entry in struct.unpack(f"<{sector_size // 4}I", sector(n))]

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        found: list[int] = []
        while start < len(table) and start < limit and len(found) <= limit:
            found.append(start)
            start = table[start]
        return found

    def read(start: int) -> bytes:
        return b"".join(sector(n) for n in chain(start, fat, sectors))

    directory = read(directory_start)
    entries = [directory[i : i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        return None
    wanted = set(names)
    root_start, root_size = struct.unpack_from("<IQ", entries[0], 0x74)
    for entry in entries:
        length = min(64, struct.unpack_from("<H", entry, 0x40)[0])
        name = entry[: max(0, length - 2)].decode("utf-16-le", errors="replace")
        if entry[0x42] != 2 or name not in wanted:
            continue
        start, size = struct.unpack_from("<IQ", entry, 0x74)
        if size >= cutoff:
            return read(start)[:size]
        mini_stream = read(root_start)[:root_size]
        mini_fat_bytes = read(mini_fat_start)
        mini_fat = list(struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes))
        pieces = chain(start, mini_fat, len(mini_stream) // mini_size + 1)
        return b"".join(mini_stream[n * mini_size : (n + 1) * mini_size] for n in pieces)[:size]
    return None
