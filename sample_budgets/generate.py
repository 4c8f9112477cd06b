"""Write a realistic, feasible sample portfolio workbook (SPEC section 2 format).

A thin command line over :func:`optimiser.samples.generate.generate_portfolio` and
:func:`optimiser.samples.generate.write_workbook`. The same arguments always write the same
tables: the seed names the portfolio.

Usage, from the project root::

    .venv/bin/python sample_budgets/generate.py --missions 150 --zones 30 --resources 16 \\
        --periods 4 --sources 5 --seed 2027 --out sample_budgets/national_portfolio.xlsx \\
        --title "National peace-operations portfolio 2027 — planning draft"

Options
-------
--missions N     missions (default 150)
--zones N        zones of operations (default 30; beyond 65, numbered sectors)
--resources N    personnel and equipment types (default 16, at most 24)
--periods N      quarters from --start-year (default 4: 2027-Q1 .. 2027-Q4)
--sources N      funding sources (default 5: core budget and four earmarked funds)
--seed N         random seed (default 0)
--start-year Y   year of the first quarter (default 2027)
--budget-ratio R funding as a share of full demand (default: drawn, 0.72-0.82)
--title TEXT     a line above the Missions headers (repeatable; at most 8)
--out PATH       the .xlsx to write (required)

The benchmark sizes go up to ``--missions 2000 --zones 60 --resources 20 --periods 8``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from optimiser.samples.generate import MAX_RESOURCES, generate_portfolio, write_workbook
except ModuleNotFoundError:  # run from a source tree without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from optimiser.samples.generate import MAX_RESOURCES, generate_portfolio, write_workbook


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description="Write a realistic, feasible sample portfolio workbook.",
        epilog="Example: generate.py --missions 150 --seed 2027 --out national_portfolio.xlsx",
    )
    parser.add_argument("--missions", type=int, default=150, help="missions (default 150)")
    parser.add_argument("--zones", type=int, default=30, help="zones of operations (default 30)")
    parser.add_argument(
        "--resources", type=int, default=16, help=f"resource types (default 16, at most {MAX_RESOURCES})"
    )
    parser.add_argument("--periods", type=int, default=4, help="quarters (default 4)")
    parser.add_argument("--sources", type=int, default=5, help="funding sources (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--start-year", type=int, default=2027, help="year of the first quarter (default 2027)"
    )
    parser.add_argument(
        "--budget-ratio", type=float, default=None, help="funding / full demand (default: drawn, 0.72-0.82)"
    )
    parser.add_argument(
        "--title", action="append", default=[], help="a line above the Missions headers (repeatable)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Generate and write the workbook; print a one-line summary. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        tables = generate_portfolio(
            missions=args.missions,
            zones=args.zones,
            resources=args.resources,
            periods=args.periods,
            sources=args.sources,
            seed=args.seed,
            start_year=args.start_year,
            budget_ratio=args.budget_ratio,
        )
        path = write_workbook(tables, args.out, titles={"Missions": args.title} if args.title else None)
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"wrote {path}: {len(tables['Missions'])} missions, {len(tables['Zones'])} zones, "
        f"{len(tables['Resources'])} resources, {len(tables['Periods'])} periods, "
        f"{tables['Funding']['source_id'].nunique()} funding sources (seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
