"""The scenario store (SPEC section 7) on a real SQLite file in the test's folder.

Plans come from the hand-solved portfolio of test_compare.py: one period, three missions
(priority 1, 2, 3), one TEAM each at 100 money, money the only limit. At budget 300 all
three are covered; at 150 (budget_scale 0.5), M1 fully, M2 half, M3 not at all; at 75
(0.25), M1 at 75% and the others not at all.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from optimiser import Levers, PriorityMode, SolverName, optimise, plan_to_dict, validate
from optimiser.read import read_tables
from optimiser.store import (
    STORE_VARIABLE,
    WORKBOOK_DEFAULT,
    ScenarioStore,
    StoreError,
    UnknownScenario,
    default_path,
    levers_from_record,
    levers_record,
    store_path,
)

ROOT = Path(__file__).resolve().parents[1]
ONE_PERIOD = {
    "missions": """
        mission_id,name,zone_id,priority,must_fund,min_coverage
        M1,Alpha,Z1,1,no,0
        M2,Bravo,Z1,2,no,0
        M3,Charlie,Z1,3,no,0
    """,
    "zones": "zone_id\nZ1\n",
    "resources": "resource_id,kind,unit_cost,available,integer\nTEAM,personnel,100,,no\n",
    "requirements": "mission_id,resource_id,quantity\nM1,TEAM,1\nM2,TEAM,1\nM3,TEAM,1\n",
    "funding": "source_id,amount\nCORE,300\n",
    "settings": "key,value\ndiminishing_returns,no\ninteger,no\n",
}
SHA = "a" * 64
OTHER_SHA = "b" * 64


@pytest.fixture(scope="module")
def portfolio():
    return validate(read_tables(ONE_PERIOD))


@pytest.fixture(scope="module")
def results(portfolio):
    """budget_scale -> (levers, JSON result) of the plan at that scale."""
    out = {}
    for scale in (1.0, 0.5, 0.25):
        levers = portfolio.levers.changed(budget_scale=scale)
        out[scale] = (levers, plan_to_dict(optimise(portfolio, levers)))
    return out


@pytest.fixture
def store(tmp_path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "data" / "scenarios.sqlite")


def save(store: ScenarioStore, name: str, levers: Levers, result: dict, sha: str = SHA, **more):  # type: ignore[no-untyped-def]
    return store.save(name, workbook_name="portfolio.xlsx", workbook_sha256=sha, levers=levers,
                      result=result, **more)


# --------------------------------------------------------------------------- round trips


def test_every_field_of_a_scenario_comes_back_as_saved(store, results):
    base, result = results[0.5]
    levers = base.changed(
        budget_scale=0.1 + 0.2,  # 0.30000000000000004: kept in full, not rounded to 0.3
        personnel_scale=0.85, equipment_scale=1.25, reserve_share=0.15,
        priority_weights=(20.0, 8.0, 4.5, 2.0, 0.0), priority_mode=PriorityMode.STRICT,
        diminishing_returns=True, integer=True, solver=SolverName.CBC, time_limit_s=12.5, mip_gap=0.01,
        max_change=0.2, change_penalty=0.5, source_scale={"CORE": 0.8}, zone_cap={"Z1": None, "Z2": 400.0},
        must_fund={"M2": True}, priority={"M3": 1},
    )
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    saved = save(store, "Coupe budgétaire — 20 %", levers, result, saved_by="Анна Планова",
                 note="as the minister asked\nsecond line", saved_at=when)
    assert not saved.replaced

    again = store.get("Coupe budgétaire — 20 %")
    assert again.name == "Coupe budgétaire — 20 %"
    assert again.workbook_name == "portfolio.xlsx"
    assert again.workbook_sha256 == SHA
    assert again.levers == levers
    assert again.levers.budget_scale == 0.1 + 0.2
    assert again.saved_by == "Анна Планова"
    assert again.saved_at == when
    assert again.note == "as the minister asked\nsecond line"
    assert again.result == json.loads(json.dumps(result))
    assert (again.status, again.currency) == ("optimal", "USD")
    assert again.total_cost == pytest.approx(150.0)
    assert again.money_available == pytest.approx(150.0)
    assert again.value_share == pytest.approx(result["value_share"])


def test_levers_records_round_trip_and_tolerate_other_versions():
    levers = Levers(budget_scale=0.7, zone_cap={"Z9": None}, priority={"M1": 2})
    assert levers_from_record(json.loads(json.dumps(levers_record(levers)))) == levers
    older = {k: v for k, v in levers_record(levers).items() if k != "change_penalty"}
    newer = {**levers_record(levers), "a_lever_of_tomorrow": 3}
    assert levers_from_record(older).change_penalty == Levers().change_penalty
    assert levers_from_record(newer) == levers


def test_the_workbook_contents_are_not_stored_only_its_name_and_hash(store, results, tmp_path):
    levers, result = results[1.0]
    save(store, "baseline", levers, result)
    raw = store.path.read_bytes()
    assert b"portfolio.xlsx" in raw and SHA.encode() in raw
    columns = {row[1] for row in _sql(store.path, "PRAGMA table_info(scenarios)")}
    assert columns == {"id", "name", "workbook_name", "workbook_sha256", "levers", "result", "saved_by",
                       "saved_at", "note", "status", "value_share", "total_cost", "money_available",
                       "currency"}


def _sql(path: Path, query: str) -> list[tuple]:
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


# --------------------------------------------------------------------------- list, replace, delete


def test_list_shows_every_scenario_or_only_those_of_one_workbook(store, results):
    levers, result = results[1.0]
    save(store, "baseline", levers, result, saved_at=datetime(2026, 1, 1, tzinfo=UTC))
    save(store, "cut", results[0.5][0], results[0.5][1], saved_at=datetime(2026, 1, 2, tzinfo=UTC))
    save(store, "baseline", levers, result, sha=OTHER_SHA, saved_at=datetime(2026, 1, 3, tzinfo=UTC))
    assert [(s.name, s.workbook_sha256) for s in store.list()] == [
        ("baseline", SHA), ("cut", SHA), ("baseline", OTHER_SHA)]
    assert [s.name for s in store.list(SHA)] == ["baseline", "cut"]
    assert [s.name for s in store.list(OTHER_SHA)] == ["baseline"]
    assert store.list("c" * 64) == []


def test_saving_again_under_the_same_name_replaces_and_says_so(store, results):
    first = save(store, "plan A", *results[1.0], note="first", saved_at=datetime(2026, 1, 1, tzinfo=UTC))
    second = save(store, "  plan   A ", *results[0.5], note="second")  # spaces do not make a new name
    assert not first.replaced and second.replaced
    assert second.replaced_at == datetime(2026, 1, 1, tzinfo=UTC)
    kept = store.list(SHA)
    assert [(s.name, s.note, s.levers.budget_scale) for s in kept] == [("plan A", "second", 0.5)]
    assert store.get("plan A").total_cost == pytest.approx(150.0)


def test_the_same_name_for_another_workbook_is_another_scenario(store, results):
    save(store, "baseline", *results[1.0])
    assert not save(store, "baseline", *results[0.5], sha=OTHER_SHA).replaced
    assert store.get("baseline", SHA).levers.budget_scale == 1.0
    assert store.get("baseline", OTHER_SHA).levers.budget_scale == 0.5
    with pytest.raises(StoreError, match="saved for 2 workbooks"):
        store.get("baseline")


def test_delete_forgets_one_scenario_and_an_unknown_name_is_named(store, results):
    save(store, "baseline", *results[1.0])
    save(store, "cut", *results[0.5])
    gone = store.delete("cut", SHA)
    assert gone.name == "cut" and gone.levers.budget_scale == 0.5
    assert [s.name for s in store.list()] == ["baseline"]
    with pytest.raises(UnknownScenario, match=r"no scenario named 'cut'.*saved: 'baseline'"):
        store.delete("cut")
    with pytest.raises(UnknownScenario, match="no scenario named 'nope'"):
        store.get("nope")


def test_a_scenario_needs_a_name(store, results):
    with pytest.raises(StoreError, match="needs a name"):
        save(store, "   ", *results[1.0])
    with pytest.raises(StoreError, match="at most 200"):
        save(store, "x" * 201, *results[1.0])


# --------------------------------------------------------------------------- compare


@pytest.fixture
def three(store, results):
    for name, scale in (("full", 1.0), ("half", 0.5), ("quarter", 0.25)):
        save(store, name, *results[scale])
    return store


def test_compare_names_the_levers_that_differ(three):
    comparison = three.compare(["full", "half", "quarter"])
    assert comparison.names == ["full", "half", "quarter"]
    assert list(comparison.levers.index) == ["budget_scale"]
    assert comparison.levers.loc["budget_scale"].tolist() == ["1", "0.5", "0.25"]


def test_a_per_item_lever_set_in_one_scenario_only_shows_the_workbook_in_the_other(store, results):
    levers, result = results[1.0]
    save(store, "as is", levers, result)
    save(store, "capped", levers.changed(zone_cap={"Z1": 2.0}), result)
    table = store.compare(["as is", "capped"]).levers
    assert table.loc["zone_cap.Z1"].tolist() == [WORKBOOK_DEFAULT, "2"]
    assert list(table.index) == ["zone_cap.Z1"]


def test_compare_gives_the_headline_of_each_scenario(three):
    headline = three.compare(["full", "half", "quarter"]).headline
    assert headline.loc["total_cost"].tolist() == pytest.approx([300.0, 150.0, 75.0])
    assert headline.loc["money_available"].tolist() == pytest.approx([300.0, 150.0, 75.0])
    assert headline.loc["missions_covered"].tolist() == [3, 2, 1]
    assert headline.loc["missions_fully_covered"].tolist() == [3, 1, 0]
    assert headline.loc["status"].tolist() == ["optimal"] * 3


def test_compare_lists_each_mission_that_changes_largest_change_first(three):
    comparison = three.compare(["full", "half", "quarter"])
    assert comparison.missions["mission_id"].tolist() == ["M3", "M2", "M1"]
    assert comparison.missions.set_index("mission_id")["change"].to_dict() == {
        "M3": "dropped in 'half'; dropped in 'quarter'",
        "M2": "reduced in 'half'; dropped in 'quarter'",
        "M1": "reduced in 'quarter'",
    }
    assert comparison.coverage.loc["M1"].tolist() == pytest.approx([1.0, 1.0, 0.75])
    assert comparison.coverage.loc["M2"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert comparison.cost.loc["M2"].tolist() == pytest.approx([100.0, 50.0, 0.0])
    assert len(comparison.against_first) == 2


def test_compare_measures_against_the_first_named(three):
    comparison = three.compare(["quarter", "full"])
    assert comparison.missions.set_index("mission_id")["change"].to_dict() == {
        "M2": "added in 'full'", "M3": "added in 'full'", "M1": "increased in 'full'"}


def test_compare_needs_two_different_known_names(three):
    with pytest.raises(StoreError, match="at least two"):
        three.compare(["full"])
    with pytest.raises(StoreError, match="named twice: 'full'"):
        three.compare(["full", "full"])
    with pytest.raises(UnknownScenario, match="'eighth'"):
        three.compare(["full", "eighth"])


# --------------------------------------------------------------------------- where, and who may read it


def test_the_file_is_readable_by_its_owner_only(store, results):
    save(store, "baseline", *results[1.0])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    for companion in store.path.parent.glob("scenarios.sqlite-*"):  # WAL and shared memory
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600, companion


def test_the_store_is_in_wal_mode_with_a_schema_version(store, results):
    save(store, "baseline", *results[1.0])
    assert _sql(store.path, "PRAGMA journal_mode") == [("wal",)]
    assert _sql(store.path, "PRAGMA user_version") == [(1,)]


def test_the_default_store_is_in_the_users_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_path({}) == tmp_path / ".local/share/mission-optimiser/scenarios.sqlite"
    expected = Path("/srv/data/mission-optimiser/scenarios.sqlite")
    assert default_path({"XDG_DATA_HOME": "/srv/data"}) == expected
    assert default_path({"XDG_DATA_HOME": "relative/ignored"}) == default_path({})


def test_an_explicit_path_wins_over_the_variable_which_wins_over_the_default():
    environ = {STORE_VARIABLE: "/from/variable.sqlite", "XDG_DATA_HOME": "/xdg"}
    assert store_path("/given.sqlite", environ) == Path("/given.sqlite")
    assert store_path(None, environ) == Path("/from/variable.sqlite")
    assert store_path(None, {"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/mission-optimiser/scenarios.sqlite")


def test_the_store_follows_the_variable_when_no_path_is_given(scenario_store):
    assert ScenarioStore().path == scenario_store  # tests/conftest.py sets the variable


def test_a_folder_a_file_of_something_else_or_a_newer_store_is_refused(tmp_path, results):
    with pytest.raises(StoreError, match="is a folder"):
        ScenarioStore(tmp_path).list()
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, just some text that is long enough" * 20)
    with pytest.raises(StoreError, match="cannot be used"):
        ScenarioStore(text).list()
    other = tmp_path / "other.sqlite"
    _sql(other, "CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="database of something else"):
        ScenarioStore(other).list()
    newer = tmp_path / "newer.sqlite"
    _sql(newer, "PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer version"):
        ScenarioStore(newer).list()


# --------------------------------------------------------------------------- at the same time


def test_threads_saving_at_once_lose_no_row(store, results):
    levers, result = results[0.5]
    errors: list[BaseException] = []
    shared = ScenarioStore(store.path)  # one store object used by every thread, as the page's sessions may

    def saver(thread: int) -> None:
        mine = ScenarioStore(store.path) if thread % 2 else shared
        try:
            for i in range(10):
                save(mine, f"thread {thread} scenario {i}", levers, result)
                save(mine, "everyone's", levers, result, saved_by=f"thread {thread}")  # replaced by all
        except BaseException as error:  # any error fails the test below
            errors.append(error)

    threads = [threading.Thread(target=saver, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = {s.name for s in store.list()}
    assert len(names) == 6 * 10 + 1
    assert {f"thread {t} scenario {i}" for t in range(6) for i in range(10)} < names


SAVER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from optimiser import Levers
    from optimiser.store import ScenarioStore

    path, who, go, count = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    result = json.loads(Path(sys.argv[5]).read_text())
    while not go.exists():  # both processes start saving together
        time.sleep(0.01)
    store = ScenarioStore(path)  # the file does not exist yet: both may create it
    for i in range(count):
        store.save(f"{who} {i}", workbook_name="portfolio.xlsx", workbook_sha256="a" * 64,
                   levers=Levers(budget_scale=i / count), result=result, saved_by=who)
        store.save("shared", workbook_name="portfolio.xlsx", workbook_sha256="a" * 64,
                   levers=Levers(), result=result, saved_by=who)
    print("done", who)
""")


def test_two_processes_saving_at_once_lose_no_row_and_never_find_the_store_locked(tmp_path, results):
    path = tmp_path / "fresh" / "scenarios.sqlite"
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps(results[0.5][1]))
    go = tmp_path / "go"
    count = 25
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-c", SAVER, str(path), who, str(go), str(count),
                                   str(result_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
                 for who in ("first", "second")]
    go.touch()
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.startswith("done"), err
        assert "locked" not in err
    kept = ScenarioStore(path).list()
    assert len(kept) == 2 * count + 1
    assert {s.name for s in kept} == {f"{who} {i}" for who in ("first", "second") for i in range(count)} | {
        "shared"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reading_a_store_not_made_yet_creates_no_file(tmp_path):
    store = ScenarioStore(tmp_path / "none" / "scenarios.sqlite")
    assert store.list() == []
    with pytest.raises(UnknownScenario, match="none is saved"):
        store.get("baseline")
    with pytest.raises(UnknownScenario, match="none is saved"):
        store.delete("baseline")
    assert not (tmp_path / "none").exists()
