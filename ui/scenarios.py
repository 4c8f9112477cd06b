"""The page's saved scenarios, kept in the scenario store (:mod:`optimiser.store`, SPEC 7).

The sidebar's save form and the *Compare scenarios* tab: the scenarios saved for the
workbook in use (by its SHA-256) are listed, one is loaded back onto the sliders, any
number are compared side by side (levers that differ, headline figures, per-mission
changes), one is deleted. The store is one SQLite file on the server, shared by every
planner's session and by ``optimiser scenarios``; a page restart loses nothing. The page
says where the file is.

Names, notes and "saved by" are typed by planners and may be shown to others: they are
drawn as plain text (tables, escaped messages), never as Markdown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from optimiser import Levers, Portfolio, formats, wording
from optimiser.report import plan_to_dict
from optimiser.safe_text import markdown_literal
from optimiser.store import (
    HEADLINE_LABELS,
    ScenarioComparison,
    ScenarioStore,
    ScenarioSummary,
    StoreError,
)
from ui import controls
from ui.state import NOTICE, Workbook, lever_key, solve
from ui.summaries import status_words

# widget keys
SCENARIO_NAME = "scenario_name"
SCENARIO_NOTE = "scenario_note"
SAVED_BY = "scenario_saved_by"
SAVE_SCENARIO = "save_scenario"
LOAD_CHOICE = "load_choice"
LOAD_SCENARIO = "load_scenario"
DELETE_SCENARIO = "delete_scenario"
COMPARE_CHOICE = "compare_choice"
KEPT = "_kept"  # suffix: a copy of a widget's state that outlives the tab being closed
# containers of the tables (the tests find them by these keys)
SCENARIO_LIST = "scenario_list"
COMPARE_LEVERS = "compare_levers"
COMPARE_HEADLINE = "compare_headline"
COMPARE_TABLE = "compare_table"
STORE_PLACE = "scenario_store_place"
COMPARE_TOLERANCE = "compare_tolerance"  # the notes on moves within the searches' tolerance
DEFAULT_COMPARED = 4  # scenarios compared when the planner has not chosen
ROW_PX = 35  # a table row's height on the page


def store() -> ScenarioStore:
    """The store the page uses: ``MISSION_OPTIMISER_STORE``, else the user's data folder
    (read on every run: one file for every session of the server)."""
    return ScenarioStore()


def workbook_sha(book: Workbook) -> str:
    """The hash scenarios are kept under: the reader's (``Portfolio.source``), the same as
    ``optimiser solve --save`` records for the same file."""
    if book.portfolio is not None and book.portfolio.source.sha256:
        return book.portfolio.source.sha256
    return book.sha256


def saved_for(book: Workbook) -> list[ScenarioSummary]:
    """The scenarios kept for this workbook, oldest first ([] when the store cannot be read:
    the page then says why)."""
    try:
        return store().list(workbook_sha(book))
    except StoreError as error:
        st.error(f"The saved scenarios cannot be read: {plain(str(error))}")
        return []


def name_of(levers: Levers, saved: Sequence[ScenarioSummary]) -> str:
    """The name of the saved scenario with exactly these levers ('' when none)."""
    key = lever_key(levers)
    return next((s.name for s in saved if lever_key(s.levers) == key), "")


def plain(text: str) -> str:
    """``text`` shown as typed inside Markdown (toasts, messages): every Markdown mark escaped,
    no address linked (:func:`optimiser.safe_text.markdown_literal`, as everywhere on the page)."""
    return markdown_literal(text)


# --------------------------------------------------------------------------- callbacks


def _notice(text: str) -> None:
    st.session_state[NOTICE] = text


def save_current(book: Workbook) -> None:
    """Keep the levers on screen, with their plan's result, under the name typed (a
    callback: it runs before the page, with every widget's new value)."""
    if book.portfolio is None:
        return
    levers = controls.levers_from_widgets(book.portfolio, st.session_state)
    solved = solve(book, levers)  # cached: the plan on screen
    if solved.plan is None:
        _notice(f"Not saved: the plan could not be made ({plain(solved.failure)}).")
        return
    sha = workbook_sha(book)
    try:
        name = str(st.session_state.get(SCENARIO_NAME) or "").strip()
        if not name:
            name = f"Scenario {len(store().list(sha)) + 1}"
        saved = store().save(
            name,
            workbook_name=book.name,
            workbook_sha256=sha,
            levers=levers,
            result=plan_to_dict(solved.plan),
            saved_by=str(st.session_state.get(SAVED_BY) or ""),
            note=str(st.session_state.get(SCENARIO_NOTE) or ""),
        )
    except StoreError as error:
        _notice(f"Not saved: {plain(str(error))}")
        return
    st.session_state[SCENARIO_NAME] = ""
    st.session_state[SCENARIO_NOTE] = ""
    what = "Replaced" if saved.replaced else "Saved"
    _notice(f"{what} scenario '{plain(saved.scenario.name)}'.")


def load_chosen(book: Workbook) -> None:
    """Put the chosen scenario's levers onto the sliders."""
    name = st.session_state.get(LOAD_CHOICE)
    if name is None or book.portfolio is None:
        return
    try:
        scenario = store().get(str(name), workbook_sha(book))
    except StoreError as error:
        _notice(f"Not loaded: {plain(str(error))}")
        return
    controls.put_levers(book.portfolio, scenario.levers, st.session_state)
    _notice(f"Loaded the levers of scenario '{plain(scenario.name)}'.")


def delete_chosen(book: Workbook) -> None:
    name = st.session_state.get(LOAD_CHOICE)
    if name is None:
        return
    try:
        gone = store().delete(str(name), workbook_sha(book))
    except StoreError as error:
        _notice(f"Not deleted: {plain(str(error))}")
        return
    _notice(f"Deleted scenario '{plain(gone.name)}'.")


# --------------------------------------------------------------------------- sidebar


def save_form(book: Workbook, saved: Sequence[ScenarioSummary], on_save: Callable[[], None]) -> None:
    """Name, note and who saves; the button keeps the levers on screen in the store."""
    st.text_input("Scenario name", key=SCENARIO_NAME, placeholder=f"Scenario {len(saved) + 1}",
                  help="Saving again under a name already saved for this workbook replaces it.")
    st.text_input("Note (optional)", key=SCENARIO_NOTE, placeholder="why this scenario")
    st.text_input("Saved by (optional)", key=SAVED_BY, placeholder="your name")
    st.button("Save current levers", key=SAVE_SCENARIO, on_click=on_save, width="stretch")
    count = f"{len(saved)} saved for this workbook" if saved else "None saved for this workbook yet"
    st.caption(f"{count}. Open *Compare scenarios* to load, compare or delete them.")


# --------------------------------------------------------------------------- the tab


def _keep_choice(key: str, options: list[str], default: list[str] | str | None) -> None:
    """Give a widget a valid state before it is drawn: its own, else the copy kept while
    its tab was closed, else ``default``; names no longer saved are dropped."""
    current = st.session_state.get(key, st.session_state.get(key + KEPT, default))
    if isinstance(current, list):
        st.session_state[key] = [n for n in current if n in options]
    else:
        st.session_state[key] = current if current in options else default


def _list_table(saved: Sequence[ScenarioSummary]) -> pd.DataFrame:
    currency = saved[-1].currency or "USD"
    return pd.DataFrame({
        "Scenario": [s.name for s in saved],
        "Saved (UTC)": [s.saved_at.strftime("%Y-%m-%d %H:%M") for s in saved],
        "By": [s.saved_by for s in saved],
        "Plan": [status_words(s.status or "") for s in saved],
        "Value reached": [None if s.value_share is None else s.value_share * 100 for s in saved],
        f"Money spent ({currency})": [None if s.total_cost is None else round(s.total_cost) for s in saved],
        "Note": [s.note for s in saved],
    })


ITEM_TABLES = {"source_scale": "sources", "zone_cap": "zones", "must_fund": "missions",
               "priority": "missions"}  # per-item lever -> the portfolio table naming its items


def lever_label(key: str, portfolio: Portfolio | None = None) -> str:
    """A ``--set`` key in words (:func:`optimiser.wording.lever_label`): ``budget_scale`` ->
    "Budget (× the workbook's funding)", ``zone_cap.Z01`` -> "Zone personnel cap: Gao (Z01)"
    (the name from the portfolio, when it has one)."""
    prefix, dot, item = key.partition(".")
    words = wording.lever_label(prefix)
    if not dot:
        return words
    table = getattr(portfolio, ITEM_TABLES.get(prefix, ""), None) if portfolio is not None else None
    name = str(table.at[item, "name"]) if table is not None and item in table.index else item
    return f"{words}: {name} ({item})" if name != item else f"{words}: {item}"


def _headline_cells(figure: str, values: list[Any], currency: str) -> list[str]:
    first = values[0]
    cells = []
    for i, value in enumerate(values):
        missing = value is None or (isinstance(value, float) and pd.isna(value))
        if figure == "status":
            cells.append(status_words(str(value)))
            continue
        if missing:
            cells.append("–")
            continue
        change = float(value) - float(first) if i and first is not None and not pd.isna(first) else 0.0
        if figure == "value_share":
            text = f"{float(value):.1%}" + (f" ({change * 100:+.1f} pts)" if abs(change) > 5e-4 else "")
        elif figure in ("total_cost", "money_available"):
            text = formats.money_short(float(value), currency)
            if abs(change) >= 0.5:
                text += f" ({'+' if change >= 0 else '-'}{formats.money_short(abs(change), currency)})"
        elif figure == "value" or figure.startswith("value_p"):
            text = formats.value(float(value)) + (f" ({change:+,.1f})" if abs(change) > 0.05 else "")
        else:
            text = formats.whole(float(value)) + (f" ({change:+,.0f})" if abs(change) >= 0.5 else "")
        cells.append(text)
    return cells


def comparison_tables(
    comparison: ScenarioComparison, portfolio: Portfolio | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(levers that differ, headline figures, per-mission changes) as the page shows them."""
    names, currency = comparison.names, comparison.currency
    levers = comparison.levers.reset_index()
    levers.insert(0, "Lever", [lever_label(k, portfolio) for k in levers.pop("lever")])

    rows, figures = [], comparison.headline
    for figure, values in zip(figures.index, figures.to_numpy().tolist(), strict=True):
        label = HEADLINE_LABELS.get(str(figure), str(figure))
        rows.append([label[:1].upper() + label[1:], *_headline_cells(str(figure), values, currency)])
    headline = pd.DataFrame(rows, columns=["Figure", *names])

    missions = comparison.missions
    table = pd.DataFrame({  # what changed first: on screen without scrolling sideways
        "Mission": missions["mission_id"].astype(str),
        "Name": missions["name"].astype(str),
        "What changed": missions["change"].to_numpy(),
        "Priority": missions["priority"],
    })
    ids = list(missions["mission_id"])
    for name in names:
        table[f"Coverage · {name}"] = comparison.coverage.loc[ids, name].to_numpy()
    for name in names[1:]:
        change = comparison.cost.loc[ids, name] - comparison.cost.loc[ids, names[0]]
        table[f"Cost change · {name}"] = change.round(0).to_numpy()  # whole money: a planner's table
    return levers, headline, table


def _table(frame: pd.DataFrame, key: str, **options: Any) -> None:
    with st.container(key=key):
        st.dataframe(frame, hide_index=True, width="stretch", **options)


def store_section(book: Workbook, saved: Sequence[ScenarioSummary], on_load: Callable[[], None],
                  on_delete: Callable[[], None]) -> None:
    """The *Compare scenarios* tab: the scenarios kept for this workbook; load, delete,
    compare any number."""
    place = store().path
    with st.container(key=STORE_PLACE):
        st.caption(f"Scenarios are kept on this server in {plain(str(place))}, shared by everyone using "
                   "this page and by the command line (optimiser scenarios list). Only the workbook's "
                   "name and hash are kept with them, never its contents.")
    if not saved:
        st.info("No scenario is saved for this workbook yet. Save the levers on screen (sidebar, "
                "*Scenarios*), change them, save again, then compare them here.")
        return
    currency = saved[-1].currency or "USD"
    _table(_list_table(saved), SCENARIO_LIST, column_config={
        "Value reached": st.column_config.NumberColumn(format="%.1f%%", help="Share of the most possible"),
        f"Money spent ({currency})": st.column_config.NumberColumn(format="localized"),
        "Note": st.column_config.TextColumn(width="large"),
    })
    names = [s.name for s in saved]
    _keep_choice(LOAD_CHOICE, names, names[-1])
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    choice = left.selectbox("Scenario", names, key=LOAD_CHOICE)
    st.session_state[LOAD_CHOICE + KEPT] = choice
    middle.button("Load its levers", key=LOAD_SCENARIO, on_click=on_load, width="stretch")
    right.button("Delete", key=DELETE_SCENARIO, on_click=on_delete, width="stretch")
    if len(names) < 2:
        st.info("Save a second scenario to compare them side by side.")
        return

    _keep_choice(COMPARE_CHOICE, names, names[:DEFAULT_COMPARED])
    chosen = st.multiselect("Compare", names, key=COMPARE_CHOICE,
                            help="The first chosen is the one the others are measured against.")
    st.session_state[COMPARE_CHOICE + KEPT] = list(chosen)
    if len(chosen) < 2:
        st.info("Choose two or more scenarios to compare.")
        return
    try:
        comparison = store().compare(chosen, workbook_sha(book))
    except StoreError as error:
        st.error(f"The scenarios cannot be compared: {plain(str(error))}")
        return
    levers, headline, missions = comparison_tables(comparison, book.portfolio)
    st.markdown("#### Levers that differ")
    if levers.empty:
        st.caption("The same levers in every scenario chosen.")
    else:
        _table(levers, COMPARE_LEVERS)
    st.markdown("#### The plans")
    _table(headline, COMPARE_HEADLINE, height=ROW_PX * (len(headline) + 1) + 3)  # every figure, no scroll
    st.caption("In brackets: the change against the first scenario chosen.")
    for note in comparison.tolerance_notes:
        with st.container(key=f"{COMPARE_TOLERANCE}_{comparison.tolerance_notes.index(note)}"):
            st.info(plain(note))
    total = len(comparison.against_first[0].missions)
    st.markdown(f"#### Missions that change ({len(missions)} of {total})")
    if missions.empty:
        st.caption("Every mission is covered the same in every scenario chosen.")
        return
    config: dict[str, Any] = {
        "Name": st.column_config.TextColumn(width="medium"),
        "What changed": st.column_config.TextColumn(width="medium"),
        "Priority": st.column_config.NumberColumn(format="%d", width="small"),
    }
    for column in missions.columns:
        if column.startswith("Coverage · "):
            missions[column] = missions[column] * 100
            config[column] = st.column_config.NumberColumn(format="%.1f%%")
        elif column.startswith("Cost change · "):
            config[column] = st.column_config.NumberColumn(f"{column} ({comparison.currency})",
                                                           format="localized")
    _table(missions, COMPARE_TABLE, column_config=config)
    st.caption("Largest change first. Coverage: mean over the mission's active periods.")
