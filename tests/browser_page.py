"""The what-if page served and driven in a real headless Chromium, for the browser tests
(``tests/test_ui_browser.py``) and the page bench (``bench/ui_bench.py``): where Chromium
is and how it is started, ``streamlit run ui/app.py`` on a free localhost port with a
scenario store of its own, and the wait for Streamlit to finish a run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60
PLAN_TIMEOUT_MS = 240_000  # the first plan is an integer one (the workbook's Settings)


def browser_missing() -> str | None:
    """Why the page cannot be driven in a browser here, or ``None``."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (run .ci/install-browser.sh)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run .ci/install-browser.sh)"
    return None


@contextmanager
def page_server(folder: Path) -> Iterator[str]:
    """``streamlit run ui/app.py`` on a free localhost port, its log and its scenario
    store in ``folder`` (never the user's store); yields the page's address and stops the
    server after. RuntimeError, with the log's end, when the server does not come up."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    env = {**os.environ, "MISSION_OPTIMISER_STORE": str(folder / "scenarios.sqlite")}
    log_path = folder / "streamlit.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_until_healthy(port, server, log_path)
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def _wait_until_healthy(port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    log = log_path.read_text()[-3000:]
    raise RuntimeError(f"streamlit did not answer within {START_TIMEOUT_S} s:\n{log}")


def wait_for_idle(page: object, timeout_s: float = PLAN_TIMEOUT_MS / 1000, pause_s: float = 0.0) -> None:
    """Wait until Streamlit says the script is no longer running (after ``pause_s``, for
    a run the page has only just been sent to start)."""
    deadline = time.monotonic() + timeout_s
    status = page.locator("[data-testid='stStatusWidget']")  # type: ignore[attr-defined]
    time.sleep(pause_s)
    while time.monotonic() < deadline:
        if status.count() == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("the page was still running after the timeout")
