"""Where a sweep's scenarios are planned: here, on local processes, or on a Dask cluster.

:func:`run_points` plans a list of scenarios of one portfolio and returns their
outcomes in order, calling ``progress(done, total)`` as each one finishes (in the
calling thread, so a page may draw a progress bar from it).

- One worker, or one point: planned here, one after the other.
- Local processes (the default; ``workers`` of them, at most one per point): a
  :class:`~concurrent.futures.ProcessPoolExecutor` whose initializer receives the
  portfolio once per process; each task then carries only its levers. Processes are
  started by a fork server (spawn on Windows), never by a bare ``fork`` of a process
  that may be running threads (a Streamlit page is; so is HiGHS after a solve). The
  workers run only this package's code, so they are started as from a plain
  interpreter, without re-running the ``__main__`` script as such pools otherwise do:
  a Streamlit page (whose script is ``__main__`` while it runs) is not re-executed in
  every worker, and a five-line script needs no ``if __name__ == "__main__":``.
- A Dask cluster (``dask="tls://scheduler:8786"``, or a ``distributed.Client``): the
  portfolio is scattered to every worker once, each task carries its levers. The
  workers need mission-optimiser installed (``pip install 'mission-optimiser[dask]'``).
  What travels: the whole portfolio (every mission, zone, resource and amount) and the
  plans, pickled; whoever can reach a scheduler that does not check certificates can
  read them and run code on its workers. A ``tls://`` address is connected to with
  Dask's own TLS security (certificates from Dask's configuration,
  ``distributed.comm.tls.*``, required: encryption and the scheduler's certificate
  checked); a plain ``tcp://`` address to another machine is refused unless
  :data:`ALLOW_PLAIN_TCP` is set (``OPTIMISER_DASK_ALLOW_TCP=1``): use it only on a
  network that no one else can reach.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from optimiser.explore.point import PointOutcome, plan_point
from optimiser.levers import Levers
from optimiser.portfolio import Portfolio
from optimiser.processes import plain_main, process_context

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (points done, points in all)

BROKEN_POOL = "a sweep worker process stopped abruptly (out of memory, or killed?); try fewer workers"
DASK_MISSING = "Dask is not installed: pip install 'mission-optimiser[dask]' (dask[distributed])"


def default_workers() -> int:
    """Local processes used when none are asked for: one per CPU."""
    return os.cpu_count() or 1


def run_points(
    portfolio: Portfolio,
    scenarios: Sequence[Levers],
    workers: int | None = None,
    dask: Any = None,
    progress: Progress | None = None,
) -> tuple[list[PointOutcome], str]:
    """Plan every scenario; returns the outcomes in the order given and where they ran.

    Parameters
    ----------
    portfolio : the validated portfolio, the same for every scenario.
    scenarios : the levers of each point.
    workers : local processes; ``None`` means one per CPU, ``1`` plans here in turn.
        Ignored when ``dask`` is given.
    dask : a Dask scheduler address (``"tcp://host:8786"``), a ``distributed.Client``
        or a cluster object; ``None`` runs locally.
    progress : called with ``(done, total)`` after each point, and once with
        ``(0, total)`` before the first.

    Returns
    -------
    (outcomes, runner) : one :class:`PointOutcome` per scenario, in order, and a few
        words on where they ran ("2 local processes").
    """
    total = len(scenarios)
    report = progress or (lambda done, total: None)
    report(0, total)
    if dask is not None:
        return _on_dask(portfolio, scenarios, dask, report)
    count = min(default_workers() if workers is None else int(workers), total)
    if count <= 1:
        outcomes = []
        for index, levers in enumerate(scenarios):
            outcomes.append(plan_point(portfolio, levers, index))
            report(index + 1, total)
        return outcomes, "in this process"
    return _on_processes(portfolio, scenarios, count, report), f"{count} local processes"


# -- local processes ----------------------------------------------------------------------

_PORTFOLIO: Portfolio | None = None  # the portfolio of this worker process


def _start_worker(portfolio: Portfolio) -> None:
    global _PORTFOLIO
    _PORTFOLIO = portfolio


def _plan_in_worker(index: int, levers: Levers) -> PointOutcome:
    assert _PORTFOLIO is not None, "worker started without its portfolio"
    return plan_point(_PORTFOLIO, levers, index)


def _on_processes(portfolio: Portfolio, scenarios: Sequence[Levers], workers: int,
                  report: Progress) -> list[PointOutcome]:
    outcomes: list[PointOutcome | None] = [None] * len(scenarios)
    context = process_context([__name__])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                             initargs=(portfolio,)) as pool:
        with plain_main():  # the pool starts its processes as the tasks are submitted
            futures = [pool.submit(_plan_in_worker, index, levers) for index, levers in enumerate(scenarios)]
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                outcome = future.result()
                outcomes[outcome.index] = outcome
                report(done, len(scenarios))
        except BaseException as error:  # Ctrl-C or a broken pool: stop what has not started
            for future in futures:
                future.cancel()
            if isinstance(error, BrokenProcessPool):
                raise RuntimeError(BROKEN_POOL) from error
            raise
    return [outcome for outcome in outcomes if outcome is not None]


# -- Dask ---------------------------------------------------------------------------------


def _plan_on_dask(portfolio: Portfolio, index: int, levers: Levers) -> PointOutcome:
    return plan_point(portfolio, levers, index)


ALLOW_PLAIN_TCP = "OPTIMISER_DASK_ALLOW_TCP"
"""Environment variable that, set to 1, lets a sweep use a plain ``tcp://`` scheduler on
another machine (unencrypted, unauthenticated: a private network only)."""
_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


def dask_security(address: str) -> Any:
    """The :class:`distributed.security.Security` to reach ``address`` with, or ``None``.

    ``tls://``: Dask's TLS settings from its configuration (``distributed.comm.tls.ca-file``,
    ``.client.cert``, ``.client.key``; in ``~/.config/dask/*.yaml`` or
    ``DASK_DISTRIBUTED__COMM__TLS__*``), encryption required. ``tcp://`` (or no scheme)
    to this machine: none. ``tcp://`` to another machine: refused unless
    ``OPTIMISER_DASK_ALLOW_TCP=1``; ``inproc://``: none.

    Raises
    ------
    ValueError
        naming what is missing: the TLS certificates, or the permission for plain TCP.
    """
    from distributed.security import Security

    scheme, _, rest = address.partition("://")
    if not rest:
        scheme, rest = "tcp", address
    scheme = scheme.lower()
    if scheme == "tls":
        security = Security(require_encryption=True)
        if not (getattr(security, "tls_ca_file", None) and getattr(security, "tls_client_cert", None)):
            raise ValueError(
                f"{address}: a tls:// cluster needs Dask's TLS certificates: set "
                "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
                "distributed.comm.tls.client.key in Dask's configuration (e.g. "
                "DASK_DISTRIBUTED__COMM__TLS__CA_FILE=/path/ca.pem)"
            )
        return security
    if scheme == "tcp":
        if not rest.startswith(_LOOPBACK) and os.environ.get(ALLOW_PLAIN_TCP) != "1":
            raise ValueError(
                f"{address}: plain tcp:// sends the whole portfolio unencrypted to a scheduler anyone "
                "on the network can use to run code; use a tls:// address with Dask's TLS certificates, "
                f"or set {ALLOW_PLAIN_TCP}=1 on a private network"
            )
        return None
    if scheme == "inproc":
        return None
    raise ValueError(f"{address}: give a tls:// (or, on this machine, tcp://) Dask scheduler address")


def _on_dask(portfolio: Portfolio, scenarios: Sequence[Levers], dask: Any,
             report: Progress) -> tuple[list[PointOutcome], str]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError(DASK_MISSING) from None
    own = not isinstance(dask, Client)
    client = Client(dask, security=dask_security(str(dask))) if own else dask
    try:
        shared = client.scatter(portfolio, broadcast=True, hash=False)
        futures = [client.submit(_plan_on_dask, shared, index, levers, pure=False)
                   for index, levers in enumerate(scenarios)]
        outcomes: list[PointOutcome | None] = [None] * len(scenarios)
        try:
            for done, future in enumerate(dask_completed(futures), start=1):
                outcome = future.result()
                outcomes[outcome.index] = outcome
                report(done, len(scenarios))
        except BaseException:
            client.cancel(futures)
            raise
        where = f"Dask cluster {client.scheduler.address}" if client.scheduler else "Dask cluster"
        return [outcome for outcome in outcomes if outcome is not None], where
    finally:
        if own:
            client.close()
