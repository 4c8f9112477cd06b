"""Sweeps and comparisons as plain-text tables for the terminal.

The text returned is already safe to print: workbook text in it (mission names, ids,
file names) has its control characters escaped (:func:`optimiser.safe_text.printable`).
"""

from __future__ import annotations

import math

import pandas as pd

from optimiser.explore.compare import FIGURE_WORDS, PLANNED, Comparison
from optimiser.explore.sweep import MILLION, SweepResult, setting_text
from optimiser.report.derived import TIERS
from optimiser.safe_text import printable
from optimiser.wording import counted, lever_label, lever_noun


def _cell(value: object, kind: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    if kind == "money":
        return f"{float(value):,.0f}"  # type: ignore[arg-type]
    if kind == "value":
        return f"{float(value):,.1f}"  # type: ignore[arg-type]
    if kind == "share":
        return f"{float(value):.0%}"  # type: ignore[arg-type]
    if kind == "signed_share":  # a change of a share: percentage points
        return f"{float(value) * 100:+.0f} pts"  # type: ignore[arg-type]
    if kind == "signed_value":
        return f"{float(value):+,.1f}"  # type: ignore[arg-type]
    if kind == "signed_money":
        return f"{float(value):+,.0f}"  # type: ignore[arg-type]
    if isinstance(value, float):
        return setting_text(value)
    return str(value)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Columns padded to their widest cell; the columns in ``right`` right-aligned."""
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def sweep_text(result: SweepResult, dropped_width: int = 60) -> str:
    """The sweep as a table: one line per point, with the missions that drop out."""
    keys = list(result.keys)
    currency = result.currency
    header = [*(lever_label(k) for k in keys), "plan", "value", "share", f"spent ({currency})",
              f"available ({currency})", f"dropped out (vs next higher {lever_noun(result.lever)})"]
    rows = []
    for _, point in result.table.iterrows():
        dropped = point["dropped_out"]
        reduced = [m for m in str(point["reduced"]).split(", ") if m]
        if reduced:
            dropped = f"{dropped}{'; ' if dropped else ''}{len(reduced)} reduced"
        rows.append([*(_cell(point[k]) for k in keys), str(point["status"]), _cell(point["value"], "value"),
                     _cell(point["value_share"], "share"), _cell(point["total_cost"], "money"),
                     _cell(point["money_available"], "money"), _shorten(dropped, dropped_width)])
    right = set(range(len(keys))) | {len(keys) + i for i in (1, 2, 3, 4)}
    shape = " x ".join(f"{lever_noun(axis.key)} ({counted(len(axis), 'value')})" for axis in result.axes)
    lines = [f"Sweep of {shape}: {len(result.table)} points in {result.seconds:.1f} s ({result.runner})", "",
             *render(header, rows, right)]
    marginal = result.marginal_value()
    if marginal is not None:
        lines += ["", f"Marginal value of money: {marginal:,.2f} value per extra {currency} {MILLION:,.0f} "
                      f"at the scenario's {lever_noun(result.lever)} (from the adjacent sweep points)."]
    note = result.tolerance_note()
    if note:
        lines += ["", note]
    if result.failed:
        first = result.table.loc[result.table["status"] == "failed", "message"].iloc[0]
        lines += ["", f"{result.failed} point{'s' if result.failed != 1 else ''} failed: {first}"]
    return printable("\n".join(lines))


def comparison_text(comparison: Comparison, limit: int | None = 30) -> str:
    """Headline figures, then the missions that changed, largest change first."""
    a, b = comparison.labels
    currency = comparison.currency
    lines = [f"{b} against {a}", ""]
    if not comparison.same_currency:
        currency_a, currency_b = comparison.currencies
        lines += [f"A is in {currency_a} and B in {currency_b}: amounts are not converted, so money "
                  "changes are not shown (each plan's own figures are).", ""]
        currency = f"{currency_a} / {currency_b}"
    if comparison.levers is not None and len(comparison.levers):
        changes = "; ".join(f"{lever_label(lever)} {value_a or '(blank)'} -> {value_b or '(blank)'}"
                            for lever, value_a, value_b in comparison.levers.itertuples(index=False))
        lines += [f"Levers that differ (A -> B): {changes}", ""]
    elif comparison.levers is not None:
        lines += ["Levers: the same in both runs.", ""]
    kinds = {"value": "value", "value_share": "share", "total_cost": "money", "money_available": "money",
             "missions_covered": "count", "missions_fully_covered": "count",
             **{f"value_p{tier}": "value" for tier in TIERS}}
    header = ["", f"A: {a}", f"B: {b}", "change"]
    rows = []
    for figure in comparison.headline.to_dict("records"):
        name, a_value, b_value, change = str(figure["figure"]), figure["a"], figure["b"], figure["change"]
        kind = kinds.get(name, "")
        if kind == "count":
            cells = [f"{a_value:,.0f}", f"{b_value:,.0f}", f"{change:+,.0f}"]
        elif kind == "share":
            cells = [_cell(a_value, kind), _cell(b_value, kind), _cell(change, "signed_share")]
        elif kind:
            signed = "signed_money" if kind == "money" else "signed_value"
            cells = [_cell(a_value, kind), _cell(b_value, kind), _cell(change, signed)]
        else:
            cells = [str(a_value), str(b_value), ""]
        words = FIGURE_WORDS.get(name, name)
        label = words[:1].upper() + words[1:] + (f" ({currency})" if kind == "money" else "")
        rows.append([label, *cells])
    lines += render(header, rows, {1, 2, 3})
    if comparison.tolerance:
        lines += ["", comparison.tolerance]

    missing = [label for label, status in zip((f"A ({a})", f"B ({b})"), comparison.statuses, strict=True)
               if status not in PLANNED]
    if missing:
        lines += ["", f"{' and '.join(missing)} {'have' if len(missing) > 1 else 'has'} no plan: there is no "
                      "mission-by-mission change to show."]
        return printable("\n".join(lines))
    changed = comparison.changed
    lines += ["", f"{len(changed)} of {len(comparison.missions)} missions changed"
                  + (", largest change first:" if len(changed) else ".")]
    if len(changed):
        shown = changed if not limit else changed.head(limit)
        header = ["mission", "name", "prio", "coverage A", "coverage B", "change",
                  f"cost change ({currency})", "resources (units per period)", "what"]
        rows = [[str(m["mission_id"]), _shorten(str(m["name"]), 28), _cell(m["priority"]),
                 _cell(m["coverage_a"], "share"), _cell(m["coverage_b"], "share"),
                 _cell(m["coverage_change"], "signed_share"), _cell(m["cost_change"], "signed_money"),
                 _shorten(str(m["resources_change"]), 40), str(m["change"])]
                for m in shown.to_dict("records")]
        lines += render(header, rows, {2, 3, 4, 5, 6})
        if len(shown) < len(changed):
            lines.append(f"... and {len(changed) - len(shown)} more (all of them in --out).")
    return printable("\n".join(lines))
