"""``optimiser scenarios list|show|compare|delete`` and ``optimiser solve ... --save NAME``:
thin shells over :class:`optimiser.store.ScenarioStore` (SPEC section 7), added to the
command line by :mod:`optimiser.cli`.

Exit codes (SPEC section 6): 0 done; 2 invalid arguments, a scenario name not kept (or
kept for several workbooks when none is named), or a store path that cannot be used.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import math
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optimiser.commandline import EXIT_DONE, EXIT_INVALID, Parser, bad_argument, say
from optimiser.explore.text import render
from optimiser.read import read_workbook
from optimiser.report import plan_to_dict
from optimiser.report.atomic import atomic_write
from optimiser.report.result import FORMAT_NAME
from optimiser.store import (
    HEADLINE_LABELS,
    STORE_VARIABLE,
    ScenarioComparison,
    ScenarioStore,
    ScenarioSummary,
    StoreError,
    default_path,
)
from optimiser.wording import lever_label

STORE_HELP = (f"the scenario store (default: ${STORE_VARIABLE}, else "
              "~/.local/share/mission-optimiser/scenarios.sqlite)")

EPILOG = f"""\
A scenario is a name, the workbook's file name and SHA-256, the levers, the plan's JSON
result, who saved it, when, and a note. Save one with
  optimiser solve WORKBOOK --set budget_scale=0.8 --save "cut 20%" --note "as asked" --by "A. Planner"
or from the what-if page. Names are unique per workbook: saving again under the same
name replaces the scenario. The workbook's contents are never kept, only its name and
hash. Store: --store PATH, else ${STORE_VARIABLE}, else {default_path()}.

examples:
  optimiser scenarios list
  optimiser scenarios list --workbook my_portfolio.xlsx
  optimiser scenarios show "cut 20%" --json cut.json
  optimiser scenarios compare baseline "cut 20%" "cut 40%"
  optimiser scenarios delete "cut 40%"

exit codes: 0 done, 2 invalid arguments, a scenario not kept, or a store that cannot be
used.
"""


def add_commands(commands: Any) -> None:
    """Add ``scenarios`` (list, show, compare, delete) to the command line's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, metavar="PATH", help=STORE_HELP)
    common.add_argument("--workbook", type=Path, metavar="FILE",
                        help="only the scenarios saved for this workbook (found by its SHA-256)")
    scenarios = commands.add_parser(
        "scenarios",
        help="list, show, compare or delete saved scenarios",
        description="The saved scenarios (SPEC section 7): list them, show one, compare any "
        "number side by side, delete one.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    actions = scenarios.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    actions.add_parser("list", parents=[common], help="the scenarios kept, by workbook",
                       description="List the scenarios kept, grouped by workbook, oldest first.")
    show = actions.add_parser("show", parents=[common], help="one scenario: levers, plan, note",
                              description="Show one scenario: its workbook, who saved it and when, "
                              "its note, its plan's headline and every lever.")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", type=Path, metavar="RESULT.json",
                      help="also write the scenario's plan as the JSON result of optimiser solve --json")
    compare = actions.add_parser("compare", parents=[common], help="several scenarios side by side",
                                 description="Compare scenarios side by side, each against the first: "
                                 "the levers that differ, headline figures and the missions that change.")
    compare.add_argument("names", metavar="NAME", nargs="+", help="two or more scenario names")
    compare.add_argument("--limit", type=int, default=30, metavar="N",
                         help="missions shown (default 30; 0: all)")
    delete = actions.add_parser("delete", parents=[common], help="forget one scenario",
                                description="Delete one scenario from the store.")
    delete.add_argument("name", metavar="NAME")


def add_save_options(solve: argparse.ArgumentParser) -> None:
    """``--save NAME``, ``--note``, ``--by`` and ``--store`` for ``optimiser solve``."""
    solve.add_argument("--save", metavar="NAME",
                       help="also keep this run as a saved scenario of that name (replaces one of "
                       "the same name for the same workbook)")
    solve.add_argument("--note", default="", metavar="TEXT", help="a note kept with the saved scenario")
    solve.add_argument("--by", metavar="WHO", help="who saves it (default: your login name)")
    solve.add_argument("--store", type=Path, metavar="PATH", help=STORE_HELP)


# --------------------------------------------------------------------------- running


def run_scenarios(args: argparse.Namespace) -> int:
    """``optimiser scenarios ACTION``."""
    try:
        store = ScenarioStore(args.store)
        sha = workbook_sha256(args.workbook) if args.workbook is not None else None
        if args.action == "list":
            say(list_text(store, store.list(sha), args.workbook))
        elif args.action == "show":
            scenario = store.get(args.name, sha)
            say(show_text(scenario, scenario.result))
            if args.json:
                content = (json.dumps(dict(scenario.result), indent=2, sort_keys=True, ensure_ascii=False)
                           + "\n").encode("utf-8")
                target = atomic_write(args.json, lambda handle: handle.write(content))
                say(f"Its plan ({FORMAT_NAME}) written to {target}")
        elif args.action == "compare":
            say(compare_text(store.compare(args.names, sha), limit=args.limit or None))
        elif args.action == "delete":
            gone = store.delete(args.name, sha)
            say(f"Deleted scenario '{gone.name}' of {gone.workbook_name} (saved {when(gone)}) "
                f"from {store.path}.")
    except StoreError as error:
        say(f"optimiser scenarios: {error}", sys.stderr)
        return EXIT_INVALID
    return EXIT_DONE


def open_store_for_save(args: argparse.Namespace) -> ScenarioStore | None:
    """The store ``solve --save`` writes to, opened before the solve so that a bad path
    fails at once (exit 2); ``None`` without ``--save``."""
    if args.save is None:
        if args.note or args.by or args.store:
            raise bad_argument("--save", "--note, --by and --store go with --save NAME")
        return None
    if not args.save.strip():
        raise bad_argument("--save", "give the scenario a name")
    store = ScenarioStore(args.store)
    try:
        store.check()
    except StoreError as error:
        raise bad_argument("--store", str(error)) from None
    return store


def save_run(store: ScenarioStore, args: argparse.Namespace, plan: Any, portfolio: Any) -> str:
    """Keep the run as a scenario; returns the line to print."""
    try:
        saved = store.save(
            args.save,
            workbook_name=Path(args.workbook).name,
            workbook_sha256=portfolio.source.sha256,
            levers=plan.levers,
            result=plan_to_dict(plan),
            saved_by=args.by if args.by is not None else _login(),
            note=args.note,
        )
    except StoreError as error:
        raise bad_argument("--save", str(error)) from None
    replaced = f" (replacing the one saved {_time(saved.replaced_at)})" if saved.replaced_at else ""
    return f"Scenario '{saved.scenario.name}' saved in {store.path}{replaced}."


def workbook_sha256(path: Path) -> str:
    """The SHA-256 the reader gives a workbook (of its bytes; for a folder of CSV files,
    of the files as read)."""
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    if path.is_dir():
        return read_workbook(path).source.sha256
    raise bad_argument("--workbook", f"{path} is not a file or folder")


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): the scenario says nobody
        return ""


# --------------------------------------------------------------------------- text


def _time(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "-"


def when(scenario: ScenarioSummary) -> str:
    """``2026-12-01 23:24 UTC``."""
    return _time(scenario.saved_at)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def share(value: object) -> str:
    return "-" if _missing(value) else f"{float(value):.1%}"  # type: ignore[arg-type]


def amount(value: object) -> str:
    return "-" if _missing(value) else f"{float(value):,.0f}"  # type: ignore[arg-type]


STATUS_WORDS = {"optimal": "best plan found", "feasible": "a plan (time limit reached)",
                "infeasible": "no plan possible", "relaxed": "a plan with commitments stretched"}


def _status(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def _render(header: list[str], rows: list[list[str]], right: set[int], indent: str = "  ") -> list[str]:
    return [indent + line for line in render(header, rows, right)]


def list_text(store: ScenarioStore, scenarios: Sequence[ScenarioSummary], workbook: Path | None) -> str:
    """Every scenario kept, grouped by workbook, oldest first."""
    lines = [f"Scenarios kept in {store.path}" + (f" for {workbook.name}" if workbook else "")
             + f": {len(scenarios)}"]
    if not scenarios:
        lines.append("None yet: save one with optimiser solve WORKBOOK --save NAME, or from the page.")
        return "\n".join(lines)
    books: dict[str, list[ScenarioSummary]] = {}
    for scenario in scenarios:
        books.setdefault(scenario.workbook_sha256, []).append(scenario)
    for sha, kept in books.items():
        names = sorted({s.workbook_name for s in kept})
        lines += ["", f"{' / '.join(names)} (SHA-256 {sha[:12]}…): {len(kept)}"]
        currency = kept[-1].currency or "USD"
        header = ["name", "saved", "by", "plan", "value reached", f"money spent ({currency})", "note"]
        rows = [[s.name, when(s), s.saved_by or "-", s.status or "-", share(s.value_share),
                 amount(s.total_cost), _shorten(s.note, 50)] for s in kept]
        lines += _render(header, rows, {4, 5})
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _coverage_counts(result: Mapping[str, Any]) -> tuple[int, int, int] | None:
    tiers = result.get("coverage_by_priority") or []
    if not tiers:
        return None
    return tuple(int(sum(float(t.get(key) or 0) for t in tiers)) for key in ("fully", "partly", "uncovered"))  # type: ignore[return-value]


def show_text(scenario: ScenarioSummary, result: Mapping[str, Any]) -> str:
    """One scenario: where from, who and when, the plan's headline, every lever, and the
    command that plans it again."""
    currency = scenario.currency or "USD"
    lines = [f"Scenario '{scenario.name}'",
             f"  workbook   {scenario.workbook_name} (SHA-256 {scenario.workbook_sha256})",
             f"  saved      {when(scenario)}" + (f" by {scenario.saved_by}" if scenario.saved_by else ""),
             ]
    if scenario.note:
        lines.append(f"  note       {scenario.note}")
    lines.append(f"  plan       {_status(scenario.status)}")
    if scenario.value_share is not None:
        lines.append(f"  value      {share(scenario.value_share)} of the most possible")
    if scenario.total_cost is not None:
        lines.append(f"  money      {amount(scenario.total_cost)} {currency} spent of "
                     f"{amount(scenario.money_available)} available")
    counts = _coverage_counts(result)
    if counts is not None:
        fully, partly, uncovered = counts
        lines.append(f"  missions   {fully:,} fully covered, {partly:,} partly, {uncovered:,} not covered")
    settings = scenario.levers.as_settings()
    lines += ["", "Levers:"]
    width = max(len(k) for k in settings)
    blank = {"reserve_share": "(each resource its own)"}
    lines += [f"  {key.ljust(width)}  {value or blank.get(key, '(none)')}" for key, value in settings.items()]
    command = " ".join(["optimiser", "solve", shlex.quote(scenario.workbook_name),
                        *(f"--set {shlex.quote(f'{k}={v}')}" for k, v in settings.items())])
    lines += ["", "To plan it again (every lever given: the workbook's Settings sheet changes none):",
              f"  {command}"]
    return "\n".join(lines)


def _figure_cells(figure: str, values: list[object], currency: str) -> list[str]:
    first = values[0]
    cells = []
    for i, value in enumerate(values):
        if figure == "status":
            cells.append(str(value))
            continue
        if figure == "value_share":
            text = share(value)
            change = (f"{(float(value) - float(first)) * 100:+.1f} pts"  # type: ignore[arg-type]
                      if i and not _missing(value) and not _missing(first) else "")
        elif figure == "value" or figure.startswith("value_p"):
            text = "-" if _missing(value) else f"{float(value):,.1f}"  # type: ignore[arg-type]
            change = (f"{float(value) - float(first):+,.1f}"  # type: ignore[arg-type]
                      if i and not _missing(value) and not _missing(first) else "")
        else:
            text = amount(value)
            change = (f"{float(value) - float(first):+,.0f}"  # type: ignore[arg-type]
                      if i and not _missing(value) and not _missing(first) else "")
        cells.append(text + (f" ({change})" if change and change.strip("+-0.,pts ") else ""))
    return cells


def compare_text(comparison: ScenarioComparison, limit: int | None = 30) -> str:
    """The levers that differ, the headline figures and the missions that change, each
    scenario against the first."""
    names = comparison.names
    currency = comparison.currency
    books = list(dict.fromkeys(s.workbook_name for s in comparison.scenarios))
    lines = [f"{len(names)} scenarios of {' and '.join(books)}, each against '{names[0]}'", ""]
    if comparison.levers.empty:
        lines.append("Levers: the same in every scenario.")
    else:
        lines.append("Levers that differ:")
        rows = [[f"{lever_label(str(lever))} ({lever})", *(str(v) for v in values)] for lever, values in
                zip(comparison.levers.index, comparison.levers.to_numpy().tolist(), strict=True)]
        lines += _render(["lever", *names], rows, set())

    lines += ["", "Plan:"]
    rows = []
    headline = comparison.headline
    for figure, values in zip(headline.index, headline.to_numpy().tolist(), strict=True):
        label = HEADLINE_LABELS.get(str(figure), str(figure))
        if figure in ("total_cost", "money_available"):
            label += f" ({currency})"
        rows.append([label, *_figure_cells(str(figure), values, currency)])
    lines += _render(["", *names], rows, set(range(1, len(names) + 1)))
    lines += [line for note in comparison.tolerance_notes for line in ("", note)]

    missions = comparison.missions
    total = len(comparison.against_first[0].missions)
    order = ", largest change first (coverage: mean over active periods):"
    lines += ["", f"{len(missions)} of {total} missions change" + (order if len(missions) else ".")]
    if len(missions):
        shown = missions if not limit else missions.head(limit)
        others = names[1:]
        header = ["mission", "name", "prio", *(f"coverage {n}" for n in names),
                  *(f"cost change {n} ({currency})" for n in others)]
        rows = []
        for record in shown.to_dict("records"):
            mission = record["mission_id"]
            coverage = comparison.coverage.loc[mission]
            cost = comparison.cost.loc[mission]
            rows.append([str(mission), _shorten(str(record["name"]), 28),
                         "-" if _missing(record["priority"]) else str(int(record["priority"])),
                         *(f"{float(coverage[n]):.0%}" for n in names),
                         *(f"{float(cost[n]) - float(cost[names[0]]):+,.0f}" for n in others)])
        lines += _render(header, rows, set(range(2, len(header))))
        if len(shown) < len(missions):
            lines.append(f"  ... and {len(missions) - len(shown)} more (--limit 0 shows all).")
    return "\n".join(lines)
