"""What-if page latency for ``make bench``: lever change -> updated plan on screen.

Two ways, both on the national sample (or ``--workbook``), relaxed and integer plans,
medians of several runs; each run moves the budget slider to a value not planned
before (so the solve cache does not answer):

- AppTest (Streamlit's script runner, no browser): the whole rerun until the new plan
  is drawn: reading the widgets, solving, and drawing metrics, charts and tables. A
  cached rerun (levers already planned) gives the page's own overhead.
- A real browser (issue 12, target 5): ``streamlit run ui/app.py`` on a free localhost
  port, opened in headless Chromium through Playwright; the budget slider is moved one
  step with the keyboard (each key press is a release: the slider commits its value)
  and the time runs, in the page's own clock, from that key press to the first frame
  whose headline figures (the four metrics and their captions) are the new plan's.
  Skipped, with a note, when Chromium or Playwright is missing. Nothing leaves localhost.

    python bench/ui_bench.py [--runs N] [--workbook PATH] [--mode relaxed|integer] [--no-browser]

Targets: AppTest (issue 3) relaxed <= 1 s, integer <= 5 s; browser (issue 12, target
5) relaxed <= 0.4 s, integer <= 1 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from browser_page import (  # noqa: E402  (the page in a browser, as the browser tests drive it)
    CHROMIUM,
    CHROMIUM_FLAGS,
    PLAN_TIMEOUT_MS,
    browser_missing,
    page_server,
    wait_for_idle,
)

from bench import Figure  # noqa: E402  (one Figure for every figure of make bench)

APP = ROOT / "ui" / "app.py"
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
TARGETS_S = {"relaxed": 1.0, "integer": 5.0}
BROWSER_TARGETS_S = {"relaxed": 0.4, "integer": 1.0}


def ui_figures(runs: int = 5, workbook: Path | None = None, modes: tuple[str, ...] = ("relaxed", "integer")
               ) -> list[Figure]:
    """Lever change -> plan on screen, relaxed and integer, on ``workbook`` (default:
    the national sample)."""
    from streamlit.testing.v1 import AppTest

    import ui.state
    from ui import controls

    if workbook is not None:
        ui.state.SAMPLE = Path(workbook)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    figures: list[Figure] = []
    for mode in modes:
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.run()
        at.toggle(key=controls.INTEGER).set_value(mode == "integer").run()
        _check(at)
        times, solves, notes = [], [], []
        for i in range(runs):
            scale = round(0.97 - 0.04 * i, 2)  # a budget not planned before in this process
            start = time.perf_counter()
            at.slider(key=controls.BUDGET).set_value(scale).run()
            times.append(time.perf_counter() - start)
            _check(at)
            plan = at.session_state[ui.state.LAST_GOOD][1]
            assert plan.levers.budget_scale == scale and plan.levers.integer == (mode == "integer")
            solves.append(plan.solver.total_s)
            notes.append(f"{plan.status}, gap {plan.gap or 0:.2%}")
        figures.append(
            Figure(f"page {mode}: lever change -> plan on screen", statistics.median(times), max(times), runs,
                   TARGETS_S[mode], f"solve {statistics.median(solves):.2f} s; {notes[-1]}")
        )
        cached = []
        for _ in range(runs):  # the same levers again: the solve cache answers
            start = time.perf_counter()
            at.slider(key=controls.BUDGET).set_value(0.97).run()
            cached.append(time.perf_counter() - start)
            at.slider(key=controls.BUDGET).set_value(0.93).run()
        figures.append(
            Figure(f"page {mode}: redraw, plan cached", statistics.median(cached), max(cached), runs,
                   note="the page's own overhead: widgets, metrics, charts, tables")
        )
    return figures


def _check(at: AppTest) -> None:
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception[0].value}")


# --------------------------------------------------------------------------- real browser


# The headline as the planner reads it: the four metrics with their values, deltas and captions.
_HEADLINE_JS = """() => ['metric_value', 'metric_money', 'metric_personnel', 'metric_status']
    .map(k => { const e = document.querySelector('.st-key-' + k); return e ? e.innerText.trim() : ''; })
    .join(' | ')"""

# Arms the page's clock: the next key press starts it; the first animation frame whose
# headline (all four metrics there) differs from ``before`` stops it (window.__benchDone:
# milliseconds).
_ARM_JS = """(before) => {
    const headline = HEADLINE;
    window.__benchStart = undefined; window.__benchDone = undefined;
    window.addEventListener('keydown', () => { window.__benchStart = performance.now(); },
                            {capture: true, once: true});
    const look = () => {
        if (window.__benchStart !== undefined) {
            const now = headline();
            if (now !== before && now.split(' | ').every(part => part !== '')) {
                window.__benchDone = performance.now() - window.__benchStart;
                return;
            }
        }
        requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
}""".replace("HEADLINE", _HEADLINE_JS)


def browser_figures(runs: int = 5, workbook: Path | None = None,
                    modes: tuple[str, ...] = ("relaxed", "integer")) -> list[Figure]:
    """Slider release -> new headline figures in headless Chromium (issue 12, target 5)."""
    reason = browser_missing()
    if reason:
        return [Figure(f"page {mode} (browser): release -> headline", float("nan"), float("nan"), 0,
                       BROWSER_TARGETS_S[mode], f"not measured: {reason}") for mode in modes]
    from playwright.sync_api import sync_playwright

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="ui_bench") as folder, page_server(Path(folder)) as url, \
            sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(url, timeout=PLAN_TIMEOUT_MS)
            money = page.locator(".st-key-metric_money [data-testid='stMetricValue']")
            money.wait_for(timeout=PLAN_TIMEOUT_MS)
            wait_for_idle(page, pause_s=0.3)
            if workbook is not None:
                page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(workbook))
                page.get_by_text(f"Uploaded: {workbook.name}").wait_for(timeout=PLAN_TIMEOUT_MS)
                wait_for_idle(page, pause_s=0.3)
            slider = page.locator(".st-key-budget_scale input[type='range']")
            for mode in modes:
                integer = page.locator(".st-key-integer input[type='checkbox']")
                if integer.is_checked() != (mode == "integer"):
                    page.locator(".st-key-integer label").click()
                    wanted = "whole units" if mode == "integer" else "fractional units"
                    page.locator(".st-key-metric_status").get_by_text(wanted).wait_for(timeout=PLAN_TIMEOUT_MS)
                    wait_for_idle(page, pause_s=0.3)
                times, notes = [], []
                for _ in range(runs + 1):  # the first is a warm-up
                    before = page.evaluate(_HEADLINE_JS)
                    page.evaluate(_ARM_JS, before)
                    slider.focus()
                    page.keyboard.press("ArrowLeft")  # one step down: a budget not planned before
                    page.wait_for_function("() => window.__benchDone !== undefined", timeout=PLAN_TIMEOUT_MS,
                                           polling=50)
                    times.append(page.evaluate("() => window.__benchDone") / 1000)
                    notes.append(f"budget {slider.input_value()}")
                    wait_for_idle(page, pause_s=0.3)  # the rest of the page drawn before the next move
                    _settle(page)
                times = times[1:]
                figures.append(Figure(f"page {mode} (browser): release -> headline", statistics.median(times),
                                      max(times), runs, BROWSER_TARGETS_S[mode],
                                      f"Chromium; budget {notes[1].split()[-1]} .. {notes[-1].split()[-1]}"))
                if mode != modes[-1]:  # back up for the next mode
                    slider.focus()
                    for _ in range(runs + 1):
                        page.keyboard.press("ArrowRight")
                    wait_for_idle(page, pause_s=0.3)
        finally:
            browser.close()
    return figures


def _settle(page: object, quiet_s: float = 1.0) -> None:
    """Wait until the browser has drawn what the last run sent (an idle callback, then
    ``quiet_s`` more), as a planner reads the new figures before the next move."""
    page.evaluate("() => new Promise(done => requestIdleCallback(() => done(), {timeout: 5000}))")  # type: ignore[attr-defined]
    time.sleep(quiet_s)


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'median':>8}  {'worst':>8}  {'runs':>4}  {'target':>7}  {'ratio':>5}  note")
    for f in figures:
        target = f"{f.target_s:.1f} s" if f.target_s else ""
        print(f"{f.name:<{width}}  {f.median_s:7.3f}s  {f.worst_s:7.3f}s  {f.runs:>4}  {target:>7}  "
              f"{f.ratio:>5}  {f.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--workbook", type=Path, default=None, help="workbook (default: the national sample)")
    parser.add_argument("--mode", action="append", choices=sorted(TARGETS_S), help="relaxed or integer "
                        "(repeatable; default both)")
    parser.add_argument("--no-browser", action="store_true", help="only the AppTest figures")
    parser.add_argument("--no-apptest", action="store_true", help="only the browser figures")
    args = parser.parse_args(argv)
    modes = tuple(args.mode or TARGETS_S)
    figures = [] if args.no_apptest else ui_figures(args.runs, args.workbook, modes)
    if not args.no_browser:
        figures += browser_figures(args.runs, args.workbook, modes)
    print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
