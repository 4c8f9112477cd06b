"""Atomic file writes: a report either appears whole or not at all.

A planner may rerun a batch over last week's reports. If the run is interrupted
(a crash, a full disk, Ctrl-C) the good report already on disk must survive, so
every writer here writes to a temporary file in the same folder, flushes it to
disk and only then renames it over the target (``os.replace`` is atomic on one
file system).

A process killed outright (SIGKILL, power cut) cannot remove its temporary file, so
each one is named after the process that writes it (``.plan.xlsx.<pid>@<host>.<hex>.tmp``)
and every write first removes the ones that a process of this machine no longer
running left beside the same target (and any left more than a day ago).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger(__name__)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Write a file through ``write(handle)`` so that it is replaced whole or not at all.

    Parameters
    ----------
    path : the file to create or replace. Missing parent folders are created.
    write : called once with a binary file handle opened on a temporary file in the
        same folder as ``path``; it writes the whole content.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    OSError
        when the folder cannot be written or the target cannot be replaced (on
        Windows, typically because the file is open in Excel). Whatever ``write``
        raises is re-raised. In every case the temporary file is removed and an
        existing file at ``path`` is left exactly as it was.
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    temporary = folder / f".{target.name}.{os.getpid()}@{_HOST}.{secrets.token_hex(6)}.tmp"
    # Created with mode 0o666 so that the process umask applies, as for any new file.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            shutil.copymode(target, temporary)  # a replaced report keeps its permissions
        try:
            os.replace(temporary, target)
        except PermissionError as reason:
            raise PermissionError(
                reason.errno, f"cannot replace {target} (is it open in another program, such as Excel?)"
            ) from reason
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    logger.debug("wrote %s", target)
    return target


STALE_S = 24 * 3600
"""A temporary file of a report older than this is a leftover, whoever wrote it."""
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_LEFTOVER = re.compile(r"(?:(?P<pid>\d+)@(?P<host>[0-9a-f]{8})\.)?[0-9a-f]{12}")


def remove_leftovers(target: Path) -> list[Path]:
    """Remove the temporary files that an interrupted write of ``target`` left beside it.

    A temporary file is a leftover when the process named in it ran on this machine and
    is no longer running, or when it is older than :data:`STALE_S` (also the rule for
    files written by another machine, or named the older way, without a process).
    Returns the files removed.
    """
    prefix, suffix = f".{target.name}.", ".tmp"
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        match = _LEFTOVER.fullmatch(name[len(prefix) : -len(suffix)])
        if match is None:
            continue
        try:
            stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_S
            if stale or (match["host"] == _HOST and not _running(int(match["pid"]))):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted write of %s", len(removed), target)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows, os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # another user's process (or a number this system cannot check): leave it
    return True
