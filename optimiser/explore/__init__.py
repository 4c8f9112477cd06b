"""Explore a portfolio beyond one plan: trade-off sweeps and plan comparisons.

One module a job, downstream of solving (they read plans, never the model)::

    sweep.py     sweep(portfolio, levers, vary) -> SweepResult   many scenarios, one table
    point.py     plan one scenario, keep what a sweep reports (small, picklable)
    runners.py   where the scenarios run: here, local processes or a Dask cluster
    compare.py   compare_plans(a, b) -> Comparison               what changed, per mission
    sheets.py    write_sweep / write_comparison                  .xlsx (with charts) or .csv
    text.py      sweep_text / comparison_text                    tables for the terminal
    commands.py  ``optimiser sweep`` and ``optimiser compare``   the command line's shell
"""

from optimiser.explore.compare import Comparison, compare_plans, load_result
from optimiser.explore.sheets import write_comparison, write_sweep
from optimiser.explore.sweep import Axis, SweepResult, axes_of, parse_vary, sweep

__all__ = [
    "Axis",
    "Comparison",
    "SweepResult",
    "axes_of",
    "compare_plans",
    "load_result",
    "parse_vary",
    "sweep",
    "write_comparison",
    "write_sweep",
]
