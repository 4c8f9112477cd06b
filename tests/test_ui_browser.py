"""The what-if page in a real headless Chromium (Debian's chromium, driven by Playwright).

Starts ``streamlit run ui/app.py`` on a free localhost port, waits for the plan, moves
the budget slider, sees the money metric change and downloads the report workbook; then
opens every tab, takes a screenshot of each, and checks what a planner would see: table
headers in words (no ``snake_case``), no Python repr, and the page's figures equal to the
report's.
``.ci/install-browser.sh`` installs Chromium and Playwright; in CI (``CI`` set) a
missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_page import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    PLAN_TIMEOUT_MS,
    browser_missing,
    page_server,
    wait_for_idle,
)

pytestmark = pytest.mark.browser

SAMPLE_NAME = "national_portfolio.xlsx"


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs the browser: its absence is a failure there
        pytest.skip(reason)
    try:
        with page_server(tmp_path_factory.mktemp("streamlit")) as url:
            yield url
    except RuntimeError as error:  # the server did not come up
        pytest.fail(str(error))


def _metric_value(page: object, key: str) -> str:
    return page.locator(f".st-key-{key} [data-testid='stMetricValue']").inner_text().strip()  # type: ignore[attr-defined]


def test_page_plans_moves_a_slider_and_downloads_the_report(page_url: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 1000})
            page = context.new_page()
            page.goto(page_url, timeout=PLAN_TIMEOUT_MS)

            # the plan of the national sample is on screen
            money = page.locator(".st-key-metric_money [data-testid='stMetricValue']")
            expect(money).to_be_visible(timeout=PLAN_TIMEOUT_MS)
            expect(page.get_by_text(SAMPLE_NAME).first).to_be_visible()
            wait_for_idle(page)
            assert any(ch.isdigit() for ch in _metric_value(page, "metric_money"))

            # a relaxed plan from here on: quicker to re-plan while the slider moves
            page.locator(".st-key-integer label").click()
            status = page.locator(".st-key-metric_status [data-testid='stCaptionContainer']")
            expect(status).to_contain_text("fractional units", timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            before = _metric_value(page, "metric_money")

            # move the budget slider down with the keyboard: 10 steps of 0.05
            slider = page.locator(".st-key-budget_scale input[type='range']")
            slider.focus()
            for _ in range(10):
                page.keyboard.press("ArrowLeft")
            expect(slider).to_have_value("0.5", timeout=10_000)
            expect(money).not_to_have_text(before, timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            after = _metric_value(page, "metric_money")
            assert after != before

            # download the report workbook of the plan on screen
            button = page.locator(".st-key-download_report button")
            with page.expect_download(timeout=PLAN_TIMEOUT_MS) as download_info:
                button.click()
            download = download_info.value
            assert download.suggested_filename.endswith(".xlsx")
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            report = load_workbook(io.BytesIO(saved.read_bytes()), read_only=True)
            assert report.sheetnames[0] == "Summary"
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        finally:
            browser.close()


SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
REPR = re.compile(r"\b(?:Portfolio|Plan|Levers|DataFrame)\(")


def test_every_tab_reads_as_a_planner_would_and_agrees_with_the_report(page_url: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 2400})
            page = context.new_page()
            page.goto(page_url, timeout=PLAN_TIMEOUT_MS)
            expect(page.locator(".st-key-metric_money [data-testid='stMetricValue']")).to_be_visible(
                timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            tabs = page.get_by_role("tab")
            names = [t.strip() for t in tabs.all_inner_texts()]
            assert names[:6] == ["Plan", "Timeline", "What binds", "Missions", "Tables", "Compare scenarios"]
            for index, name in enumerate(names):
                tabs.nth(index).click()
                wait_for_idle(page)
                page.wait_for_timeout(1500)  # charts and tables draw after the script ends
                page.screenshot(path=str(tmp_path / f"tab-{index}-{name.replace(' ', '-')}.png"))
                text = page.locator("[data-testid='stMain']").inner_text()
                assert not REPR.search(text), (name, REPR.search(text))
                headers = [h.strip() for h in page.locator("[role='columnheader']").all_inner_texts()]
                assert headers, name  # every tab shows at least the tier table
                snake = [h for h in headers if SNAKE_CASE.search(h)]
                assert not snake, (name, snake)
                assert "Portfolio(" not in text and "1 periods" not in text, name
            # the tier table on the page holds the counts of the report of the plan on screen
            # (one definition, SPEC 5)
            tabs.nth(0).click()
            wait_for_idle(page)
            with page.expect_download(timeout=PLAN_TIMEOUT_MS) as download_info:
                page.locator(".st-key-download_report button").click()
            saved = tmp_path / "report.xlsx"
            download_info.value.save_as(saved)
            summary = load_workbook(saved)["Summary"]
            tiers = {row[0]: row[1:5] for row in summary.iter_rows(values_only=True)
                     if isinstance(row[0], str) and row[0].startswith("Priority ")}
            rows = page.locator(".st-key-tier_table [role='row']")
            shown = {}
            for index in range(1, rows.count()):  # row 0 is the header
                cells = [c.strip() for c in rows.nth(index).locator("[role='gridcell']").all_inner_texts()]
                shown[f"Priority {cells[0]}"] = tuple(int(c.replace(",", "")) for c in cells[1:4])
            assert shown == {tier: (t[1], t[2], t[3]) for tier, t in tiers.items()}
            # and its value and money, as the page's headline gives them
            caption = page.locator("[data-testid='stMain']").inner_text()
            figures = {row[0]: row[1] for row in summary.iter_rows(max_col=2, values_only=True)}
            assert f"value {figures['Value']:,.1f} of" in caption
            assert f"spends USD {figures['Money spent (USD)']:,.0f} of" in caption
        finally:
            browser.close()


LEVER_KEYS = re.compile(r"\b(?:budget|personnel|equipment|source)_scale\b|\breserve_share\b|\bmip_gap\b")


def test_a_saved_cut_compares_in_words_and_unmet_needs_fit_a_laptop_screen(page_url: str) -> None:
    """At 1366 x 900: the Unmet table shows what each mission lacks and the money to close
    it without scrolling sideways; a 20% budget cut saved beside the full budget compares
    with the lever in a planner's words and the value the plan's headline gives."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(page_url, timeout=PLAN_TIMEOUT_MS)
            money = page.locator(".st-key-metric_money [data-testid='stMetricValue']")
            expect(money).to_be_visible(timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            page.locator(".st-key-integer label").click()  # fractional units: quick to re-plan
            status = page.locator(".st-key-metric_status [data-testid='stCaptionContainer']")
            expect(status).to_contain_text("fractional units", timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)

            # What binds: every column of the Unmet table inside the page's width
            page.get_by_role("tab", name="What binds").click()
            wait_for_idle(page)
            unmet = page.locator(".st-key-unmet_table table")
            expect(unmet).to_be_visible(timeout=PLAN_TIMEOUT_MS)
            main = page.locator("[data-testid='stMainBlockContainer']").bounding_box()
            box = unmet.bounding_box()
            assert main is not None and box is not None
            assert box["x"] + box["width"] <= main["x"] + main["width"] + 1, (box, main)
            headers = [h.strip() for h in unmet.locator("th").all_inner_texts()]
            assert "Money to close it (USD)" in headers and "Still lacks (per period, at most)" in headers

            # save the full budget, cut it by 20%, save again, compare
            for name, steps in (("Full budget", 0), ("Cut 20%", 4)):
                if steps:
                    before = money.inner_text()
                    page.locator(".st-key-budget_scale input[type='range']").focus()
                    for _ in range(steps):
                        page.keyboard.press("ArrowLeft")
                    expect(money).not_to_have_text(before, timeout=PLAN_TIMEOUT_MS)
                    wait_for_idle(page)
                page.locator(".st-key-scenario_name input").fill(name)
                page.locator(".st-key-scenario_name input").press("Enter")
                wait_for_idle(page)
                page.locator(".st-key-save_scenario button").click()
                expect(page.get_by_text(f"Saved scenario '{name}'.")).to_be_visible(timeout=PLAN_TIMEOUT_MS)
                wait_for_idle(page)
            caption = page.locator(".st-key-metric_value [data-testid='stCaptionContainer']").inner_text()
            page.get_by_role("tab", name="Compare scenarios").click()
            wait_for_idle(page)
            levers = page.locator(".st-key-compare_levers")
            expect(levers).to_contain_text("Budget (× the workbook's funding)", timeout=60_000)
            text = page.locator("[data-testid='stMain']").inner_text()
            assert not LEVER_KEYS.search(text), LEVER_KEYS.search(text)
            # the cut's value in the comparison is the value its headline gave
            value = re.search(r"value ([\d,]+\.\d) of", caption)
            assert value is not None
            cells = page.locator(".st-key-compare_headline [role='gridcell']").all_inner_texts()
            assert any(cell.strip().startswith(value.group(1)) for cell in cells), (value.group(1), cells)
        finally:
            browser.close()


HOSTILE = "**bold** [x](http://127.0.0.1:9/) ![](http://127.0.0.1:9/i.png) $x^2$"


def test_workbook_text_shows_literally_and_the_browser_fetches_nothing(page_url: str, tmp_path: Path) -> None:
    """Names and the file's name written as Markdown (bold, a link, an image, a formula)
    show as typed; the image's address is never fetched (the page sends nothing anywhere)."""
    from conftest_reading import VALID, sheets_from_tables, write_xlsx
    from playwright.sync_api import expect, sync_playwright

    sheets = sheets_from_tables({**VALID, "Settings": "key,value\ninteger,no"})
    sheets["Missions"][1][1] = HOSTILE
    sheets["Zones"][1][1] = HOSTILE
    sheets["Periods"][1][1] = HOSTILE
    upload = tmp_path / "**file** [f](http:__127.0.0.1:9_).xlsx"
    write_xlsx(upload, sheets)

    fetched: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.on("request", lambda request: fetched.append(request.url))
            page.goto(page_url, timeout=PLAN_TIMEOUT_MS)
            expect(page.locator(".st-key-metric_money [data-testid='stMetricValue']")).to_be_visible(
                timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(upload))
            expect(page.get_by_text("Uploaded: **file** [f](http:__127.0.0.1:9_).xlsx")).to_be_visible(
                timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page)
            # the upload's own zones (2), not the sample's still on screen while its plan is made
            page.get_by_text("Zone personnel caps (2)").click()
            label = page.get_by_text(re.compile(r"^\*\*bold\*\*.*\(Z1\)$")).first
            expect(label).to_be_visible(timeout=30_000)
            assert label.inner_text().replace("\u2060", "") == f"{HOSTILE} (Z1)"  # as typed, joiners aside
            page.get_by_role("tab", name="What binds").click()
            wait_for_idle(page)
            page.screenshot(path=os.environ.get("HOSTILE_PNG", str(tmp_path / "hostile.png")), full_page=True)
            assert page.locator("[data-testid='stMarkdownContainer'] strong", has_text="bold").count() == 0
            links = page.locator("[data-testid='stMarkdownContainer'] a[href^='http://127.0.0.1:9']")
            assert links.count() == 0
            assert page.locator("img[src^='http://127.0.0.1:9']").count() == 0
            assert page.locator(".katex").count() == 0  # no formula typeset
        finally:
            browser.close()
    assert not [url for url in fetched if url.startswith("http://127.0.0.1:9/")], fetched
