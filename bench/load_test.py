"""Load test of the what-if page: concurrent planners on one server, on loopback only.

Starts ``streamlit run ui/app.py`` on a free port of 127.0.0.1 and opens N (default 20)
pages at once in headless Chromium (Debian's /usr/bin/chromium driven by Playwright,
each page in its own browser context, so each is its own Streamlit session). Each
planner uploads the national sample with its own Settings (a relaxed plan and a budget
scale of its own), so every session really solves, none is answered from another's
cache, and each must show *its own* plan: the money-spent and value figures on its
page are checked against the same plan computed here, in this process.

While the pages work, a probe asks the server's health endpoint (``/_stcore/health``)
and the page itself (``/``) every half second: the server must keep answering.

Prints: time from upload to plan on screen per session (median, 90th percentile,
worst), sessions correct, health and page latency during the load (median, 90th
percentile, worst), the server's peak memory, total time.

    python bench/load_test.py [--sessions 20] [--timeout 900] [--json out.json]

Bounded: at most 50 sessions, one overall timeout (default 900 s), loopback only.
Chromium comes from .ci/install-browser.sh; the first page after start-up warms the
server with the national sample's default (integer) plan, timed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run"]
MOST_SESSIONS = 50
HOST = "127.0.0.1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Session:
    number: int
    file_name: str
    budget_scale: float
    expected_money: str
    expected_value: str
    seconds: float | None = None
    shown_money: str = ""
    shown_value: str = ""
    solve_s: float | None = None  # the server's own solve time, from the page's status line
    error: str = ""

    @property
    def correct(self) -> bool:
        return not self.error and (self.shown_money, self.shown_value) == (self.expected_money,
                                                                           self.expected_value)


@dataclass
class Probe:
    health_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    failures: int = 0
    peak_rss_mb: float = 0.0
    server_cpu_s: float = 0.0  # CPU time the server (and its reader processes) used during the load


# --------------------------------------------------------------------------- the workbooks


def session_workbooks(count: int) -> list[tuple[str, bytes, float]]:
    """The national sample, relaxed, with a budget scale of its own per session."""
    from openpyxl import load_workbook

    workbooks = []
    for number in range(count):
        scale = round(0.60 + 0.02 * number, 2)
        book = load_workbook(SAMPLE)
        settings = next(ws for ws in book.worksheets if ws.title.strip().lower() == "settings")
        for row in settings.iter_rows():
            if row[0].value in ("integer", "budget_scale"):
                row[0].value = row[1].value = None
        settings.append(["integer", "no"])
        settings.append(["budget_scale", scale])
        out = io.BytesIO()
        book.save(out)
        workbooks.append((f"national-{number + 1:02d}.xlsx", out.getvalue(), scale))
    return workbooks


def expected_figures(data: bytes, name: str) -> tuple[str, str]:
    """(money spent, value reached) as the page shows them, for the plan computed here."""
    from optimiser import optimise, read_workbook, validate
    from optimiser.formats import money_short as money
    from ui.summaries import headline

    plan = optimise(validate(read_workbook(data, name=name)))
    figures = headline(plan)
    return money(figures.total_cost, figures.currency), f"{figures.value_share:.1%}"


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
        "--server.port", str(port), "--server.address", HOST, "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"streamlit exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("streamlit did not start within 90 s")


def probe_server(port: int, server_pid: int, probe: Probe, stop: threading.Event) -> None:
    """Health and page latency every half second, and the server's memory."""
    try:
        import psutil

        process = psutil.Process(server_pid)
    except Exception:  # psutil missing: latency only
        process = None
    cpu_start = None
    while not stop.is_set():
        for path, sink in (("/_stcore/health", probe.health_ms), ("/", probe.page_ms)):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as answer:
                    answer.read()
                sink.append((time.perf_counter() - started) * 1000)
            except OSError:
                probe.failures += 1
        if process is not None:
            try:
                rss = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(True))
                probe.peak_rss_mb = max(probe.peak_rss_mb, rss / 1e6)
                times = process.cpu_times()
                used = times.user + times.system + times.children_user + times.children_system
                cpu_start = used if cpu_start is None else cpu_start
                probe.server_cpu_s = used - cpu_start
            except Exception:
                pass
        stop.wait(0.5)


# --------------------------------------------------------------------------- the planners


async def open_page(browser, url: str, timeout_ms: int):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(url, timeout=timeout_ms)
    await page.locator(".st-key-metric_money [data-testid='stMetricValue']").wait_for(timeout=timeout_ms)
    return context, page


async def plan_once(browser, url: str, session: Session, data: bytes, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    context = None
    try:
        context, page = await open_page(browser, url, timeout_ms)
        uploader = page.locator(".st-key-workbook_upload input[type='file']")
        started = time.perf_counter()
        await uploader.set_input_files(files=[{"name": session.file_name, "mimeType": XLSX, "buffer": data}],
                                       timeout=timeout_ms)
        await page.get_by_text(f"Uploaded: {session.file_name}").wait_for(timeout=timeout_ms)
        status = page.locator(".st-key-metric_status [data-testid='stCaptionContainer']")
        money = page.locator(".st-key-metric_money [data-testid='stMetricValue']")
        value = page.locator(".st-key-metric_value [data-testid='stMetricValue']")
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:  # the plan of this upload: relaxed, and its own money
            text = (await status.inner_text()) if await status.count() else ""
            shown = (await money.inner_text()).strip() if await money.count() else ""
            if "relaxed plan" in text and shown == session.expected_money:
                break
            await asyncio.sleep(0.1)
        session.seconds = time.perf_counter() - started
        session.shown_money = (await money.inner_text()).strip()
        session.shown_value = (await value.inner_text()).strip()
        solved = re.search(r"([0-9.]+) s\s*$", (await status.inner_text()).strip())
        session.solve_s = float(solved.group(1)) if solved else None
    except Exception as error:  # one session's failure is a figure, not a crash of the test
        session.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        if context is not None:
            await context.close()


async def run_sessions(url: str, sessions: list[Session], data: list[bytes], timeout_s: float,
                       on_load: threading.Thread) -> float:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                               args=CHROMIUM_FLAGS)
        try:
            warm_started = time.perf_counter()  # the sample's default plan, once, before the load
            context, _ = await open_page(browser, url, int(timeout_s * 1000))
            await context.close()
            warm_s = time.perf_counter() - warm_started
            on_load.start()  # the probe measures the load only, not the warm-up
            await asyncio.wait_for(
                asyncio.gather(*(plan_once(browser, url, s, d, int(timeout_s * 1000))
                                 for s, d in zip(sessions, data, strict=True))),
                timeout=timeout_s,
            )
        finally:
            await browser.close()
    return warm_s


# --------------------------------------------------------------------------- figures


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"median {statistics.median(ordered):.2f}, p90 {p(0.9):.2f}, worst {ordered[-1]:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent planners (at most 50)")
    parser.add_argument("--timeout", type=float, default=900.0, help="overall limit in seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    count = max(1, min(args.sessions, MOST_SESSIONS))
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: run bash .ci/install-browser.sh")

    print(f"Preparing {count} workbooks and their expected plans (relaxed, budget scale 0.60..)", flush=True)
    workbooks = session_workbooks(count)
    sessions = []
    for number, (name, data, scale) in enumerate(workbooks, start=1):
        money, value = expected_figures(data, name)
        sessions.append(Session(number, name, scale, money, value))

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="load-test-")) / "streamlit.log"
    server = start_server(port, log)
    probe, stop = Probe(), threading.Event()
    watcher = threading.Thread(target=probe_server, args=(port, server.pid, probe, stop), daemon=True)
    started = time.perf_counter()
    try:
        print(f"Server on http://{HOST}:{port}/ ; warming up, then {count} sessions at once", flush=True)
        warm_s = asyncio.run(run_sessions(f"http://{HOST}:{port}/", sessions, [d for _, d, _ in workbooks],
                                          args.timeout, watcher))
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    total_s = time.perf_counter() - started

    times = [s.seconds for s in sessions if s.seconds is not None and not s.error]
    solves = [s.solve_s for s in sessions if s.solve_s is not None]
    correct = sum(s.correct for s in sessions)
    print()
    print(f"Sessions: {count} concurrent, {correct} showed their own correct plan")
    print(f"Warm-up (first page, the sample's integer plan): {warm_s:.1f} s")
    print(f"Upload -> own plan on screen (s): {spread(times)}")
    print(f"Solve on the server, as each page reports it (s): {spread(solves)}")
    print(f"Health endpoint during the load (ms): {spread(probe.health_ms)} ({len(probe.health_ms)} probes)")
    print(f"Page '/' during the load (ms): {spread(probe.page_ms)}; probe failures: {probe.failures}")
    print(f"Server peak memory (with children): {probe.peak_rss_mb:,.0f} MB; server CPU during the load: "
          f"{probe.server_cpu_s:.1f} s on {os.cpu_count()} CPUs (the browsers share them)")
    print(f"Total: {total_s:.1f} s")
    for session in sessions:
        if not session.correct:
            print(f"  session {session.number} ({session.file_name}): expected {session.expected_money} / "
                  f"{session.expected_value}, shown {session.shown_money} / {session.shown_value} "
                  f"{session.error}")
    if args.json:
        args.json.write_text(json.dumps({
            "sessions": [asdict(s) for s in sessions], "warm_up_s": warm_s, "total_s": total_s,
            "health_ms": probe.health_ms, "page_ms": probe.page_ms, "probe_failures": probe.failures,
            "peak_rss_mb": probe.peak_rss_mb, "server_cpu_s": probe.server_cpu_s, "cpus": os.cpu_count(),
        }, indent=2))
    return 0 if correct == count and probe.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
