"""The page's Trade-offs tab: value against one lever, the scenario on screen marked.

:func:`render_tradeoffs` sweeps one lever (budget, personnel, equipment or reserve)
around its value in the scenario on screen, every other lever as on screen, with
:func:`optimiser.explore.sweep`, and draws the curve, the marginal value of the next
million (from the sweep's adjacent points at the current budget) and the missions
that drop out as the lever falls. A sweep is many solves: it runs when the planner
asks, on local processes, with a progress bar, and stays on screen until the levers
or the sweep's settings change.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from optimiser import Levers, Portfolio, formats
from optimiser.explore import SweepResult, sweep
from optimiser.explore.sheets import csv_bytes, sweep_workbook
from optimiser.explore.sweep import MILLION, linspace
from optimiser.safe_text import markdown_literal as literal
from optimiser.wording import lever_label, lever_noun
from ui.state import lever_key

TAB = "Trade-offs"

# widget and session-state keys
LEVER = "tradeoff_lever"
POINTS = "tradeoff_points"
RELAXED = "tradeoff_relaxed"
RUN = "tradeoff_run"
RESULT = "tradeoff_result"  # (fingerprint, SweepResult) of the last curve drawn
MARGINAL = "tradeoff_marginal"  # container of the marginal-value metric
DROPOUTS = "tradeoff_dropouts"  # container of the drop-outs table
CURVE = "tradeoff_curve"  # container of the chart
TOLERANCE = "tradeoff_tolerance"  # container: why the curve moves against the lever, within the gap
DOWNLOAD_XLSX = "tradeoff_download_xlsx"
DOWNLOAD_CSV = "tradeoff_download_csv"


def range_key(lever: str, end: str) -> str:
    """Key of the number box for one end (``"from"`` or ``"to"``) of a lever's range."""
    return f"tradeoff_{end}_{lever}"


@dataclass(frozen=True)
class SweptLever:
    label: str
    default_span: float  # the default range: current value +- this
    maximum: float


LEVERS = {
    "budget_scale": SweptLever(lever_label("budget_scale"), 0.5, 5.0),
    "personnel_scale": SweptLever(lever_label("personnel_scale"), 0.5, 5.0),
    "equipment_scale": SweptLever(lever_label("equipment_scale"), 0.5, 5.0),
    "reserve_share": SweptLever(lever_label("reserve_share"), 0.25, 0.95),
}


def current_value(levers: Levers, lever: str) -> float | None:
    """The lever's value in the scenario on screen (``None``: reserve left to each resource)."""
    value = getattr(levers, lever)
    return None if value is None else float(value)


def sweep_values(current: float | None, low: float, high: float, points: int) -> list[float]:
    """``points`` evenly spaced values from ``low`` to ``high``, plus the current value
    (so that the scenario on screen is a point of the curve)."""
    low, high = sorted((max(0.0, low), max(0.0, high)))
    values = set(linspace(low, high, max(2, points)))
    if current is not None:
        values.add(float(f"{current:.12g}"))
    return sorted(values)


def curve_chart(result: SweepResult, current: float | None, label: str) -> alt.LayerChart | alt.FacetChart:
    """Value against the lever: line and points, the scenario on screen marked in red."""
    lever, currency = result.lever, result.currency
    table = result.table.copy()
    table["value"] = table["value"].astype(float)
    table["dropped"] = table["dropped_out"].replace("", "–")
    base = alt.Chart(table).encode(
        x=alt.X(f"{lever}:Q", title=label),
        y=alt.Y("value:Q", title="value", scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip(f"{lever}:Q", format=".3~f", title=label),
            "status",
            alt.Tooltip("value:Q", format=",.1f"),
            alt.Tooltip("value_share:Q", format=".0%", title="share of the most possible"),
            alt.Tooltip("total_cost:Q", format=",.0f", title=f"money spent ({currency})"),
            alt.Tooltip("money_available:Q", format=",.0f", title=f"money available ({currency})"),
            alt.Tooltip("dropped:N", title="drop out below the next point"),
        ],
    )
    layers = [base.mark_line(color="#2171b5"), base.mark_point(color="#2171b5", filled=True, size=40)]
    if current is not None:
        here = table[(table[lever] - current).abs() < 1e-9]
        if len(here):
            marked = alt.Chart(here.assign(label="this scenario")).encode(
                x=f"{lever}:Q", y="value:Q", tooltip=["label", alt.Tooltip("value:Q", format=",.1f")])
            layers += [
                alt.Chart(here).mark_rule(color="#de2d26", strokeDash=[4, 3]).encode(x=f"{lever}:Q"),
                marked.mark_point(color="#de2d26", filled=True, size=160, shape="diamond"),
                marked.mark_text(color="#de2d26", dy=-14, fontWeight="bold").encode(text="label:N"),
            ]
    return alt.layer(*layers).properties(height=360, title=f"Value against {label.lower()}")


def dropouts_frame(result: SweepResult) -> pd.DataFrame:
    """The missions that drop out or are reduced, for the page's table."""
    frame = result.dropouts()
    label = LEVERS[result.lever].label if result.lever in LEVERS else result.lever.replace("_", " ")
    return pd.DataFrame({
        label: frame[result.lever],
        "Mission ID": frame["mission_id"],
        "Mission": frame["name"],
        "Priority": frame["priority"],
        "Coverage here": (100 * frame["coverage"].astype(float)).round(1),
        "At the next point up": (100 * frame["coverage_next"].astype(float)).round(1),
        "What happens": frame["drop"].astype(str).str.replace("_", " "),
    })


def _workbook_bytes(result: SweepResult) -> bytes:
    buffer = io.BytesIO()
    sweep_workbook(result).save(buffer)
    return buffer.getvalue()


def render_tradeoffs(portfolio: Portfolio, levers: Levers, workers: int | None = None) -> SweepResult | None:
    """Draw the Trade-offs tab for ``portfolio`` under the ``levers`` on screen.

    Parameters
    ----------
    portfolio : the validated portfolio on screen.
    levers : the scenario on screen; every point of the curve starts from it.
    workers : local processes for the sweep (default: one per CPU).

    Returns
    -------
    SweepResult or None
        the curve on screen, if one has been drawn for these levers.
    """
    st.markdown("How much value each step of one lever buys, every other lever as on screen. "
                "The red mark is the scenario on screen.")
    left, middle, right = st.columns([2, 1, 1])
    lever = left.selectbox("Lever", list(LEVERS), format_func=lambda k: LEVERS[k].label, key=LEVER)
    spec = LEVERS[lever]
    current = current_value(levers, lever)
    centre = current if current is not None else 0.0
    for end, default in (("from", max(0.0, centre - spec.default_span)),
                         ("to", min(spec.maximum, centre + spec.default_span))):
        st.session_state.setdefault(range_key(lever, end), round(default, 4))
    low = middle.number_input("From", min_value=0.0, max_value=spec.maximum, step=0.05, format="%.2f",
                              key=range_key(lever, "from"))
    high = right.number_input("To", min_value=0.0, max_value=spec.maximum, step=0.05, format="%.2f",
                              key=range_key(lever, "to"))
    options_left, options_right = st.columns([2, 2])
    points = options_left.slider("Points", min_value=3, max_value=41, value=21, key=POINTS)
    relaxed = options_right.toggle("Fractional units (fast)", value=True, key=RELAXED,
                                   help="Each point is a full plan. Whole units make every point an integer "
                                        "search: far slower on a large portfolio.")
    values = sweep_values(current, low, high, points)
    base = levers.changed(integer=False) if relaxed else levers
    fingerprint = (portfolio.source.sha256, lever_key(base), lever, tuple(values))

    kept = st.session_state.get(RESULT)
    if st.button(f"Draw the curve ({len(values)} plans)", key=RUN, type="primary"):
        bar = st.progress(0.0, text="Planning the curve…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Planned {done} of {total} points")

        result = sweep(portfolio, base, {lever: values}, workers=workers, progress=progress)
        bar.empty()
        kept = (fingerprint, result)
        st.session_state[RESULT] = kept
    if kept is None:
        st.info("Choose a lever and its range, then draw the curve.")
        return None
    if kept[0] != fingerprint:
        st.info("The levers or the range changed since this curve was drawn: draw it again to update it.")
    result = kept[1]
    shown_current = current if kept[0] == fingerprint else None
    _draw(result, shown_current, LEVERS.get(result.lever, spec).label)
    if not result.levers.integer and levers.integer:
        st.caption("The curve's plans allow fractions of units (faster): their values are a little "
                   "above those of the whole-unit plan shown at the top of the page.")
    return result


def _draw(result: SweepResult, current: float | None, label: str) -> None:
    currency = result.currency
    first, second, third = st.columns(3)
    marginal = result.marginal_value(at=current) if result.lever == "budget_scale" else None
    with first.container(key=MARGINAL):
        st.metric(
            literal(f"Value of the next {formats.money_short(MILLION, currency)}"),
            "–" if marginal is None or math.isnan(marginal) else formats.per_unit(marginal),
            help="Value gained per extra 1,000,000 of money at the current budget, from the two "
                 "adjacent points of the budget curve. Sweep the budget to see it.",
        )
        if marginal is not None and not math.isnan(marginal):
            st.caption("Averaged over the step between two points of the curve, with every fund and "
                       "period scaled together. *What binds* gives the value of 1m more in one fund and "
                       "one period at the margin, which is larger where that fund is the one short.")
    planned = result.table["status"].isin(("optimal", "feasible"))
    second.metric("Points with a plan", f"{int(planned.sum())} of {len(result.table)}")
    third.metric("Time", f"{result.seconds:.1f} s", help=literal(result.runner))
    with st.container(key=CURVE):
        st.altair_chart(curve_chart(result, current, label), width="stretch")
    if (result.table["status"] == "infeasible").any():
        st.caption("Gaps in the curve are points where no plan is possible (the must-fund "
                   "commitments cannot all be met there).")
    note = result.tolerance_note()
    if note:
        with st.container(key=TOLERANCE):
            st.info(literal(note))
    st.markdown(f"#### Missions that drop out as {lever_noun(result.lever)} falls")
    st.caption("Each point against the next one up: *dropped out* means coverage falls to zero there; "
               "*reduced*, it falls but stays above zero.")
    with st.container(key=DROPOUTS):
        st.dataframe(
            dropouts_frame(result), hide_index=True, width="stretch",
            column_config={
                "Coverage here": st.column_config.NumberColumn(format="%.1f%%"),
                "At the next point up": st.column_config.NumberColumn(format="%.1f%%"),
            },
        )
    left, right = st.columns(2)
    left.download_button("Download the curve (.xlsx, with charts)", _workbook_bytes(result),
                         file_name=f"tradeoff_{result.lever}.xlsx", key=DOWNLOAD_XLSX,
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    right.download_button("Download the table (.csv)", csv_bytes(result.table),
                          file_name=f"tradeoff_{result.lever}.csv", key=DOWNLOAD_CSV, mime="text/csv")
