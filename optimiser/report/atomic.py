"""Atomic file writes: a report either appears whole or not at all.

A planner may rerun a batch over last week's reports. If the run is interrupted
(a crash, a full disk, Ctrl-C) the good report already on disk must survive, so
every writer here writes to a temporary file in the same folder, flushes it to
disk and only then renames it over the target (``os.replace`` is atomic on one
file system).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
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
    temporary = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
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
