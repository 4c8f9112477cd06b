"""The scenario levers as widgets, and back: widget state <-> :class:`optimiser.Levers`.

Every widget has a stable key (the tests find them by it). The widgets never take a
``value=``: their state is written into ``st.session_state`` from a :class:`Levers`
(:func:`put_levers`) when a workbook is loaded, a scenario is loaded or the levers are
reset, and read back into a :class:`Levers` (:func:`levers_from_widgets`) on every run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

import pandas as pd
import streamlit as st

from optimiser import Levers, Portfolio, PriorityMode, SolverName, formats
from optimiser.safe_text import markdown_literal as literal

# widget keys
BUDGET = "budget_scale"
PERSONNEL = "personnel_scale"
EQUIPMENT = "equipment_scale"
RESERVE_OVERRIDE = "reserve_override"
RESERVE = "reserve_share"
MODE = "priority_mode"
DIMINISHING = "diminishing_returns"
INTEGER = "integer"
SOLVER = "solver"
TIME_LIMIT = "time_limit_s"
MIP_GAP = "mip_gap"
MISSION_EDITOR = "mission_editor"
RESET = "reset_levers"
MISSION_EDITS = "mission_edits"  # per-mission levers, where they differ from the workbook
MISSION_LEVERS = ("must_fund", "priority", "min_coverage", "max_coverage", "cancel")
SCALE_MAX = 2.0


def weight_key(tier: int) -> str:
    return f"weight_{tier}"


def source_key(source_id: str) -> str:
    return f"source_amount.{source_id}"


def zone_key(zone_id: str) -> str:
    return f"zone_cap.{zone_id}"


def workbook_source_totals(portfolio: Portfolio) -> pd.Series:
    """Money of each funding source over all periods, as the workbook has it."""
    totals = portfolio.funding.groupby("source_id", sort=False)["amount"].sum()
    return totals.reindex(portfolio.sources.index).fillna(0.0).astype(float)


def _cap(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


# --------------------------------------------------------------------------- Levers -> widgets


def put_levers(portfolio: Portfolio, levers: Levers, state: MutableMapping[Any, Any]) -> None:
    """Write ``levers`` into the widgets' state (call before the widgets are drawn,
    e.g. from a callback or at the top of a run)."""
    state[BUDGET] = float(levers.budget_scale)
    state[PERSONNEL] = float(levers.personnel_scale)
    state[EQUIPMENT] = float(levers.equipment_scale)
    state[RESERVE_OVERRIDE] = levers.reserve_share is not None
    state[RESERVE] = float(levers.reserve_share or 0.0)
    state[MODE] = str(levers.priority_mode)
    state[DIMINISHING] = bool(levers.diminishing_returns)
    state[INTEGER] = bool(levers.integer)
    state[SOLVER] = str(levers.solver)
    state[TIME_LIMIT] = float(levers.time_limit_s)
    state[MIP_GAP] = float(levers.mip_gap)
    for tier, weight in enumerate(levers.priority_weights, 1):
        state[weight_key(tier)] = float(weight)
    totals = workbook_source_totals(portfolio)
    for source_id, total in totals.items():
        state[source_key(source_id)] = float(total) * float(levers.source_scale.get(source_id, 1.0))
    for zone_id, cap in portfolio.zones["personnel_cap"].items():
        state[zone_key(zone_id)] = _cap(levers.zone_cap[zone_id]) if zone_id in levers.zone_cap else _cap(cap)
    state[MISSION_EDITS] = _mission_edits(
        portfolio, levers.must_fund, levers.priority, levers.min_coverage, levers.max_coverage, levers.cancel
    )
    if MISSION_EDITOR in state:  # the editor restarts from the new edits
        del state[MISSION_EDITOR]


def _mission_edits(
    portfolio: Portfolio,
    must_fund: Mapping[str, bool],
    priority: Mapping[str, int],
    min_coverage: Mapping[str, float] | None = None,
    max_coverage: Mapping[str, float] | None = None,
    cancel: Mapping[str, bool] | None = None,
) -> dict[str, dict[str, Any]]:
    """The per-mission levers that differ from the workbook's Missions sheet."""
    workbook = portfolio.missions

    def share(column: str, given: Mapping[str, float] | None) -> dict[str, float]:
        return {m: float(v) for m, v in (given or {}).items()
                if m in workbook.index and not pd.isna(v)
                and abs(float(v) - float(workbook.at[m, column])) > 1e-9}

    return {
        "must_fund": {m: bool(v) for m, v in must_fund.items()
                      if m in workbook.index and bool(v) != bool(workbook.at[m, "must_fund"])},
        "priority": {m: int(v) for m, v in priority.items()
                     if m in workbook.index and int(v) != int(workbook.at[m, "priority"])},
        "min_coverage": share("min_coverage", min_coverage),
        "max_coverage": share("max_coverage", max_coverage),
        "cancel": {m: True for m, v in (cancel or {}).items() if m in workbook.index and bool(v)},
    }


# --------------------------------------------------------------------------- widgets -> Levers


def levers_from_widgets(portfolio: Portfolio, state: MutableMapping[Any, Any]) -> Levers:
    """The levers the widgets show (the mission table's edits included); per-item levers
    are kept only where they differ from the workbook."""
    base = portfolio.levers
    source_scale: dict[str, float] = {}
    for source_id, total in workbook_source_totals(portfolio).items():
        amount = state.get(source_key(source_id))
        if amount is None or total <= 0:
            scale = float(base.source_scale.get(source_id, 1.0))
        else:
            scale = float(f"{float(amount) / total:.12g}")
        if scale != 1.0:
            source_scale[source_id] = scale
    zone_cap: dict[str, float | None] = {}
    for zone_id, cap in portfolio.zones["personnel_cap"].items():
        chosen = _cap(state.get(zone_key(zone_id)))
        if chosen != _cap(cap):
            zone_cap[zone_id] = chosen
    edits = state.get(MISSION_EDITS) or {}
    must_fund = dict(edits.get("must_fund", {}))
    priority = dict(edits.get("priority", {}))
    min_coverage = dict(edits.get("min_coverage", {}))
    max_coverage = dict(edits.get("max_coverage", {}))
    cancel = dict(edits.get("cancel", {}))
    return base.changed(
        budget_scale=float(state.get(BUDGET, base.budget_scale)),
        personnel_scale=float(state.get(PERSONNEL, base.personnel_scale)),
        equipment_scale=float(state.get(EQUIPMENT, base.equipment_scale)),
        reserve_share=float(state.get(RESERVE, 0.0)) if state.get(RESERVE_OVERRIDE) else None,
        priority_weights=tuple(
            float(state.get(weight_key(t), base.priority_weights[t - 1])) for t in range(1, 6)
        ),
        priority_mode=PriorityMode(state.get(MODE, str(base.priority_mode))),
        diminishing_returns=bool(state.get(DIMINISHING, base.diminishing_returns)),
        integer=bool(state.get(INTEGER, base.integer)),
        solver=SolverName(state.get(SOLVER, str(base.solver))),
        time_limit_s=float(state.get(TIME_LIMIT, base.time_limit_s)),
        mip_gap=float(state.get(MIP_GAP, base.mip_gap)),
        source_scale=source_scale,
        zone_cap=zone_cap,
        must_fund=must_fund,
        priority=priority,
        min_coverage=min_coverage,
        max_coverage=max_coverage,
        cancel=cancel,
    )


# --------------------------------------------------------------------------- drawing


def _upper(key: str, floor: float) -> float:
    return max(floor, float(st.session_state.get(key, 0.0)))


def lever_panel(portfolio: Portfolio, on_reset: Any) -> None:
    """The scenario levers of SPEC section 2 (sidebar)."""
    st.slider("Budget scale", 0.0, _upper(BUDGET, SCALE_MAX), step=0.05, key=BUDGET, format="%.2f×",
              help="Multiplies every funding source's money (1 = the workbook's amounts).")
    st.slider("Personnel scale", 0.0, _upper(PERSONNEL, SCALE_MAX), step=0.05, key=PERSONNEL, format="%.2f×",
              help="Multiplies the people available of every personnel resource.")
    st.slider("Equipment scale", 0.0, _upper(EQUIPMENT, SCALE_MAX), step=0.05, key=EQUIPMENT, format="%.2f×",
              help="Multiplies the units available of every equipment resource.")
    override = st.toggle("One reserve share for every resource", key=RESERVE_OVERRIDE,
                         help="Off: each resource keeps the reserve_share of the workbook.")
    st.slider("Reserve share", 0.0, 1.0, step=0.01, key=RESERVE, disabled=not override, format="%.2f",
              help="Share of what is available held back as a rapid-reaction reserve.")
    st.radio("Priority mode", [m.value for m in PriorityMode], key=MODE, horizontal=True,
             help="weighted: most total value. strict: priority 1 first, then 2 without lowering 1, ...")
    st.toggle("Diminishing returns", key=DIMINISHING,
              help="The first half of a mission's coverage is worth twice the second half.")
    st.toggle("Whole units (integer plan)", key=INTEGER,
              help="Off: a plan with fractional units, solved much faster.")

    with st.expander("Priority weights"):
        st.caption("Worth of one unit of value in each tier (used in weighted mode).")
        for tier in range(1, 6):
            st.slider(f"Tier {tier}", 0.0, _upper(weight_key(tier), 32.0), step=0.5, key=weight_key(tier))

    currency = portfolio.levers.currency
    totals = workbook_source_totals(portfolio)
    with st.expander(f"Funding sources ({len(totals)})"):
        st.caption(f"Money of each source over the whole plan, in {literal(currency)}, before the budget "
                   "scale.")
        for source_id, total in totals.items():
            name = portfolio.sources.at[source_id, "name"]
            st.number_input(
                literal(f"{name} ({source_id})" if name != source_id else source_id),
                min_value=0.0, step=max(1.0, round(total / 20, -3) or 1.0), format="%.0f",
                key=source_key(source_id), disabled=total <= 0,
                help=literal(f"Workbook: {formats.money_short(total, currency)}"),
            )

    zones = portfolio.zones
    with st.expander(f"Zone personnel caps ({len(zones)})"):
        st.caption("Most people deployed in a zone per period; empty: no cap.")
        for zone_id, row in zones.iterrows():
            cap = _cap(row["personnel_cap"])
            st.number_input(
                literal(f"{row['name']} ({zone_id})" if row["name"] != zone_id else zone_id),
                value=None, min_value=0.0, step=10.0, format="%.0f", key=zone_key(zone_id),
                placeholder="no cap",
                help="Workbook: " + ("no cap" if cap is None else f"{cap:,.0f} people"),
            )

    with st.expander("Solver"):
        st.selectbox("Solver", [s.value for s in SolverName], key=SOLVER)
        st.number_input("Time limit (s)", min_value=0.1, max_value=_upper(TIME_LIMIT, 3600.0),
                        step=5.0, key=TIME_LIMIT)
        st.number_input("Accepted gap (integer plans)", min_value=0.0, max_value=_upper(MIP_GAP, 1.0),
                        step=0.001, format="%.3f", key=MIP_GAP)

    st.button("Reset levers to the workbook", key=RESET, on_click=on_reset, width="stretch")


def _zone_names(portfolio: Portfolio) -> dict[str, str]:
    names = portfolio.zones["name"] if "name" in portfolio.zones else pd.Series(dtype=object)
    return {str(z): str(names.get(z, z)) for z in portfolio.missions["zone_id"].astype(str).unique()}


def mission_editor(portfolio: Portfolio, state: MutableMapping[Any, Any]) -> None:
    """The editable table of missions: must-fund, priority, min and max coverage and
    cancel per mission.

    The edits are kept in ``state[MISSION_EDITS]`` (not only in the editor's own state),
    so they survive while the table is not drawn (another tab is open)."""
    edits: dict[str, dict[str, Any]] = {name: {} for name in MISSION_LEVERS}
    edits |= dict(state.get(MISSION_EDITS) or {})
    missions = portfolio.missions
    table = pd.DataFrame(
        {
            "mission_id": missions.index.astype(str),
            "name": missions["name"].astype(str).to_numpy(),
            # what may be changed first, in view at 1366 px; where and what kind after it
            "priority": [int(edits["priority"].get(m, p)) for m, p in missions["priority"].items()],
            "must_fund": [bool(edits["must_fund"].get(m, f)) for m, f in missions["must_fund"].items()],
            **{column: [float(edits[column].get(m, c)) for m, c in missions[column].items()]
               for column in ("min_coverage", "max_coverage")},
            "cancel": [bool(edits["cancel"].get(m, False)) for m in missions.index],
            "zone_id": missions["zone_id"].astype(str).map(_zone_names(portfolio)).to_numpy(),
            "type": missions["type"].astype(str).str.replace("_", " ").to_numpy(),
        }
    )
    edited = st.data_editor(
        table,
        key=MISSION_EDITOR,
        hide_index=True,
        num_rows="fixed",
        width="stretch",
        disabled=["mission_id", "name", "zone_id", "type"],
        height=min(38 + 35 * len(table), 640),  # some 17 rows in view, the rest a scroll away
        column_config={
            "mission_id": st.column_config.TextColumn("Mission ID", width="medium"),
            "name": st.column_config.TextColumn("Mission", width="medium"),
            "zone_id": st.column_config.TextColumn("Zone"),
            "type": st.column_config.TextColumn("Type"),
            "priority": st.column_config.NumberColumn("Priority", min_value=1, max_value=5, step=1,
                                                      help="1 (highest) to 5"),
            "must_fund": st.column_config.CheckboxColumn(
                "Must fund", help="Coverage at least its minimum (min_coverage) in every period"),
            "min_coverage": st.column_config.NumberColumn(
                "Min coverage", min_value=0.0, max_value=1.0, step=0.05, format="%.2f",
                help="Must-fund: its floor. Otherwise: off, or at least this"),
            "max_coverage": st.column_config.NumberColumn(
                "Max coverage", min_value=0.0, max_value=1.0, step=0.05, format="%.2f",
                help="Its ceiling (0: it does not run)"),
            "cancel": st.column_config.CheckboxColumn(
                "Cancel", help="Coverage 0 in every period, must-fund or not"),
        },
    )
    priorities = {
        m: min(5, max(1, int(p)))
        for m, p in zip(edited["mission_id"], edited["priority"], strict=True)
        if not pd.isna(p)
    }
    by_mission = {column: dict(zip(edited["mission_id"], edited[column], strict=True))
                  for column in ("must_fund", "min_coverage", "max_coverage", "cancel")}
    state[MISSION_EDITS] = _mission_edits(
        portfolio, by_mission["must_fund"], priorities, by_mission["min_coverage"],
        by_mission["max_coverage"], by_mission["cancel"],
    )
