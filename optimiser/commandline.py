"""What every ``optimiser`` command shares: exit codes, the argument parser's class, the
reading of ``--set KEY=VALUE`` and the printing of problems.

:mod:`optimiser.cli` (solve, validate, template) and :mod:`optimiser.explore.commands`
(sweep, compare) both import from here, so neither reaches into the other.

Exit codes (SPEC section 6): 0 a plan was made (or the command did its work); 1 no plan
is possible (the explanation is printed); 2 invalid input or arguments; 3 anything else
(a bug or a solver failure), with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from optimiser.problems import InvalidInput, Problem, Severity

EXIT_PLAN, EXIT_NO_PLAN, EXIT_INVALID, EXIT_FAILURE = 0, 1, 2, 3
EXIT_DONE = EXIT_PLAN


class Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line on bad arguments (its default too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def bad_argument(where: str, message: str) -> InvalidInput:
    """An invalid argument as the one problem of an :class:`InvalidInput`."""
    return InvalidInput([Problem(Severity.ERROR, where, message)])


def parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` arguments as a mapping; every malformed one reported at once."""
    settings: dict[str, str] = {}
    problems = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(Severity.ERROR, "--set", f"'{pair}' is not KEY=VALUE", value=pair))
        else:
            settings[key.strip()] = value.strip()
    if problems:
        raise InvalidInput(problems)
    return settings


def print_problems(problems: Sequence[Problem]) -> None:
    """Errors, then warnings, on standard error, one line each."""
    errors = [p for p in problems if p.severity is Severity.ERROR]
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    if errors:
        print(f"{len(errors)} problem(s) stop a plan:", file=sys.stderr)
        for problem in errors:
            print(f"  error: {problem}", file=sys.stderr)
    if warnings:
        print(f"{len(warnings)} warning(s):", file=sys.stderr)
        for problem in warnings:
            print(f"  warning: {problem}", file=sys.stderr)
