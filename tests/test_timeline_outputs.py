"""Plans over time, the outputs (SPEC 3.1 and 5; the model's rules are in test_timeline.py):
per mission-period runs, starts, stops and their start-up and closure money; the report's
Timeline sheet, the JSON fields, the terminal summary and the page's Timeline tab.

The hand-made portfolio has three periods and four missions whose plan is forced
whatever the model's rules: OLD (running now, closure cost 500) loses its border posts
after P1, so it stops in P2; STAY (running now) runs throughout; FRESH (not running now)
starts in P1 at no cost; NEW (active from P3 only, start-up cost 2,000) starts in P3.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pyarrow as pa
import pytest
from builders import make_portfolio
from conftest_reading import sheets_from_tables, xlsx_bytes
from streamlit.testing.v1 import AppTest
from test_model import LINEAR, ZONES
from test_ui import APP, TIMEOUT_S, XLSX

from optimiser import compare_plans, optimise, plan_to_dict, summary_text
from optimiser.explore.compare import load_result
from optimiser.plan import Plan
from optimiser.report import report_workbook
from optimiser.report.result import FORMAT_VERSION
from optimiser.runs import run_changes
from ui import timeline, views

NEW_NAME = "**Rapid** response team"  # Markdown on the page would make it bold
SHEETS = {
    "missions": f"""
        mission_id,name,zone_id,type,priority,running_now,startup_cost,closure_cost,start_period
        OLD,Border monitors,Z1,monitoring,3,yes,0,500,
        STAY,Liaison office,Z1,attache,2,yes,0,0,
        FRESH,Training team,Z2,capacity_building,2,no,0,0,
        NEW,{NEW_NAME},Z2,crisis_response,1,no,2000,0,P3
    """,
    "zones": ZONES,
    "resources": """
        resource_id,name,kind,unit,unit_cost,available,reserve_share,integer
        P,Linguist,personnel,person,0,100,0,yes
        R,Border post,equipment,post,0,10,0,yes
    """,
    "requirements": """
        mission_id,resource_id,quantity
        OLD,R,10
        STAY,P,5
        FRESH,P,5
        NEW,P,5
    """,
    "funding": """
        source_id,name,amount
        CORE,Core budget,1000000
    """,
    "periods": "period_id\nP1\nP2\nP3",
    "availability": """
        resource_id,period_id,available
        R,P2,0
        R,P3,0
    """,
    "settings": LINEAR,
}
# (mission, period): coverage, runs, starts, stops, startup_cost, closure_cost
EXPECTED = {
    ("OLD", "P1"): (1.0, True, False, False, 0.0, 0.0),
    ("OLD", "P2"): (0.0, False, False, True, 0.0, 500.0),
    ("OLD", "P3"): (0.0, False, False, False, 0.0, 0.0),
    ("STAY", "P1"): (1.0, True, False, False, 0.0, 0.0),
    ("STAY", "P2"): (1.0, True, False, False, 0.0, 0.0),
    ("STAY", "P3"): (1.0, True, False, False, 0.0, 0.0),
    ("FRESH", "P1"): (1.0, True, True, False, 0.0, 0.0),
    ("FRESH", "P2"): (1.0, True, False, False, 0.0, 0.0),
    ("FRESH", "P3"): (1.0, True, False, False, 0.0, 0.0),
    ("NEW", "P3"): (1.0, True, True, False, 2000.0, 0.0),
}
RUN_FIELDS = ("coverage", "runs", "starts", "stops", "startup_cost", "closure_cost")


@pytest.fixture(scope="module")
def plan() -> Plan:
    portfolio = make_portfolio(**SHEETS)
    return optimise(portfolio, portfolio.levers)


def by_cell(frame: pd.DataFrame) -> dict[tuple[str, str], tuple]:
    return {(r.mission_id, r.period_id): tuple(getattr(r, f) for f in RUN_FIELDS) for r in frame.itertuples()}


# --------------------------------------------------------------------------- the columns


def test_run_changes_marks_runs_starts_stops_and_charges_their_money():
    info = pd.DataFrame(
        {"running_now": [True, False, True, False, False, True],
         "startup_cost": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
         "closure_cost": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
        index=pd.Index(["A", "B", "C", "D", "E", "F"], name="mission_id"),
    )
    rows = [  # mission, period, coverage
        ("A", "P1", 1.0), ("A", "P2", 0.0), ("A", "P3", 0.0),  # running now, stops in P2
        ("B", "P3", 0.5),  # new, active from P3: starts there
        ("C", "P1", 0.4), ("C", "P2", 0.4), ("C", "P3", 0.4),  # running now throughout: no change
        ("D", "P1", 0.6), ("D", "P2", 0.0), ("D", "P3", 0.7),  # starts, stops, starts again
        ("E", "P1", 1.0), ("E", "P2", 1.0),  # ends at its end period P2: not a stop
        ("F", "P1", 0.0), ("F", "P2", 0.0), ("F", "P3", 0.0),  # running now, never planned: stops in P1
    ]
    frame = pd.DataFrame(rows, columns=["mission_id", "period_id", "coverage"]).iloc[::-1]  # any order
    result = run_changes(frame, info, ["P1", "P2", "P3"])
    assert list(result.index) == list(frame.index)  # rows stay where they were
    got = {(r.mission_id, r.period_id): (r.runs, r.starts, r.stops, r.startup_cost, r.closure_cost)
           for r in result.itertuples()}
    assert got == {
        ("A", "P1"): (True, False, False, 0.0, 0.0),
        ("A", "P2"): (False, False, True, 0.0, 1.0),
        ("A", "P3"): (False, False, False, 0.0, 0.0),
        ("B", "P3"): (True, True, False, 20.0, 0.0),
        ("C", "P1"): (True, False, False, 0.0, 0.0),
        ("C", "P2"): (True, False, False, 0.0, 0.0),
        ("C", "P3"): (True, False, False, 0.0, 0.0),
        ("D", "P1"): (True, True, False, 40.0, 0.0),
        ("D", "P2"): (False, False, True, 0.0, 4.0),
        ("D", "P3"): (True, True, False, 40.0, 0.0),
        ("E", "P1"): (True, True, False, 50.0, 0.0),
        ("E", "P2"): (True, False, False, 0.0, 0.0),
        ("F", "P1"): (False, False, True, 0.0, 6.0),
        ("F", "P2"): (False, False, False, 0.0, 0.0),
        ("F", "P3"): (False, False, False, 0.0, 0.0),
    }


def test_run_changes_without_the_missions_columns_takes_no_one_running_now_and_no_costs():
    frame = pd.DataFrame({"mission_id": ["A", "A", "B"], "period_id": ["P1", "P2", "P1"],
                          "coverage": [0.5, 0.0, 1e-9]})  # B: solver noise, not running
    result = run_changes(frame, pd.DataFrame(index=pd.Index(["A", "B"])), ["P1", "P2"])
    assert result["runs"].tolist() == [True, False, False]
    assert result["starts"].tolist() == [True, False, False]
    assert result["stops"].tolist() == [False, True, False]
    assert result[["startup_cost", "closure_cost"]].to_numpy().sum() == 0.0


def test_the_plans_missions_say_when_each_mission_starts_and_stops(plan: Plan):
    assert plan.has_plan, plan.message
    got = by_cell(plan.missions)
    assert got == EXPECTED
    assert list(plan.missions.columns[-5:]) == ["runs", "starts", "stops", "startup_cost", "closure_cost"]


def test_the_start_up_and_closure_money_is_the_cost_of_its_period(plan: Plan):
    # people and posts cost nothing here: each mission-period's cost is its start or stop money
    costs = {(r.mission_id, r.period_id): r.cost for r in plan.missions.itertuples()}
    money = {key: startup + closure for key, (_, _, _, _, startup, closure) in EXPECTED.items()}
    assert costs == pytest.approx(money)
    assert plan.total_cost == pytest.approx(2500.0)


def test_a_one_period_workbook_without_the_new_columns_starts_what_it_runs_at_no_cost():
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority\nA,Z1,1\nB,Z1,2",
        zones=ZONES,
        resources="resource_id,name,kind,unit,unit_cost,available\nP,Linguist,personnel,person,0,5",
        requirements="mission_id,resource_id,quantity\nA,P,5\nB,P,5",
        funding="source_id,amount\nCORE,100",
        settings=LINEAR,
    )
    plan = optimise(portfolio, portfolio.levers)
    assert by_cell(plan.missions) == {
        ("A", "P1"): (1.0, True, True, False, 0.0, 0.0),
        ("B", "P1"): (0.0, False, False, False, 0.0, 0.0),
    }
    assert "start or stop" not in summary_text(plan)  # a one-period plan with nothing to name


# --------------------------------------------------------------------------- the report


def timeline_rows(plan: Plan) -> tuple[list[str], list[list[object]], openpyxl.worksheet.worksheet.Worksheet]:
    data = io.BytesIO()
    report_workbook(plan).save(data)
    book = openpyxl.load_workbook(data)
    ws = book["Timeline"]
    header = [c.value for c in ws[1]]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=5)]
    return header, rows, ws


def test_the_timeline_sheet_follows_allocation(plan: Plan):
    names = report_workbook(plan).sheetnames
    assert names[:3] == ["Summary", "Allocation", "Timeline"]


def test_the_timeline_sheet_shows_coverage_by_period_with_starts_stops_and_their_money(plan: Plan):
    header, rows, ws = timeline_rows(plan)
    currency = plan.levers.currency
    assert header == [
        "Mission ID", "Mission", "Priority", "Zone", "Type", "Running now",
        "P1", "P1 start / stop", "P2", "P2 start / stop", "P3", "P3 start / stop",
        "Starts", "Stops", f"Start-up cost ({currency})", f"Closure cost ({currency})",
    ]
    assert rows == [  # most important first
        ["NEW", NEW_NAME, 1, "Z2", "crisis response", "no", None, None, None, None, 1, "▲ starts",
         1, 0, 2000, 0],
        ["STAY", "Liaison office", 2, "Z1", "attache", "yes", 1, None, 1, None, 1, None, 0, 0, 0, 0],
        ["FRESH", "Training team", 2, "Z2", "capacity building", "no", 1, "▲ starts", 1, None, 1, None,
         1, 0, 0, 0],
        ["OLD", "Border monitors", 3, "Z1", "monitoring", "yes", 1, None, 0, "▼ stops", 0, None,
         0, 1, 0, 500],
    ]
    assert ws["G2"].fill.fgColor.rgb.endswith("D9D9D9")  # NEW is not active in P1: grey
    assert ws["G3"].number_format == "0.0%"
    assert ws["L2"].font.color.rgb.endswith("1E7B34") and ws["J5"].font.color.rgb.endswith("C00000")
    totals = [c.value for c in ws[7]]
    assert totals[0] == "Total" and totals[12:16] == [2, 1, 2000, 500]
    # the coverage columns, and only they, carry the colour scale
    scaled = {str(f.sqref): f.rules for f in ws.conditional_formatting}
    assert sorted(scaled) == ["G2:G5", "I2:I5", "K2:K5"]
    for rules in scaled.values():
        assert [r.type for r in rules] == ["colorScale"]
        assert [float(v.val) for v in rules[0].colorScale.cfvo] == [0.0, 0.5, 1.0]


def test_the_timeline_sheet_lists_each_start_and_stop_in_planning_order_with_its_money(plan: Plan):
    _, _, ws = timeline_rows(plan)
    title = "Starts and stops, period by period"
    first = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == title)
    header = [ws.cell(first + 1, c).value for c in range(1, 11)]
    assert header == ["Mission ID", "Mission", "Priority", "Zone", "Period", "Change", "Coverage",
                      "Coverage before", f"Money ({plan.levers.currency})", "Money for"]
    listed = [[ws.cell(r, c).value for c in range(1, 11)] for r in range(first + 2, first + 5)]
    assert listed == [
        ["FRESH", "Training team", 2, "Z2", "P1", "▲ starts", 1, None, 0, "start-up cost"],
        ["OLD", "Border monitors", 3, "Z1", "P2", "▼ stops", 0, 1, 500, "closure cost"],
        ["NEW", NEW_NAME, 1, "Z2", "P3", "▲ starts", 1, None, 2000, "start-up cost"],
    ]
    assert ws.cell(first + 6, 1).value == "Total" and ws.cell(first + 6, 9).value == 2500


def test_the_timeline_sheet_is_set_up_for_a_planner(plan: Plan):
    _, _, ws = timeline_rows(plan)
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == "A1:P5"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert ws["A1"].font.b and ws.column_dimensions["B"].width >= len(NEW_NAME)
    assert ws.column_dimensions["H"].width == 10  # a marker column: its header wraps


# --------------------------------------------------------------------------- JSON


def test_json_missions_say_whether_each_runs_starts_or_stops_and_the_money(plan: Plan):
    data = plan_to_dict(plan)
    assert data["format_version"] == FORMAT_VERSION == 2
    got = {(m["mission_id"], m["period_id"]): tuple(m[f] for f in RUN_FIELDS) for m in data["missions"]}
    assert got == EXPECTED
    assert json.loads(json.dumps(data)) == data  # plain JSON: bools and numbers


def test_compare_still_reads_a_version_1_result_without_the_run_fields(plan: Plan, tmp_path):
    old = plan_to_dict(plan)
    old["format_version"] = 1
    for record in old["missions"]:
        for field in ("runs", "starts", "stops", "startup_cost", "closure_cost"):
            del record[field]
    path = tmp_path / "last-month.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert load_result(path)["format_version"] == 1
    comparison = compare_plans(path, plan)
    assert set(comparison.missions["change"]) == {"unchanged"}
    assert comparison.figure("value")[2] == pytest.approx(0.0)


# --------------------------------------------------------------------------- text


def test_the_summary_names_the_missions_that_start_or_stop_with_period_and_money(plan: Plan):
    text = summary_text(plan).splitlines()
    at = text.index(next(line for line in text if line.startswith("Missions that start or stop")))
    currency = plan.levers.currency
    assert text[at:at + 4] == [
        f"Missions that start or stop (1 start, 1 stop; {currency} 2,500 of start-up and closure costs):",
        f"  - P2: OLD Border monitors (priority 3) stops (was 100.0%); closure cost {currency} 500",
        f"  - P3: NEW {NEW_NAME} (priority 1) starts at 100.0%; start-up cost {currency} 2,000",
        "  1 new mission starts in the first period at no start-up cost.",
    ]


def test_a_plan_over_several_periods_without_changes_says_so():
    portfolio = make_portfolio(
        missions="mission_id,zone_id,priority,running_now\nA,Z1,1,yes",
        zones=ZONES,
        resources="resource_id,name,kind,unit,unit_cost,available\nP,Linguist,personnel,person,0,5",
        requirements="mission_id,resource_id,quantity\nA,P,5",
        funding="source_id,amount\nCORE,100",
        periods="period_id\nQ1\nQ2",
        settings=LINEAR,
    )
    text = summary_text(optimise(portfolio, portfolio.levers))
    assert "Starts and stops: no mission stops, and none starts after the first period." in text.splitlines()


# --------------------------------------------------------------------------- the page


def workbook_bytes() -> bytes:
    tables = {title.capitalize(): text for title, text in SHEETS.items()}
    sheets = sheets_from_tables(tables)
    numbers = {t: [[float(v) if _is_number(v) else v for v in row] for row in rows]
               for t, rows in sheets.items()}
    return xlsx_bytes(numbers)


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return value is not None


def test_the_timeline_frame_orders_missions_by_priority_name_or_workbook(plan: Plan):
    def order(sort: str) -> list[str]:
        return list(dict.fromkeys(timeline.timeline_frame(plan, sort)["mission_id"]))

    assert order("priority") == ["NEW", "STAY", "FRESH", "OLD"]
    assert order("name") == ["NEW", "OLD", "STAY", "FRESH"]  # "**Rapid…", Border, Liaison, Training
    assert order("workbook order") == ["OLD", "STAY", "FRESH", "NEW"]
    changed = timeline.timeline_frame(plan, "priority", changed_only=True)
    assert list(dict.fromkeys(changed["mission_id"])) == ["NEW", "OLD"]  # FRESH starts in P1 for free
    marks = {(r.mission_id, r.period_id): r.marker for r in changed.itertuples() if r.marker}
    assert marks == {("NEW", "P3"): "▲", ("OLD", "P2"): "▼"}


def test_the_timeline_tab_shows_names_and_markers_as_plain_text():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.file_uploader(key=views.UPLOAD).upload("three-periods.xlsx", workbook_bytes(), XLSX).run()
    assert not at.exception, at.exception
    at.session_state[views.VIEW] = "Timeline"
    at.run()
    assert not at.exception, at.exception
    charts = at.get_by_key(timeline.CHART).get("vega_lite_chart")
    assert len(charts) == 1, "the heat map is drawn"
    assert '"field": "marker"' in charts[0].proto.spec  # the markers are the text layer
    drawn = pa.ipc.open_stream(charts[0].proto.datasets[0].data.data).read_pandas()
    shown = list(dict.fromkeys(drawn["label"]))  # names, not ids, most important first
    assert shown == [f"{NEW_NAME} · P1", "Liaison office · P2", "Training team · P2", "Border monitors · P3"]
    marks = {(r.label.split(" · ")[0], r.period_id): r.marker for r in drawn.itertuples() if r.marker}
    assert marks == {(NEW_NAME, "P3"): "▲", ("Training team", "P1"): "▲", ("Border monitors", "P2"): "▼"}
    changes = at.get_by_key(timeline.CHANGES).dataframe[0].value
    assert changes[["period", "mission", "change", "money"]].values.tolist() == [
        ["P1", "Training team", "▲ starts", 0.0],
        ["P2", "Border monitors", "▼ stops", 500.0],
        ["P3", NEW_NAME, "▲ starts", 2000.0],
    ]
    assert all(NEW_NAME not in m.value for m in at.markdown)  # never rendered as Markdown
    at.radio(key=timeline.SORT).set_value("workbook order").run()
    at.toggle(key=timeline.CHANGED_ONLY).set_value(True).run()
    assert not at.exception, at.exception
    chart = at.get_by_key(timeline.CHART).get("vega_lite_chart")[0]
    drawn = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()
    assert list(dict.fromkeys(drawn["label"])) == ["Border monitors · P3", f"{NEW_NAME} · P1"]
