"""Session state and caches of the what-if page.

Nothing here is shared between sessions except Streamlit's caches and the plan store
(:class:`PlanStore`), which hold copies keyed by content: a workbook's SHA-256 for
reading, (SHA-256, levers) for solving, for the plan with the commitments stretched and
for the price ranges.
Each planner's levers and last good plan live in their own ``st.session_state``; saved
scenarios live in the scenario store (:mod:`ui.scenarios`), one file shared by every
session and the command line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from optimiser import (
    InvalidInput,
    Levers,
    Plan,
    Portfolio,
    Problem,
    Status,
    WarmStart,
    optimise,
    price_ranges,
    read_workbook,
    relax_commitments,
    report,
    validate,
)
from optimiser.problems import HasProblems
from optimiser.store import levers_record

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
SAMPLE_NAME = "national_portfolio.xlsx"

# session_state keys that are not widgets
LAST_GOOD = "last_good_plan"  # the last plan that could be made: (lever_key, Plan)
PREVIOUS = "previous_plan"  # the plan shown before the last lever change (for metric deltas)
LEVERS_FOR = "levers_for_workbook"  # SHA-256 of the workbook whose levers the widgets hold
CURRENT_LEVERS = "current_levers"  # the Levers on screen, for the save button's callback
CURRENT_BOOK = "current_book"  # the Workbook on screen
NOTICE = "notice"  # one-off message from a callback ("Saved scenario 'cut'")
WARM = "warm_start"  # the last solve's basis, for the next lever move's (optimiser.WarmStart)


@dataclass(frozen=True)
class Workbook(HasProblems):
    """A workbook as read: its name, hash, and the portfolio or the problems that stop it."""

    name: str
    sha256: str
    portfolio: Portfolio | None
    problems: tuple[Problem, ...] = ()
    failure: str = ""  # one line when reading failed for a reason other than the input


@dataclass(frozen=True)
class Solved:
    """A solve's outcome for the page: a plan, or one line saying why there is none."""

    plan: Plan | None
    failure: str = ""
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def lever_key(levers: Levers) -> str:
    """An exact, hashable text of every lever (floats kept in full, unlike ``--set`` text)."""
    return json.dumps(levers_record(levers), sort_keys=True)


# --------------------------------------------------------------------------- reading


WORKBOOK_TYPES = ("xlsx", "xlsm", "xls", "xlsb", "ods")
UPLOAD_TYPES = (*WORKBOOK_TYPES, "csv")


@st.cache_data(max_entries=16, show_spinner=False)
def read_cached(content_sha256: str, name: str, _files: tuple[tuple[str, bytes], ...]) -> Workbook:
    """Read and validate uploaded bytes; cached by their SHA-256.

    ``_files`` is one workbook ``(name, bytes)``, or the CSV files of one portfolio
    (``missions.csv``, ``zones.csv``, ...), which are read as a folder. Everything is read
    in memory: an upload is never written to disk.
    """
    try:
        if len(_files) == 1 and not _files[0][0].lower().endswith(".csv"):
            portfolio = validate(read_workbook(_files[0][1], name=name))
        else:
            portfolio = validate(read_workbook(list(_files), name=name))
    except InvalidInput as invalid:
        return Workbook(name, content_sha256, None, invalid.problems)
    except Exception as error:  # a planner sees one line, never a traceback
        log.exception("reading %s failed", name)
        reason = f"{type(error).__name__}: {error}".splitlines()[0]
        return Workbook(name, content_sha256, None, failure=reason)
    return Workbook(name, content_sha256, portfolio, tuple(portfolio.warnings))


def read_sample() -> Workbook:
    if not SAMPLE.exists():
        return Workbook(SAMPLE_NAME, "", None, failure=f"the national sample {SAMPLE} is missing")
    content = SAMPLE.read_bytes()
    return read_cached(sha256(content), SAMPLE_NAME, ((SAMPLE_NAME, content),))


def read_upload(files: list[tuple[str, bytes]]) -> Workbook:
    """One uploaded workbook, or the CSV files of one portfolio."""
    csv_files = [f for f in files if f[0].lower().endswith(".csv")]
    if len(files) > 1 and len(csv_files) != len(files):
        names = ", ".join(name for name, _ in files)
        return Workbook(names, "", None, failure="upload one workbook, or only the CSV files of one "
                        f"portfolio (missions.csv, zones.csv, ...); got {names}")
    if csv_files:
        digest = hashlib.sha256()
        for file_name, content in sorted(files):
            digest.update(file_name.encode() + b"\0" + sha256(content).encode())
        name = "CSV files: " + ", ".join(sorted(n for n, _ in files))
        return read_cached(digest.hexdigest(), name, tuple(sorted(files)))
    name, content = files[0]
    return read_cached(sha256(content), name, ((name, content),))


# --------------------------------------------------------------------------- solving


def _timed(make_plan: Callable[[], Plan]) -> Solved:
    """A plan made by ``make_plan``, or one line saying why there is none (never a traceback)."""
    start = time.perf_counter()
    try:
        plan = make_plan()
    except InvalidInput as invalid:
        lines = tuple(str(p) for p in invalid.errors)
        return Solved(None, "; ".join(lines) or str(invalid), time.perf_counter() - start)
    except Exception as error:
        log.exception("solve failed")
        return Solved(None, f"{type(error).__name__}: {error}".splitlines()[0], time.perf_counter() - start)
    return Solved(plan, seconds=time.perf_counter() - start)


class PlanStore:
    """The plans made by this server, for every session: a Solved per (workbook SHA-256,
    exact levers), the newest ``size`` kept. Each is kept pickled and handed out as a
    fresh copy, as ``st.cache_data`` does (no session can change another's plan); unlike
    it, a solve may hand its headline plan to the page before the whole plan is made
    (:func:`solve`'s ``early``)."""

    def __init__(self, size: int = 64):
        self.size = size
        self._plans: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Solved | None:
        with self._lock:
            kept = self._plans.get(key)
            if kept is not None:
                self._plans.move_to_end(key)
        return None if kept is None else pickle.loads(kept)

    def put(self, key: tuple[str, str], solved: Solved) -> None:
        kept = pickle.dumps(solved, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._plans[key] = kept
            self._plans.move_to_end(key)
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()


@st.cache_resource(show_spinner=False)
def plans() -> PlanStore:
    """This server's :class:`PlanStore` (one for every session; Streamlit's "Clear
    cache" empties it)."""
    return PlanStore(64)


def solve(book: Workbook, levers: Levers, early: Callable[[Plan], None] | None = None,
          warm: WarmStart | None = None) -> Solved:
    """``optimise(portfolio, levers)``, kept by (workbook SHA-256, exact levers) in
    :func:`plans`. ``early``: called, when the plan is made here (not already kept) and
    its shadow prices take a solver run of their own, with the plan before them (NaN
    prices; :func:`optimiser.optimise`'s ``early``), so that the page can draw its
    headline figures, which do not depend on them, while they are found. ``warm``: the
    session's :class:`optimiser.WarmStart`, so that a lever move starts from the basis of
    the plan before it (every plan is still proven within its gap)."""
    assert book.portfolio is not None
    key = (book.sha256, lever_key(levers))
    known = plans().get(key)
    if known is not None:
        return known
    portfolio = book.portfolio

    def headline(plan: Plan) -> None:  # drawing it may fail: the plan itself must not
        try:
            if early is not None:
                early(plan)
        except Exception:
            log.exception("drawing the headline before the shadow prices failed")

    told = headline if early is not None else None
    solved = _timed(lambda: optimise(portfolio, levers, early=told, warm=warm))
    plans().put(key, solved)
    return solved


@st.cache_data(max_entries=16, show_spinner=False)
def relax_cached(content_sha256: str, levers_text: str, _portfolio: Portfolio, _levers: Levers) -> Solved:
    """``relax_commitments(portfolio, levers)``: the plan of ``optimiser solve
    --relax-commitments``, cached by (workbook SHA-256, exact levers) as solves are."""
    return _timed(lambda: relax_commitments(_portfolio, _levers))


def relax(book: Workbook, levers: Levers) -> Solved:
    """The plan with the commitments stretched by the least needed (status ``relaxed``), for
    a scenario with no plan. It is never the last good plan: it breaks commitments."""
    assert book.portfolio is not None
    return relax_cached(book.sha256, lever_key(levers), book.portfolio, levers)


@st.cache_data(max_entries=64, show_spinner=False)
def ranges_cached(content_sha256: str, levers_text: str, _plan: Plan) -> pd.DataFrame | None:
    """``price_ranges(plan)`` (HiGHS ranging, as ``--explain`` writes to the Sensitivity
    sheet and the JSON), cached by (workbook SHA-256, the plan's exact levers). ``None``
    when they cannot be worked out (the ranging LP found no answer: it is logged)."""
    try:
        frame = price_ranges(_plan)
    except Exception:
        log.exception("price ranges failed")
        return None
    return frame if len(frame) else None


def ranges(book: Workbook, plan: Plan) -> pd.DataFrame | None:
    """How far each shadow price of ``plan`` holds; ``None`` when it cannot be known here.

    A plan with stretched commitments (status ``relaxed``) has none: its limits are the
    stretched ones, which the ranging model (built from the portfolio and levers) lacks.
    """
    if not plan.has_plan or plan.status is Status.RELAXED:
        return None
    return ranges_cached(book.sha256, lever_key(plan.levers), plan)


# --------------------------------------------------------------------------- downloads


def report_bytes(plan: Plan) -> bytes:
    """The report workbook (.xlsx) of a plan, as bytes for a download button (in memory)."""
    return report.report_bytes(plan)


def json_bytes(plan: Plan) -> bytes:
    """The JSON result of a plan (the same file as the command line's ``--json``), in memory."""
    return report.result_json(plan).encode("utf-8")
