"""Nothing silently wrong (issue 13): every input read as the planner meant it, every
output where it was asked, one line and never a traceback.

One test (or a few) per class of defect found by trying the tool as a hostile or unlucky
user would; each failed before its fix.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest_reading import (
    VALID,
    sheets_from_tables,
    with_cell,
    write_csv_folder,
    write_ods,
    write_xlsx,
    xls_bytes,
    xlsx_bytes,
)

from optimiser import InvalidInput, optimise, plan_to_dict, read_workbook, validate
from optimiser.cli import main
from optimiser.explore import compare_plans
from optimiser.explore.text import comparison_text
from optimiser.read import read_tables
from optimiser.report.atomic import atomic_write
from optimiser.values import parse_number

ROOT = Path(__file__).resolve().parents[1]
RELAXED = {**VALID, "Settings": "key,value\ninteger,no"}


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def refusal(source, **kwargs) -> str:
    with pytest.raises(InvalidInput) as caught:
        validate(read_workbook(source, **kwargs))
    return "\n".join(messages(caught.value.problems))


# --------------------------------------------------------------------------- 1. error values


def _with_errors_xlsx(path: Path) -> Path:
    """The valid portfolio with Excel error values in a required number column (Zones'
    personnel_cap: blank would mean "no cap"), an optional one (Availability's available:
    blank would mean "unlimited") and a text column (a mission's name)."""
    write_xlsx(path, sheets_from_tables(VALID))
    book = openpyxl.load_workbook(path)
    book["Zones"]["E2"] = "#N/A"  # openpyxl stores these as error cells (t="e"), as Excel does
    book["Availability"]["C2"] = "#DIV/0!"
    book["Missions"]["B3"] = "#REF!"
    assert book["Zones"]["E2"].data_type == "e"
    book.save(path)
    return path


def test_an_error_value_in_an_xlsx_is_an_error_naming_sheet_cell_column_and_error(tmp_path):
    shown = refusal(_with_errors_xlsx(tmp_path / "errors.xlsx"))
    assert "Zones!E2 (personnel_cap): '#N/A' is a spreadsheet error" in shown
    assert "Availability!C2 (available): '#DIV/0!' is a spreadsheet error" in shown
    assert "Missions!B3 (name): '#REF!' is a spreadsheet error" in shown
    assert "blank" not in shown.replace("never read as blank", "")  # not also reported as a blank cell


def test_an_error_value_in_a_csv_export_is_an_error(tmp_path):
    sheets = sheets_from_tables(with_cell("Missions", "B3", "#N/A", with_cell("Zones", "E2", "#N/A")))
    shown = refusal(write_csv_folder(tmp_path / "book", sheets))
    assert "zones.csv!E2 (personnel_cap): '#N/A' is a spreadsheet error" in shown
    assert "missions.csv!B3 (name): '#N/A' is a spreadsheet error" in shown  # a text column too


def test_an_error_value_in_an_ods_is_an_error(tmp_path):
    path = write_ods(tmp_path / "book.ods", sheets_from_tables(with_cell("Zones", "E2", "777")))
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    content = parts["content.xml"].decode()
    cell = '<table:table-cell office:value-type="string"><text:p>777</text:p></table:table-cell>'
    assert content.count(cell) == 1
    error = ('<table:table-cell table:formula="of:=VLOOKUP(A2;X;2;0)" office:value-type="float" '
             'office:value="0" calcext:value-type="error"><text:p>#N/A</text:p></table:table-cell>')
    content = content.replace(cell, error).replace(
        "<office:document-content ",
        '<office:document-content xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:'
        'calcext:1.0" ')
    parts["content.xml"] = content.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert "Zones!E2 (personnel_cap): '#N/A' is a spreadsheet error" in refusal(path)


def _record(kind: int, payload: bytes) -> bytes:
    """One BIFF12 record of an .xlsb part (type and size as 7-bit varints)."""
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size, length = len(payload), b""
    while True:
        byte, size = size & 0x7F, size >> 7
        length += bytes([byte | (0x80 if size else 0)])
        if not size:
            return head + length + payload


def test_error_cells_of_an_xlsb_are_found_in_its_binary_records():
    from optimiser.read_errors import error_cells

    def cell(column: int, *tail: int) -> bytes:
        return column.to_bytes(4, "little") + bytes(4) + bytes(tail)

    def wide(text: str) -> bytes:
        return len(text).to_bytes(4, "little") + text.encode("utf-16-le")

    sheet = b"".join([
        _record(0x0000, (1).to_bytes(4, "little") + bytes(8)),  # row 2 (0-based 1)
        _record(0x0002, cell(0, 0, 0, 0, 0)),  # a number: not an error
        _record(0x0003, cell(4, 0x2A)),  # E2: #N/A
        _record(0x0000, (3).to_bytes(4, "little") + bytes(8)),  # row 4
        _record(0x000B, cell(2, 0x07, 0, 0)),  # C4: a formula whose saved value is #DIV/0!
    ])
    bundle = bytes(8) + wide("rId1") + wide("Zones")
    rels = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.bin"/>'
            "</Relationships>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.bin", _record(0x009C, bundle))
        archive.writestr("xl/_rels/workbook.bin.rels", rels)
        archive.writestr("xl/worksheets/sheet1.bin", sheet)
    found = error_cells(out.getvalue(), "xlsb", ["Zones"], 1000, 100)
    assert found == {"Zones": {(2, 4): "#N/A", (4, 2): "#DIV/0!"}}


def test_an_error_value_in_an_xls_is_an_error(tmp_path):
    sheets = sheets_from_tables(VALID)
    sheets["Zones"][1][4] = ("error", 0x2A)  # Zones!E2: #N/A typed (or pasted as a value)
    sheets["Availability"][1][2] = ("formula", 0x07)  # Availability!C2: a formula whose value is #DIV/0!
    path = tmp_path / "old.xls"
    path.write_bytes(xls_bytes(sheets))
    shown = refusal(path)
    assert "Zones!E2 (personnel_cap): '#N/A' is a spreadsheet error" in shown
    assert "Availability!C2 (available): '#DIV/0!' is a spreadsheet error" in shown
    sheets["Zones"][1][4], sheets["Availability"][1][2] = "100", "150"
    path.write_bytes(xls_bytes(sheets))
    assert validate(read_workbook(path)).zones.loc["Z1", "personnel_cap"] == 100  # the file reads


def test_a_typed_text_that_reads_like_an_error_stays_text_in_a_workbook(tmp_path):
    """In a workbook a cell says what it is: '#REF! typed as text (an id) is not an error."""
    sheets = sheets_from_tables(VALID)
    sheets["Missions"][3][1] = "#N/A team"  # not an error value at all
    portfolio = validate(read_workbook(write_xlsx(tmp_path / "ok.xlsx", sheets)))
    assert portfolio.missions.loc["M3", "name"] == "#N/A team"


# --------------------------------------------------------------------------- 2. comma numbers


@pytest.mark.parametrize(("typed", "number"), [("0,500", 0.5), ("0,5", 0.5), ("1,5", 1.5), ("12,75", 12.75),
                                               ("1,500", 1500.0), ("1,200,000", 1_200_000.0),
                                               ("1.200.000,50", 1_200_000.5)])
def test_a_comma_number_is_read_by_the_rule_in_the_workbook_guide(typed, number):
    assert parse_number(typed) == pytest.approx(number)


@pytest.mark.parametrize("typed", ["0,500,000", "01,500", "1,20,000", "1,2,3", "0.200,5", "1.2.3"])
def test_an_ambiguous_comma_number_is_refused_never_guessed(typed):
    with pytest.raises(ValueError, match="without guessing"):
        parse_number(typed)


def test_a_weight_of_0_500_is_half_not_five_hundred():
    portfolio = validate(read_tables(with_cell("Missions", "F2", "0,500")))
    assert portfolio.missions.loc["M1", "weight"] == pytest.approx(0.5)


def test_the_workbook_guide_states_the_comma_rule():
    guide = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`0,500` = 0.5" in guide and "`1,500` for fifteen hundred" in guide


# --------------------------------------------------------------------------- 3. hidden sheets


def test_the_visible_sheet_wins_over_a_hidden_one_placed_first(tmp_path):
    sheets = sheets_from_tables(VALID)
    book = openpyxl.Workbook()
    book.remove(book.active)
    hidden = book.create_sheet("missions_")  # the same name to this tool, hidden, first
    for row in [sheets["Missions"][0], ["OLD1", "An old mission", "Z1", "monitoring", 1]]:
        hidden.append(row)
    hidden.sheet_state = "hidden"
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "two.xlsx"
    book.save(path)
    portfolio = validate(read_workbook(path))
    assert sorted(portfolio.missions.index) == ["M1", "M2", "M3"]
    warning = next(str(p) for p in portfolio.warnings if p.sheet == "missions_")
    assert "is a second Missions sheet (hidden); Missions (visible) is read" in warning


def test_a_lone_hidden_sheet_is_read_with_a_warning(tmp_path):
    path = write_xlsx(tmp_path / "hidden.xlsx", sheets_from_tables(VALID))
    book = openpyxl.load_workbook(path)
    book["Policies"].sheet_state = "hidden"
    book.save(path)
    portfolio = validate(read_workbook(path))
    assert any(p.sheet == "Policies" and "is hidden in the workbook" in p.message for p in portfolio.warnings)


def test_nine_thousand_extra_sheets_are_counted_in_one_warning():
    tables = {**VALID, **{f"Notes {i}": "a\n1" for i in range(9000)}}
    portfolio = validate(read_tables(tables))
    extra = [p for p in portfolio.warnings if "not a sheet this tool reads" in p.message
             or "not sheets this tool reads" in p.message]
    assert len(extra) == 6  # five named, then one counting the rest
    assert any("8,995 more sheets are not sheets this tool reads" in p.message for p in extra)


# --------------------------------------------------------------------------- 4. look-alike ids


def test_ids_that_differ_only_in_case_or_by_an_invisible_character_are_warned_about():
    tables = dict(VALID)
    tables["Zones"] = VALID["Zones"] + "    z1,Other north,Sahel,high,10,\n" + (
        "    Z2\u200b,Hidden east,Levant,low,,\n")
    portfolio = validate(read_tables(tables))
    shown = messages(portfolio.warnings)
    assert any("zone id 'z1' looks like 'Z1' (row 2)" in m for m in shown)
    assert any("zone id 'Z2\\u200b' looks like 'Z2' (row 3)" in m for m in shown)  # shown escaped
    assert not any("\u200b" in m for m in shown)


def test_did_you_mean_shows_an_invisible_character_escaped():
    tables = with_cell("Zones", "A3", "Z2\u00a0x")
    tables = with_cell("Missions", "C3", "Z2 x", tables)
    with pytest.raises(InvalidInput) as caught:
        validate(read_tables(tables))
    shown = "\n".join(messages(caught.value.problems))
    assert "did you mean Z2\\xa0x?" in shown


# --------------------------------------------------------------------------- 5. endless files


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_device_a_link_to_it_and_a_named_pipe_are_refused_with_exit_2(tmp_path, capsys):
    link = tmp_path / "portfolio.xlsx"
    link.symlink_to("/dev/zero")
    pipe = tmp_path / "pipe.xlsx"
    os.mkfifo(pipe)
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "missions.csv").symlink_to("/dev/zero")
    for source, kind in (("/dev/zero", "a device"), (link, "a device"), (pipe, "a named pipe"),
                         (folder, "a device")):
        assert main(["validate", str(source)]) == 2
        err = capsys.readouterr().err
        assert f"is {kind}, not a file" in err, err


def test_a_file_that_grows_past_the_bound_while_read_is_cut_off(tmp_path, monkeypatch):
    from optimiser import read as reading

    path = tmp_path / "big.xlsx"
    path.write_bytes(b"PK" + bytes(5000))
    with pytest.raises(InvalidInput, match="the most this tool reads is 4,096 bytes"):
        reading.read_file_bounded(path, "big.xlsx", limit=4096)


def test_a_utf16_csv_is_read_as_utf16(tmp_path):
    folder = write_csv_folder(tmp_path / "book", sheets_from_tables(VALID), delimiter="\t")
    missions = folder / "missions.csv"
    missions.write_bytes(missions.read_bytes().decode("utf-8-sig").encode("utf-16"))  # with its mark
    portfolio = validate(read_workbook(folder))
    assert portfolio.missions.loc["M1", "name"] == "Ceasefire monitors"


# --------------------------------------------------------------------------- 6. tracebacks


def test_a_crash_of_the_reading_child_shows_no_traceback_nor_panic(tmp_path, monkeypatch, caplog):
    from optimiser import read as reading

    crashing = tmp_path / "crash.py"
    crashing.write_text(textwrap.dedent("""
        import os, sys
        sys.stdin.buffer.read()
        sys.stderr.write("thread '<unnamed>' panicked at src/xlsb.rs:1:\\n"
                         "note: run with `RUST_BACKTRACE=1`: " + os.environ.get("RUST_BACKTRACE", "-") + "\\n"
                         "Traceback (most recent call last):\\n  File x\\n"
                         "pyo3_runtime.PanicException: index out of bounds\\n")
        sys.exit(1)
    """))
    monkeypatch.setattr(reading, "_SANDBOX", crashing)
    monkeypatch.setenv("RUST_BACKTRACE", "full")
    with pytest.raises(InvalidInput) as caught:
        read_workbook(_with_errors_xlsx(tmp_path / "any.xlsx"))
    shown = str(caught.value.problems[0])
    assert "could not be read" in shown and "\n" not in shown
    assert "Traceback" not in shown and "panicked" not in shown and "PanicException" not in shown
    loud = [r.getMessage() for r in caplog.records if r.levelno >= 30]
    assert not any("Traceback" in m or "panicked" in m for m in loud)  # nothing for the screen


def test_ctrl_c_while_the_command_line_starts_is_one_line():
    interrupt_on_import = textwrap.dedent("""
        import sys
        class Interrupt:
            def find_spec(self, name, path=None, target=None):
                if name == "pulp":
                    raise KeyboardInterrupt
        sys.meta_path.insert(0, Interrupt())
        sys.argv = ["optimiser", "--help"]
        import optimiser.cli
    """)
    done = subprocess.run([sys.executable, "-c", interrupt_on_import], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 3
    assert done.stderr == "optimiser: interrupted\n"


# --------------------------------------------------------------------------- 7. control characters


def test_control_characters_of_workbook_text_are_escaped_in_everything_printed(tmp_path, capsys):
    from optimiser.safe_text import printable

    plan = optimise(validate(read_tables(RELAXED)))
    a = plan_to_dict(plan)
    b = json.loads(json.dumps(a))
    for record in b["missions"]:
        if record["mission_id"] == "M1":
            record["coverage"] = 0.0
            record["name"] = "Evil\x1b]0;owned\x07\x1b[31m"
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "Evil\\x1b]0;owned\\x07\\x1b[31m" in out
    assert "\x1b" not in out and "\x07" not in out
    assert printable("a\x1b[2Jb\r\nc\td") == "a\\x1b[2Jb\\r\nc\td"  # line breaks and tabs kept


def test_a_problem_naming_a_sheet_with_control_characters_prints_escaped(tmp_path, capsys):
    assert main(["validate", str(write_csv_folder(tmp_path / "bad\x1b[2J", sheets_from_tables(VALID)))]) == 0
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err and "bad\\x1b[2J" in printed.out


# --------------------------------------------------------------------------- 8. arguments first


@pytest.fixture
def workbook(tmp_path) -> Path:
    return write_xlsx(tmp_path / "portfolio.xlsx", sheets_from_tables(RELAXED))


@pytest.fixture
def no_work(monkeypatch):
    """Any reading of a workbook fails the test: the arguments must be refused first."""
    from optimiser import cli
    from optimiser.explore import commands

    def forbidden(*args, **kwargs):
        raise AssertionError("the workbook was read before the arguments were checked")

    monkeypatch.setattr(cli, "load_portfolio", forbidden)
    monkeypatch.setattr(commands, "load_portfolio", forbidden)


@pytest.mark.parametrize("arguments", [
    ["--set", "budget_scale=1e308"],
    ["--set", "priority_weights=1e308,8,4,2,1"],
    ["--set", "zone_cap.Z1=1e308"],
    ["--out", "r.csv"],
    ["--out", "."],
    ["--json", "r.xlsx"],
])
def test_a_bad_argument_is_exit_2_before_any_work(workbook, no_work, arguments, capsys, monkeypatch):
    monkeypatch.chdir(workbook.parent)
    assert main(["solve", str(workbook), *arguments]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error:" in err


def test_a_sweep_value_out_of_range_is_exit_2_before_any_work(workbook, no_work):
    assert main(["sweep", str(workbook), "--vary", "budget_scale=1:1e308:3"]) == 2


def test_compare_of_a_malformed_result_is_exit_2_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"missions": [1, 2, 3], "status": "optimal"}))
    assert main(["compare", str(bad), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json: is not a readable mission-optimiser result: mission record 1 is not a record" in err
    assert "AttributeError" not in err


# --------------------------------------------------------------------------- 9. outputs in place


def test_an_output_that_would_replace_the_input_is_refused(workbook, no_work, capsys):
    before = workbook.read_bytes()
    link = workbook.with_name("link.xlsx")
    link.symlink_to(workbook)
    for out in (workbook, link):
        assert main(["solve", str(workbook), "--out", str(out)]) == 2
        assert "would replace it" in capsys.readouterr().err
    assert workbook.read_bytes() == before


def test_the_json_and_the_report_cannot_be_one_file(workbook, no_work, tmp_path, capsys):
    report = tmp_path / "r.xlsx"
    report.write_bytes(b"last week's report")
    (tmp_path / "r.json").symlink_to(report)
    assert main(["solve", str(workbook), "--out", str(report), "--json", str(tmp_path / "r.json")]) == 2
    assert "one file cannot hold both" in capsys.readouterr().err
    assert report.read_bytes() == b"last week's report"


def test_a_sweep_cannot_write_into_its_own_csv_folder(tmp_path, no_work, capsys):
    folder = write_csv_folder(tmp_path / "book", sheets_from_tables(RELAXED))
    inside = folder / "missions.csv"
    assert main(["sweep", str(folder), "--vary", "budget_scale=1", "--out", str(inside)]) == 2
    assert "inside the input folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- 10. broken pipe


def test_a_closed_standard_output_never_stops_the_files_being_written(workbook, tmp_path):
    report, result = tmp_path / "y.xlsx", tmp_path / "x.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "optimiser", "solve", str(workbook), "--json", str(result),
         "--out", str(report)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # `| head -0`: the reader has gone before the first line
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=300) == 0, err
    assert report.exists() and json.loads(result.read_text())["status"] == "optimal"
    assert "Traceback" not in err


def test_say_survives_a_closed_pipe():
    from optimiser.commandline import say

    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN) if hasattr(signal, "SIGPIPE") else None
    try:
        say("first", stream)
        say("second", stream)  # silenced, no error
    finally:
        if previous is not None:
            signal.signal(signal.SIGPIPE, previous)
        stream.close()


# --------------------------------------------------------------------------- 11. killed writes


def test_a_write_killed_outright_leaves_nothing_for_the_next_write_to_keep(tmp_path):
    target = tmp_path / "existing.xlsx"
    target.write_bytes(b"last week's report")
    killed = textwrap.dedent(f"""
        import os, signal
        from optimiser.report.atomic import atomic_write
        def write(handle):
            handle.write(b"half a rep")
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write({str(target)!r}, write)
    """)
    done = subprocess.run([sys.executable, "-c", killed], cwd=ROOT, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".existing.xlsx.")  # what SIGKILL leaves
    assert target.read_bytes() == b"last week's report"

    atomic_write(target, lambda handle: handle.write(b"this week's report"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.xlsx"]
    assert target.read_bytes() == b"this week's report"


def test_a_temporary_file_of_a_running_writer_is_left_alone(tmp_path):
    from optimiser.report import atomic

    target = tmp_path / "r.xlsx"
    live = tmp_path / f".r.xlsx.{os.getppid()}@{atomic._HOST}.{'0' * 12}.tmp"  # our parent runs
    live.write_bytes(b"being written")
    atomic_write(target, lambda handle: handle.write(b"report"))
    assert live.exists()


# --------------------------------------------------------------------------- 12. compare


@pytest.fixture(scope="module")
def result() -> dict:
    return plan_to_dict(optimise(validate(read_tables(RELAXED))))


def test_compare_says_b_has_no_plan_instead_of_every_mission_dropped(result):
    impossible = {**result, "status": "infeasible", "missions": [], "message": "no plan"}
    comparison = compare_plans(result, impossible)
    assert set(comparison.missions["change"]) == {"B has no plan"}
    text = comparison_text(comparison)
    assert "B (B) has no plan" in text and "dropped" not in text


def test_compare_never_subtracts_two_currencies(result):
    euros = json.loads(json.dumps(result))
    euros["currency"], euros["levers"]["currency"] = "EUR", "EUR"
    comparison = compare_plans(result, euros)
    assert not comparison.same_currency
    _, _, change = comparison.figure("total_cost")
    assert math.isnan(change)
    assert "A is in USD and B in EUR" in comparison_text(comparison)


def test_compare_names_the_levers_that_differ(result):
    cut = json.loads(json.dumps(result))
    cut["levers"]["budget_scale"] = "0.9"
    comparison = compare_plans(result, cut)
    assert comparison.levers is not None
    assert comparison.levers.to_dict("records") == [{"lever": "budget_scale", "a": "1", "b": "0.9"}]
    text = comparison_text(comparison)  # the lever in a planner's words, not its key
    assert "Levers that differ (A -> B): Budget (× the workbook's funding) 1 -> 0.9" in text
    assert "budget_scale" not in text
    assert "Levers: the same in both runs." in comparison_text(compare_plans(result, result))


# --------------------------------------------------------------------------- 13. the page


HOSTILE = "**bold** [x](http://127.0.0.1:9/) ![](http://127.0.0.1:9/i.png) $x^2$"


def test_markdown_literal_escapes_every_markdown_construct():
    from optimiser.safe_text import markdown_literal

    joiner = "\u2060"  # invisible: breaks the addresses that would otherwise be linked
    assert markdown_literal(HOSTILE) == (
        f"\\*\\*bold\\*\\* \\[x\\]\\(http\\:{joiner}//127\\.0\\.0\\.1\\:9/\\) "
        f"\\!\\[\\]\\(http\\:{joiner}//127\\.0\\.0\\.1\\:9/i\\.png\\) \\$x\\^2\\$"
    )
    assert markdown_literal("www.x.org a@b.c") == f"www{joiner}\\.x\\.org a{joiner}@b\\.c"
    assert markdown_literal("a\x1b]0;t\x07\nb") == "a\\\\x1b\\]0;t\\\\x07 b"  # shows a\x1b]0;t\x07 b


def test_the_page_shows_workbook_text_literally():
    from streamlit.testing.v1 import AppTest

    from ui import controls, state, views

    sheets = sheets_from_tables(RELAXED)
    sheets["Zones"][1][1] = HOSTILE  # zone Z1's name: a sidebar widget label
    sheets["Missions"][1][1] = HOSTILE  # mission M1's name
    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=300).run()
    at.file_uploader(key=views.UPLOAD).upload("**file** [f](http://127.0.0.1:9/).xlsx", xlsx_bytes(sheets),
                                              "application/octet-stream").run()
    assert not at.exception, at.exception
    assert HOSTILE in set(at.session_state[state.LAST_GOOD][1].missions["name"])
    at.session_state[views.VIEW] = "What binds"
    at.run()
    assert not at.exception, at.exception

    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)] + [e.label for e in at.number_input] + [e.label for e in at.metric]
    texts += [getattr(e, "help", "") or "" for e in at.metric]
    assert any("\\*\\*bold\\*\\*" in t for t in [e.label for e in at.number_input])  # the zone's cap
    assert any("\\*\\*file\\*\\*" in t for t in at.sidebar.caption.values)  # the file's name
    for text in texts:
        assert "**bold**" not in text and "](http" not in text and "$x^2$" not in text, text
        assert "**file**" not in text, text
    assert controls.zone_key("Z1") in at.session_state


# --------------------------------------------------------------------------- 14. Dask


def test_a_tls_dask_address_uses_dasks_tls_configuration(tmp_path):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    from optimiser.explore.runners import dask_security

    with pytest.raises(ValueError, match="needs Dask's TLS certificates"):
        dask_security("tls://scheduler:8786")
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for path in files.values():
        path.write_text("placeholder")
    with dask.config.set({"distributed.comm.tls.ca-file": str(files["ca"]),
                          "distributed.comm.tls.client.cert": str(files["cert"]),
                          "distributed.comm.tls.client.key": str(files["key"])}):
        security = dask_security("tls://scheduler:8786")
    assert security.require_encryption
    assert security.tls_ca_file == str(files["ca"]) and security.tls_client_cert == str(files["cert"])


def test_plain_tcp_to_another_machine_is_refused_unless_allowed(monkeypatch, workbook, no_work, capsys):
    pytest.importorskip("distributed")
    from optimiser.explore.runners import ALLOW_PLAIN_TCP, dask_security

    monkeypatch.delenv(ALLOW_PLAIN_TCP, raising=False)
    assert dask_security("tcp://127.0.0.1:8786") is None  # this machine
    with pytest.raises(ValueError, match="unencrypted"):
        dask_security("tcp://10.1.2.3:8786")
    assert main(["sweep", str(workbook), "--vary", "budget_scale=1", "--dask", "tcp://10.1.2.3:8786"]) == 2
    assert "plain tcp://" in capsys.readouterr().err
    monkeypatch.setenv(ALLOW_PLAIN_TCP, "1")
    assert dask_security("tcp://10.1.2.3:8786") is None


def test_a_sweep_on_a_tls_cluster_gives_the_serial_values():
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("cryptography")
    from distributed.security import Security

    from optimiser import sweep

    portfolio = validate(read_tables(RELAXED))
    security = Security.temporary()  # a self-signed certificate, in memory
    serial = sweep(portfolio, None, {"budget_scale": [0.5, 1.0]}, workers=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls://",
                                  security=security, dashboard_address=None) as cluster, \
            dask.config.set({"distributed.comm.tls.ca-file": security.tls_ca_file,
                             "distributed.comm.tls.client.cert": security.tls_client_cert,
                             "distributed.comm.tls.client.key": security.tls_client_key}):
        assert cluster.scheduler_address.startswith("tls://")
        on_tls = sweep(portfolio, None, {"budget_scale": [0.5, 1.0]}, dask=cluster.scheduler_address)
    assert list(on_tls.table["value"]) == pytest.approx(list(serial.table["value"]))


def test_the_help_and_readme_say_what_travels_to_a_cluster(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    shown = capsys.readouterr().out
    assert "sends the whole portfolio" in shown and "tls://" in shown
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "tls://" in readme and "pickled" in readme

