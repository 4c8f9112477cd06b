"""Reading workbooks as planners keep them: messy .xlsx, CSV folders, .ods, uploads,
and files that are not workbooks at all."""

import ast
import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest_reading import (
    VALID,
    Formula,
    set_saved_values,
    sheets_from_tables,
    write_csv_folder,
    write_ods,
    write_xlsx,
)

import optimiser
from optimiser import read as reading
from optimiser.problems import InvalidInput, Severity
from optimiser.read import read_tables, read_workbook
from optimiser.validate import validate

# A workbook as planners really keep them: a title and a note above the headers,
# headers in their own words, money and shares typed as text, yes/no as Y/x/blank,
# a blank row, an extra column, an extra sheet, formulas (saved values: 3000 and 4).
MESSY = {
    "missions": [
        ["National mission portfolio 2027"],
        ["Figures in USD; prepared by the planning cell"],
        [],
        ["Mission ID", "Name", "Zone-ID", "Priority", "Must fund", "Min coverage", "Running cost", "Notes"],
        ["M1", "Ceasefire monitors", "Z1", 1, "Y", "40%", "$ 1,200,000", "check with HQ"],
        [],
        [101, "Mediation team", "Z2", "2", "x", 0.5, "1 200 000 €", None],
        ["M3", "Attaché office", "Z2", 3.0, None, None, Formula("=1000*3", 3000.0), None],
    ],
    "ZONES": [
        ["zone_id", "Region", "Risk", "Personnel cap"],
        ["Z1", "Sahel", "High", "1,500"],
        ["Z2", "Levant", None, None],
    ],
    "Resources": [
        ["Resource ID", "Kind", "Unit cost", "Available", "Reserve share", "Integer"],
        ["INF", "Personnel", "$ 1,000", 200, "10%", "Y"],
        ["VEH", "equipment", 500, None, 0, "n"],
    ],
    "Requirements": [
        ["mission_id", "resource_id", "quantity"],
        ["M1", "INF", 50],
        [101, "INF", 3],
        ["101", "VEH", Formula("=2+2", 4)],
    ],
    "Funding": [
        ["Source ID", "Name", "Amount", "Period", "Eligible zones"],
        ["CORE", "Core budget", "$ 2,500,000", None, None],
        ["SAHEL", "Sahel fund", "400 000 €", None, "Z1"],
    ],
    "Notes": [["Anything the planners like to keep here"]],
}

TABLES = (
    "missions",
    "zones",
    "resources",
    "requirements",
    "sources",
    "funding",
    "periods",
    "availability",
    "policies",
)


def assert_same_portfolio(left, right):
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name), obj=name)
    assert left.levers == right.levers


@pytest.fixture
def messy_xlsx(tmp_path):
    return write_xlsx(tmp_path / "portfolio.xlsx", MESSY)


# ------------------------------------------------------------------ a messy .xlsx


def test_messy_workbook_reads_to_the_numbers_the_planner_meant(messy_xlsx):
    portfolio = validate(read_workbook(messy_xlsx))
    missions = portfolio.missions
    assert list(missions.index) == ["M1", "101", "M3"]
    assert missions["running_cost"].tolist() == [1_200_000.0, 1_200_000.0, 3000.0]
    assert missions["min_coverage"].tolist() == [0.4, 0.5, 0.0]
    assert missions["must_fund"].tolist() == [True, True, False]
    assert missions["priority"].tolist() == [1, 2, 3]
    assert missions.loc["M3", "name"] == "Attaché office"
    assert portfolio.zones["personnel_cap"].tolist()[0] == 1500.0
    assert portfolio.zones["risk"].tolist() == ["high", "medium"]
    resources = portfolio.resources
    assert resources["unit_cost"].tolist() == [1000.0, 500.0]
    assert resources.loc["INF", ["available", "reserve_share", "integer"]].tolist() == [200.0, 0.1, True]
    assert resources.loc["VEH", "integer"] == False  # noqa: E712 (numpy bool)
    assert portfolio.requirements.to_dict("records") == [
        {"mission_id": "M1", "resource_id": "INF", "quantity": 50.0},
        {"mission_id": "101", "resource_id": "INF", "quantity": 3.0},
        {"mission_id": "101", "resource_id": "VEH", "quantity": 4.0},
    ]
    assert portfolio.funding["amount"].tolist() == [2_500_000.0, 400_000.0]
    assert portfolio.sources.loc["SAHEL", "eligible_zones"] == ("Z1",)


def test_messy_workbook_warns_about_the_extra_column_and_sheet(messy_xlsx):
    warnings = validate(read_workbook(messy_xlsx)).warnings
    assert [(w.sheet, w.cell, w.value) for w in warnings] == [
        ("missions", "H4", "Notes"),
        ("Notes", None, None),
    ]
    assert warnings[0].message.startswith("column 'Notes' is not a Missions column; it is ignored")
    assert all(w.severity is Severity.WARNING for w in warnings)


def test_raw_cells_keep_excel_rows_letters_and_values_as_read(messy_xlsx):
    raw = read_workbook(messy_xlsx)
    missions = raw["missions"]
    assert missions.title == "missions" and missions.header_row == 4
    assert list(missions.frame.index) == [5, 7, 8]  # the blank row 6 is skipped
    assert missions.frame.index.name == "row"
    assert missions.letters["zone_id"] == "C" and missions.cell("running_cost", 7) == "G7"
    first = missions.frame.loc[5]
    assert (first["running_cost"], first["must_fund"], first["min_coverage"]) == ("$ 1,200,000", "Y", "40%")
    assert missions.frame.loc[7, "mission_id"] == 101.0  # a number, not yet an id
    assert missions.frame.loc[8, "running_cost"] == 3000.0  # the formula's saved value
    assert missions.frame.loc[8, "must_fund"] is None
    assert all(pd.api.types.is_object_dtype(dtype) for dtype in missions.frame.dtypes)
    assert raw.source.format == "xlsx"
    assert raw.source.sha256 == hashlib.sha256(messy_xlsx.read_bytes()).hexdigest()


def test_tables_may_start_anywhere_on_the_sheet(tmp_path):
    sheets = sheets_from_tables(VALID)
    sheets["Zones"] = [
        [],
        [None, "Zones of operation"],
        [None, "zone_id", "region"],
        [None, "Z1", "Sahel"],
        [None, "Z2", "Levant"],
    ]
    raw = read_workbook(write_xlsx(tmp_path / "offset.xlsx", sheets))
    zones = raw["zones"]
    assert zones.letters == {"zone_id": "B", "region": "C"}
    assert zones.cell("region", 4) == "C4"
    assert zones.frame.to_dict("index") == {
        4: {"zone_id": "Z1", "region": "Sahel"},
        5: {"zone_id": "Z2", "region": "Levant"},
    }


def test_header_must_be_within_the_first_ten_rows(tmp_path):
    sheets = sheets_from_tables(VALID)
    at_row_10 = {**sheets, "Zones": [[f"note {i}"] for i in range(9)] + sheets["Zones"]}
    assert read_workbook(write_xlsx(tmp_path / "ten.xlsx", at_row_10))["zones"].header_row == 10
    at_row_11 = {**sheets, "Zones": [[f"note {i}"] for i in range(10)] + sheets["Zones"]}
    raw = read_workbook(write_xlsx(tmp_path / "eleven.xlsx", at_row_11))
    assert "zones" not in raw
    (error,) = raw.errors
    assert str(error).startswith("Zones: has no header row with zone_id in its first 10 rows")


def test_sheet_names_and_headers_match_whatever_the_case_spaces_hyphens_underscores():
    raw = read_tables({"MISSIONS": "Mission-ID, ZONE id, _priority_\nM1, Z1, 1", "zones": "Zone_ID\nZ1"})
    assert list(raw["missions"].letters) == ["mission_id", "zone_id", "priority"]
    assert raw["missions"].title == "MISSIONS"


def test_repeated_and_unnamed_columns_are_warned_and_ignored():
    raw = read_tables({"Zones": "zone_id,region,,Region\nZ1,Sahel,x,Levant"})
    warnings = {p.cell: p.message for p in raw.problems if p.sheet == "Zones"}
    assert warnings == {
        "C1": "column C has data but no header; it is ignored",
        "D1": "column 'Region' repeats region (column B); it is ignored",
    }
    assert raw["zones"].frame.loc[2, "region"] == "Sahel"


def test_close_names_are_suggested():
    raw = read_tables({"Mission": "mission_id\nM1", "Missions": "mission_id,Zone,priorty\nM1,Z1,1"})
    messages = [p.message.partition(";")[0] for p in raw.problems if p.severity is Severity.WARNING]
    assert messages == [
        "is not a sheet this tool reads (did you mean Missions?)",
        "column 'Zone' is not a Missions column (did you mean zone_id?)",
        "column 'priorty' is not a Missions column (did you mean priority?)",
    ]


def test_a_second_sheet_with_the_same_name_is_ignored(tmp_path):
    sheets = {**sheets_from_tables(VALID), "zones ": [["zone_id"], ["Z9"]]}
    raw = read_workbook(write_xlsx(tmp_path / "twice.xlsx", sheets))
    assert raw["zones"].title == "Zones"
    assert any(p.sheet == "zones " and "second Zones sheet" in p.message for p in raw.problems)


def test_missing_required_sheet_is_a_reading_error():
    raw = read_tables({k: v for k, v in VALID.items() if k != "Funding"})
    assert [str(p) for p in raw.errors] == [
        "Funding: is missing; add a sheet named Funding with the columns source_id, name, amount, period, "
        "eligible_types, eligible_zones, eligible_regions"
    ]


def test_the_templates_instructions_sheet_is_not_warned_about():
    raw = read_tables({**VALID, "Instructions": "how to fill this in\n..."})
    assert raw.problems == ()


# ------------------------------------------------------------------ formulas


def test_formula_without_saved_value_is_an_error_naming_the_cell(tmp_path):
    sheets = {**MESSY, "Requirements": [*MESSY["Requirements"], ["M3", "VEH", Formula("=B2*2")]]}
    path = write_xlsx(tmp_path / "unsaved.xlsx", sheets)
    with pytest.raises(InvalidInput) as caught:
        validate(read_workbook(path))
    (error,) = caught.value.errors  # not also "blank; every requirement needs a quantity"
    assert str(error) == (
        "Requirements!C5 (quantity): holds a formula with no saved value; open the file in Excel or "
        "LibreOffice, let it calculate, and save it again"
    )


def test_formula_saving_empty_text_is_a_blank_cell_not_an_error(tmp_path):
    sheets = {**MESSY, "ZONES": [*MESSY["ZONES"], ["Z3", Formula('=""', ""), None, None]]}
    raw = read_workbook(write_xlsx(tmp_path / "empty_text.xlsx", sheets))
    assert raw.errors == ()
    assert raw["zones"].frame.loc[4, "region"] is None


def test_formula_cells_are_found_in_shared_and_prefixed_xml():
    xml = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="2"><x:c r="A2"><x:f t="shared" ref="A2:A3" si="0">B2*2</x:f><x:v>4</x:v></x:c></x:row>'
        b'<x:row r="3"><x:c r="A3"><x:f t="shared" si="0"/></x:c><x:c><x:f>1+1</x:f><x:v></x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    assert reading._scan_sheet_xml(xml) == {(3, 0): None, (3, 1): None}


@pytest.mark.parametrize(
    ("cell", "candidate"),
    [
        (b'<c r="A1"><f>1+1</f><v>2</v></c>', False),
        (b'<c r="A1"><f t="shared" si="0"/><v>3</v></c>', False),
        (b'<c r="A1"><f>A1&lt;B1</f><v>1</v></c><c r="B1"><f>2</f><v>2</v></c>', False),
        (b'<c r="A1"><v>2</v></c>', False),
        (b'<c r="A1"><f>1+1</f><v/></c>', True),
        (b'<c r="A1"><f>1+1</f><v xml:space="preserve"></v></c>', True),
        (b'<c r="A1"><f>1+1</f></c>', True),
        (b'<c r="A1"><f t="shared" si="0"/></c>', True),
        (b'<x:c r="A1"><x:f>1+1</x:f>\n  <x:v /></x:c>', True),
        (b'<c r="A1" t="str"><f>""</f><v></v></c>', True),  # a candidate; the parse clears it
    ],
)
def test_a_byte_search_spares_parsing_sheets_whose_formulas_all_have_saved_values(cell, candidate):
    assert bool(reading._FORMULA_WITHOUT_VALUE.search(cell)) is candidate


# ------------------------------------------------------------------ other formats


def test_csv_folder_with_bom_and_semicolons_gives_the_same_portfolio(tmp_path, messy_xlsx):
    folder = write_csv_folder(tmp_path / "portfolio", MESSY)
    assert (folder / "missions.csv").read_bytes().startswith(b"\xef\xbb\xbfNational mission portfolio 2027")
    assert b"0,5;" in (folder / "missions.csv").read_bytes()  # a decimal comma, as European Excel writes
    from_csv = validate(read_workbook(folder))
    assert_same_portfolio(from_csv, validate(read_workbook(messy_xlsx)))
    assert from_csv.source.format == "csv"
    assert [(w.sheet, w.cell) for w in from_csv.warnings] == [("missions.csv", "H4"), ("notes.csv", None)]


def test_csv_folder_hash_covers_every_file_name_and_byte(tmp_path):
    one = write_csv_folder(tmp_path / "one", MESSY)
    two = write_csv_folder(tmp_path / "two", MESSY)
    assert read_workbook(one).source.sha256 == read_workbook(two).source.sha256
    (two / "zones.csv").write_bytes((two / "zones.csv").read_bytes().replace(b"1,500", b"1,600"))
    assert read_workbook(one).source.sha256 != read_workbook(two).source.sha256


def test_csv_separators_are_sniffed(tmp_path):
    for name, delimiter in (("tabs", "\t"), ("commas", ","), ("pipes", "|")):
        folder = write_csv_folder(tmp_path / name, sheets_from_tables(VALID), delimiter=delimiter, bom=False)
        assert_same_portfolio(validate(read_workbook(folder)), validate(read_tables(VALID)))


def test_csv_files_exported_by_google_sheets_are_recognised(tmp_path):
    folder = write_csv_folder(tmp_path / "export", sheets_from_tables(VALID), delimiter=",", bom=False)
    for path in folder.iterdir():
        path.rename(folder / f"National portfolio - {path.stem.title()}.csv")
    raw = read_workbook(folder)
    assert raw.problems == ()
    assert raw["missions"].title == "National portfolio - Missions.csv"


def test_csv_in_windows_1252_is_read_with_a_warning(tmp_path):
    folder = write_csv_folder(tmp_path / "legacy", MESSY, bom=False)
    text = (folder / "missions.csv").read_bytes().decode("utf-8")
    (folder / "missions.csv").write_bytes(text.replace("1 200 000 €", "1 200 000").encode("cp1252"))
    portfolio = validate(read_workbook(folder))
    assert portfolio.missions.loc["M3", "name"] == "Attaché office"
    assert any(w.sheet == "missions.csv" and "not UTF-8" in w.message for w in portfolio.warnings)


def test_ods_gives_the_same_portfolio(tmp_path, messy_xlsx):
    path = write_ods(tmp_path / "portfolio.ods", MESSY)
    raw = read_workbook(path)
    assert raw.source.format == "ods"
    assert_same_portfolio(validate(raw), validate(read_workbook(messy_xlsx)))


def test_uploaded_bytes_are_read_in_memory_with_their_name(messy_xlsx):
    data = messy_xlsx.read_bytes()
    raw = read_workbook(data, name="national.xlsx")
    assert (raw.source.path, raw.source.format) == ("national.xlsx", "xlsx")
    assert raw.source.sha256 == hashlib.sha256(data).hexdigest()
    assert_same_portfolio(validate(raw), validate(read_workbook(messy_xlsx)))


def test_xlsm_is_read_and_its_macros_never_run(messy_xlsx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(messy_xlsx) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "AutoOpen"\nShell "rm -rf /"')
    raw = read_workbook(buffer.getvalue(), name="with_macros.xlsm")
    assert raw.source.format == "xlsm"
    assert validate(raw).missions.index.tolist() == ["M1", "101", "M3"]


def test_read_tables_takes_dataframes_too():
    frames = {
        name: pd.read_csv(io.StringIO(sheets_csv), skipinitialspace=True, dtype=str, keep_default_na=False)
        for name, sheets_csv in (
            (k, "\n".join(line.strip() for line in v.strip().splitlines())) for k, v in VALID.items()
        )
    }
    assert_same_portfolio(validate(read_tables(frames)), validate(read_tables(VALID)))


# .xls and .xlsb files cannot be written here (no xlwt, no xlsb writer, no LibreOffice);
# calamine reads them through the same path as .xlsx and .ods, tested above.


# ------------------------------------------------------------------ files that are not workbooks


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("budget.xlsx", b"", "budget.xlsx is empty"),
        ("budget.xlsx", b"mission_id,zone_id\nM1,Z1\n", "budget.xlsx is not a workbook; expected .xlsx"),
        ("notes.txt", b"just some notes", "notes.txt is a single text file; give a folder of CSV files"),
        ("missions.csv", b"mission_id\nM1", "missions.csv is a single text file"),
        ("chart.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "chart.png is not a workbook"),
        ("budget.xlsx", "TRUNCATED", "budget.xlsx is damaged (a truncated or corrupt zip); save it again"),
        (
            "locked.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64) + "EncryptionInfo".encode("utf-16-le"),
            "locked.xlsx is password-protected; save a copy without a password",
        ),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old.xls could not be read as xls: "),
        ("photos.zip", _zip({"a.jpg": b"jpeg"}), "photos.zip is a zip archive but not a workbook"),
        (
            "broken.xlsx",
            _zip({"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"<Types/>"}),
            "broken.xlsx could not be read as xlsx: ",
        ),
    ],
)
def test_files_that_are_not_workbooks_give_a_one_line_reason(name, data, reason, messy_xlsx):
    if data == "TRUNCATED":
        whole = messy_xlsx.read_bytes()
        data = whole[: len(whole) // 2]
    with pytest.raises(InvalidInput) as caught:
        read_workbook(data, name=name)
    (problem,) = caught.value.problems
    assert problem.sheet == "file" and problem.severity is Severity.ERROR
    assert problem.message.startswith(reason)
    assert "\n" not in problem.message and "Traceback" not in problem.message


def test_paths_that_are_not_workbooks(tmp_path):
    (tmp_path / "empty_folder").mkdir()
    with pytest.raises(InvalidInput, match="is a folder without CSV files"):
        read_workbook(tmp_path / "empty_folder")
    with pytest.raises(InvalidInput, match="does not exist"):
        read_workbook(tmp_path / "nowhere.xlsx")


def test_file_size_limit(monkeypatch, messy_xlsx):
    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 1000)
    with pytest.raises(
        InvalidInput, match=r"portfolio.xlsx is [\d,]+ bytes; the most this tool reads is 1,000 bytes"
    ):
        read_workbook(messy_xlsx)


def test_row_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(reading, "MAX_ROWS", 5)
    many = "mission_id,zone_id,priority\n" + "\n".join(f"M{i},Z1,1" for i in range(6))
    with pytest.raises(InvalidInput, match="sheet Missions has 6 rows; the most this tool reads is 5"):
        read_tables({**VALID, "Missions": many})
    sheets = {**sheets_from_tables(VALID), "Missions": [["mission_id"]] + [[f"M{i}"] for i in range(20)]}
    with pytest.raises(InvalidInput, match="sheet Missions has 21 rows"):
        read_workbook(write_xlsx(tmp_path / "many.xlsx", sheets))


# ------------------------------------------------------------------ the journey's shape


def test_reading_and_validating_never_import_pulp():
    package = Path(optimiser.__file__).parent
    for module in ("read.py", "validate.py", "template.py", "values.py", "schema.py"):
        tree = ast.parse((package / module).read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert "pulp" not in imported, module
        assert "openpyxl" not in imported or module == "template.py", module


def test_set_saved_values_helper_writes_what_excel_would(tmp_path):
    path = write_xlsx(
        tmp_path / "f.xlsx", {"Zones": [["zone_id", "personnel_cap"], ["Z1", Formula("=2*50")]]}
    )
    set_saved_values(path, {"Zones": {"B2": 100}})
    assert read_workbook(path)["zones"].frame.loc[2, "personnel_cap"] == 100.0
