"""The ``optimiser`` command line: a thin shell over the package's public functions.

Exit codes (SPEC section 6): 0 a plan was made; 1 no plan is possible (the
explanation is printed); 2 invalid input or arguments; 3 anything else (a bug or a
solver failure), with a one-line reason.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from optimiser import Status, load_portfolio, optimise, summary_text, write_json, write_report, write_template
from optimiser.commandline import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_NO_PLAN,
    EXIT_PLAN,
    Parser,
    parse_sets,
    print_problems,
)
from optimiser.diagnose import relax_commitments
from optimiser.explore.commands import add_commands, run_compare, run_sweep
from optimiser.problems import InvalidInput
from optimiser.scenario_commands import add_commands as add_scenario_commands
from optimiser.scenario_commands import add_save_options, open_store_for_save, run_scenarios, save_run
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS
from optimiser.sensitivity import explain, explanation_text
from optimiser.version import __version__
from optimiser.wording import counted

DESCRIPTION = """\
Allocate people, equipment and money to a portfolio of missions.

Reads the planner's workbook (.xlsx, .xlsm, .xls, .xlsb, .ods, or a folder of CSV
files named after the sheets), checks it, finds the plan of most value within the
people, equipment and earmarked budgets available, and writes reports.
"""

EPILOG = """\
examples:
  optimiser template my_portfolio.xlsx
  optimiser validate my_portfolio.xlsx
  optimiser solve my_portfolio.xlsx --out plan.xlsx --json plan.json
  optimiser solve my_portfolio.xlsx --set budget_scale=0.9 --set integer=no
  optimiser sweep my_portfolio.xlsx --vary budget_scale=0.5:1.5:21 --out curve.xlsx
  optimiser compare baseline.json cut.json --out changes.xlsx
  optimiser solve my_portfolio.xlsx --set budget_scale=0.8 --save "cut 20%"
  optimiser scenarios compare baseline "cut 20%"

exit codes: 0 a plan was made, 1 no plan is possible, 2 invalid input or
arguments, 3 anything else (a bug or a solver failure).
"""


def levers_help() -> str:
    """Every lever ``--set`` takes, from the schema (so that the list cannot drift)."""
    lines = ["levers for --set KEY=VALUE (default in brackets):"]
    for key, setting in SETTING_KEYS.items():
        default = f" [{setting.default}]" if setting.default else ""
        lines.append(f"  {key}{default}: {setting.help}")
    lines.append("per item, KEY.<id>=VALUE:")
    lines += [f"  {prefix}.<id>: {meaning}" for prefix, meaning in ITEM_LEVERS.items()]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="optimiser",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version_text())
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    solve = commands.add_parser(
        "solve",
        help="check a workbook, find the best plan, write reports",
        description="Check the workbook, find the plan of most value, print a summary and "
        "write the reports asked for. Settings in the workbook are the scenario; "
        "--set changes a lever for this run only.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=levers_help(),
    )
    solve.add_argument("workbook", type=Path, help="the portfolio workbook or CSV folder")
    solve.add_argument("--out", type=Path, metavar="REPORT.xlsx", help="write the report workbook here")
    solve.add_argument("--json", type=Path, metavar="RESULT.json", help="write the JSON result here")
    solve.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a scenario lever for this run (repeatable); wins over the Settings sheet",
    )
    solve.add_argument(
        "--relax-commitments",
        action="store_true",
        help="when no plan keeps every commitment, plan with them relaxed by the least needed "
        "(status 'relaxed'; the relaxations are listed; exit code stays 1)",
    )
    solve.add_argument(
        "--explain",
        action="store_true",
        help="print what binds (ten ranked sentences), how far each binding limit can move, and for "
        "integer plans what 10%% more of the top resources and sources adds, measured by solving again",
    )
    add_save_options(solve)

    validate = commands.add_parser(
        "validate",
        help="list every problem and warning in a workbook",
        description="Check the workbook and list every problem (which stops a plan) and "
        "warning (which does not), each with its sheet, cell and column.",
    )
    validate.add_argument("workbook", type=Path, help="the portfolio workbook or CSV folder")

    template = commands.add_parser(
        "template",
        help="write an empty workbook to fill in",
        description="Write an empty workbook with every sheet and header, an Instructions "
        "sheet and drop-down lists.",
    )
    template.add_argument("out", type=Path, metavar="OUT.xlsx", help="where to write the template")
    add_commands(commands)  # sweep, compare
    add_scenario_commands(commands)  # scenarios list|show|compare|delete
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used by ``python -m optimiser``)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        commands = {
            "solve": _solve,
            "validate": _validate,
            "template": _template,
            "sweep": run_sweep,
            "compare": run_compare,
            "scenarios": run_scenarios,
        }
        return commands[args.command](args)
    except InvalidInput as invalid:
        print_problems(invalid.problems)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("optimiser: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # output piped into `head` and closed early: not a failure
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return EXIT_PLAN
    except Exception as error:  # the promise: one line, never a traceback
        logging.getLogger(__name__).debug("failure", exc_info=True)
        print(f"optimiser: failed: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return EXIT_FAILURE


def _solve(args: argparse.Namespace) -> int:
    settings = parse_sets(args.set)
    store = open_store_for_save(args)  # a bad --store fails before the solve
    portfolio = load_portfolio(args.workbook)
    levers = portfolio.levers.with_settings(settings, origin="--set")
    print_problems(portfolio.warnings)
    plan = relax_commitments(portfolio, levers) if args.relax_commitments else optimise(portfolio, levers)
    if args.explain and plan.has_plan:
        plan = explain(portfolio, levers, plan=plan)
    print(summary_text(plan, report_written=bool(args.out)))
    if not plan.has_plan and not args.relax_commitments:
        print("To see the plan with these commitments stretched by the least needed, run again with "
              "--relax-commitments.")
    if args.explain and plan.has_plan:
        print(explanation_text(plan))
    if args.out:
        print(f"Report written to {write_report(plan, args.out)}")
    if args.json:
        print(f"JSON result written to {write_json(plan, args.json)}")
    if store is not None:
        print(save_run(store, args, plan, portfolio))
    kept = plan.has_plan and plan.status is not Status.RELAXED
    return EXIT_PLAN if kept else EXIT_NO_PLAN


def _validate(args: argparse.Namespace) -> int:
    portfolio = load_portfolio(args.workbook)
    print_problems(portfolio.warnings)
    print(f"{args.workbook}: no problems found; {counted(len(portfolio.warnings), 'warning')}. "
          f"{portfolio.describe()}.")
    return EXIT_PLAN


def _template(args: argparse.Namespace) -> int:
    write_template(args.out)
    print(f"Template written to {args.out}")
    return EXIT_PLAN


def _version_text() -> str:
    return f"optimiser {__version__}"


if __name__ == "__main__":
    sys.exit(main())
