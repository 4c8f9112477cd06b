"""What every ``optimiser`` command shares: exit codes, the argument parser's class, the
reading of ``--set KEY=VALUE``, the checks of output paths made before any work, and the
printing of text (problems included).

Everything printed goes through :func:`say` (or :func:`print_problems`): workbook text
shows with its control characters escaped (:func:`optimiser.safe_text.printable`), and
standard output closed early (``| head``) stops the printing, never the writing of the
files asked for.

:mod:`optimiser.cli` (solve, validate, template) and :mod:`optimiser.explore.commands`
(sweep, compare) both import from here, so neither reaches into the other.

Exit codes (SPEC section 6): 0 a plan was made (or the command did its work); 1 no plan
is possible (the explanation is printed); 2 invalid input or arguments; 3 anything else
(a bug or a solver failure), with a one-line reason.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from optimiser.levers import Levers
from optimiser.problems import InvalidInput, Problem, Severity
from optimiser.safe_text import printable
from optimiser.wording import counted

EXIT_PLAN, EXIT_NO_PLAN, EXIT_INVALID, EXIT_FAILURE = 0, 1, 2, 3
EXIT_DONE = EXIT_PLAN


class Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line on bad arguments (its default too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, printable(f"{self.prog}: error: {message}\n"))


class PrintableFormatter(logging.Formatter):
    """Log lines with workbook text's control characters escaped, like everything printed."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def say(text: object = "", file: TextIO | None = None) -> None:
    """Print one piece of text, control characters escaped; a reader that has gone away
    (``optimiser solve ... | head -1``) silences the rest of the output, nothing more."""
    stream = file if file is not None else sys.stdout
    try:
        print(printable(text), file=stream, flush=True)
    except BrokenPipeError:
        _silence(stream)


def _silence(stream: TextIO) -> None:
    """Point a closed standard stream at the null device, so that later prints and the
    flush at exit neither fail nor raise."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


def check_paths(
    inputs: Sequence[Path | None], outputs: Mapping[str, tuple[Path | None, Sequence[str]]]
) -> None:
    """Refuse, before any work, output paths that would fail or destroy something.

    Parameters
    ----------
    inputs : the files (or CSV folders) the command reads.
    outputs : option (``"--out"``) -> (path or ``None`` when not given, accepted suffixes).

    Raises
    ------
    InvalidInput
        naming every option whose path has a suffix not accepted, is a folder, is one
        of the inputs (the same file by any name: symbolic links and hard links are
        followed) or lies inside an input CSV folder, or is the same file as another
        output.
    """
    problems: list[Problem] = []
    given = {option: path for option, (path, _) in outputs.items() if path is not None}
    read = [path for path in inputs if path is not None]
    for option, path in given.items():
        suffixes = outputs[option][1]
        if path.is_dir():
            problems.append(Problem(Severity.ERROR, option, f"{path} is a folder; give a file name "
                                    f"ending in {' or '.join(suffixes)}", value=str(path)))
            continue
        if path.suffix.lower() not in suffixes:
            problems.append(Problem(Severity.ERROR, option, f"write to a {' or '.join(suffixes)} file, not "
                                    f"{path.name!r}", value=str(path)))
            continue
        for source in read:
            if _same_file(path, source):
                problems.append(Problem(Severity.ERROR, option, f"{path} is the input {source}; writing "
                                        "there would replace it: give another file name", value=str(path)))
            elif source.is_dir() and _resolved(path).parent == _resolved(source):
                problems.append(Problem(Severity.ERROR, option, f"{path} is inside the input folder "
                                        f"{source}; write it elsewhere", value=str(path)))
    options = list(given)
    for i, first in enumerate(options):
        for second in options[i + 1 :]:
            if _same_file(given[first], given[second]):
                problems.append(Problem(Severity.ERROR, second, f"{given[second]} is also {first}; one "
                                        "file cannot hold both: give two names", value=str(given[second])))
    if problems:
        raise InvalidInput(problems)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        return path.absolute()


def _same_file(first: Path, second: Path) -> bool:
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    except OSError:
        pass
    return _resolved(first) == _resolved(second)


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


def checked_sets(pairs: Sequence[str], origin: str = "--set") -> dict[str, str]:
    """``--set KEY=VALUE`` arguments as a mapping, each key and value checked as a lever
    (``budget_scale=1e308`` is refused) before any workbook is read."""
    settings = parse_sets(pairs)
    Levers().with_settings(settings, origin=origin)
    return settings


def check_all(*checks: Callable[[], object]) -> list[object]:
    """Run every check of the arguments and return their results; the problems of all
    that fail are raised together, as one :class:`InvalidInput`."""
    results: list[object] = []
    problems: list[Problem] = []
    for check in checks:
        try:
            results.append(check())
        except InvalidInput as invalid:
            problems.extend(invalid.problems)
            results.append(None)
    if problems:
        raise InvalidInput(problems)
    return results


def print_problems(problems: Sequence[Problem]) -> None:
    """Errors, then warnings, on standard error, one line each."""
    errors = [p for p in problems if p.severity is Severity.ERROR]
    warnings = [p for p in problems if p.severity is Severity.WARNING]
    if errors:
        verb = "stops" if len(errors) == 1 else "stop"
        say(f"{counted(len(errors), 'problem')} {verb} a plan:", sys.stderr)
        for problem in errors:
            say(f"  error: {problem}", sys.stderr)
    if warnings:
        say(f"{counted(len(warnings), 'warning')}:", sys.stderr)
        for problem in warnings:
            say(f"  warning: {problem}", sys.stderr)

