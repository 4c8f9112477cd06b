"""The scenario store (SPEC section 7): named scenarios that outlive the page and the process.

A scenario is a name, the workbook's file name and SHA-256, the levers, the plan's JSON
result (:func:`optimiser.report.plan_to_dict`), who saved it (free text), when, and an
optional note. The workbook's contents are never stored: only its name and hash.

Scenarios are kept in one SQLite file (Python's :mod:`sqlite3`), found in this order:

1. the path given (``--store PATH`` on the command line);
2. the ``MISSION_OPTIMISER_STORE`` environment variable;
3. ``$XDG_DATA_HOME/mission-optimiser/scenarios.sqlite``, by default
   ``~/.local/share/mission-optimiser/scenarios.sqlite``.

The file is created readable and writable by its owner only (0600; a folder made for it
0700). Names are unique per workbook hash: saving again under the same name replaces the
scenario (and says so). Every call opens its own connection and closes it, so one
:class:`ScenarioStore` may be used from several threads (Streamlit runs each session in
its own); the database is in WAL mode with a busy timeout, so two pages and a command line
can save at once without losing a row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd

from optimiser.explore.compare import FIGURE_WORDS, UNCHANGED, Comparison, compare_plans
from optimiser.levers import Levers, PriorityMode, SolverName

STORE_VARIABLE = "MISSION_OPTIMISER_STORE"
APP_FOLDER = "mission-optimiser"
FILE_NAME = "scenarios.sqlite"
SCHEMA_VERSION = 1  # PRAGMA user_version of a store this code writes
BUSY_TIMEOUT_S = 30.0  # how long a call waits for another writer before giving up
MAX_NAME_LENGTH = 200
WORKBOOK_DEFAULT = "(as the workbook)"
# The headline figures of a comparison (:class:`Comparison`'s), in a planner's words.
HEADLINE_LABELS = FIGURE_WORDS

_SCHEMA = """
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    workbook_name TEXT NOT NULL,
    workbook_sha256 TEXT NOT NULL,
    levers TEXT NOT NULL,           -- JSON: every field of Levers, floats in full
    result TEXT NOT NULL,           -- JSON: the plan's result, as optimiser solve --json writes it
    saved_by TEXT NOT NULL DEFAULT '',
    saved_at TEXT NOT NULL,         -- ISO 8601, UTC
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    value_share REAL,
    total_cost REAL,
    money_available REAL,
    currency TEXT NOT NULL DEFAULT '',
    UNIQUE (workbook_sha256, name)
);
CREATE INDEX scenarios_by_workbook ON scenarios (workbook_sha256, saved_at);
"""
_SUMMARY_COLUMNS = ("name", "workbook_name", "workbook_sha256", "levers", "saved_by", "saved_at", "note",
                    "status", "value_share", "total_cost", "money_available", "currency")


class StoreError(Exception):
    """The store cannot be used (a bad path, not a scenario store, made by a newer version),
    or a request it cannot answer; the message says what and where, for a planner."""


class UnknownScenario(StoreError, LookupError):
    """No scenario of that name (for that workbook)."""


# --------------------------------------------------------------------------- where


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """The user's data folder's store: ``$XDG_DATA_HOME`` (else ``~/.local/share``)
    ``/mission-optimiser/scenarios.sqlite``."""
    environ = os.environ if environ is None else environ
    data_home = environ.get("XDG_DATA_HOME", "").strip()
    absolute = bool(data_home) and Path(data_home).is_absolute()  # the XDG rule: a relative one is ignored
    base = Path(data_home) if absolute else Path.home() / ".local" / "share"
    return base / APP_FOLDER / FILE_NAME


def store_path(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Where the scenarios are kept: ``explicit`` (``--store``), else the
    ``MISSION_OPTIMISER_STORE`` variable, else :func:`default_path`."""
    environ = os.environ if environ is None else environ
    if explicit is not None and str(explicit).strip():
        return Path(explicit).expanduser()
    variable = environ.get(STORE_VARIABLE, "").strip()
    if variable:
        return Path(variable).expanduser()
    return default_path(environ)


# --------------------------------------------------------------------------- levers <-> JSON


def levers_record(levers: Levers) -> dict[str, Any]:
    """Every lever as JSON-ready data, floats kept in full (the store's form)."""

    def plain(value: object) -> object:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in sorted(value.items())}
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        return value

    return {f.name: plain(getattr(levers, f.name)) for f in dataclasses.fields(levers)}


def levers_from_record(record: Mapping[str, Any]) -> Levers:
    """The :class:`Levers` of :func:`levers_record`; levers the record lacks (saved by an
    older version) keep their defaults, names it has that are no longer levers are ignored."""
    known = {f.name for f in dataclasses.fields(Levers)}
    values = {k: v for k, v in record.items() if k in known}
    if "priority_weights" in values:
        values["priority_weights"] = tuple(float(w) for w in values["priority_weights"])
    if "priority_mode" in values:
        values["priority_mode"] = PriorityMode(values["priority_mode"])
    if "solver" in values:
        values["solver"] = SolverName(values["solver"])
    for name in ("source_scale", "zone_cap", "must_fund", "priority"):
        if name in values:
            values[name] = dict(values[name])
    return Levers(**values)


# --------------------------------------------------------------------------- what is kept


@dataclass(frozen=True)
class ScenarioSummary:
    """A saved scenario without its plan: what a list shows.

    Attributes
    ----------
    name : unique per workbook hash.
    workbook_name : the workbook's file name when it was saved.
    workbook_sha256 : the SHA-256 the reader gives the workbook (``Portfolio.source``).
    levers : the levers the plan was made under.
    saved_by : who saved it (free text; may be empty).
    saved_at : when (UTC, to the second).
    note : the planner's note (may be empty).
    status, value_share, total_cost, money_available, currency : the plan's headline, from
        its result (``value_share`` 0-1, ``None`` without a plan).
    """

    name: str
    workbook_name: str
    workbook_sha256: str
    levers: Levers
    saved_by: str
    saved_at: datetime
    note: str
    status: str
    value_share: float | None
    total_cost: float | None
    money_available: float | None
    currency: str


@dataclass(frozen=True)
class SavedScenario(ScenarioSummary):
    """A saved scenario with its plan's JSON result (:func:`optimiser.report.plan_to_dict`)."""

    result: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Saved:
    """What :meth:`ScenarioStore.save` did: the scenario as kept, and whether it replaced
    one of the same name saved earlier for the same workbook (``replaced_at``: when that one
    was saved)."""

    scenario: ScenarioSummary
    replaced: bool
    replaced_at: datetime | None = None


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """Several saved scenarios side by side, each against the first.

    Attributes
    ----------
    scenarios : the scenarios compared, the first being the one the others are measured
        against.
    levers : index ``lever`` (``--set`` keys); one column per scenario name holding the
        lever's value as ``--set`` text; only the levers that differ between them.
        A per-item lever one scenario sets and another leaves alone shows
        :data:`WORKBOOK_DEFAULT` for the latter.
    headline : index ``figure`` (status, value, value_share, total_cost, money_available,
        missions_covered, missions_fully_covered, as :class:`Comparison` has them); one
        column per scenario name.
    missions : one row per mission whose coverage, cost or resources differ in any
        scenario from the first, largest change first: ``mission_id``, ``name``,
        ``priority``, ``change`` (what happened, per scenario: "dropped in 'cut'").
    coverage : index ``mission_id`` as ``missions``; one column per scenario name: mean
        coverage over the mission's active periods (0-1).
    cost : as ``coverage``: money over all periods.
    against_first : :func:`compare_plans` of the first scenario's plan with each other's.
    """

    scenarios: tuple[SavedScenario, ...]
    levers: pd.DataFrame
    headline: pd.DataFrame
    missions: pd.DataFrame
    coverage: pd.DataFrame
    cost: pd.DataFrame
    against_first: tuple[Comparison, ...]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    @property
    def currency(self) -> str:
        return self.scenarios[-1].currency or self.scenarios[0].currency or "USD"

    @property
    def tolerance_notes(self) -> list[str]:
        """Why a figure moves the "wrong" way against the first scenario by less than the
        searches' tolerance, one sentence per scenario that does (:attr:`Comparison.tolerance`)."""
        return [pair.tolerance for pair in self.against_first if pair.tolerance]

    def __repr__(self) -> str:
        return (f"ScenarioComparison({', '.join(map(repr, self.names))}: {len(self.levers)} levers differ, "
                f"{len(self.missions)} missions change)")


# --------------------------------------------------------------------------- the store


class ScenarioStore:
    """The scenarios kept in one SQLite file (created on first use).

    Parameters
    ----------
    path : the file; ``None`` for :func:`store_path` (``MISSION_OPTIMISER_STORE``, else the
        user's data folder).

    Every method opens a connection, does its work in one transaction and closes it.
    Reading (``list``, ``get``, ``compare``) never creates the file: a store not made yet
    has no scenarios; ``save`` and ``check`` create it.

    Raises
    ------
    StoreError
        from any method, when the file cannot be created or opened, is not a scenario store,
        or was written by a newer version of the tool.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = store_path(path)
        self._ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ScenarioStore({str(self.path)!r})"

    def check(self) -> None:
        """Open the store (creating it when missing) and close it: a bad path fails here.

        Raises
        ------
        StoreError
            when the file cannot be made or opened, or is not a scenario store.
        """
        with self._connection():
            pass

    # ----------------------------------------------------------------- writing

    def save(
        self,
        name: str,
        *,
        workbook_name: str,
        workbook_sha256: str,
        levers: Levers,
        result: Mapping[str, Any],
        saved_by: str = "",
        note: str = "",
        saved_at: datetime | None = None,
    ) -> Saved:
        """Keep a scenario; one of the same name for the same workbook is replaced.

        Parameters
        ----------
        name : the scenario's name (surrounding spaces dropped; 1 to 200 characters).
        workbook_name, workbook_sha256 : the workbook planned (its name and the hash the
            reader gives it; its contents are not stored).
        levers : the levers the plan was made under.
        result : the plan's JSON result (:func:`optimiser.report.plan_to_dict`).
        saved_by, note : free text (may be empty).
        saved_at : when (default: now).

        Raises
        ------
        StoreError
            for an empty or over-long name, a result that is not JSON, or a store that
            cannot be written.
        """
        name = _clean_name(name)
        if not str(workbook_sha256).strip():
            raise StoreError("a scenario needs the SHA-256 of its workbook")
        try:
            result_text = json.dumps(result, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise StoreError(f"the plan's result is not JSON: {error}") from None
        when = (saved_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        row = {
            "name": name,
            "workbook_name": str(workbook_name),
            "workbook_sha256": str(workbook_sha256),
            "levers": json.dumps(levers_record(levers), sort_keys=True),
            "result": result_text,
            "saved_by": str(saved_by or "").strip(),
            "saved_at": when.isoformat(),
            "note": str(note or "").strip(),
            "status": str(result.get("status", "")),
            "value_share": _number(result.get("value_share")),
            "total_cost": _number(result.get("total_cost")),
            "money_available": _number(result.get("money_available")),
            "currency": str(result.get("currency") or levers.currency),
        }
        columns = ", ".join(row)
        marks = ", ".join(f":{key}" for key in row)
        key_columns = ("name", "workbook_sha256")
        updates = ", ".join(f"{key} = excluded.{key}" for key in row if key not in key_columns)
        with self._transaction() as connection:
            before = connection.execute(
                "SELECT saved_at FROM scenarios WHERE workbook_sha256 = ? AND name = ?",
                (row["workbook_sha256"], name),
            ).fetchone()
            connection.execute(
                f"INSERT INTO scenarios ({columns}) VALUES ({marks}) "
                f"ON CONFLICT (workbook_sha256, name) DO UPDATE SET {updates}",
                row,
            )
        summary = _summary({key: row[key] for key in _SUMMARY_COLUMNS})
        return Saved(summary, before is not None, _time(before[0]) if before else None)

    def delete(self, name: str, workbook_sha256: str | None = None) -> ScenarioSummary:
        """Forget a scenario; returns what was deleted.

        Raises
        ------
        UnknownScenario
            when there is none of that name (for that workbook).
        StoreError
            when the name is saved for several workbooks and none is given.
        """
        with self._lookup(name, workbook_sha256, _SUMMARY_COLUMNS, write=True) as (connection, found):
            connection.execute("DELETE FROM scenarios WHERE workbook_sha256 = ? AND name = ?",
                               (found["workbook_sha256"], found["name"]))
        return _summary(found)

    # ----------------------------------------------------------------- reading

    def list(self, workbook_sha256: str | None = None) -> list[ScenarioSummary]:
        """The scenarios kept (only those of one workbook, by its SHA-256, when given),
        oldest first."""
        if not self._exists():  # reading never creates the file
            return []
        query = f"SELECT {', '.join(_SUMMARY_COLUMNS)} FROM scenarios"
        arguments: tuple[str, ...] = ()
        if workbook_sha256 is not None:
            query += " WHERE workbook_sha256 = ?"
            arguments = (workbook_sha256,)
        with self._connection() as connection:
            rows = connection.execute(query + " ORDER BY saved_at, id", arguments).fetchall()
        return [_summary(row) for row in rows]

    def get(self, name: str, workbook_sha256: str | None = None) -> SavedScenario:
        """One scenario with its plan's result.

        Raises
        ------
        UnknownScenario
            when there is none of that name (for that workbook).
        StoreError
            when the name is saved for several workbooks and none is given.
        """
        with self._lookup(name, workbook_sha256, (*_SUMMARY_COLUMNS, "result")) as (_, row):
            summary, result = _summary(row), json.loads(row["result"])
        return SavedScenario(**{f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)},
                             result=result)

    def compare(self, names: Sequence[str], workbook_sha256: str | None = None) -> ScenarioComparison:
        """Compare saved scenarios side by side, each against the first (which levers
        differ, headline figures, per-mission changes).

        Raises
        ------
        StoreError
            for fewer than two names or a name given twice; :class:`UnknownScenario` for a
            name not kept.
        """
        cleaned = [_plain_name(n) for n in names]
        if len(cleaned) < 2:
            raise StoreError("name at least two scenarios to compare")
        twice = sorted({n for n in cleaned if cleaned.count(n) > 1})
        if twice:
            raise StoreError("a scenario is named twice: " + ", ".join(f"'{n}'" for n in twice))
        scenarios = tuple(self.get(n, workbook_sha256) for n in cleaned)
        return compare_scenarios(scenarios)

    # ----------------------------------------------------------------- plumbing

    @contextlib.contextmanager
    def _lookup(self, name: str, workbook_sha256: str | None, columns: Sequence[str],
                write: bool = False) -> Iterator[tuple[sqlite3.Connection, sqlite3.Row]]:
        """The one scenario ``name`` (of that workbook) with ``columns``, on a connection
        (in a transaction when ``write``); refused when the store has no file yet (looking
        never creates it) or there is no such scenario."""
        if not self._exists():
            raise UnknownScenario(f"no scenario named '{_plain_name(name)}' in {self.path}; none is saved")
        with (self._transaction() if write else self._connection()) as connection:
            yield connection, self._find(connection, name, workbook_sha256, ", ".join(columns))

    def _find(self, connection: sqlite3.Connection, name: str, workbook_sha256: str | None,
              columns: str) -> sqlite3.Row:
        name = _plain_name(name)
        query = f"SELECT {columns} FROM scenarios WHERE name = ?"
        arguments: tuple[str, ...] = (name,)
        if workbook_sha256 is not None:
            query += " AND workbook_sha256 = ?"
            arguments += (workbook_sha256,)
        rows = connection.execute(query, arguments).fetchall()
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            books = ", ".join(sorted({str(r["workbook_name"]) for r in rows}))
            raise StoreError(f"'{name}' is saved for {len(rows)} workbooks ({books}); name the workbook "
                             "(--workbook FILE)")
        where = " for this workbook" if workbook_sha256 is not None else ""
        known = [str(r[0]) for r in connection.execute(
            "SELECT name FROM scenarios" + (" WHERE workbook_sha256 = ?" if workbook_sha256 else "")
            + " ORDER BY saved_at, id", (workbook_sha256,) if workbook_sha256 else ()).fetchall()]
        hint = ("; saved: " + ", ".join(f"'{k}'" for k in known[:20])
                + (f" and {len(known) - 20} more" if len(known) > 20 else "")) if known else "; none is saved"
        raise UnknownScenario(f"no scenario named '{name}'{where} in {self.path}{hint}")

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own, ready (schema made), closed afterwards."""
        self._create_file()
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"the scenario store {self.path} cannot be opened: {error}") from None
        connection.row_factory = sqlite3.Row
        try:
            if not self._ready:
                with self._lock:
                    if not self._ready:
                        self._prepare(connection)
                        self._ready = True
            yield connection
        except sqlite3.DatabaseError as error:
            raise StoreError(f"the scenario store {self.path} cannot be used: {error}") from None
        finally:
            connection.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (BEGIN IMMEDIATE: waits for another writer
        up to the busy timeout instead of failing half-way)."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _exists(self) -> bool:
        if self.path.is_dir():
            raise StoreError(f"the scenario store {self.path} is a folder; give a file, e.g. "
                             f"{self.path / FILE_NAME}")
        return self.path.exists()

    def _create_file(self) -> None:
        """The file (0600) and, when missing, its folder (0700)."""
        path = self.path
        if self._exists():
            return
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"the folder of the scenario store {path.parent} cannot be made: "
                             f"{error.strerror or error}") from None
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another process made it first
            pass
        except OSError as error:
            raise StoreError(f"the scenario store {path} cannot be made: {error.strerror or error}") from None

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """WAL mode, then the schema (once per file; a newer one is refused)."""
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(f"the scenario store {self.path} was written by a newer version of the tool "
                             f"(schema {version}; this one reads {SCHEMA_VERSION})")
        connection.execute("PRAGMA journal_mode = WAL")
        if version == SCHEMA_VERSION:
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if version == 0:
                tables = {str(r[0]) for r in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
                if tables:
                    raise StoreError(f"{self.path} is a database of something else (tables: "
                                     f"{', '.join(sorted(tables))}), not a scenario store")
                for statement in _SCHEMA.split(";"):  # not executescript: it would commit
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


# --------------------------------------------------------------------------- comparing


def compare_scenarios(scenarios: Sequence[SavedScenario]) -> ScenarioComparison:
    """Saved scenarios side by side, each against the first: :func:`compare_plans` of the
    first scenario's result with each other's, gathered into one table per question."""
    if len(scenarios) < 2:
        raise StoreError("name at least two scenarios to compare")
    first, others = scenarios[0], scenarios[1:]
    pairs = tuple(compare_plans(first.result, other.result, labels=(first.name, other.name))
                  for other in others)
    names = [s.name for s in scenarios]

    headline = pd.DataFrame({first.name: pairs[0].headline.set_index("figure")["a"]})
    for other, pair in zip(others, pairs, strict=True):
        headline[other.name] = pair.headline.set_index("figure")["b"]
    headline.index.name = "figure"

    ids = list(dict.fromkeys(m for pair in pairs for m in pair.missions["mission_id"]))
    info = pd.concat([pair.missions.set_index("mission_id")[["name", "priority"]] for pair in pairs])
    info = info[~info.index.duplicated(keep="first")].reindex(ids)
    coverage = pd.DataFrame(index=pd.Index(ids, name="mission_id"))
    cost = pd.DataFrame(index=coverage.index)
    coverage[first.name] = pairs[0].missions.set_index("mission_id")["coverage_a"].reindex(ids).fillna(0.0)
    cost[first.name] = pairs[0].missions.set_index("mission_id")["cost_a"].reindex(ids).fillna(0.0)
    changes: dict[str, list[str]] = {m: [] for m in ids}
    for other, pair in zip(others, pairs, strict=True):
        table = pair.missions.set_index("mission_id")
        coverage[other.name] = table["coverage_b"].reindex(ids).fillna(0.0)
        cost[other.name] = table["cost_b"].reindex(ids).fillna(0.0)
        for mission, what in table["change"].items():
            if what != UNCHANGED:
                changes[str(mission)].append(f"{what} in '{other.name}'")
    changed = [m for m in ids if changes[m]]
    size = pd.DataFrame({
        "coverage": coverage.loc[changed].sub(coverage.loc[changed, first.name], axis=0).abs().max(axis=1),
        "cost": cost.loc[changed].sub(cost.loc[changed, first.name], axis=0).abs().max(axis=1),
    }).round({"coverage": 9, "cost": 2})
    order = list(size.sort_values(["coverage", "cost"], ascending=False, kind="stable").index)
    missions = pd.DataFrame({
        "mission_id": order,
        "name": info["name"].reindex(order).to_numpy(),
        "priority": info["priority"].reindex(order).to_numpy(),
        "change": ["; ".join(changes[m]) for m in order],
    })

    return ScenarioComparison(
        scenarios=tuple(scenarios),
        levers=levers_that_differ(scenarios),
        headline=headline,
        missions=missions,
        coverage=coverage.loc[order, names],
        cost=cost.loc[order, names],
        against_first=pairs,
    )


def levers_that_differ(scenarios: Sequence[ScenarioSummary]) -> pd.DataFrame:
    """Index ``lever`` (``--set`` keys, in :meth:`Levers.as_settings` order); one column per
    scenario holding the value as ``--set`` text; only levers whose values differ."""
    settings = [s.levers.as_settings() for s in scenarios]
    keys = list(dict.fromkeys(k for one in settings for k in one))
    rows = {key: [one.get(key, WORKBOOK_DEFAULT) for one in settings] for key in keys}
    differ = {key: values for key, values in rows.items() if len(set(values)) > 1}
    frame = pd.DataFrame.from_dict(differ, orient="index", columns=[s.name for s in scenarios])
    frame.index.name = "lever"
    return frame


# --------------------------------------------------------------------------- helpers


def _plain_name(name: object) -> str:
    """A name as kept: surrounding spaces dropped, inner runs of spaces made one."""
    return " ".join(str(name or "").split())


def _clean_name(name: str) -> str:
    cleaned = _plain_name(name)
    if not cleaned:
        raise StoreError("a scenario needs a name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise StoreError(f"a scenario's name is at most {MAX_NAME_LENGTH} characters (this one has "
                         f"{len(cleaned)})")
    return cleaned


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _summary(row: Mapping[str, Any] | sqlite3.Row) -> ScenarioSummary:
    return ScenarioSummary(
        name=str(row["name"]),
        workbook_name=str(row["workbook_name"]),
        workbook_sha256=str(row["workbook_sha256"]),
        levers=levers_from_record(json.loads(row["levers"])),
        saved_by=str(row["saved_by"]),
        saved_at=_time(str(row["saved_at"])),
        note=str(row["note"]),
        status=str(row["status"]),
        value_share=row["value_share"],
        total_cost=row["total_cost"],
        money_available=row["money_available"],
        currency=str(row["currency"]),
    )
