"""The size curve (issue 12): ours against a straightforward HiGHS model, whole units.

Generated portfolios of 150, 300, 600, 1,000 and 2,000 missions (4 quarters, whole
units, ``mip_gap`` 0.5%, the default 60 s time limit), each solved by the optimiser
(``optimise(portfolio, levers)``, levers to plan) and by the reference of
:mod:`reference` (SPEC 3 written straight on highspy, HiGHS's defaults; its build is
counted). Every solve runs in a fresh process (its own memory, no warm caches), ours
and the reference alternating, so a noisy machine slows both alike; the figure is the
median of the runs and the ratio ours / reference of the medians. Each process reports
its peak resident memory (VmHWM). Also the 20,000-mission whole-units plan in the
default 60 s (status, gap, seconds, peak memory; target: a plan) and the 10,000-mission,
8-quarter relaxed plan's peak memory (target 1 GiB).

Run alone::

    python bench/curve.py [--runs N] [--sizes 150,300] [--big-runs N] [--no-big]

:func:`curve_figures` returns plain dicts for bench.py's table (``name``, ``median_s``,
``worst_s``, ``runs``, ``target_s``, ``note``); memory figures are GiB (their name says
so). A reference run stopped by its time limit makes its time a lower bound: the ratio
is then marked ``<=``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from memory import figure, fresh_process, peak_rss  # noqa: E402

SIZES = (150, 300, 600, 1000, 2000)
RUNS = 5  # runs per size up to 600 missions
BIG_RUNS = 3  # runs per size above (the reference takes minutes there)
SEED = 12
RATIO_TARGET = 0.3
BIG_TARGET_S = 30.0  # the 2,000-mission plan proven within the gap
REFERENCE_LIMIT_S = 60.0  # the levers' default time limit, the same for both
GIB = 1024.0**3
BIG = {"missions": 10_000, "zones": 60, "resources": 20, "periods": 8, "sources": 7}
BIG_MEMORY_TARGET_GIB = 1.0
HUGE_MISSIONS = 20_000  # whole units, the default 60 s: a plan with its gap (issue 12, target 2)


def sizes_of(missions: int) -> dict:
    """A generated portfolio's sizes: 4 quarters, zones growing with the missions."""
    return {
        "missions": missions,
        "zones": min(60, max(30, missions // 10)),
        "resources": 16 if missions <= 300 else 20,
        "periods": 4,
        "sources": 5 if missions <= 300 else 7,
    }


def make_portfolio(size: dict, seed: int = SEED):
    from optimiser.read import read_tables
    from optimiser.samples.generate import generate_portfolio
    from optimiser.validate import validate

    return validate(read_tables(generate_portfolio(**size, seed=seed)))


# -- one solve in a fresh process ---------------------------------------------------------


def _child(arguments: list[str]) -> dict:
    """This script in a fresh process; its JSON answer."""
    return fresh_process(__file__, arguments)


def _solve_child(which: str, size: dict, integer: bool) -> dict:
    portfolio = make_portfolio(size)
    levers = portfolio.levers.changed(integer=integer)
    before = peak_rss()
    if which == "ours":
        from optimiser import optimise
        from optimiser.solvers import SolveError

        started = time.perf_counter()
        try:
            plan = optimise(portfolio, levers)
        except SolveError as error:  # "no plan found": a figure too
            return {"seconds": time.perf_counter() - started, "status": "no plan", "value": None,
                    "gap": None, "money": None, "note": str(error), "peak_gib": peak_rss() / GIB,
                    "before_gib": before / GIB}
        seconds = time.perf_counter() - started
        answer = {
            "seconds": seconds,
            "status": str(plan.status),
            "value": plan.value,
            "gap": plan.gap,
            "money": float(plan.total_cost),
            "note": " ".join(plan.solver.stages),
        }
    else:
        from reference import solve_reference

        from optimiser.scenario import apply_levers

        result = solve_reference(apply_levers(portfolio, levers), REFERENCE_LIMIT_S)
        answer = {
            "seconds": result.total_s,
            "build_s": result.build_s,
            "status": result.status,
            "value": result.value,
            "gap": result.gap,
            "money": result.spending,
        }
    answer["peak_gib"] = peak_rss() / GIB
    answer["before_gib"] = before / GIB
    return answer


# -- the figures ----------------------------------------------------------------------------



def curve_figures(sizes=SIZES, runs=RUNS, big_runs=BIG_RUNS, big=True, show=None) -> list[dict]:
    """The curve: per size, ours, the reference, their ratio and each side's peak RSS."""
    figures: list[dict] = []
    for missions in sizes:
        size = sizes_of(missions)
        n = runs if missions <= 600 else big_runs
        ours, ref = [], []
        for _ in range(n):
            ours.append(_child(["--child", "ours", json.dumps(size)]))
            ref.append(_child(["--child", "reference", json.dumps(size)]))
        mine = statistics.median([r["seconds"] for r in ours])
        theirs = statistics.median([r["seconds"] for r in ref])
        stopped = any(r["status"] != "optimal" for r in ref)
        ratio = mine / theirs
        mark = "<=" if stopped else ""
        target = BIG_TARGET_S if missions == 2000 else None
        last, last_ref = ours[-1], ref[-1]
        label = f"curve {missions}x{size['periods']} integer"
        ref_values = [r["value"] for r in ref if r["value"] is not None]
        statuses_ours = ", ".join(sorted({r["status"] for r in ours}))
        figures.append(
            figure(
                f"{label}: ours",
                [r["seconds"] for r in ours],
                n,
                target,
                f"ratio {mark}{ratio:.2f} (target {RATIO_TARGET}); {statuses_ours}, gap "
                f"{(last['gap'] or 0):.2%}, value {(last['value'] or 0):,.1f} "
                f"(reference {max(ref_values) if ref_values else 0:,.1f}); "
                f"peak RSS {max(r['peak_gib'] for r in ours):.2f} GiB",
            )
        )
        statuses = ", ".join(sorted({r["status"] for r in ref}))
        figures.append(
            figure(
                f"{label}: reference HiGHS",
                [r["seconds"] for r in ref],
                n,
                None,
                f"{statuses}, gap {(last_ref['gap'] or 0):.2%}; build "
                f"{statistics.median([r['build_s'] for r in ref]):.2f}s; "
                f"peak RSS {max(r['peak_gib'] for r in ref):.2f} GiB",
            )
        )
        figures.append(
            {
                "name": f"{label}: peak RSS ours (GiB, not s)",
                "median_s": statistics.median([r["peak_gib"] for r in ours]),
                "worst_s": max(r["peak_gib"] for r in ours),
                "runs": n,
                "target_s": None,
                "note": f"fresh process; {statistics.median([r['before_gib'] for r in ours]):.2f} GiB "
                "before solving (Python, libraries, portfolio)",
            }
        )
        if show:
            show(figures[-3:])
    if big:
        huge = _child(["--child", "ours", json.dumps(sizes_of(HUGE_MISSIONS))])
        figures.append(
            {
                "name": f"scale {HUGE_MISSIONS}x4 integer 60 s: seconds",
                "median_s": huge["seconds"],
                "worst_s": huge["seconds"],
                "runs": 1,
                "target_s": REFERENCE_LIMIT_S,
                "note": f"target: a plan with its gap; {huge['status']}, gap "
                + ("none" if huge["gap"] is None else f"{huge['gap']:.2%}")
                + f"; peak RSS {huge['peak_gib']:.2f} GiB ({huge['before_gib']:.2f} before solving); "
                f"stages {huge['note'][:60]}",
            }
        )
        if show:
            show(figures[-1:])
        memory = _child(["--child", "ours-relaxed", json.dumps(BIG)])
        figures.append(
            {
                "name": "scale 10000x8 relaxed: peak RSS (GiB, not s)",
                "median_s": memory["peak_gib"],
                "worst_s": memory["peak_gib"],
                "runs": 1,
                "target_s": BIG_MEMORY_TARGET_GIB,
                "note": f"fresh process; {memory['before_gib']:.2f} GiB before solving; plan in "
                f"{memory['seconds']:.1f}s, {memory['status']}",
            }
        )
        if show:
            show(figures[-1:])
    return figures


def _print(figures: list[dict], header: bool = True) -> None:
    if header:
        line = f"{'figure':<48} {'median':>8} {'worst':>8} {'runs':>4} {'target':>8} {'ratio':>6}  note"
        print(line)
        print("-" * len(line))
    for f in figures:
        target = f"{f['target_s']:.2f}" if f["target_s"] else ""
        ratio = f"{f['median_s'] / f['target_s']:.2f}" if f["target_s"] else ""
        cells = f"{f['median_s']:>8.3f} {f['worst_s']:>8.3f} {f['runs']:>4} {target:>8} {ratio:>6}"
        print(f"{f['name']:<48} {cells}  {f['note']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--big-runs", type=int, default=BIG_RUNS)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--no-big", action="store_true", help="skip the 20,000- and 10,000-mission figures")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, size = args.child[0], json.loads(args.child[1])
        if which == "ours-relaxed":
            print(json.dumps(_solve_child("ours", size, integer=False)))
        else:
            print(json.dumps(_solve_child(which, size, integer=True)))
        return
    _print([])
    sizes = tuple(int(s) for s in args.sizes.split(","))
    curve_figures(sizes, args.runs, args.big_runs, not args.no_big, show=lambda f: _print(f, False))


if __name__ == "__main__":
    main()
