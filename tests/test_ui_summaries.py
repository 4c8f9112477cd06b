"""What the page shows, worked out from a plan: tiny hand-solvable portfolios, real solver.

Three missions in one zone compete for three linguists (two each at full coverage):
priority 1 gets both of its own, priority 2 gets the one left (50%), and priority 3,
capped at 50% coverage, gets none.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from optimiser import Levers, PriorityMode, Problem, Severity, optimise, price_ranges, validate
from optimiser.formats import money_short
from optimiser.read import read_tables
from optimiser.wording import price_holds
from ui import controls
from ui.summaries import (
    FULL,
    NONE,
    PARTLY,
    binding_sentences,
    binding_table,
    headline,
    levers_text,
    mission_coverage,
    problems_frame,
    tier_counts,
    unmet_by_mission,
)

TABLES = {
    "Missions": """
        mission_id, name, zone_id, type, priority, max_coverage
        M1, Envoy office, Z1, mediation, 1, 1
        M2, Ceasefire monitors, Z1, monitoring, 2, 1
        M3, Training team, Z1, capacity_building, 3, 50%
    """,
    "Zones": """
        zone_id, region, personnel_cap
        Z1, Sahel,
        Z2, Levant, 40
    """,
    "Resources": """
        resource_id, name, kind, unit, unit_cost, available
        LING, Linguist, personnel, person, 1000, 3
    """,
    "Requirements": """
        mission_id, resource_id, quantity
        M1, LING, 2
        M2, LING, 2
        M3, LING, 2
    """,
    "Funding": """
        source_id, name, amount
        CORE, Core budget, 100000
        PEACE, Peace fund, 5000
    """,
}


@pytest.fixture(scope="module")
def portfolio():  # type: ignore[no-untyped-def]
    return validate(read_tables(TABLES))


@pytest.fixture(scope="module")
def plan(portfolio):  # type: ignore[no-untyped-def]
    return optimise(portfolio, portfolio.levers)


def test_missions_are_fully_partly_or_not_covered_against_their_max_coverage(plan) -> None:  # type: ignore[no-untyped-def]
    table = mission_coverage(plan).set_index("mission_id")
    assert table.loc["M1", "coverage"] == pytest.approx(1.0)
    assert table.loc["M2", "coverage"] == pytest.approx(0.5)
    assert table.loc["M3", "coverage"] == pytest.approx(0.0)
    assert dict(table["covered"]) == {"M1": FULL, "M2": PARTLY, "M3": NONE}


def test_tier_counts_give_one_row_per_priority_with_value(plan) -> None:  # type: ignore[no-untyped-def]
    counts = tier_counts(plan).set_index("priority")
    assert list(counts.index) == [1, 2, 3, 4, 5]
    assert counts.loc[1, FULL] == 1 and counts.loc[2, PARTLY] == 1 and counts.loc[3, NONE] == 1
    assert counts[[FULL, PARTLY, NONE]].to_numpy().sum() == 3
    assert counts["value"].sum() == pytest.approx(plan.value)


def test_headline_reads_value_share_money_and_people(plan) -> None:  # type: ignore[no-untyped-def]
    head = headline(plan)
    assert head.value_share == pytest.approx(plan.value / plan.max_value)
    assert head.personnel == pytest.approx(3.0)  # every linguist is deployed
    assert head.total_cost == pytest.approx(3000.0)
    assert head.money_available == pytest.approx(105000.0)


def test_unmet_needs_name_the_resource_and_units_short(plan) -> None:  # type: ignore[no-untyped-def]
    unmet = unmet_by_mission(plan).set_index("mission_id")
    assert set(unmet.index) == {"M2", "M3"}
    assert unmet.loc["M2", "lacks"] == "1 Linguist"  # one of them, in the singular
    assert unmet.loc["M2", "shortfall_cost"] == pytest.approx(1000.0)
    assert list(unmet.reset_index()["mission_id"]) == ["M2", "M3"]  # by priority


def test_widget_state_round_trips_every_lever(portfolio) -> None:  # type: ignore[no-untyped-def]
    levers = portfolio.levers.changed(
        budget_scale=0.75,
        personnel_scale=1.5,
        reserve_share=0.1,
        priority_weights=(20.0, 8.0, 4.0, 2.0, 0.5),
        priority_mode=PriorityMode.STRICT,
        diminishing_returns=False,
        integer=False,
        time_limit_s=12.0,
        source_scale={"PEACE": 0.5},
        zone_cap={"Z1": 2.0, "Z2": None},
        must_fund={"M3": True},
        priority={"M2": 1},
    )
    state: dict[str, object] = {}
    controls.put_levers(portfolio, levers, state)
    assert state[controls.source_key("PEACE")] == pytest.approx(2500.0)
    assert state[controls.zone_key("Z2")] is None
    again = controls.levers_from_widgets(portfolio, state)
    assert again == levers


def test_per_item_levers_are_kept_only_where_they_differ_from_the_workbook(portfolio) -> None:  # type: ignore[no-untyped-def]
    state: dict[str, object] = {}
    controls.put_levers(portfolio, portfolio.levers, state)
    state[controls.source_key("CORE")] = 100000.0  # the workbook's amount
    state[controls.zone_key("Z2")] = 40.0  # the workbook's cap
    levers = controls.levers_from_widgets(portfolio, state)
    assert levers.source_scale == {} and levers.zone_cap == {}
    assert levers == portfolio.levers


def test_problems_frame_has_sheet_cell_column_and_message() -> None:
    frame = problems_frame(
        [
            Problem(Severity.ERROR, "Missions", "'Z9' is not a zone", cell="C4", column="zone_id",
                    value="Z9"),
            Problem(Severity.WARNING, "Notes", "sheet ignored"),
            Problem(Severity.ERROR, "Requirements", "pair appears twice", row=7),
        ]
    )
    assert list(frame.columns) == ["severity", "sheet", "cell", "column", "value", "message"]
    assert frame.iloc[0].to_dict() == {"severity": "error", "sheet": "Missions", "cell": "C4",
                                       "column": "zone_id", "value": "Z9", "message": "'Z9' is not a zone"}
    assert frame.iloc[2]["cell"] == "row 7"


def test_levers_text_holds_the_set_command_and_reads_back(portfolio) -> None:  # type: ignore[no-untyped-def]
    levers = portfolio.levers.changed(budget_scale=0.8, zone_cap={"Z1": 2.0}, priority={"M3": 1})
    text = levers_text(levers, "my portfolio.xlsx", "f00", "cut 20%")
    assert "optimiser solve 'my portfolio.xlsx'" in text
    assert "--set budget_scale=0.8" in text and "--set zone_cap.Z1=2" in text
    settings = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert Levers().with_settings(settings) == levers


@pytest.mark.parametrize(
    ("amount", "text"),
    [(None, "–"), (950.0, "USD 950"), (12_345.0, "USD 12.3 k"), (12_300_000.0, "USD 12.3 m"),
     (965_740_000.0, "USD 966 m"), (1.2e9, "USD 1.2 bn"), (-2_500_000.0, "-USD 2.5 m")],
)
def test_money_is_written_as_in_a_briefing(amount, text) -> None:  # type: ignore[no-untyped-def]
    assert money_short(amount) == text  # the currency before the amount, as everywhere


def test_mission_coverage_of_an_empty_plan_is_an_empty_table(plan) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    empty = dataclasses.replace(plan, missions=plan.missions.iloc[0:0])
    assert mission_coverage(empty).empty
    assert tier_counts(empty)[[FULL, PARTLY, NONE]].to_numpy().sum() == 0
    assert isinstance(mission_coverage(empty), pd.DataFrame)


# --------------------------------------------------------------------------- what binds, and how far


@pytest.fixture(scope="module")
def half_linguist_plan():  # type: ignore[no-untyped-def]
    """3.5 linguists, continuous, value linear in coverage: M1 (worth 16) takes 2, M2
    (worth 8) the 1.5 left (75%). One more linguist adds 8 x 0.5 = 4 value, and keeps
    doing so from 2 linguists (below, M1 is short: 8 each) to 4 (above, M2 is full and
    M3, worth 4, adds 2 each)."""
    tables = {**TABLES, "Resources": TABLES["Resources"].replace("1000, 3", "1000, 3.5")}
    portfolio = validate(read_tables(tables))
    return optimise(portfolio, portfolio.levers.changed(integer=False, diminishing_returns=False))


def test_binding_table_gives_each_price_the_range_it_holds_over(half_linguist_plan) -> None:  # type: ignore[no-untyped-def]
    plan = half_linguist_plan
    assert plan.missions.set_index("mission_id")["coverage"].to_dict() == pytest.approx(
        {"M1": 1.0, "M2": 0.75, "M3": 0.0})
    table = binding_table(plan, price_ranges(plan))
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["constraint"], row["id"]) == ("resource", "LING")
    assert (row["shadow_price"], row["low"], row["high"], row["limit"]) == pytest.approx((4.0, 2.0, 4.0, 3.5))
    assert row["holds"] == "the price holds while between 2 and 4 are usable (now 3.5)"
    assert binding_sentences(plan, ranges=price_ranges(plan)) == [
        f"{row['sentence']}; the price holds while between 2 and 4 are usable (now 3.5)"
    ]


@pytest.mark.parametrize(("low", "high", "now", "expected"), [
    # 11.5 to 12.2 helicopters, 12 usable: one more (13) is past the range.
    (11.5, 12.2, 12, "the price holds only while exactly 12 are usable (now 12), so one more whole unit "
                     "goes past that range and adds at most this (optimiser solve --explain measures it "
                     "by solving again)"),
    (9.2, 14.7, 12, "the price holds while between 10 and 14 are usable (now 12)"),
    (9.2, math.nan, 12, "the price holds while at least 10 are usable (now 12)"),
])
def test_a_whole_units_price_range_is_quoted_in_whole_units(low, high, now, expected) -> None:  # type: ignore[no-untyped-def]
    assert price_holds("resource", low, high, now, "USD", whole=True) == expected


def test_a_funds_price_range_is_in_money() -> None:
    assert price_holds("budget", 1e6, 3.5e6, 2e6, "EUR", whole=True) == (
        "the price holds while the fund is between EUR 1,000,000 and EUR 3,500,000 (now EUR 2,000,000)")


def test_a_range_is_shown_only_for_the_price_it_belongs_to(half_linguist_plan) -> None:  # type: ignore[no-untyped-def]
    plan = half_linguist_plan
    other = price_ranges(plan).assign(shadow_price=8.0)  # a range of another price
    for ranges in (None, other):
        table = binding_table(plan, ranges)
        assert table["low"].isna().all() and table["high"].isna().all()
        assert list(table["holds"]) == [""]
        assert binding_sentences(plan, ranges=ranges) == list(plan.sensitivity["sentence"])


def test_levers_text_of_the_stretched_plan_asks_for_relax_commitments(portfolio) -> None:  # type: ignore[no-untyped-def]
    levers = portfolio.levers.changed(personnel_scale=0.3)
    text = levers_text(levers, "p.xlsx", "f00", relax_commitments=True)
    assert "--set personnel_scale=0.3 " in text and text.splitlines()[3].endswith(" --relax-commitments")
    assert "commitments stretched" in text.splitlines()[0]
    assert "--relax-commitments" not in levers_text(levers, "p.xlsx", "f00")


def test_the_unmet_tab_names_the_three_largest_needs_and_counts_the_rest() -> None:
    # one mission needing four resources, none of which is there: it lacks all four
    tables = {
        "Missions": """
            mission_id, name, zone_id, type, priority
            M1, Observer team, Z1, monitoring, 1
        """,
        "Zones": """
            zone_id, region
            Z1, Sahel
        """,
        "Resources": """
            resource_id, name, kind, unit, unit_cost, available
            OBS, Military observers, personnel, person, 100, 0
            VEH, Light vehicles, equipment, unit, 100, 0
            RAD, Radios, equipment, unit, 10, 0
            GEN, Generators, equipment, unit, 10, 0
        """,
        "Requirements": """
            mission_id, resource_id, quantity
            M1, OBS, 40
            M1, VEH, 8
            M1, RAD, 3
            M1, GEN, 2
        """,
        "Funding": """
            source_id, name, amount
            CORE, Core budget, 100000
        """,
    }
    portfolio = validate(read_tables(tables))
    unmet = unmet_by_mission(optimise(portfolio, portfolio.levers)).set_index("mission_id")
    assert unmet.loc["M1", "lacks"] == "40 Military observers, 8 Light vehicles, 3 Radios and 1 more"
    assert unmet.loc["M1", "shortfall_cost"] == pytest.approx(40 * 100 + 8 * 100 + 3 * 10 + 2 * 10)
    every = unmet_by_mission(optimise(portfolio, portfolio.levers), most=4).loc[0, "lacks"]
    assert every.endswith("3 Radios and 2 Generators")
