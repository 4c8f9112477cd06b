"""Reports of a plan: the workbook for planners, JSON for scripts, text for the terminal.

One module a form, plus what they share::

    workbook.py       write_report(plan, path)   the .xlsx report (SPEC section 5)
      summary_sheet.py  Summary: result, tiers and zones with charts, levers, input, run
      plan_sheets.py    Allocation, Funding, Resources, Zones, Unmet, Sensitivity
      timeline_sheet.py Timeline: coverage period by period, starts and stops, their money
      input_sheets.py   the inputs as read ("Input Missions", ...)
    result.py         plan_to_dict / write_json  the JSON result
    text.py           summary_text(plan)         a few lines for standard output
    derived.py        figures all three share (coverage by tier, money by zone, names)
    timeline.py       the plan over time they share (runs, starts, stops and their money)
    cells.py          the one safe way to write a cell (text never becomes a formula)
    atomic.py         write whole or not at all

Reports never import the solver; they read the :class:`~optimiser.plan.Plan` only.
"""

from optimiser.report.result import plan_to_dict, result_json, write_json
from optimiser.report.text import summary_text
from optimiser.report.workbook import report_bytes, report_workbook, write_report

__all__ = [
    "plan_to_dict",
    "report_bytes",
    "report_workbook",     "result_json",
    "summary_text",
    "write_json",
    "write_report",
]
