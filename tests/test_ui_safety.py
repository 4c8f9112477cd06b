"""The what-if page's safety: local, private, in memory, one planner's work unseen by another.

- configuration (.streamlit/config.toml, as Streamlit itself reads it): no usage
  statistics, localhost only, uploads no larger than the reader reads, cross-site
  protections on, no tracebacks shown to the browser;
- uploads and downloads are handled in memory: nothing is written to a file;
- two browser sessions (two AppTest sessions of the same process, sharing its caches
  as a server's sessions do) never see each other's workbook or plan, nor the scenarios
  saved for another workbook, even when their uploads have the same file name (the
  scenarios of one workbook are shared by its users through the store: SPEC 7);
- Unicode names (Arabic, Cyrillic, accents, decomposed accents) survive input, plan,
  report, JSON and page unchanged.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest
from conftest_reading import VALID, sheets_from_tables, xlsx_bytes
from streamlit.testing.v1 import AppTest

from optimiser.read import MAX_FILE_BYTES
from optimiser.store import ScenarioStore
from ui import controls, scenarios, state, views

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "ui" / "app.py")
CONFIG = ROOT / ".streamlit" / "config.toml"
TIMEOUT_S = 300
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NAMES = {
    "M1": "بعثة مراقبة وقف إطلاق النار",  # Arabic: ceasefire monitoring mission
    "M2": "Миссия посредничества",  # Russian: mediation mission
    "M3": "Bureau de l’attaché à Côte d’Ivoire",  # precomposed accents
}
DECOMPOSED = unicodedata.normalize("NFD", "Équipe médicale à Mopti")  # accents as combining marks
ZONE = "Ниамей — Нигер"


def displayed(markdown: str) -> str:
    """What a Markdown body shows: the page escapes input text (backslashes) and breaks its
    addresses with invisible word joiners (optimiser.safe_text.markdown_literal)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


# --------------------------------------------------------------------------- configuration


@pytest.fixture(scope="module")
def config() -> dict[str, dict[str, object]]:
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))


def test_usage_statistics_are_never_sent(config):
    assert config["browser"]["gatherUsageStats"] is False


def test_the_page_listens_on_localhost_only(config):
    assert config["server"]["address"] in ("localhost", "127.0.0.1")


def test_uploads_are_no_larger_than_the_reader_reads(config):
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES


def test_cross_site_protections_are_not_turned_off(config):
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"].get("enableCORS", True) is True


def test_streamlit_itself_reads_these_settings_from_the_project_folder():
    """``streamlit config show`` run where ``make page`` runs the page."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=True,
    ).stdout
    settings = _shown_settings(shown)
    assert settings["browser.gatherUsageStats"] == "false"
    assert settings["server.address"] == '"localhost"'
    assert settings["server.maxUploadSize"] == str(MAX_FILE_BYTES // (1024 * 1024))
    assert settings["server.enableXsrfProtection"] == "true"
    assert settings["server.headless"] == "true"


def _shown_settings(text: str) -> dict[str, str]:
    """``section.option -> value`` from ``streamlit config show``: values set in a file are
    plain ``key = value`` lines, defaults are shown commented out (``# key = value``)."""
    settings: dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        match = re.fullmatch(r"(#\s*)?([A-Za-z]\w*)\s*=\s*(.+)", line)
        if match and (not match.group(1) or f"{section}.{match.group(2)}" not in settings):
            settings[f"{section}.{match.group(2)}"] = match.group(3)
    return settings


def test_an_unexpected_error_shows_no_traceback_in_the_browser(config):
    assert config.get("client", {}).get("showErrorDetails") in ("none", False, "type")


# --------------------------------------------------------------------------- nothing written


class FileWrites:
    """Every file opened for writing, created, or made as a temporary folder, while on.

    An audit hook (PEP 578) sees ``open`` (builtins, io and os), ``os.mkdir`` and the
    ``tempfile`` events from every library, Streamlit's and the optimiser's included.
    """

    hooked = False
    active: ClassVar[list[FileWrites]] = []

    def __init__(self) -> None:
        self.seen: list[str] = []
        if not FileWrites.hooked:
            sys.addaudithook(FileWrites._hook)
            FileWrites.hooked = True

    @staticmethod
    def _hook(event: str, args: tuple[object, ...]) -> None:
        if not FileWrites.active:
            return
        written = None
        if event == "open":
            path, mode, flags = [*args, None, None, None][:3]
            writes_by_mode = isinstance(mode, str) and any(m in mode for m in "wax+")
            writes_by_flags = isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if writes_by_mode or writes_by_flags:
                written = path
        elif event in ("os.mkdir", "tempfile.mkstemp", "tempfile.mkdtemp", "os.rename", "os.replace"):
            written = args[0] if args else event
        if isinstance(written, int):  # an open file descriptor (a pipe to the reader), not a file
            written = None
        if written is not None and not str(written).startswith("/dev/"):
            for recorder in FileWrites.active:
                recorder.seen.append(f"{event}: {written}")

    def __enter__(self) -> FileWrites:
        FileWrites.active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        FileWrites.active.remove(self)


def workbook_bytes(names: dict[str, str] | None = None, zone: str = "North", extra_name: str = "") -> bytes:
    """The small valid portfolio (relaxed) as .xlsx bytes, with the given mission names."""
    sheets = sheets_from_tables(VALID)
    for row in sheets["Missions"][1:]:
        if names and row[0] in names:
            row[1] = names[row[0]]
    if extra_name:
        sheets["Missions"].append(["M4", extra_name, "Z1", "monitoring", 4, None, None, None, None, 100])
    sheets["Zones"][1][1] = zone
    sheets["Settings"].append(["integer", "no"])
    return xlsx_bytes(sheets)


def saved_scenarios(at: AppTest) -> list[str]:
    """The scenarios the store keeps for the workbook on this session's screen (every
    session using the same workbook sees them: SPEC 7)."""
    book = at.session_state[state.CURRENT_BOOK]
    return [s.name for s in ScenarioStore().list(scenarios.workbook_sha(book))]


def csv_files(data: bytes) -> list[tuple[str, bytes]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    files = []
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        lines = [";".join("" if v is None else str(v) for v in row) for row in rows]
        files.append((f"{sheet.title.lower()}.csv", ("\ufeff" + "\r\n".join(lines)).encode()))
    return files


def test_an_uploaded_workbook_is_read_without_writing_any_file():
    data = workbook_bytes(extra_name="written nowhere (xlsx)")
    state.read_cached.clear()
    with FileWrites() as writes:
        book = state.read_upload([("portfolio.xlsx", data)])
    assert book.portfolio is not None, book.problems or book.failure
    assert writes.seen == []


def test_uploaded_csv_files_are_read_without_writing_any_file():
    files = csv_files(workbook_bytes(extra_name="written nowhere (csv)"))
    state.read_cached.clear()
    with FileWrites() as writes:
        book = state.read_upload(files)
    assert book.portfolio is not None, book.problems or book.failure
    assert "written nowhere (csv)" in set(book.portfolio.missions["name"])
    assert writes.seen == []


@pytest.fixture(scope="module")
def small_plan():
    book = state.read_upload([("portfolio.xlsx", workbook_bytes())])
    assert book.portfolio is not None
    solved = state.solve(book, book.portfolio.levers)
    assert solved.plan is not None
    return solved.plan


def test_the_json_download_is_made_without_writing_any_file(small_plan):
    with FileWrites() as writes:
        result = state.json_bytes(small_plan)
    assert json.loads(result)["status"] == "optimal"
    assert writes.seen == []


def test_the_report_download_is_made_without_writing_any_file(small_plan):
    state.report_bytes(small_plan)  # once, so that tempfile's first look at the temp folder is done
    with FileWrites() as writes:
        report = state.report_bytes(small_plan)
    assert report.startswith(b"PK")
    assert writes.seen == []


def test_the_write_detector_does_see_writes(tmp_path):
    with FileWrites() as writes:
        (tmp_path / "x.txt").write_text("x")
    assert writes.seen and "x.txt" in writes.seen[0]


# --------------------------------------------------------------------------- sessions


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key=views.UPLOAD).upload(name, data, XLSX).run()
    assert not at.exception, at.exception
    return at


def missions_on_screen(at: AppTest) -> set[str]:
    return set(at.session_state[state.LAST_GOOD][1].missions["name"])


def test_two_planners_never_see_each_others_workbook_plan_or_scenarios():
    first_data = workbook_bytes(names={"M1": "Secret mission of planner A"})
    second_data = workbook_bytes(names={"M1": "Planner B's own mission"})
    first = upload(AppTest.from_file(APP, default_timeout=TIMEOUT_S).run(), "portfolio.xlsx", first_data)
    first.text_input(key=scenarios.SCENARIO_NAME).set_value("A: cut budget")
    first.button(key=scenarios.SAVE_SCENARIO).click().run()
    assert "Secret mission of planner A" in missions_on_screen(first)

    second = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()  # another browser
    assert not second.exception, second.exception
    assert second.session_state[state.CURRENT_BOOK].name == state.SAMPLE_NAME
    assert saved_scenarios(second) == []
    assert "Secret mission of planner A" not in missions_on_screen(second)

    # the same file name, other content: B gets its own workbook, never A's cached one
    upload(second, "portfolio.xlsx", second_data)
    assert "Planner B's own mission" in missions_on_screen(second)
    assert "Secret mission of planner A" not in missions_on_screen(second)
    assert saved_scenarios(second) == []

    first.run()  # A's session is as A left it
    assert "Secret mission of planner A" in missions_on_screen(first)
    assert saved_scenarios(first) == ["A: cut budget"]


def test_a_cached_workbook_shared_by_two_sessions_cannot_be_changed_by_either():
    """st.cache_data hands each caller a copy: one session's changes reach no other."""
    data = workbook_bytes(extra_name="shared by content")
    one = state.read_upload([("same.xlsx", data)])
    assert one.portfolio is not None
    one.portfolio.missions.loc["M1", "name"] = "changed in one session"
    other = state.read_upload([("same.xlsx", data)])
    assert other.portfolio.missions.loc["M1", "name"] == "Ceasefire monitors"


# --------------------------------------------------------------------------- Unicode names


def test_unicode_names_survive_input_plan_report_json_and_page():
    names = {**NAMES}
    data = workbook_bytes(names=names, zone=ZONE, extra_name=DECOMPOSED)
    every = [*names.values(), DECOMPOSED]
    at = upload(AppTest.from_file(APP, default_timeout=TIMEOUT_S).run(), "تخطيط.xlsx", data)
    assert at.toggle(key=controls.INTEGER).value is False  # the workbook's own Settings

    plan = at.session_state[state.LAST_GOOD][1]
    assert set(every) <= set(plan.missions["name"])
    assert plan.portfolio.zones.loc["Z1", "name"] == ZONE

    at.session_state[views.VIEW] = "Missions"
    at.run()
    assert not at.exception, at.exception
    on_page = at.get_by_key("mission_coverage").dataframe[0].value
    assert set(every) <= set(on_page["name"])
    assert any("تخطيط.xlsx" in displayed(caption.value) for caption in at.sidebar.caption)

    report = openpyxl.load_workbook(io.BytesIO(state.report_bytes(plan)))
    cells = {c.value for ws in report.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}
    assert set(every) <= cells and ZONE in cells
    assert DECOMPOSED in cells and unicodedata.normalize("NFC", DECOMPOSED) not in cells  # not normalised

    result = json.loads(state.json_bytes(plan))
    assert set(every) <= {m["name"] for m in result["missions"]}
    assert "\\u" not in state.json_bytes(plan).decode("utf-8")  # written as UTF-8, not escaped
