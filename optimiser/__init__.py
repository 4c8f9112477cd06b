"""Mission resource optimiser: allocate people, equipment and money to missions.

The data's journey, one module a stage::

    read_workbook(path)            read.py      tolerant parsing, cell references kept
    validate(raw) -> Portfolio     validate.py  every problem collected
    apply_levers(portfolio, lv)    scenario.py  scenario levers (levers.py) -> Scenario
    build_model(scenario)          model.py     the PuLP model, no I/O
    make_engine(model, levers)     solvers/     the one place solver objects are made
    Stages(model, engine)          stages.py    value (or tier by tier), cost, shadow prices
    make_plan(model, stages)       tables.py    the plan's tables -> Plan (plan.py)
    solve(scenario) -> Plan        solve.py     the four steps above, one call
    optimise(portfolio, levers)    entry.py     levers, solve, and the diagnosis (diagnose.py)
                                                when no plan is possible
    write_report / write_json      report/      xlsx, json, text

Above solving, using only its public functions: diagnose.py (why no plan), sensitivity.py
(what binds, what more would buy), explore/ (sweeps, comparisons).

A five-line script::

    from optimiser import load_portfolio, optimise, write_report
    portfolio = load_portfolio("sample_budgets/national_portfolio.xlsx")
    for name, scale in {"baseline": 1.0, "cut10": 0.9}.items():
        plan = optimise(portfolio, portfolio.levers.changed(budget_scale=scale))
        write_report(plan, f"{name}.xlsx")
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path

from optimiser.version import __version__

try:
    from optimiser.diagnose import Diagnosis, diagnose, relax_commitments
    from optimiser.entry import optimise
    from optimiser.explore import Comparison, SweepResult, compare_plans, sweep
    from optimiser.levers import Levers, PriorityMode, SolverName
    from optimiser.plan import Plan, SolverInfo, Status
    from optimiser.portfolio import InputFile, Portfolio
    from optimiser.problems import InvalidInput, Problem, Severity
    from optimiser.read import RawWorkbook, read_workbook
    from optimiser.report import plan_to_dict, summary_text, write_json, write_report
    from optimiser.scenario import Scenario, apply_levers
    from optimiser.sensitivity import explain, price_ranges, what_if_more
    from optimiser.solve import WarmStart, solve
    from optimiser.template import write_template
    from optimiser.validate import validate
except KeyboardInterrupt:  # Ctrl-C while the command line starts: one line, as later (SPEC section 6)
    if _sys.argv and _sys.argv[0].rsplit("/", 1)[-1].rsplit("\\", 1)[-1] in ("optimiser", "-m"):
        print("optimiser: interrupted", file=_sys.stderr)
        raise SystemExit(3) from None
    raise


def load_portfolio(path: str | Path) -> Portfolio:
    """Read and validate a workbook (any accepted format, or a folder of CSV files).

    Raises
    ------
    InvalidInput
        listing every problem found, each with its sheet, cell and column.
    """
    return validate(read_workbook(path))


__all__ = [
    "Comparison",
    "Diagnosis",
    "InputFile",
    "InvalidInput",
    "Levers",
    "Plan",
    "Portfolio",
    "PriorityMode",
    "Problem",
    "RawWorkbook",
    "Scenario",
    "Severity",
    "SolverInfo",
    "SolverName",
    "Status",
    "SweepResult",
    "WarmStart",
    "__version__",
    "apply_levers",
    "compare_plans",
    "diagnose",
    "explain",
    "load_portfolio",
    "optimise",
    "plan_to_dict",
    "price_ranges",
    "read_workbook",
    "relax_commitments",
    "solve",
    "summary_text",
    "sweep",
    "validate",
    "what_if_more",
    "write_json",
    "write_report",
    "write_template",
]
