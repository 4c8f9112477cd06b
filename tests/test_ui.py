"""The what-if page (ui/app.py) through Streamlit's AppTest, on the real pipeline.

Widgets are found by their keys (ui/controls.py, ui/views.py); display tables and
metrics by the keys of the containers that hold them.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from optimiser import Levers, Plan, Status, explain, load_portfolio, optimise, relax_commitments
from optimiser.coverage import lacking
from optimiser.formats import money_short as money
from optimiser.read import MAX_FILE_BYTES
from optimiser.store import ScenarioStore
from optimiser.wording import price_holds
from ui import controls, scenarios, state, views
from ui.summaries import CONSTRAINT_WORDS, plan_status

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "ui" / "app.py")
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
TIMEOUT_S = 300  # an integer solve of the national sample is seconds; leave room for a slow CI
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def displayed(markdown: str) -> str:
    """What a Markdown body shows: the page escapes input text (backslashes) and breaks its
    addresses with invisible word joiners (optimiser.safe_text.markdown_literal)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


# --------------------------------------------------------------------------- helpers


def open_page(relaxed: bool = True) -> AppTest:
    """The page on the national sample, relaxed (fast) unless asked otherwise."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    if relaxed and at.toggle(key=controls.INTEGER).value:
        at.toggle(key=controls.INTEGER).set_value(False).run()
        assert not at.exception, at.exception
    return at


def show(at: AppTest, tab: str) -> AppTest:
    """Open a tab of the page (only the open tab is drawn)."""
    assert tab in views.TABS
    at.session_state[views.VIEW] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def plan_on_screen(at: AppTest) -> Plan:
    return at.session_state[state.LAST_GOOD][1]


def levers_on_screen(at: AppTest) -> Levers:
    return at.session_state[state.CURRENT_LEVERS]


def metric(at: AppTest, key: str) -> str:
    return at.get_by_key(key).metric[0].value


def table(at: AppTest, key: str) -> pd.DataFrame:
    holder = at.get_by_key(key)
    if len(holder.dataframe):
        return holder.dataframe[0].value
    return holder.table[0].value.reset_index()  # a static table (its text wraps)


def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


def edited_sample(change) -> bytes:  # type: ignore[no-untyped-def]
    """The national sample with ``change(workbook)`` applied, as .xlsx bytes."""
    book = load_workbook(io.BytesIO(sample_bytes()))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def relaxed_settings(book) -> None:  # type: ignore[no-untyped-def]
    """Ask for a relaxed plan in the workbook's own Settings (an upload starts from them)."""
    book["Settings"].append(["integer", "no"])


def header_cell(sheet, name: str):  # type: ignore[no-untyped-def]
    """The header cell of column ``name`` (within the first 10 rows)."""
    for row in sheet.iter_rows(min_row=1, max_row=10):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip().lower().replace(" ", "_") == name:
                return cell
    raise AssertionError(f"no {name} column in {sheet.title}")


@pytest.fixture(scope="module")
def portfolio():  # type: ignore[no-untyped-def]
    return load_portfolio(SAMPLE)


# --------------------------------------------------------------------------- the page opens


def test_page_opens_on_the_national_sample_with_a_plan() -> None:
    at = open_page(relaxed=False)
    plan = plan_on_screen(at)
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert any("national_portfolio.xlsx" in displayed(c.value) for c in at.sidebar.caption)
    assert metric(at, "metric_value").endswith("%")
    assert metric(at, "metric_status") == plan_status(plan)
    assert metric(at, "metric_money").startswith(plan.levers.currency)
    assert len(at.get("vega_lite_chart")) >= 5  # the charts are drawn
    tiers = table(at, "tier_table")
    assert list(tiers["priority"]) == [1, 2, 3, 4, 5]
    assert tiers[["fully covered", "partly covered", "not covered"]].to_numpy().sum() == plan.missions[
        "mission_id"
    ].nunique()
    show(at, "Tables")
    for name in ("missions", "allocation", "funding", "resources", "budgets", "zones", "unmet",
                 "sensitivity"):
        expected = lacking(plan) if name == "unmet" else getattr(plan, name)  # up to max_coverage
        assert len(table(at, f"table_{name}")) == len(expected)
    for key in ("download_report", "download_json", "download_levers"):
        assert at.download_button(key=key).label


def test_widgets_start_at_the_workbooks_levers(portfolio) -> None:  # type: ignore[no-untyped-def]
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    levers = levers_on_screen(at)
    workbook = portfolio.levers
    assert at.slider(key=controls.BUDGET).value == pytest.approx(workbook.budget_scale)
    assert at.toggle(key=controls.INTEGER).value is workbook.integer
    assert state.lever_key(levers) == state.lever_key(workbook)


# --------------------------------------------------------------------------- levers


def test_moving_the_budget_slider_down_lowers_money_spent_and_never_raises_value() -> None:
    at = open_page()
    before = plan_on_screen(at)
    shown_before = metric(at, "metric_money")
    at.slider(key=controls.BUDGET).set_value(0.5).run()
    after = plan_on_screen(at)
    assert after.levers.budget_scale == 0.5
    assert after.money_available == pytest.approx(0.5 * before.money_available)
    assert after.total_cost < before.total_cost
    assert after.value <= before.value + 1e-6
    assert metric(at, "metric_money") != shown_before
    assert at.get_by_key("metric_money").metric[0].delta.startswith("-")


def test_integer_plan_with_less_budget_never_beats_the_bound_of_more() -> None:
    at = open_page(relaxed=False)
    at.toggle(key=controls.INTEGER).set_value(True).run()
    before = plan_on_screen(at)
    at.slider(key=controls.BUDGET).set_value(0.5).run()
    after = plan_on_screen(at)
    assert after.levers.integer and before.levers.integer
    assert after.total_cost < before.total_cost
    assert after.value <= (before.best_bound or before.value) + 1e-6
    assert "whole units" in at.get_by_key("metric_status").caption[0].value


def _first(index) -> str:  # type: ignore[no-untyped-def]
    return str(next(iter(index)))


@pytest.mark.parametrize(
    ("kind", "key", "value", "expect"),
    [
        ("slider", controls.PERSONNEL, 0.7, lambda lv, pf: lv.personnel_scale == 0.7),
        ("slider", controls.EQUIPMENT, 0.6, lambda lv, pf: lv.equipment_scale == 0.6),
        ("slider", controls.weight_key(1), 20.0, lambda lv, pf: lv.priority_weights[0] == 20.0),
        ("radio", controls.MODE, "strict", lambda lv, pf: lv.priority_mode == "strict"),
        ("toggle", controls.DIMINISHING, False, lambda lv, pf: lv.diminishing_returns is False),
        ("number_input", controls.TIME_LIMIT, 30.0, lambda lv, pf: lv.time_limit_s == 30.0),
        ("number_input", controls.MIP_GAP, 0.01, lambda lv, pf: lv.mip_gap == 0.01),
    ],
)
def test_each_lever_widget_changes_the_plan_on_screen(kind, key, value, expect, portfolio) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    getattr(at, kind)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    plan = plan_on_screen(at)
    assert expect(levers_on_screen(at), portfolio)
    assert state.lever_key(plan.levers) == state.lever_key(levers_on_screen(at))


def test_reserve_share_applies_only_while_its_toggle_is_on() -> None:
    at = open_page()
    assert at.slider(key=controls.RESERVE).disabled  # each resource keeps its own reserve
    at.toggle(key=controls.RESERVE_OVERRIDE).set_value(True).run()
    at.slider(key=controls.RESERVE).set_value(0.3).run()
    plan = plan_on_screen(at)
    assert plan.levers.reserve_share == pytest.approx(0.3)
    limited = plan.resources.dropna(subset=["available"])
    assert limited["reserve"].to_numpy() == pytest.approx(0.3 * limited["available"].to_numpy())
    at.toggle(key=controls.RESERVE_OVERRIDE).set_value(False).run()
    assert plan_on_screen(at).levers.reserve_share is None


def test_a_source_amount_becomes_its_scale_over_the_workbook_amount(portfolio) -> None:  # type: ignore[no-untyped-def]
    totals = controls.workbook_source_totals(portfolio)
    source = totals[totals > 0].index[0]
    at = open_page()
    at.number_input(key=controls.source_key(source)).set_value(float(totals[source]) / 4).run()
    plan = plan_on_screen(at)
    assert plan.levers.source_scale == {source: 0.25}
    assert plan.budgets.query("source_id == @source")["amount"].sum() == pytest.approx(totals[source] / 4)


def test_a_zone_cap_replaces_the_workbooks_cap(portfolio) -> None:  # type: ignore[no-untyped-def]
    zone = _first(portfolio.zones.index)
    at = open_page()
    at.number_input(key=controls.zone_key(zone)).set_value(5.0).run()
    plan = plan_on_screen(at)
    assert plan.levers.zone_cap == {zone: 5.0}
    zone_rows = plan.zones[plan.zones["zone_id"] == zone]
    assert (zone_rows["personnel"] <= 5.0 + 1e-6).all()


def test_mission_table_edits_become_must_fund_and_priority_levers(portfolio) -> None:  # type: ignore[no-untyped-def]
    missions = portfolio.missions
    low = missions[missions["priority"] == missions["priority"].max()].index[0]
    free = missions[~missions["must_fund"]].index[-1]
    rows = {m: i for i, m in enumerate(missions.index)}
    at = show(open_page(), "Missions")
    at.session_state[controls.MISSION_EDITOR] = {
        "edited_rows": {rows[low]: {"priority": 1}, rows[free]: {"must_fund": True}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    levers = levers_on_screen(at)
    assert levers.priority == {low: 1}
    assert levers.must_fund == {free: True} if free != low else levers.must_fund
    plan = plan_on_screen(at)
    assert set(plan.missions.loc[plan.missions["mission_id"] == low, "priority"]) == {1}
    show(at, "Plan")  # the edits outlive the table while another tab is open
    assert levers_on_screen(at).priority == {low: 1}
    show(at, "Missions")
    shown = at.data_editor[0].value.set_index("mission_id")
    assert shown.at[low, "priority"] == 1


def test_reset_puts_the_workbooks_levers_back(portfolio) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    at.slider(key=controls.BUDGET).set_value(0.4).run()
    at.button(key=controls.RESET).click().run()
    assert at.slider(key=controls.BUDGET).value == pytest.approx(portfolio.levers.budget_scale)
    assert levers_on_screen(at).budget_scale == portfolio.levers.budget_scale


def test_levers_that_make_a_plan_impossible_keep_the_last_good_plan_on_screen() -> None:
    at = open_page()
    good = plan_on_screen(at)
    at.slider(key=controls.PERSONNEL).set_value(0.0).run()  # must-fund floors need people
    assert not at.exception, at.exception
    assert at.error, "the clash is explained"
    assert plan_on_screen(at) is not None
    assert state.lever_key(plan_on_screen(at).levers) == state.lever_key(good.levers)
    assert any("last plan that could be made" in i.value for i in at.info)
    assert metric(at, "metric_value").endswith("%")


def test_an_impossible_scenario_offers_the_plan_with_the_commitments_stretched(portfolio) -> None:  # type: ignore[no-untyped-def]
    """personnel_scale 0.3 on the national sample (bench's diagnosis figure): the must-fund
    floors need more military engineers than exist. The toggle shows the plan of
    ``relax_commitments`` (the CLI's --relax-commitments) for the same levers, labelled as
    breaking the commitments, and never makes it the last good plan."""
    at = open_page()
    good = plan_on_screen(at)
    at.slider(key=controls.PERSONNEL).set_value(0.3).run()
    assert not at.exception, at.exception
    levers = levers_on_screen(at)
    impossible = optimise(portfolio, levers)
    assert impossible.status is Status.INFEASIBLE and impossible.diagnosis
    words = "\n".join(displayed(m.value) for m in at.markdown)
    clash = impossible.diagnosis[0]
    assert "(short " in clash and clash in words  # what clashes and by how much
    assert not at.toggle(key=views.RELAX_COMMITMENTS).value
    assert any("last plan that could be made" in i.value for i in at.info)

    expected = relax_commitments(portfolio, levers)
    assert expected.status is Status.RELAXED
    at.toggle(key=views.RELAX_COMMITMENTS).set_value(True).run()
    assert not at.exception, at.exception
    note = at.get_by_key(views.RELAXED_NOTE)
    assert "breaks the commitments" in note.warning[0].value
    stretched = "\n".join(displayed(m.value) for m in note.markdown)
    assert all(sentence in stretched for sentence in expected.diagnosis)
    assert metric(at, "metric_status") == "commitments stretched"  # "relaxed" means fractions elsewhere
    shown_value = at.get_by_key("metric_value").metric[0]
    assert shown_value.value == f"{expected.value / expected.max_value:.1%}"
    assert shown_value.help.startswith(f"Value {expected.value:,.1f} of the most possible")
    assert metric(at, "metric_money") == money(expected.total_cost, expected.levers.currency)
    tiers = table(at, "tier_table").set_index("priority")["value"]
    assert tiers.sum() == pytest.approx(expected.value, rel=1e-9)
    assert tiers.to_dict() == pytest.approx({t: expected.value_by_priority.get(t, 0.0) for t in range(1, 6)})
    assert not any("last plan that could be made" in i.value for i in at.info)
    show(at, "What binds")  # its prices are its own; ranges would need the stretched limits
    assert any("its limits are the stretched ones" in c.value for c in at.caption)
    # the last good plan is kept, untouched, and comes back with the toggle off
    assert plan_on_screen(at).status in (Status.OPTIMAL, Status.FEASIBLE)
    assert state.lever_key(plan_on_screen(at).levers) == state.lever_key(good.levers)
    at.toggle(key=views.RELAX_COMMITMENTS).set_value(False).run()
    assert any("last plan that could be made" in i.value for i in at.info)
    assert metric(at, "metric_value") == f"{good.value / good.max_value:.1%}"
    # cached like other solves: the same levers give the same stored plan
    book = at.session_state[state.CURRENT_BOOK]
    assert state.relax(book, levers).plan.value == pytest.approx(expected.value, rel=1e-9)


# --------------------------------------------------------------------------- what binds


def test_what_binds_lists_shadow_prices_in_words_and_unmet_needs() -> None:
    at = show(open_page(), "What binds")
    plan = plan_on_screen(at)
    words = "\n".join(displayed(m.value) for m in at.markdown)
    top = plan.sensitivity.sort_values("shadow_price", ascending=False)
    if len(top):
        assert str(top["sentence"].iloc[0]) in words
    if len(plan.unmet):
        unmet = table(at, "unmet_table")
        assert set(unmet["Mission ID"]) == set(lacking(plan)["mission_id"])
        assert unmet["Still lacks (per period, at most)"].str.len().min() > 0


def test_what_binds_says_how_far_each_price_holds_as_the_explain_ranges_do(portfolio) -> None:  # type: ignore[no-untyped-def]
    """The ranges on the page are those ``optimiser solve --explain`` writes (HiGHS ranging
    of the model the shadow prices come from), for the same levers."""
    at = show(open_page(), "What binds")
    levers = levers_on_screen(at)
    plan = plan_on_screen(at)
    expected = explain(portfolio, levers, top=0).ranges.set_index(["constraint", "id", "period_id"])
    shown = table(at, views.BINDING_TABLE)
    assert len(shown) == min(10, len(plan.sensitivity))
    kinds = {words: kind for kind, words in CONSTRAINT_WORDS.items()}
    periods = {name: period for period, name in plan.portfolio.periods["name"].items()}
    resource = shown[shown["constraint"] == "Resource"].iloc[0]  # limits in words, not "zone_cap"
    key = ("resource", resource["id"], periods[resource["period_id"]])  # periods by name
    assert resource["gain"] == pytest.approx(expected.loc[key, "shadow_price"], rel=1e-9)  # step: 1 unit
    for column in ("low", "high", "limit"):
        assert resource[column] == pytest.approx(expected.loc[key, column], rel=1e-9)
    assert resource["low"] < resource["limit"] <= resource["high"]
    whole = bool(plan.portfolio.resources.loc[resource["id"], "integer"]) and plan.levers.integer
    words = price_holds("resource", expected.loc[key, "low"], expected.loc[key, "high"],
                        expected.loc[key, "limit"], plan.levers.currency, whole)
    assert resource["holds"] == words
    listed = "\n".join(displayed(m.value) for m in at.markdown)
    assert f"{resource['sentence']}; {words}" in listed
    assert shown["low"].notna().all()  # every price shown has its range: the --explain one
    for row in shown.itertuples():
        key = (kinds[row.constraint], row.id, periods[row.period_id])
        assert row.low == pytest.approx(expected.loc[key, "low"])


# --------------------------------------------------------------------------- uploads


def test_a_validation_error_in_an_upload_is_shown_as_a_table() -> None:
    def break_priority(book) -> None:  # type: ignore[no-untyped-def]
        sheet = next(s for s in book.worksheets if s.title.lower() == "missions")
        head = header_cell(sheet, "priority")
        sheet.cell(row=head.row + 1, column=head.column).value = 9

    content = edited_sample(break_priority)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.file_uploader(key="workbook_upload").upload("broken.xlsx", content, XLSX).run()
    assert not at.exception, at.exception
    problems = table(at, "problems_table")
    assert {"sheet", "cell", "column", "message"} <= set(problems.columns)
    row = problems[(problems["column"] == "priority") & (problems["severity"] == "error")].iloc[0]
    assert row["sheet"].lower() == "missions"
    assert row["cell"][0].isalpha() and row["cell"][-1].isdigit()
    assert at.error and "broken.xlsx" in displayed(at.error[0].value)
    assert not at.metric  # nothing is planned from an invalid workbook


def test_warnings_in_an_upload_are_shown_and_do_not_block_the_plan() -> None:
    def add_notes(book) -> None:  # type: ignore[no-untyped-def]
        book.create_sheet("Notes")["A1"] = "a sheet the tool does not know"
        relaxed_settings(book)

    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.file_uploader(key="workbook_upload").upload("with_notes.xlsx", edited_sample(add_notes), XLSX).run()
    assert not at.exception, at.exception
    warnings = table(at, "warnings_table")
    assert (warnings["sheet"] == "Notes").any()
    assert any("warning" in w.value for w in at.warning)
    assert metric(at, "metric_value").endswith("%")


def test_the_csv_files_of_a_portfolio_can_be_uploaded() -> None:
    content = edited_sample(relaxed_settings)
    sheets = pd.read_excel(io.BytesIO(content), sheet_name=None, header=None, engine="openpyxl")
    files = []
    for title, grid in sheets.items():
        if title.lower() == "instructions":
            continue
        files.append((f"{title.lower()}.csv", grid.to_csv(index=False, header=False).encode(), "text/csv"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.file_uploader(key="workbook_upload").set_value(files).run()
    assert not at.exception, at.exception
    assert not _has_key(at, "problems_table"), table(at, "problems_table")
    assert any("CSV files" in displayed(c.value) for c in at.sidebar.caption)
    assert plan_on_screen(at).levers.integer is False  # the uploaded Settings were read
    assert metric(at, "metric_value").endswith("%")


def _has_key(at: AppTest, key: str) -> bool:
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True


# --------------------------------------------------------------------------- scenarios


def save_scenario(at: AppTest, name: str, note: str = "", by: str = "") -> AppTest:
    at.text_input(key=scenarios.SCENARIO_NAME).set_value(name)
    at.text_input(key=scenarios.SCENARIO_NOTE).set_value(note)
    at.text_input(key=scenarios.SAVED_BY).set_value(by)
    at.button(key=scenarios.SAVE_SCENARIO).click().run()
    assert not at.exception, at.exception
    return at


def stored(at: AppTest) -> list[str]:
    """The names the store keeps for the workbook on screen."""
    book = at.session_state[state.CURRENT_BOOK]
    return [s.name for s in ScenarioStore().list(scenarios.workbook_sha(book))]


def test_saving_puts_the_scenario_in_the_store_with_its_plan(scenario_store) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    at.slider(key=controls.BUDGET).set_value(0.6).run()
    save_scenario(at, "cut 40%", note="as the minister asked", by="A. Planner")
    kept = ScenarioStore(scenario_store).get("cut 40%")
    plan = plan_on_screen(at)
    assert kept.workbook_name == state.SAMPLE_NAME
    assert kept.workbook_sha256 == plan.portfolio.source.sha256
    assert state.lever_key(kept.levers) == state.lever_key(levers_on_screen(at))
    assert (kept.note, kept.saved_by) == ("as the minister asked", "A. Planner")
    assert kept.total_cost == pytest.approx(plan.total_cost)
    assert kept.result["value"] == pytest.approx(plan.value)
    assert at.text_input(key=scenarios.SCENARIO_NAME).value == ""  # ready for the next one
    assert [t.value for t in at.toast] == ["Saved scenario 'cut 40%'."]
    save_scenario(at, "cut 40%")
    assert [t.value for t in at.toast] == ["Replaced scenario 'cut 40%'."]


def test_the_tab_lists_the_workbooks_scenarios_and_says_where_they_are_kept(scenario_store) -> None:  # type: ignore[no-untyped-def]
    at = open_page()
    save_scenario(at, "baseline", note="as sent", by="A. Planner")
    show(at, "Compare scenarios")
    listed = table(at, scenarios.SCENARIO_LIST)
    assert listed["Scenario"].tolist() == ["baseline"]
    assert listed["Note"].tolist() == ["as sent"] and listed["By"].tolist() == ["A. Planner"]
    place = at.get_by_key(scenarios.STORE_PLACE).caption[0].value
    assert scenarios.plain(str(scenario_store)) in place


def test_comparing_three_scenarios_shows_levers_headline_and_missions() -> None:
    at = open_page()
    save_scenario(at, "baseline")
    at.slider(key=controls.BUDGET).set_value(0.8).run()
    save_scenario(at, "cut 20%")
    at.slider(key=controls.BUDGET).set_value(0.6)
    at.slider(key=controls.PERSONNEL).set_value(0.9).run()
    save_scenario(at, "cut 40%")
    show(at, "Compare scenarios")
    assert at.multiselect(key=scenarios.COMPARE_CHOICE).value == ["baseline", "cut 20%", "cut 40%"]

    levers = table(at, scenarios.COMPARE_LEVERS)
    assert levers.to_dict("records") == [
        {"Lever": "Budget (× the workbook's funding)", "baseline": "1", "cut 20%": "0.8", "cut 40%": "0.6"},
        {"Lever": "Personnel (× available)", "baseline": "1", "cut 20%": "1", "cut 40%": "0.9"},
    ]
    headline = table(at, scenarios.COMPARE_HEADLINE).set_index("Figure")
    assert list(headline.columns) == ["baseline", "cut 20%", "cut 40%"]
    # the money the store kept for each plan, written as the page writes money (the change in brackets)
    stored = scenarios.store().compare(["baseline", "cut 20%"]).headline
    base, cut = float(stored.at["total_cost", "baseline"]), float(stored.at["total_cost", "cut 20%"])
    assert cut < base
    assert headline.loc["Money spent", "cut 20%"] == f"{money(cut)} (-{money(base - cut)})"
    missions = table(at, scenarios.COMPARE_TABLE)
    assert {"Mission", "Name", "Coverage · baseline", "Coverage · cut 40%", "Cost change · cut 40%",
            "What changed"} <= set(missions.columns)
    assert (missions["Coverage · cut 40%"] < missions["Coverage · baseline"]).any()
    assert missions["Cost change · cut 40%"].sum() < 0
    assert not any("_" in column for column in missions.columns)

    at.multiselect(key=scenarios.COMPARE_CHOICE).set_value(["cut 40%", "baseline"]).run()
    assert list(table(at, scenarios.COMPARE_HEADLINE).columns) == ["Figure", "cut 40%", "baseline"]


def test_loading_a_saved_scenario_puts_its_levers_back_onto_the_sliders() -> None:
    at = open_page()
    at.slider(key=controls.BUDGET).set_value(0.7)
    at.slider(key=controls.PERSONNEL).set_value(0.85)
    at.slider(key=controls.weight_key(1)).set_value(20.0)
    at.radio(key=controls.MODE).set_value("strict").run()
    save_scenario(at, "lean")
    saved = ScenarioStore().get("lean").levers
    at.button(key=controls.RESET).click().run()
    assert at.slider(key=controls.BUDGET).value == pytest.approx(1.0)

    show(at, "Compare scenarios")
    at.selectbox(key=scenarios.LOAD_CHOICE).set_value("lean")
    at.button(key=scenarios.LOAD_SCENARIO).click().run()
    assert not at.exception, at.exception
    assert at.slider(key=controls.BUDGET).value == saved.budget_scale == 0.7
    assert at.slider(key=controls.PERSONNEL).value == saved.personnel_scale == 0.85
    assert at.slider(key=controls.weight_key(1)).value == saved.priority_weights[0] == 20.0
    assert at.radio(key=controls.MODE).value == str(saved.priority_mode) == "strict"
    assert state.lever_key(levers_on_screen(at)) == state.lever_key(saved)
    assert plan_on_screen(at).levers.budget_scale == pytest.approx(0.7)


def test_deleting_a_scenario_removes_it_from_the_store_and_the_list() -> None:
    at = open_page()
    save_scenario(at, "keep")
    at.slider(key=controls.BUDGET).set_value(0.5).run()
    save_scenario(at, "drop")
    show(at, "Compare scenarios")
    at.selectbox(key=scenarios.LOAD_CHOICE).set_value("drop")
    at.button(key=scenarios.DELETE_SCENARIO).click().run()
    assert not at.exception, at.exception
    assert stored(at) == ["keep"]
    assert table(at, scenarios.SCENARIO_LIST)["Scenario"].tolist() == ["keep"]


def test_two_planners_on_one_workbook_see_the_same_store_and_a_restart_loses_nothing() -> None:
    first = open_page()
    save_scenario(first, "from the first planner")
    second = open_page()  # another browser session of the same server
    assert stored(second) == ["from the first planner"]
    save_scenario(second, "from the second planner")
    first.run()
    assert stored(first) == ["from the first planner", "from the second planner"]
    show(first, "Compare scenarios")
    assert table(first, scenarios.SCENARIO_LIST)["Scenario"].tolist() == [
        "from the first planner", "from the second planner"]

    state.read_cached.clear()  # a restarted server: no cache, no session
    state.plans().clear()
    restarted = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not restarted.exception, restarted.exception
    assert stored(restarted) == ["from the first planner", "from the second planner"]


def test_a_scenario_name_is_shown_as_typed_never_as_markdown() -> None:
    at = open_page()
    save_scenario(at, "**bold** [link](http://example.org) :smile:")
    toast = at.toast[0].value
    assert "\\*\\*bold\\*\\*" in toast and "\\[link\\]" in toast
    show(at, "Compare scenarios")
    assert table(at, scenarios.SCENARIO_LIST)["Scenario"].tolist() == [
        "**bold** [link](http://example.org) :smile:"]


# --------------------------------------------------------------------------- downloads


def test_downloads_are_the_report_json_and_levers_of_the_plan_on_screen() -> None:
    at = open_page()
    at.slider(key=controls.BUDGET).set_value(0.8).run()
    plan = plan_on_screen(at)
    labels = {key: at.download_button(key=key).label for key in ("download_report", "download_json",
                                                                 "download_levers")}
    assert ".xlsx" in labels["download_report"] and ".json" in labels["download_json"]

    report = load_workbook(io.BytesIO(state.report_bytes(plan)), read_only=True)
    assert report.sheetnames[0] == "Summary"
    result = json.loads(state.json_bytes(plan))
    assert result["status"] == str(plan.status)
    assert result["total_cost"] == pytest.approx(plan.total_cost)


def test_the_levers_download_reproduces_the_scenario_with_set(portfolio) -> None:  # type: ignore[no-untyped-def]
    from ui.summaries import levers_text

    mission = _first(portfolio.missions.index)
    levers = portfolio.levers.changed(budget_scale=0.85, integer=False, priority={mission: 2})
    text = levers_text(levers, "national_portfolio.xlsx", "abc")
    settings = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert "--set budget_scale=0.85" in text
    again = portfolio.levers.with_settings(settings)
    assert state.lever_key(again) == state.lever_key(levers)


# --------------------------------------------------------------------------- configuration


def test_streamlit_config_keeps_the_page_local_and_private() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["address"] == "localhost"
    assert config["server"]["port"] == 8501
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES
