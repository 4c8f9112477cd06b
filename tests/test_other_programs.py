"""Workbooks written by other programs give the same plan as the .xlsx they came from.

LibreOffice converts the national sample (an .xlsx written by openpyxl) into an .xlsx
of its own, an .ods, an .xls and a folder of CSV files (one per sheet, named
``national_portfolio-Missions.csv`` as LibreOffice names them, ``;``-separated, with the
byte-order mark that Excel's "CSV UTF-8" writes). Each must read to the same portfolio
and give the same plan, byte for byte in the JSON apart from the run's time and the
input file's name, format and hash.

Needs LibreOffice (``soffice``): .ci/run installs it with .ci/install-office.sh. On CI
(``CI=true``) a missing soffice fails these tests; elsewhere they are skipped with the
reason. Each conversion runs in its own temporary folder with a private LibreOffice
profile (``-env:UserInstallation``), so concurrent runs never share one, and is
bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from optimiser import Portfolio, optimise, read_workbook, validate
from optimiser.report import result_json

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
CONVERT_TIMEOUT_S = 240  # a first start of LibreOffice builds its profile: seconds, not minutes
# LibreOffice's CSV export: ';' (59), '"' (34), UTF-8 (76), from line 1, raw values
# (not "as shown", so no precision is lost), every sheet (-1) to its own file.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,false,false,false,-1"
FORMATS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "ods": "ods",
    "xls": "xls:MS Excel 97",
    "csv": CSV_FILTER,
}
TABLES = ("missions", "zones", "resources", "requirements", "sources", "funding", "periods", "availability",
          "policies")


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("LibreOffice (soffice) is missing on CI; .ci/run should have installed it with "
                    ".ci/install-office.sh")
    pytest.skip("LibreOffice (soffice) is not installed: run `bash .ci/install-office.sh` "
                "(Debian's libreoffice-calc) to test files written by other programs")


def convert(soffice: str, source: Path, target: str, folder: Path) -> list[Path]:
    """``soffice --convert-to`` in ``folder`` with a private profile; the files written."""
    folder.mkdir(parents=True)
    profile = folder / "profile"
    command = [
        soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
        "--convert-to", target, "--outdir", str(folder / "out"), str(source),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=CONVERT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # soffice.bin too, not only the wrapper
        process.communicate()
        pytest.fail(f"LibreOffice took more than {CONVERT_TIMEOUT_S} s to convert {source.name} to {target}")
    written = sorted((folder / "out").glob("*")) if (folder / "out").exists() else []
    assert process.returncode == 0 and written, output.decode(errors="replace")
    return written


@pytest.fixture(scope="module")
def converted(soffice, tmp_path_factory) -> dict[str, Path]:
    """The national sample as LibreOffice writes it, one format a key; csv is a folder."""
    base = tmp_path_factory.mktemp("office")
    files = {}
    for name, target in FORMATS.items():
        written = convert(soffice, SAMPLE, target, base / name)
        if name == "csv":
            folder = base / "csv" / "out"
            for path in written:  # Excel's "CSV UTF-8" starts with a byte-order mark; LibreOffice 7.4 can't
                path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
            files[name] = folder
        else:
            (files[name],) = written
    return files


@pytest.fixture(scope="module")
def original() -> Portfolio:
    return validate(read_workbook(SAMPLE))


def plan_json(portfolio: Portfolio) -> dict[str, object]:
    """The relaxed plan's JSON without what differs between runs and input files."""
    plan = optimise(portfolio, portfolio.levers.changed(integer=False))
    data = json.loads(result_json(plan))
    data.pop("generated_at")
    data.pop("input")
    for timing in ("build_s", "solve_s", "total_s"):
        data["solver"].pop(timing)
    return data


@pytest.fixture(scope="module")
def original_plan(original) -> dict[str, object]:
    return plan_json(original)


@pytest.mark.parametrize("kind", list(FORMATS))
def test_a_file_written_by_libreoffice_reads_to_the_same_portfolio(kind, converted, original):
    raw = read_workbook(converted[kind])
    assert raw.source.format == kind
    portfolio = validate(raw)
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(portfolio, table), getattr(original, table), obj=table)
    assert portfolio.levers == original.levers
    assert [str(w) for w in portfolio.warnings] == [str(w) for w in original.warnings] or kind == "csv"


@pytest.mark.parametrize("kind", list(FORMATS))
def test_a_file_written_by_libreoffice_gives_the_same_plan(kind, converted, original_plan):
    plan = plan_json(validate(read_workbook(converted[kind])))
    assert json.dumps(plan, sort_keys=True) == json.dumps(original_plan, sort_keys=True)


def test_libreoffice_csv_files_are_semicolon_separated_with_a_bom(converted):
    missions = next(converted["csv"].glob("*-Missions.csv"))
    data = missions.read_bytes()
    assert missions.name == "national_portfolio-Missions.csv"
    assert data.startswith(b"\xef\xbb\xbf") and b";" in data.splitlines()[1]


def test_uploaded_libreoffice_csv_files_read_in_memory_as_the_folder_does(converted, original_plan):
    files = {path.name: path.read_bytes() for path in converted["csv"].glob("*.csv")}
    from_memory = read_workbook(files, name="CSV upload")
    from_folder = read_workbook(converted["csv"])
    assert from_memory.source.sha256 == from_folder.source.sha256
    assert json.dumps(plan_json(validate(from_memory)), sort_keys=True) == json.dumps(original_plan,
                                                                                       sort_keys=True)


def test_each_conversion_has_its_own_profile_and_leaves_no_office_running(converted):
    """The private profiles live in the tests' temporary folders, and every soffice exited."""
    for path in converted.values():
        profile = (path.parent if path.is_dir() else path.parent.parent) / "profile"
        assert profile.is_dir()
        if shutil.which("pgrep"):
            running = subprocess.run(["pgrep", "-f", profile.as_uri()], capture_output=True, text=True)
            assert running.stdout.strip() == "", f"soffice still running with {profile}"


def test_the_reports_summary_prints_on_one_page_with_nothing_cut(soffice, tmp_path):
    # The national sample's Summary as a minister's office prints it: LibreOffice's PDF.
    from optimiser import load_portfolio
    from optimiser.report import report_workbook

    plan = optimise(load_portfolio(SAMPLE))
    workbook = report_workbook(plan)
    for sheet in workbook.worksheets[1:]:
        workbook.remove(sheet)
    source = tmp_path / "summary.xlsx"
    workbook.save(source)
    (pdf,) = convert(soffice, source, "pdf", tmp_path / "pdf")
    data = pdf.read_bytes()
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1
    pdftotext = shutil.which("pdftotext")
    if pdftotext:  # poppler-utils: the page's text, to see that no figure prints as ###
        text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "###" not in text and "E-0" not in text
        assert "Report written" in text and "Coverage by priority tier" in text
