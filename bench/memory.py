"""What the benchmark scripts share: their one measure of memory (this process's peak
resident set size), the one way they run a script in a fresh process (whose memory is
then its own), and the plain dict a figure is for bench.py's table."""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path


def peak_rss() -> float:
    """This process's peak resident memory in bytes (VmHWM from /proc; ru_maxrss where
    there is no /proc, which macOS gives in bytes and Linux in KiB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak) * (1.0 if sys.platform == "darwin" else 1024.0)


def fresh_process(script: str, arguments: list[str]) -> dict:
    """``script`` run with ``arguments`` in a fresh Python process (its own memory, no warm
    caches) from the project's folder; the JSON object on the last line it printed."""
    done = subprocess.run(
        [sys.executable, str(Path(script).resolve()), *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figure(name: str, values: list[float], runs: int, target: float | None = None, note: str = "") -> dict:
    """A figure for bench.py's table: the median and worst of ``values`` (seconds, or GiB
    where the name says so)."""
    return {
        "name": name,
        "median_s": statistics.median(values),
        "worst_s": max(values),
        "runs": runs,
        "target_s": target,
        "note": note,
    }
