"""Shared by every test: the scenario store is a fresh file of the test's own.

The page and ``optimiser solve --save`` write to ``MISSION_OPTIMISER_STORE`` when it is set
(SPEC section 7). It is set for the whole session (so that servers started by module
fixtures, such as the browser test's page, use a store of the session's) and again for
each test (a fresh file); the planner's own store
(``~/.local/share/mission-optimiser/scenarios.sqlite``) is never touched by the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from optimiser.store import STORE_VARIABLE


@pytest.fixture(scope="session", autouse=True)
def session_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("session_store") / "scenarios.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STORE_VARIABLE, str(path))
        yield path


@pytest.fixture(autouse=True)
def scenario_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The path of this test's scenario store (not yet created)."""
    path = tmp_path / "store" / "scenarios.sqlite"
    monkeypatch.setenv(STORE_VARIABLE, str(path))
    return path
