"""Speed figures for ``make bench``: medians of several runs, against the issues' targets.

Prints one table and appends every figure, with the date and git commit, to
``bench/results.jsonl`` so that changes can be compared over time. Timings are
measured here, never asserted in tests.

    python bench/bench.py [--runs N] [--only SECTION ...]

Sections: read, demo, national, levers, strict (one strict run and the 12 settings in
strict mode), scale, curve (issue 12: ours / a straightforward HiGHS model, 150 to 2,000
missions, peak RSS; bench/curve.py), diagnosis (the clash, the stretched plan and
``--explain``), sweep, page, why (issue 14: one mission's answer, wall and CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimiser import load_portfolio, optimise  # noqa: E402
from optimiser.scenario import apply_levers  # noqa: E402
from optimiser.solve import solve  # noqa: E402
from optimiser.why import why  # noqa: E402

SAMPLES = ROOT / "sample_budgets"
RESULTS = ROOT / "bench" / "results.jsonl"


@dataclass
class Figure:
    name: str
    median_s: float
    worst_s: float
    runs: int
    target_s: float | None = None
    note: str = ""

    @property
    def ratio(self) -> str:
        return f"{self.median_s / self.target_s:.2f}" if self.target_s else ""


def measure(name: str, action: Callable[[], object], runs: int, target_s: float | None = None) -> Figure:
    """Run ``action`` ``runs`` times (after one warm-up) and keep median and worst."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return Figure(name, statistics.median(times), max(times), runs, target_s)


def solve_figures(label: str, workbook: Path, runs: int, targets: dict[str, float]) -> list[Figure]:
    """End-to-end (levers applied -> plan), split into model build and solver time."""
    portfolio = load_portfolio(workbook)
    figures = []
    for mode, integer in (("relaxed", False), ("integer", True)):
        levers = portfolio.levers.changed(integer=integer)
        plans = []

        def run(levers=levers, plans=plans):
            plans.append(optimise(portfolio, levers))

        figure = measure(f"{label} {mode}: levers -> plan", run, runs, targets.get(mode))
        plan = plans[-1]
        figure.note = f"{plan.status}, value {plan.value or 0:,.1f}, gap {plan.gap or 0:.3%}"
        builds = [p.solver.build_s for p in plans[1:]]
        solves = [p.solver.solve_s for p in plans[1:]]
        figures += [
            figure,
            Figure(f"{label} {mode}: model build", statistics.median(builds), max(builds), runs),
            Figure(f"{label} {mode}: solver", statistics.median(solves), max(solves), runs),
        ]
    return figures


# Lever settings a planner tries one after another (issue 6): budget cuts, personnel and
# equipment cuts, a stricter reserve, priority changes. Each is timed from levers to plan.
LEVER_SETTINGS: list[tuple[str, dict]] = [
    ("as in the workbook", {}),
    ("budget -10%", {"budget_scale": 0.9}),
    ("budget -20%", {"budget_scale": 0.8}),
    ("budget -30%", {"budget_scale": 0.7}),
    ("budget +10%", {"budget_scale": 1.1}),
    ("personnel -10%", {"personnel_scale": 0.9}),
    ("personnel -20%", {"personnel_scale": 0.8}),
    ("equipment -20%", {"equipment_scale": 0.8}),
    ("reserve 10%", {"reserve_share": 0.1}),
    ("tier weights 10/6/4/2/1", {"priority_weights": (10.0, 6.0, 4.0, 2.0, 1.0)}),
    ("no diminishing returns", {"diminishing_returns": False}),
    ("three missions re-prioritised", "priorities"),
]


def lever_setting_figures(workbook: Path, runs: int) -> list[Figure]:
    """Integer plans of the national sample over the lever settings above: each setting's
    median of ``runs`` (after a warm-up); the figure is the median of those medians and
    the worst single run (targets: median 1.5 s, worst 3 s)."""
    portfolio = load_portfolio(workbook)
    missions = portfolio.missions.sort_values("priority")
    figures, medians, worst, optimal = [], [], 0.0, []
    for label, changes in LEVER_SETTINGS:
        if changes == "priorities":  # the two top missions down a tier, a tier-5 one up to 1
            top, bottom = missions.index[:2].tolist(), missions.index[-1:].tolist()
            changes = {"priority": {**{m: 2 for m in top}, **{m: 1 for m in bottom}}}
        levers = portfolio.levers.changed(integer=True, **changes)
        plans: list = []

        def run(levers=levers, plans=plans):
            plans.append(optimise(portfolio, levers))

        figure = measure(f"  {label}", run, runs)
        plan = plans[-1]
        figure.note = f"{plan.status}, gap {plan.gap or 0:.2%}, solver {plan.solver.solve_s:.2f}s"
        figures.append(figure)
        medians.append(figure.median_s)
        worst = max(worst, figure.worst_s)
        optimal.append(plan.status == "optimal")
    summary = Figure(
        f"national integer, {len(LEVER_SETTINGS)} lever settings",
        statistics.median(medians),
        worst,
        runs,
        1.5,
        note=f"worst run target 3 s ({worst / 3.0:.2f}); {sum(optimal)}/{len(optimal)} optimal within the "
        f"gap; slowest setting median {max(medians):.2f}s",
    )
    return [summary, *figures]


def strict_figure(workbook: Path) -> Figure:
    """Strict priority order (tier by tier): one run, reported without a target."""
    portfolio = load_portfolio(workbook)
    levers = portfolio.levers.changed(integer=True, priority_mode="strict")
    started = time.perf_counter()
    plan = optimise(portfolio, levers)
    elapsed = time.perf_counter() - started
    tiers = ", ".join(f"{t}: {v:,.0f}" for t, v in plan.value_by_priority.items())
    return Figure(
        "national integer, strict priority order",
        elapsed,
        elapsed,
        1,
        note=f"{plan.status}, gap {plan.gap or 0:.1%} (largest tier gap); tiers {tiers}",
    )


def strict_settings_figures(workbook: Path, runs: int) -> list[Figure]:
    """Strict priority order with whole units over the 12 lever settings (issue 12,
    target 3: every tier proven within its tolerance, median at most 5 s): one run per
    setting (``runs`` of them only up to 1: each may take the whole 60 s limit)."""
    portfolio = load_portfolio(workbook)
    missions = portfolio.missions.sort_values("priority")
    figures, times, optimal = [], [], []
    for label, changes in LEVER_SETTINGS:
        if changes == "priorities":
            top, bottom = missions.index[:2].tolist(), missions.index[-1:].tolist()
            changes = {"priority": {**{m: 2 for m in top}, **{m: 1 for m in bottom}}}
        levers = portfolio.levers.changed(integer=True, priority_mode="strict", **changes)
        started = time.perf_counter()
        plan = optimise(portfolio, levers)
        elapsed = time.perf_counter() - started
        tiers = ", ".join(f"{t}: {v:,.0f}" for t, v in plan.value_by_priority.items())
        figures.append(Figure(f"  strict, {label}", elapsed, elapsed, 1,
                              note=f"{plan.status}, gap {plan.gap or 0:.2%}; tiers {tiers}"))
        times.append(elapsed)
        optimal.append(plan.status == "optimal")
    summary = Figure(
        f"national integer strict, {len(LEVER_SETTINGS)} settings",
        statistics.median(times),
        max(times),
        1,
        5.0,
        note=f"{sum(optimal)}/{len(optimal)} optimal (every tier within its tolerance)",
    )
    return [summary, *figures]


def stretched_figures(workbook: Path, runs: int) -> list[Figure]:
    """Issue 12, target 4, on the national sample with personnel at 0.2: the stretched
    plan (``--relax-commitments``), the diagnosis (solve + explanation of the clash) and
    ``--explain`` on the stretched plan, as ``--relax-commitments --explain`` makes it
    (targets 3 s, 3 s, 30 s)."""
    from optimiser import explain
    from optimiser.diagnose import relax_commitments

    portfolio = load_portfolio(workbook)
    short = portfolio.levers.changed(personnel_scale=0.2)
    plans: list = []
    stretched = measure("national personnel 0.2: stretched plan", lambda: plans.append(
        relax_commitments(portfolio, short)), runs, 3.0)
    stretched.note = f"{plans[-1].status}, value {plans[-1].value or 0:,.1f}"
    diagnosed = measure("national personnel 0.2: solve + diagnosis", lambda: plans.append(
        optimise(portfolio, short)), runs, 3.0)
    diagnosed.note = f"{plans[-1].status}, {len(plans[-1].diagnosis)} sentence(s)"
    plan = relax_commitments(portfolio, short)
    started = time.perf_counter()
    explain(portfolio, short, plan=plan)  # as `optimiser solve --relax-commitments --explain`
    elapsed = time.perf_counter() - started
    explained = Figure("national personnel 0.2: --explain", elapsed, elapsed, 1, 30.0,
                       note="one run, on the stretched plan (the plan itself excluded)")
    return [stretched, diagnosed, explained]


def curve_figures_table(runs: int) -> list[Figure]:
    """Issue 12: ours against a straightforward HiGHS model, 150 to 2,000 missions, whole
    units, with peak RSS (bench/curve.py, bench/reference.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from curve import BIG_RUNS, curve_figures

    return [Figure(**figure) for figure in curve_figures(runs=runs, big_runs=min(runs, BIG_RUNS))]


def scale_figures_table(runs: int) -> list[Figure]:
    """2,000 missions x 60 zones x 20 resources x 8 periods, relaxed (bench/scale.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from scale import scale_figures

    return [Figure(**figure) for figure in scale_figures(runs)]


SWEEP_BUDGETS = "0.5:1.5:21"  # 21 points
SWEEP_WORKERS = 2
SWEEP_INTEGER_LIMIT_S = 10.0  # time limit per point of the integer sweep


def sweep_figures(workbook: Path, runs: int) -> list[Figure]:
    """A 21-point budget sweep (budget_scale 0.5 to 1.5) on 2 local processes, pool start
    included: relaxed (target 10 s, median of ``runs``), and with whole units under a
    time limit per point (one run: it takes minutes while integer solves are slow)."""
    from optimiser import sweep

    portfolio = load_portfolio(workbook)
    vary = {"budget_scale": SWEEP_BUDGETS}
    relaxed_results: list = []

    def relaxed() -> None:
        relaxed_results.append(
            sweep(portfolio, portfolio.levers.changed(integer=False), vary, workers=SWEEP_WORKERS)
        )

    figure = measure(f"national sweep 21 pts relaxed, {SWEEP_WORKERS} workers", relaxed, runs, 10.0)
    figure.note = _sweep_note(relaxed_results[-1])
    started = time.perf_counter()
    integer = sweep(
        portfolio,
        portfolio.levers.changed(integer=True, time_limit_s=SWEEP_INTEGER_LIMIT_S),
        vary,
        workers=SWEEP_WORKERS,
    )
    elapsed = time.perf_counter() - started
    integer_figure = Figure(
        f"national sweep 21 pts integer, {SWEEP_WORKERS} workers",
        elapsed,
        elapsed,
        1,
        note=f"time limit {SWEEP_INTEGER_LIMIT_S:g} s a point; {_sweep_note(integer)}",
    )
    return [figure, integer_figure]


def _sweep_note(result) -> str:  # an optimiser.SweepResult
    statuses = ", ".join(f"{n} {status}" for status, n in result.table["status"].value_counts().items())
    gap = result.table["gap"].max()
    return f"{statuses}; worst gap {gap:.2%}; median point {result.table['seconds'].median():.2f}s"


def diagnosis_figure(workbook: Path, runs: int) -> Figure:
    """An impossible plan explained: the national sample with 30% of its people."""
    portfolio = load_portfolio(workbook)
    levers = portfolio.levers.changed(personnel_scale=0.3)
    plans = []
    figure = measure("national clash: solve + diagnosis", lambda: plans.append(optimise(portfolio, levers)),
                     runs, 2.0)
    figure.note = f"{plans[-1].status}, {len(plans[-1].diagnosis)} sentence(s)"
    return figure


WHY_MISSION = "MON-LBY-BEN-2"


def why_figures(workbook: Path, runs: int) -> list[Figure]:
    """Issue 14: one mission's answer (SPEC 4.1) in whole units, the plan solved first
    (what ``optimiser why`` does) and given the plan (what the page and the report do);
    wall and CPU time, with the load average (the machine is shared)."""
    portfolio = load_portfolio(workbook)
    plan = solve(apply_levers(portfolio))
    figures = []
    for label, given in (("solve + answer", None), ("answer, plan given", plan)):
        walls, cpus, answers = [], [], []
        why(portfolio, WHY_MISSION, plan=given)  # warm-up
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            answers.append(why(portfolio, WHY_MISSION, plan=given))
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        answer = answers[-1]
        note = f"value given up {answer.value_given_up or 0:.2f}; load {load}"
        figures += [
            Figure(f"why {WHY_MISSION}: {label} (wall)", statistics.median(walls), max(walls), runs, 5.0,
                   note),
            Figure(f"why {WHY_MISSION}: {label} (CPU)", statistics.median(cpus), max(cpus), runs, 5.0),
        ]
    return figures


def page_figures(runs: int) -> list[Figure]:
    """The what-if page: lever change -> updated plan on screen, through AppTest and in a real
    browser (bench/ui_bench.py)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from ui_bench import browser_figures, ui_figures

    return ui_figures(runs) + browser_figures(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="only these sections")
    args = parser.parse_args()

    figures = []
    for name, section in SECTIONS.items():
        if args.only is None or name in args.only:
            figures += section(args.runs)
    _print(figures)
    _keep(figures)


NATIONAL = SAMPLES / "national_portfolio.xlsx"
SECTIONS: dict[str, Callable[[int], list[Figure]]] = {
    "read": lambda runs: [measure("read national workbook", lambda: load_portfolio(NATIONAL), runs, 0.5)],
    "demo": lambda runs: solve_figures("demo", SAMPLES / "demo.xlsx", runs, {}),
    "national": lambda runs: solve_figures("national", NATIONAL, runs, {"relaxed": 0.2, "integer": 5.0}),
    "levers": lambda runs: lever_setting_figures(NATIONAL, runs),
    "strict": lambda runs: [strict_figure(NATIONAL), *strict_settings_figures(NATIONAL, runs)],
    "scale": scale_figures_table,
    "curve": curve_figures_table,
    "diagnosis": lambda runs: [diagnosis_figure(NATIONAL, runs), *stretched_figures(NATIONAL, runs)],
    "sweep": lambda runs: sweep_figures(NATIONAL, runs),
    "page": page_figures,
    "why": lambda runs: why_figures(NATIONAL, runs),
}


def _print(figures: list[Figure]) -> None:
    header = f"{'figure':<42} {'median s':>9} {'worst s':>8} {'runs':>4} {'target s':>8} {'ratio':>6}  note"
    print(header)
    print("-" * len(header))
    for f in figures:
        target = f"{f.target_s:.2f}" if f.target_s else ""
        cells = f"{f.median_s:>9.3f} {f.worst_s:>8.3f} {f.runs:>4} {target:>8} {f.ratio:>6}"
        print(f"{f.name:<42} {cells}  {f.note}")


def _keep(figures: list[Figure]) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with RESULTS.open("a", encoding="utf-8") as out:
        for f in figures:
            out.write(json.dumps({"when": stamp, "commit": commit, **f.__dict__}) + "\n")
    print(f"\nFigures appended to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
