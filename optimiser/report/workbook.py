"""The report workbook (SPEC section 5): a plan laid out for planners and ministers.

Sheets, in order: Summary (one printed page), Allocation (mission x period), Timeline
(each mission's coverage period by period, its starts and stops and their money), Units
(each resource of each mission and period, a long table that prints legibly), Funding,
Resources, Zones, Unmet, Sensitivity, Charts, then the inputs as read ("Input
Missions", ...). An infeasible plan has no allocation to show: its report is the
Summary, with the diagnosis, and the inputs. Every sheet is set up for printing
(:func:`print_setup`).

Each sheet is written by one function (``summary_sheet.py``, ``plan_sheets.py``,
``timeline_sheet.py``, ``input_sheets.py``), every cell through
:class:`~optimiser.report.cells.SheetWriter`.
"""

from __future__ import annotations

import io
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from optimiser.plan import Plan
from optimiser.report import plan_sheets
from optimiser.report.atomic import atomic_write
from optimiser.report.derived import names_of, run_time, tool_version
from optimiser.report.input_sheets import input_sheets
from optimiser.report.summary_sheet import charts_sheet, summary_sheet
from optimiser.report.timeline_sheet import timeline_sheet

logger = logging.getLogger(__name__)


def write_report(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Write the plan's report workbook (``.xlsx``), replacing any file atomically.

    Parameters
    ----------
    plan : the plan, feasible or not. An infeasible plan's report holds the Summary
        (status and diagnosis) and the inputs.
    path : where to write; must end in ``.xlsx``. Missing folders are created.

    Returns
    -------
    Path
        the report's path.

    Raises
    ------
    ValueError
        when ``path`` does not end in ``.xlsx`` (Excel refuses to open an xlsx
        workbook under another extension).
    OSError
        when the file cannot be written; an existing file at ``path`` is then left
        untouched.
    """
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"the report must be an .xlsx file, not {target.name!r}")
    workbook = report_workbook(plan)
    atomic_write(target, lambda handle: save_in_memory(workbook, handle))
    logger.info("report written to %s", target)
    return target


def report_workbook(plan: Plan, written_at: datetime | None = None) -> Workbook:
    """The report as an openpyxl :class:`~openpyxl.Workbook`, not yet saved.

    ``written_at`` is the time shown as the run's (default: now). Useful to stream the
    report without a file: ``report_workbook(plan).save(buffer)`` with an
    :class:`io.BytesIO`.
    """
    written_at = written_at or run_time()
    names = names_of(plan)
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = "Summary"
    summary_sheet(summary, plan, names, written_at)
    if plan.has_plan:
        plan_sheets.allocation_sheet(workbook.create_sheet("Allocation"), plan, names)
        timeline_sheet(workbook.create_sheet("Timeline"), plan, names)
        plan_sheets.units_sheet(workbook.create_sheet("Units"), plan, names)
        plan_sheets.funding_sheet(workbook.create_sheet("Funding"), plan, names)
        plan_sheets.resources_sheet(workbook.create_sheet("Resources"), plan, names)
        plan_sheets.zones_sheet(workbook.create_sheet("Zones"), plan, names)
        plan_sheets.unmet_sheet(workbook.create_sheet("Unmet"), plan, names)
        plan_sheets.why_sheet(workbook.create_sheet("Why short"), plan, names)
        plan_sheets.sensitivity_sheet(workbook.create_sheet("Sensitivity"), plan, names)
        if plan.alternatives is not None and len(plan.alternatives):
            plan_sheets.alternatives_sheet(workbook.create_sheet("Alternatives"), plan, names)
        charts_sheet(workbook.create_sheet("Charts"), summary, plan, names)
    if plan.portfolio is not None:
        input_sheets(workbook, plan.portfolio, plan.levers.currency)
    for sheet in workbook.worksheets:
        print_setup(sheet)
    workbook.properties.title = "Mission allocation plan"
    workbook.properties.creator = f"mission-optimiser {tool_version()}"
    return workbook


def print_setup(ws: Worksheet) -> None:
    """How a sheet prints, as a minister's office would print it: the Summary on one
    portrait page; every table landscape, one page wide, its header row repeated on every
    page, with the sheet's name and the page number in the footer."""
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"
    if ws.title == "Summary":
        setup.orientation = "portrait"
        setup.fitToWidth = 1
        setup.fitToHeight = 1
        ws.print_options.horizontalCentered = True
        return
    setup.orientation = "landscape"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    if ws.title != "Charts":
        ws.print_title_rows = "1:1"


class _InMemoryWriter(ExcelWriter):
    """openpyxl's writer, but each worksheet's XML is kept in memory.

    openpyxl's own writer puts every worksheet's XML in a temporary file under the
    system's temp folder before zipping it; planners' data must not land there, even
    briefly, so this one serialises into a buffer and adds the bytes to the archive.
    """

    def write_worksheet(self, ws):  # type: ignore[no-untyped-def]
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        writer = WorksheetWriter(ws, out=io.BytesIO())
        writer.write()
        ws._rels = writer._rels
        self._archive.writestr(ws.path[1:], writer.read())
        self.manifest.append(ws)


def save_in_memory(workbook: Workbook, handle: BinaryIO) -> None:
    """Save ``workbook`` as .xlsx into an open binary ``handle``, writing no other file."""
    with ZipFile(handle, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _InMemoryWriter(workbook, archive).save()


def report_bytes(plan: Plan) -> bytes:
    """The report workbook as bytes (for a download), made without touching the disk."""
    buffer = io.BytesIO()
    save_in_memory(report_workbook(plan), buffer)
    return buffer.getvalue()
