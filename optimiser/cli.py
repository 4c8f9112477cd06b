"""The ``optimiser`` command line: a thin shell over the package's public functions.

Exit codes (SPEC section 6): 0 a plan was made; 1 no plan is possible (the
explanation is printed); 2 invalid input or arguments; 3 anything else (a bug or a
solver failure), with a one-line reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimiser import (
    Status,
    load_portfolio,
    optimise,
    summary_text,
    write_json,
    write_report,
    write_template,
)
from optimiser.alternatives import SHARE, alternatives, alternatives_table, alternatives_text
from optimiser.commandline import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_NO_PLAN,
    EXIT_PLAN,
    Parser,
    PrintableFormatter,
    bad_argument,
    check_all,
    check_paths,
    checked_sets,
    print_problems,
    say,
)
from optimiser.diagnose import relax_commitments
from optimiser.explore.commands import add_commands, run_compare, run_sweep
from optimiser.problems import InvalidInput
from optimiser.report.atomic import atomic_write
from optimiser.scenario import lever_warnings
from optimiser.scenario_commands import add_commands as add_scenario_commands
from optimiser.scenario_commands import add_save_options, open_store_for_save, run_scenarios, save_run
from optimiser.schema import ITEM_LEVERS, SETTING_KEYS
from optimiser.sensitivity import explain, explanation_text
from optimiser.store import ScenarioStore
from optimiser.version import __version__
from optimiser.why import explain_short, why, why_text
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
  optimiser why my_portfolio.xlsx MON-LBY-BEN-2 --json why.json
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

    solve.add_argument(
        "--alternatives",
        type=int,
        default=0,
        metavar="N",
        help="also find up to N plans within --share of this plan's value that run other missions, "
        "as different from it (and each other) as possible",
    )
    solve.add_argument(
        "--share",
        type=float,
        default=SHARE,
        metavar="SHARE",
        help="how much value an alternative may give up, as a share of the plan's (default 0.01: 1%%)",
    )

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
    explain_one = commands.add_parser(
        "why",
        help="why is this mission short? (what holds it back, who takes what it needs, what it costs)",
        description="Explain one mission's coverage in the plan (SPEC 4.1): what it lacks and in which "
        "periods, the limits its requirements meet and what one more unit of each is worth, the missions "
        "using what it needs, the value given up by funding it fully (the plan made again with it at its "
        "max_coverage) and the weight or priority at which it would be fully covered (found by solving "
        "again).",
    )
    explain_one.add_argument("workbook", type=Path, help="the portfolio workbook or CSV folder")
    explain_one.add_argument("mission", help="a Missions mission_id")
    explain_one.add_argument("--json", type=Path, metavar="WHY.json", help="write the answer as JSON here")
    explain_one.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="change a scenario lever for this run (repeatable), as for solve",
    )
    add_commands(commands)  # sweep, compare
    add_scenario_commands(commands)  # scenarios list|show|compare|delete
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used by ``python -m optimiser``)."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    try:
        commands = {
            "solve": _solve,
            "validate": _validate,
            "template": _template,
            "why": _why,
            "sweep": run_sweep,
            "compare": run_compare,
            "scenarios": run_scenarios,
        }
        return commands[args.command](args)
    except InvalidInput as invalid:
        print_problems(invalid.problems)
        return EXIT_INVALID
    except KeyboardInterrupt:
        say("optimiser: interrupted", sys.stderr)
        return EXIT_FAILURE
    except Exception as error:  # the promise: one line, never a traceback
        logging.getLogger(__name__).debug("failure", exc_info=True)
        say(f"optimiser: failed: {type(error).__name__}: {error}".splitlines()[0], sys.stderr)
        return EXIT_FAILURE


def _solve(args: argparse.Namespace) -> int:
    _, settings, store, _ = check_all(  # every argument checked, all problems at once, before any work
        lambda: check_paths([args.workbook], {"--out": (args.out, (".xlsx",)),
                                              "--json": (args.json, (".json",))}),
        lambda: checked_sets(args.set),
        lambda: open_store_for_save(args),  # a bad --store fails before the solve
        lambda: _check_share(args.share),
    )
    assert isinstance(settings, dict) and (store is None or isinstance(store, ScenarioStore))
    portfolio = load_portfolio(args.workbook)
    levers = portfolio.levers.with_settings(settings, origin="--set")
    print_problems([*portfolio.warnings, *lever_warnings(portfolio, levers)])
    plan = relax_commitments(portfolio, levers) if args.relax_commitments else optimise(portfolio, levers)
    if args.explain and plan.has_plan:
        plan = explain(portfolio, levers, plan=plan)
        plan = dataclasses.replace(plan, explanations=explain_short(portfolio, levers, plan=plan))
    if args.alternatives > 0 and plan.has_plan and plan.status is not Status.RELAXED:
        found = alternatives(portfolio, levers, plan=plan, count=args.alternatives, share=args.share)
        plan = dataclasses.replace(plan, alternatives=alternatives_table(found, levers.currency))
    say(summary_text(plan, report_written=bool(args.out)))
    if not plan.has_plan and not args.relax_commitments:
        say("To see the plan with these commitments stretched by the least needed, run again with "
            "--relax-commitments.")
    if args.explain and plan.has_plan:
        say(explanation_text(plan))
    if args.alternatives > 0 and plan.has_plan and plan.status is not Status.RELAXED:
        say(alternatives_text(found, args.share, levers.currency))
    written = write_all([("Report", write_report, args.out), ("JSON result", write_json, args.json)], plan)
    if store is not None:
        say(save_run(store, args, plan, portfolio))
    if not written:
        return EXIT_FAILURE
    kept = plan.has_plan and plan.status is not Status.RELAXED
    return EXIT_PLAN if kept else EXIT_NO_PLAN


def _check_share(share: float) -> None:
    if not 0 <= share < 1:
        raise bad_argument("--share", f"{share} is not a share from 0 to 1 (e.g. 0.01 for 1%)")


def _why(args: argparse.Namespace) -> int:
    _, settings = check_all(  # every argument checked, all problems at once, before any work
        lambda: check_paths([args.workbook], {"--json": (args.json, (".json",))}),
        lambda: checked_sets(args.set),
    )
    assert isinstance(settings, dict)
    portfolio = load_portfolio(args.workbook)
    levers = portfolio.levers.with_settings(settings, origin="--set")
    print_problems([*portfolio.warnings, *lever_warnings(portfolio, levers)])
    answer = why(portfolio, args.mission, levers)
    say(why_text(answer))
    written = write_all([("JSON answer", _write_answer, args.json)], answer)
    if not written:
        return EXIT_FAILURE
    return EXIT_PLAN if answer.coverage else EXIT_NO_PLAN


def _write_answer(answer: Any, path: Path) -> Path:
    text = json.dumps(answer.as_dict(), indent=2, ensure_ascii=False)
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_all(writers: list[tuple[str, Any, Path | None]], result: Any) -> bool:
    """Write every file asked for, each whatever happened to the others or to standard
    output; ``False`` (and one line each) when one could not be written."""
    written = True
    for label, write, path in writers:
        if path is None:
            continue
        try:
            say(f"{label} written to {write(result, path)}")
        except OSError as error:
            say(f"optimiser: failed: {label.lower()} not written to {path}: {error.strerror or error}",
                sys.stderr)
            written = False
    return written


def _validate(args: argparse.Namespace) -> int:
    portfolio = load_portfolio(args.workbook)
    print_problems(portfolio.warnings)
    say(f"{args.workbook}: no problems found; {counted(len(portfolio.warnings), 'warning')}. "
        f"{portfolio.describe()}.")
    return EXIT_PLAN


def _template(args: argparse.Namespace) -> int:
    check_paths([], {"OUT": (args.out, (".xlsx",))})
    write_template(args.out)
    say(f"Template written to {args.out}")
    return EXIT_PLAN


def _version_text() -> str:
    return f"optimiser {__version__}"


if __name__ == "__main__":
    sys.exit(main())
