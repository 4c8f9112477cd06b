"""The benchmarks' one measure of memory: this process's peak resident set size."""

from __future__ import annotations

import resource
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
