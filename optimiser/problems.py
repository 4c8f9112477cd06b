"""Problems found in the input: located, worded for a planner, collected not raised one by one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in the input, located for a planner.

    ``sheet`` is the sheet title as the planner wrote it (or ``"--set"`` for a
    command-line lever, ``"file"`` for the file as a whole); ``cell`` is an Excel
    reference such as ``"C14"`` when one cell is at fault, else ``None``; ``row`` is
    the 1-based Excel row when a row is at fault.
    """

    severity: Severity
    sheet: str
    message: str
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    value: object = None

    @property
    def location(self) -> str:
        if self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.row is not None:
            return f"{self.sheet} row {self.row}"
        return self.sheet

    def __str__(self) -> str:
        where = self.location
        if self.column:
            where += f" ({self.column})"
        return f"{where}: {self.message}"


class HasProblems:
    """``errors`` and ``warnings`` of a ``problems`` tuple (mixed into what carries one)."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)


class InvalidInput(HasProblems, Exception):
    """The input cannot be used; ``problems`` lists every error and warning found."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        errors = self.errors
        lines = "\n".join(f"  {p}" for p in errors)
        super().__init__(f"{len(errors)} problem(s) in the input:\n{lines}")
