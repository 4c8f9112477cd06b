"""Parse an untrusted workbook in a child process whose memory and time are bounded.

Run as a script by :mod:`optimiser.read` (``python -I read_sandbox.py``), never
imported by the package: it needs nothing but the standard library and
python-calamine, so the child starts in a few tens of milliseconds.

Why a child process: calamine lays a sheet out as a dense grid from its first to its
last filled cell. A 1.5 KB ``.xlsx`` holding one value in A1 and one in XFD1048576
asks for 17 billion cells; the allocation fails inside Rust, which aborts the whole
process (a web server included) instead of raising. Here, the child runs under an
address-space limit (``RLIMIT_AS``), writes no files (``RLIMIT_FSIZE`` 0), and the
parent kills it after a time limit, so any such file only ends the child and the
planner gets a one-line reason.

Protocol, on standard input: a 4-byte big-endian length, a JSON header of that
length ``{"wanted": [canonical sheet names], "max_rows": int, "max_columns": int,
"max_cells": int, "memory_bytes": int, "cpu_seconds": int}``, then the file's bytes.
On standard output: one :mod:`marshal` record ``{"titles": [...], "hidden": [titles of
hidden sheets], "grids": {title: rows}}`` or ``{"error": [kind, detail...]}``. Cells are
``None``, ``bool``, ``int``, ``float`` or ``str``; dates and times are tagged tuples
(``("date", "2027-01-31")``, ``("timedelta", seconds)``) since marshal carries no
datetime. Trailing empty cells of a row are left out.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import marshal
import re
import sys
from collections.abc import Sequence

PROTOCOL_VERSION = 1


def canonical(name: object) -> str:
    """The same rule as :func:`optimiser.schema.canonical` (a test keeps them equal)."""
    text = str(name).strip().lower()
    text = re.sub(r"[\s\-_]+", "_", text)
    return text.strip("_")


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform (Windows): the parent's time limit still holds
        return
    for limit, value in (
        ("RLIMIT_AS", memory_bytes),
        ("RLIMIT_CPU", cpu_seconds),
        ("RLIMIT_FSIZE", 0),  # the child never writes a file
        ("RLIMIT_CORE", 0),  # nor dumps the file's contents in a core file
    ):
        kind = getattr(resource, limit, None)
        if kind is None or (value <= 0 and limit in ("RLIMIT_AS", "RLIMIT_CPU")):
            continue
        try:
            _, hard = resource.getrlimit(kind)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError):
            pass


def _cell(value: object) -> object:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat())
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    if isinstance(value, dt.time):
        return ("time", value.isoformat())
    if isinstance(value, dt.timedelta):
        return ("timedelta", value.total_seconds())
    return str(value)


def _row(cells: Sequence[object]) -> list[object]:
    end = len(cells)
    while end and (cells[end - 1] is None or cells[end - 1] == ""):
        end -= 1
    return [_cell(c) for c in cells[:end]]


def _one_line(reason: BaseException) -> str:
    lines = str(reason).strip().splitlines()
    line = lines[0] if lines else type(reason).__name__
    return line if len(line) <= 200 else line[:197] + "..."


def parse(data: bytes, header: dict[str, object]) -> dict[str, object]:
    """The sheets named in ``header["wanted"]``, or an error, as plain data."""
    import python_calamine

    wanted = set(header["wanted"])  # type: ignore[call-overload]
    max_rows, max_columns = int(header["max_rows"]), int(header["max_columns"])  # type: ignore[call-overload]
    max_cells = int(header["max_cells"])  # type: ignore[call-overload]
    try:
        book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
    except python_calamine.PasswordError:
        return {"error": ["password"]}
    except MemoryError:
        return {"error": ["memory"]}
    except Exception as reason:  # calamine raises several types for damaged files
        return {"error": ["unreadable", _one_line(reason)]}
    except BaseException as reason:  # a panic inside calamine (pyo3's PanicException)
        if isinstance(reason, KeyboardInterrupt | SystemExit):
            raise
        return {"error": ["unreadable", "the file is damaged"]}
    titles = [str(t) for t in book.sheet_names]
    # SheetVisibleEnum.Visible, .Hidden or .VeryHidden (a pyo3 enum: its text is all there is)
    hidden = [str(m.name) for m in book.sheets_metadata if not str(m.visible).endswith(".Visible")]
    chosen: dict[str, str] = {}
    for title in sorted(titles, key=lambda t: t in hidden):  # the first visible sheet of a name wins
        key = canonical(title)
        if key in wanted and key not in chosen:
            chosen[key] = title
    grids: dict[str, list[list[object]]] = {}
    for title in chosen.values():
        try:
            sheet = book.get_sheet_by_name(title)
            rows = sheet.end[0] + 1 if sheet.end else 0
            columns = sheet.end[1] + 1 if sheet.end else 0
            if rows > max_rows:
                return {"error": ["rows", title, rows]}
            if columns > max_columns:
                return {"error": ["columns", title, columns]}
            if rows * columns > max_cells:
                return {"error": ["cells", title, rows, columns]}
            grid = sheet.to_python(skip_empty_area=False) if rows else []  # laid out from A1
            grids[title] = [_row(r) for r in grid]
            del grid
        except MemoryError:
            return {"error": ["memory"]}
        except Exception as reason:
            return {"error": ["sheet", title, _one_line(reason)]}
        except BaseException as reason:  # a panic inside calamine (pyo3's PanicException)
            if isinstance(reason, KeyboardInterrupt | SystemExit):
                raise
            return {"error": ["sheet", title, "the sheet is damaged"]}
    return {"titles": titles, "hidden": hidden, "grids": grids}


def main() -> int:
    stream = sys.stdin.buffer
    size = int.from_bytes(stream.read(4), "big")
    header = json.loads(stream.read(size))
    if header.get("version") != PROTOCOL_VERSION:
        sys.stdout.buffer.write(marshal.dumps({"error": ["protocol"]}))
        return 0
    _limit_resources(int(header["memory_bytes"]), int(header["cpu_seconds"]))
    data = stream.read()
    try:
        result = parse(data, header)
        output = marshal.dumps(result)
    except MemoryError:
        output = marshal.dumps({"error": ["memory"]})
    sys.stdout.buffer.write(output)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
