"""Scale figures (issue 6, targets 3 and 4): a generated portfolio of 2,000 missions.

60 zones, 20 resources, 8 periods and 7 funding sources, drawn by
:func:`optimiser.samples.generate.generate_portfolio` from a seed (the same seed, the same
portfolio), solved relaxed (``integer = no``):

- end to end, levers -> plan (``optimise(portfolio, levers)``; reading excluded),
  median and worst of several runs, split into model build (PuLP objects, then loading
  them into HiGHS), each LP the plan solves, and the plan's tables with shadow prices;
- the reference: HiGHS alone on the same model as the plan's first LP (the value bound:
  the on/off decisions relaxed), written to MPS and solved from the file by a fresh
  process (``Highs.readModel(path); run()``, timed from the read to the end of the
  run), once with HiGHS's default options and once with the LP options the optimiser
  itself uses for that LP (interior point, then crossover). The target (end to end at
  most 1.5 x HiGHS alone) is measured against the latter: the same algorithm on the
  same model, so the ratio is what the optimiser adds (building, loading, the further
  LPs of the plan, its tables). The ratio to HiGHS's defaults is reported too;
- peak resident memory (VmHWM) of a fresh process that loads the portfolio and makes
  the plan once (target 2 GiB).

Run alone (``--runs`` as in bench.py; HiGHS with its defaults takes 10-15 s a run)::

    python bench/scale.py [--runs N] [--seed S]

:func:`scale_figures` returns plain dicts (``name``, ``median_s``, ``worst_s``,
``runs``, ``target_s``, ``note``) for bench.py's table; the memory figure's numbers are
GiB, not seconds (its name says so).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from memory import figure, fresh_process, peak_rss  # noqa: E402

SIZE = {"missions": 2000, "zones": 60, "resources": 20, "periods": 8, "sources": 7}
SEED = 1
RATIO_TARGET = 1.5  # end to end at most this x HiGHS alone (same LP options)
MEMORY_TARGET_GIB = 2.0
# What the optimiser's HiGHS engine uses for a large model's first (cold) LP; see
# optimiser.solvers.highs._PulpHighs.choose_lp.
OUR_LP_OPTIONS = {"solver": "ipm"}
LABEL = "scale 2000x8 relaxed"
GIB = 1024.0**3


def make_portfolio(seed: int = SEED):
    """The 2,000-mission portfolio of ``seed``, validated (about 1 s; no file)."""
    from optimiser.read import read_tables
    from optimiser.samples.generate import generate_portfolio
    from optimiser.validate import validate

    return validate(read_tables(generate_portfolio(**SIZE, seed=seed)))


def scale_figures(runs: int = 3, seed: int = SEED) -> list[dict]:
    """Every scale figure, as dicts for bench.py's ``Figure`` (see the module docstring)."""
    portfolio = make_portfolio(seed)
    levers = portfolio.levers.changed(integer=False)
    with tempfile.TemporaryDirectory(prefix="optimiser-scale-") as folder:
        kept = Path(folder) / "portfolio.pickle"
        kept.write_bytes(pickle.dumps(portfolio))
        mps = Path(folder) / "value_bound.mps"
        _write_first_lp(portfolio, levers, mps)
        end_to_end = _end_to_end(portfolio, levers, runs)
        parts = _build_parts(portfolio, levers, runs)
        default = [_child(["--child-highs", str(mps)]) for _ in range(runs)]
        ours = [_child(["--child-highs", str(mps), *_pairs(OUR_LP_OPTIONS)]) for _ in range(runs)]
        memory = _child(["--child-rss", str(kept)])
    return _figures(end_to_end, parts, default, ours, memory, runs)


# -- measuring -----------------------------------------------------------------------------


def _end_to_end(portfolio, levers, runs: int) -> dict:
    """Levers -> plan ``runs`` times (after one warm-up): total, build, solver, each LP
    (from the solver's stage log) and the rest."""
    from optimiser import optimise

    stages = _StageLog()
    logger = logging.getLogger("optimiser.stages")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(stages)
    try:
        optimise(portfolio, levers)
        totals, plans = [], []
        stages.seconds.clear()
        for _ in range(runs):
            started = time.perf_counter()
            plans.append(optimise(portfolio, levers))
            totals.append(time.perf_counter() - started)
    finally:
        logger.removeHandler(stages)
        logger.setLevel(level)
    plan = plans[-1]
    return {
        "total": totals,
        "build": [p.solver.build_s for p in plans],
        "solver": [p.solver.solve_s for p in plans],
        # the rest: levers applied, stages set up, the plan's tables and shadow prices
        # (SolverInfo.total_s stops before most tables are made)
        "rest": [t - p.solver.build_s - p.solver.solve_s for t, p in zip(totals, plans, strict=True)],
        "stages": dict(stages.seconds),
        "note": f"{plan.status}, value {plan.value or 0:,.1f}, money {plan.total_cost:,.0f}; "
        f"LPs {' -> '.join(plan.solver.stages)}",
    }


class _StageLog(logging.Handler):
    """Seconds of each solver stage, from optimiser.stages' "stage NAME: ... in S" lines."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, list[float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if str(record.msg).startswith("stage ") and isinstance(args, tuple) and len(args) >= 2:
            with contextlib.suppress(TypeError, ValueError):  # not a stage line after all
                self.seconds.setdefault(str(args[0]), []).append(float(args[-1]))


def _build_parts(portfolio, levers, runs: int) -> dict:
    """The model build alone (PuLP objects) and loading it into HiGHS alone."""
    from optimiser.model import build_model
    from optimiser.scenario import apply_levers
    from optimiser.solvers import make_engine  # where the plan makes its solver

    build, load = [], []
    for _ in range(runs):
        scenario = apply_levers(portfolio, levers)
        started = time.perf_counter()
        model = build_model(scenario)
        built = time.perf_counter()
        make_engine(model, levers)
        build.append(built - started)
        load.append(time.perf_counter() - built)
    return {"build": build, "load": load}


def _write_first_lp(portfolio, levers, path: Path) -> None:
    """The plan's first LP as the optimiser hands it to HiGHS (total value maximised, the
    on/off decisions continuous), written by HiGHS to MPS."""
    from optimiser.model import build_model
    from optimiser.scenario import apply_levers
    from optimiser.solvers import make_engine

    model = build_model(apply_levers(portfolio, levers))
    engine = make_engine(model, levers)
    engine.solver.set_objective(engine.h, engine.n, model.value, True)
    engine._integrality(False)
    engine.h.writeModel(str(path))  # a warning: no names, so HiGHS writes c0.., r0..


def _child(arguments: list[str]) -> dict:
    """This script in a fresh process; its JSON answer."""
    return fresh_process(__file__, arguments)


def _pairs(options: dict) -> list[str]:
    return [f"{key}={value}" for key, value in options.items()]


def _child_highs(path: str, options: list[str]) -> dict:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for pair in options:
        key, value = pair.split("=", 1)
        h.setOptionValue(key, value)
    started = time.perf_counter()
    h.readModel(path)
    read = time.perf_counter()
    h.run()
    ended = time.perf_counter()
    return {
        "seconds": ended - started,
        "read_s": read - started,
        "run_s": ended - read,
        "status": str(h.getModelStatus()),
        "objective": h.getInfo().objective_function_value,
    }


def _child_rss(path: str) -> dict:
    """Peak resident memory of loading the portfolio and making the plan once."""
    from optimiser import optimise

    portfolio = pickle.loads(Path(path).read_bytes())
    before = peak_rss()
    started = time.perf_counter()
    plan = optimise(portfolio, portfolio.levers.changed(integer=False))
    return {
        "peak_gib": peak_rss() / GIB,
        "before_gib": before / GIB,
        "seconds": time.perf_counter() - started,
        "status": str(plan.status),
    }


# -- the figures -------------------------------------------------------------------------------



def _figures(end_to_end: dict, parts: dict, default: list[dict], ours: list[dict], memory: dict,
             runs: int) -> list[dict]:
    total = statistics.median(end_to_end["total"])
    alone = statistics.median([r["seconds"] for r in ours])
    alone_default = statistics.median([r["seconds"] for r in default])
    options = ", ".join(_pairs(OUR_LP_OPTIONS))
    figures = [
        figure(
            f"{LABEL}: levers -> plan",
            end_to_end["total"],
            runs,
            RATIO_TARGET * alone,
            f"x{total / alone:.2f} HiGHS alone with {options} (target x{RATIO_TARGET:g}); "
            f"x{total / alone_default:.2f} HiGHS defaults; {end_to_end['note']}",
        ),
        figure(f"{LABEL}: model build + load", end_to_end["build"], runs),
        figure(f"{LABEL}: build (PuLP objects)", parts["build"], runs),
        figure(f"{LABEL}: load into HiGHS", parts["load"], runs),
        figure(f"{LABEL}: solver (all LPs)", end_to_end["solver"], runs),
    ]
    for name, seconds in end_to_end["stages"].items():
        figures.append(figure(f"{LABEL}: LP {name}", seconds, len(seconds)))
    figures += [
        figure(
            f"{LABEL}: the rest (tables, prices)",
            end_to_end["rest"],
            runs,
            note="levers -> plan less build and solver: levers, stages set up, tables, shadow prices",
        ),
        figure(
            "HiGHS alone, MPS, defaults",
            [r["seconds"] for r in default],
            runs,
            note=f"read {statistics.median([r['read_s'] for r in default]):.2f}s + run; "
            f"{default[-1]['status']}",
        ),
        figure(
            f"HiGHS alone, MPS, {options}",
            [r["seconds"] for r in ours],
            runs,
            note=f"read {statistics.median([r['read_s'] for r in ours]):.2f}s + run; {ours[-1]['status']}; "
            "the target's reference",
        ),
        {
            "name": f"{LABEL}: peak RSS (GiB, not s)",
            "median_s": memory["peak_gib"],
            "worst_s": memory["peak_gib"],
            "runs": 1,
            "target_s": MEMORY_TARGET_GIB,
            "note": f"fresh process; {memory['before_gib']:.2f} GiB before solving (Python, libraries, "
            f"portfolio); plan in {memory['seconds']:.1f}s, {memory['status']}",
        },
    ]
    return figures


def _print(figures: list[dict]) -> None:
    header = f"{'figure':<48} {'median':>8} {'worst':>8} {'runs':>4} {'target':>8} {'ratio':>6}  note"
    print(header)
    print("-" * len(header))
    for f in figures:
        target = f"{f['target_s']:.2f}" if f["target_s"] else ""
        ratio = f"{f['median_s'] / f['target_s']:.2f}" if f["target_s"] else ""
        cells = f"{f['median_s']:>8.3f} {f['worst_s']:>8.3f} {f['runs']:>4} {target:>8} {ratio:>6}"
        print(f"{f['name']:<48} {cells}  {f['note']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (default 3)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"portfolio seed (default {SEED})")
    parser.add_argument("--child-highs", nargs="+", metavar=("MPS", "KEY=VALUE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-rss", metavar="PICKLE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_highs:
        print(json.dumps(_child_highs(args.child_highs[0], args.child_highs[1:])))
    elif args.child_rss:
        print(json.dumps(_child_rss(args.child_rss)))
    else:
        _print(scale_figures(args.runs, args.seed))


if __name__ == "__main__":
    main()
