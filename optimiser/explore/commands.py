"""``optimiser sweep`` and ``optimiser compare``: thin shells over :func:`sweep` and
:func:`compare_plans`, added to the command line by :mod:`optimiser.cli`.

Exit codes (SPEC section 6): 0 done; 1 (compare) one of the two plans cannot be made;
2 invalid input or arguments; 3 anything else: for a sweep, a point whose solve
failed (the table is still written, with that point's status ``failed``). Infeasible
sweep points are answers, not failures: rows with status ``infeasible``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from optimiser import load_portfolio, optimise
from optimiser.commandline import (
    EXIT_DONE,
    EXIT_FAILURE,
    EXIT_NO_PLAN,
    bad_argument,
    check_all,
    check_paths,
    checked_sets,
    parse_sets,
    print_problems,
    say,
)
from optimiser.explore import (
    axes_of,
    compare_plans,
    load_result,
    parse_vary,
    sweep,
    write_comparison,
    write_sweep,
)
from optimiser.explore.runners import DASK_MISSING, dask_security
from optimiser.explore.sheets import SUFFIXES
from optimiser.explore.text import comparison_text, sweep_text
from optimiser.levers import Levers
from optimiser.problems import InvalidInput, Problem

SWEEP_EPILOG = """\
--vary takes KEY=START:STOP:COUNT for a numeric lever (budget_scale=0.5:1.5:21 is 21
points from 0.5 to 1.5) or KEY=VALUE,VALUE,... (priority_mode=weighted,strict; use ;
between values that hold commas: priority_weights=16,8,4,2,1;1,1,1,1,1). Any lever of
--set may be varied, per-item ones too (source_scale.CORE=0.5:1:6). Several --vary
make a grid; the first is the curve's x.

examples:
  optimiser sweep my_portfolio.xlsx --vary budget_scale=0.5:1.5:21 --out curve.xlsx
  optimiser sweep my_portfolio.xlsx --vary budget_scale=0.5:1:6 --vary personnel_scale=0.8,1 \\
      --set integer=no --out grid.csv --workers 4
  optimiser sweep my_portfolio.xlsx --vary budget_scale=0.5:1.5:101 --dask tls://scheduler:8786

--dask sends the whole portfolio (every mission, zone, resource and amount) and the
plans, pickled, to the cluster; whoever controls the scheduler or a worker reads them
and can run code there. Use a tls:// address: the connection is encrypted and the
scheduler's certificate checked, with the certificates of Dask's own configuration
(distributed.comm.tls.ca-file, .client.cert, .client.key, e.g. in
~/.config/dask/distributed.yaml or DASK_DISTRIBUTED__COMM__TLS__CA_FILE). A plain
tcp:// address is accepted on this machine only, or with OPTIMISER_DASK_ALLOW_TCP=1 on a
private network that no one else can reach.
"""

COMPARE_EPILOG = """\
A and B are each a JSON result (optimiser solve --json) or a workbook, solved with its
own Settings and --set. With one workbook, --set-b gives B's changes.

examples:
  optimiser compare baseline.json cut.json --out changes.xlsx
  optimiser compare last_year.xlsx this_year.xlsx --set integer=no
  optimiser compare my_portfolio.xlsx --set-b budget_scale=0.9

exit codes: 0 compared, 1 one of the plans cannot be made, 2 invalid input or
arguments, 3 anything else.
"""


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def add_commands(commands: Any) -> None:
    """Add ``sweep`` and ``compare`` to the command line's subparsers."""
    sweep = commands.add_parser(
        "sweep",
        help="plan a workbook under many lever values; write the trade-off curve",
        description="Plan the workbook at every value of the levers varied, in parallel, and "
        "write value, money, coverage by priority tier and the missions that drop out as "
        "the lever falls.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SWEEP_EPILOG,
    )
    sweep.add_argument("workbook", type=Path, help="the portfolio workbook or CSV folder")
    sweep.add_argument("--vary", action="append", default=[], required=True, metavar="KEY=VALUES",
                       help="a lever and its values (repeatable: a grid)")
    sweep.add_argument("--out", type=Path, metavar="CURVE.xlsx|.csv",
                       help="write the curve here: a workbook with charts, or the table as CSV")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="change a lever for every point (repeatable)")
    sweep.add_argument("--workers", type=_positive, metavar="N",
                       help="local processes (default: one per CPU; 1 plans in this process)")
    sweep.add_argument("--dask", metavar="ADDRESS",
                       help="plan on this Dask cluster instead (tls://scheduler:8786; see below: the "
                            "whole portfolio travels)")

    compare = commands.add_parser(
        "compare",
        help="compare two plans mission by mission",
        description="Show, mission by mission, how plan B differs from plan A in coverage, "
        "cost and resources, largest change first.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=COMPARE_EPILOG,
    )
    compare.add_argument("a", type=Path, metavar="A", help="JSON result or workbook")
    compare.add_argument("b", type=Path, metavar="B", nargs="?", help="JSON result or workbook (default: A)")
    compare.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="change a lever of every workbook solved (repeatable)")
    compare.add_argument("--set-b", action="append", default=[], metavar="KEY=VALUE",
                         help="change a lever of B only (repeatable)")
    compare.add_argument("--out", type=Path, metavar="CHANGES.xlsx|.csv", help="write the comparison here")
    compare.add_argument("--limit", type=int, default=30, metavar="N",
                         help="missions shown on screen (default 30; 0: all)")


def _check_out(inputs: list[Path | None], path: Path | None) -> None:
    check_paths(inputs, {"--out": (path, SUFFIXES)})


class TerminalProgress:
    """A one-line progress bar on standard error, redrawn in place on a terminal; a
    line every tenth of the way otherwise (logs)."""

    def __init__(self, label: str = "sweep", stream: TextIO | None = None, width: int = 30):
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        share = done / total if total else 1.0
        if self.tty:
            filled = round(self.width * share)
            bar = "#" * filled + "." * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total} points, {elapsed:.1f} s{end}")
            self.stream.flush()
        elif int(share * 10) > self._last_tenth:
            self._last_tenth = int(share * 10)
            self.stream.write(f"{self.label}: {done}/{total} points, {elapsed:.1f} s\n")


def _checked_vary(texts: list[str], settings: list[str]) -> dict[str, list[object]]:
    """The ``--vary`` arguments, every value checked as a lever (with the ``--set`` ones)."""
    vary: dict[str, list[object]] = {}
    problems: list[Problem] = []
    for text in texts:
        try:
            key, values = parse_vary(text)
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
            continue
        if key in vary:
            raise bad_argument("--vary", f"{key} is varied twice")
        vary[key] = values
    if problems:
        raise InvalidInput(problems)
    axes_of(Levers().with_settings(parse_sets(settings), origin="--set"), vary)
    return vary


def run_sweep(args: argparse.Namespace) -> int:
    _, vary, settings, _ = check_all(  # every argument checked, all problems at once, before any work
        lambda: _check_out([args.workbook], args.out),
        lambda: _checked_vary(args.vary, args.set),
        lambda: checked_sets(args.set),
        lambda: _check_dask(args.dask) if args.dask else None,
    )
    assert isinstance(vary, dict) and isinstance(settings, dict)
    portfolio = load_portfolio(args.workbook)
    levers = portfolio.levers.with_settings(settings, origin="--set")
    print_problems(portfolio.warnings)
    result = sweep(portfolio, levers, vary, workers=args.workers, dask=args.dask, progress=TerminalProgress())
    say(sweep_text(result))
    if args.out:
        say(f"Sweep written to {write_sweep(result, args.out)}")
    if result.failed:
        say(f"optimiser: {result.failed} of {len(result.table)} sweep points failed (status 'failed' "
            "in the table)", sys.stderr)
        return EXIT_FAILURE
    return EXIT_DONE


def _check_dask(address: str) -> None:
    """A Dask address the sweep may use (TLS, or plain TCP on this machine), before any work."""
    try:
        dask_security(address)
    except ImportError:
        raise bad_argument("--dask", DASK_MISSING) from None
    except ValueError as reason:
        raise bad_argument("--dask", str(reason)) from None


def _side(path: Path, settings: dict[str, str]) -> Any:
    """A plan to compare: a JSON result as read, or a workbook solved under ``settings``."""
    if _is_result(path):
        return load_result(path)
    portfolio = load_portfolio(path)
    print_problems(portfolio.warnings)
    return optimise(portfolio, portfolio.levers.with_settings(settings, origin="--set"))


def _is_result(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def _explanation(plan: Any) -> list[str]:
    """The message and diagnosis of a plan or JSON result that has no plan."""
    if isinstance(plan, dict):
        return [str(plan.get("message", "")), *(str(s) for s in plan.get("diagnosis") or [])]
    return [plan.message, *plan.diagnosis]


def run_compare(args: argparse.Namespace) -> int:
    def limit() -> None:
        if args.limit < 0:
            raise bad_argument("--limit", f"{args.limit} is below 0; give how many missions to show (0: all)")

    _, _, settings, settings_b = check_all(  # every argument checked, all problems at once
        lambda: _check_out([args.a, args.b], args.out), limit,
        lambda: checked_sets(args.set), lambda: checked_sets(args.set_b, origin="--set-b"),
    )
    assert isinstance(settings, dict) and isinstance(settings_b, dict)
    b_path = args.b
    if b_path is None:
        if not settings_b:
            raise bad_argument("B", "give plan B, or --set-b KEY=VALUE to compare A with A under changed "
                                     "levers")
        b_path = args.a
    if settings_b and _is_result(b_path):
        raise bad_argument("--set-b", f"{b_path.name} is a JSON result: levers change workbooks only")
    if settings and _is_result(args.a) and _is_result(b_path):
        raise bad_argument("--set", "A and B are JSON results: levers change workbooks only")
    label_a, label_b = args.a.name, b_path.name
    if label_a == label_b:
        label_b = f"{label_b} with " + " ".join(f"{k}={v}" for k, v in settings_b.items())
    plan_a = _side(args.a, settings)
    plan_b = _side(b_path, {**settings, **settings_b})
    comparison = compare_plans(plan_a, plan_b, labels=(label_a, label_b))
    say(comparison_text(comparison, limit=args.limit or None))
    if args.out:
        say(f"Comparison written to {write_comparison(comparison, args.out)}")
    if not comparison.both_planned:
        for label, plan, status in zip(comparison.labels, (plan_a, plan_b), comparison.statuses, strict=True):
            if status not in ("optimal", "feasible"):
                say(f"{label}: no plan is possible ({status}).")
                for line in _explanation(plan):
                    if line:
                        say(f"  {line}")
        return EXIT_NO_PLAN
    return EXIT_DONE
