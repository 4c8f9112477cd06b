"""Solving in worker processes: the start method and a plain ``__main__`` while they start.

Sweeps (:mod:`optimiser.explore.runners`) and re-solves (:mod:`optimiser.sensitivity`)
run plans in processes, never threads: HiGHS is not run from several threads at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import types
from collections.abc import Iterator, Sequence


def process_context(preload: Sequence[str]) -> multiprocessing.context.BaseContext:
    """A fork server where there is one (fast, and safe in a threaded process), else spawn.

    ``preload``: the modules the fork server imports once (the solver stack), so that
    each worker forks from it ready to plan."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))
        return context
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def plain_main() -> Iterator[None]:
    """While worker processes start, ``__main__`` is an empty module.

    A spawned or fork-server worker first re-runs the parent's ``__main__`` script (so
    that functions defined there can be unpickled). Ours run package code only, and the
    script may be a Streamlit page or a test that must not run again in each worker.
    """
    main = sys.modules.get("__main__")
    plain = types.ModuleType("__main__")
    sys.modules["__main__"] = plain
    try:
        yield
    finally:
        if sys.modules.get("__main__") is plain and main is not None:
            sys.modules["__main__"] = main
