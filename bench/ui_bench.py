"""What-if page latency for ``make bench``: lever change -> updated plan on screen.

Drives the real page (ui/app.py) through Streamlit's AppTest on the national sample.
Each run moves the budget slider to a value not planned before (so the solve cache
does not answer) and times the rerun until the new plan is drawn: reading the widgets,
solving, and drawing metrics, charts and tables. Relaxed and integer plans; medians of
several runs. A cached rerun (levers already planned) gives the page's own overhead.

    python bench/ui_bench.py [--runs N] [--workbook PATH]

Targets (issue 3): relaxed <= 1 s, integer <= 5 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench import Figure  # noqa: E402  (one Figure for every figure of make bench)

APP = ROOT / "ui" / "app.py"
SAMPLE = ROOT / "sample_budgets" / "national_portfolio.xlsx"
TARGETS_S = {"relaxed": 1.0, "integer": 5.0}


def ui_figures(runs: int = 5, workbook: Path | None = None, modes: tuple[str, ...] = ("relaxed", "integer")
               ) -> list[Figure]:
    """Lever change -> plan on screen, relaxed and integer, on ``workbook`` (default:
    the national sample)."""
    from streamlit.testing.v1 import AppTest

    import ui.state
    from ui import controls

    if workbook is not None:
        ui.state.SAMPLE = Path(workbook)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    figures: list[Figure] = []
    for mode in modes:
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.run()
        at.toggle(key=controls.INTEGER).set_value(mode == "integer").run()
        _check(at)
        times, solves, notes = [], [], []
        for i in range(runs):
            scale = round(0.97 - 0.04 * i, 2)  # a budget not planned before in this process
            start = time.perf_counter()
            at.slider(key=controls.BUDGET).set_value(scale).run()
            times.append(time.perf_counter() - start)
            _check(at)
            plan = at.session_state[ui.state.LAST_GOOD][1]
            assert plan.levers.budget_scale == scale and plan.levers.integer == (mode == "integer")
            solves.append(plan.solver.total_s)
            notes.append(f"{plan.status}, gap {plan.gap or 0:.2%}")
        figures.append(
            Figure(f"page {mode}: lever change -> plan on screen", statistics.median(times), max(times), runs,
                   TARGETS_S[mode], f"solve {statistics.median(solves):.2f} s; {notes[-1]}")
        )
        cached = []
        for _ in range(runs):  # the same levers again: the solve cache answers
            start = time.perf_counter()
            at.slider(key=controls.BUDGET).set_value(0.97).run()
            cached.append(time.perf_counter() - start)
            at.slider(key=controls.BUDGET).set_value(0.93).run()
        figures.append(
            Figure(f"page {mode}: redraw, plan cached", statistics.median(cached), max(cached), runs,
                   note="the page's own overhead: widgets, metrics, charts, tables")
        )
    return figures


def _check(at: AppTest) -> None:
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception[0].value}")


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'median':>8}  {'worst':>8}  {'runs':>4}  {'target':>7}  {'ratio':>5}  note")
    for f in figures:
        target = f"{f.target_s:.1f} s" if f.target_s else ""
        print(f"{f.name:<{width}}  {f.median_s:7.3f}s  {f.worst_s:7.3f}s  {f.runs:>4}  {target:>7}  "
              f"{f.ratio:>5}  {f.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--workbook", type=Path, default=None, help="workbook (default: the national sample)")
    parser.add_argument("--mode", action="append", choices=sorted(TARGETS_S), help="relaxed or integer "
                        "(repeatable; default both)")
    args = parser.parse_args(argv)
    print_table(ui_figures(args.runs, args.workbook, tuple(args.mode or TARGETS_S)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
