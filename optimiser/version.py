"""The installed tool's version (the report's Summary and the JSON record it)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mission-optimiser")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"
