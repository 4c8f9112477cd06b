"""A quick bound and guide for large models: the coverage relaxation (issue 12).

At tens of thousands of missions the continuous relaxation of the whole model (units,
on/off decisions, starts and stops, money flows: 870,000 columns and 1.6 million rows at
20,000 missions x 4 quarters) does not finish within a minute. :func:`coverage_relaxation`
writes a far smaller linear programme over the coverage of each mission-period alone, a
*relaxation* of the model (every plan of the model is a plan of it, worth at least as
much), so its optimum is a genuine upper bound on the value, and its coverage a guide to
round from (:meth:`optimiser.stages.Stages._quick`):

- coverage ``c[m, p] = c1 + c2`` with ``c1`` in [0, min(1/2, max)] and ``c2`` the rest
  (with diminishing returns; the first half is worth more, so the LP fills it first and
  needs no "excess" row); without them one column;
- whole units are ``quantity x c`` (a plan gives at least that): each resource's capacity
  and each zone's personnel cap keep their rows over the coverage;
- money: in each period, what the mission-periods cost at ``c`` (units at ``quantity x
  c``, running cost; start-up and closure costs left out) is at most the money of every
  funding source in that period together (the earmarks dropped);
- must-fund floors kept; average-coverage policies kept (their rows are over coverage);
  budget-share policies, on/off minimums, plans over time, ``max_change`` and the
  change penalty dropped (dropping rows, or a penalty, only raises the optimum).

:func:`coverage_point` turns the LP's plan back into column values of the model (units
``quantity x c``, running where ``c`` reaches the running floor), for rounding.
At 20,000 missions: about 150,000 columns and a few hundred rows (a few seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from optimiser.model import HALF, MissionModel, in_scope, row_matrix

__all__ = ["CoverageLp", "coverage_point", "coverage_relaxation"]

INF = float("inf")


@dataclass
class CoverageLp:
    """A linear programme in arrays, maximised: columns with ``lower``, ``upper`` and
    ``cost`` (with ``constant`` added to the objective); rows ``row_lower <= A x <=
    row_upper`` with ``A`` in CSR form (``starts``, ``index``, ``values``). ``first``
    and ``second``: each mission-period's two coverage columns (``second`` -1 where
    there is one)."""

    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    constant: float
    row_lower: np.ndarray
    row_upper: np.ndarray
    starts: np.ndarray
    index: np.ndarray
    values: np.ndarray
    first: np.ndarray
    second: np.ndarray

    def coverage_of(self, values: np.ndarray) -> np.ndarray:
        """Each mission-period's coverage in a plan of this LP (its column values)."""
        values = np.asarray(values, dtype=float)
        second = np.where(self.second >= 0, values[np.maximum(self.second, 0)], 0.0)
        return values[self.first] + second


def coverage_relaxation(
    model: MissionModel, objective: pulp.LpAffineExpression, guide: bool = False, money: float = 1.0
) -> CoverageLp:
    """The coverage relaxation of ``model`` maximising ``objective`` (the total value or a
    tier's; see the module docstring). Its optimum bounds the model's from above.

    ``guide``: also the budget-share policies, over what each mission-period costs at its
    coverage (a plan's spending also holds start-up and closure costs and units rounded
    up, so this is no longer a relaxation and bounds nothing): a plan to round from that
    keeps those policies too. ``money`` (a guide's): the share of each period's money it
    may spend, room left for the start-up and closure costs and earmarks it ignores."""
    cells, needs = model.cells, model.needs
    n_cells = len(cells)
    cov_col = cells["coverage_column"].to_numpy(np.int64)
    exc_col = cells["excess_column"].to_numpy(np.int64)
    n = len(model.variables)
    cost = np.zeros(n)
    if len(objective):
        keys = np.fromiter((v.index for v in objective), dtype=np.int64, count=len(objective))
        np.add.at(cost, keys, np.fromiter(objective.values(), dtype=float, count=len(objective)))
    owned = np.zeros(n, dtype=bool)
    owned[cov_col] = True
    owned[exc_col[exc_col >= 0]] = True
    if np.any(cost[~owned] > 0):  # (a change penalty is <= 0: dropping it raises the optimum)
        raise ValueError("the objective rewards a column the coverage relaxation does not hold")
    # columns: c1 per cell, then c2 where the cell has an excess column
    max_cov = cells["max_coverage"].to_numpy(float)
    split = exc_col >= 0
    second = np.full(n_cells, -1, dtype=np.int64)
    second[split] = n_cells + np.arange(int(split.sum()))
    first = np.arange(n_cells, dtype=np.int64)
    n_cols = n_cells + int(split.sum())
    lower = np.zeros(n_cols)
    upper = np.empty(n_cols)
    upper[:n_cells] = np.where(split, np.minimum(max_cov, HALF), max_cov)
    upper[n_cells:] = np.maximum(max_cov[split] - HALF, 0.0)
    lp_cost = np.empty(n_cols)
    lp_cost[:n_cells] = cost[cov_col]
    lp_cost[n_cells:] = cost[cov_col[split]] + cost[exc_col[split]]
    # the model's columns as coverage: coverage itself, and units x their quantity
    of_cell = np.full(n, -1, dtype=np.int64)
    weight = np.zeros(n)
    of_cell[cov_col] = np.arange(n_cells)
    weight[cov_col] = 1.0
    unit_col = needs["column"].to_numpy(np.int64)
    whole = unit_col >= 0
    of_cell[unit_col[whole]] = needs["cell"].to_numpy(np.int64)[whole]
    quantity = needs["quantity"].to_numpy(float)
    need_cell = needs["cell"].to_numpy(np.int64)
    weight[unit_col[whole]] = quantity[whole]

    kept = [*model.capacity.values(), *model.zone_caps.values(), *model.must_fund.values()]
    kept += list(model.policies.values())
    starts, index, values = row_matrix(kept, model.variables)
    rows_r: list[np.ndarray] = []
    rows_cell: list[np.ndarray] = []
    rows_coef: list[np.ndarray] = []
    row_lower: list[float] = []
    row_upper: list[float] = []

    def add(row_cells: np.ndarray, coefs: np.ndarray, low: float, high: float) -> None:
        rows_r.append(np.full(len(row_cells), len(row_lower), dtype=np.int64))
        rows_cell.append(row_cells)
        rows_coef.append(coefs)
        row_lower.append(low)
        row_upper.append(high)

    for r, constraint in enumerate(kept):
        a, b = int(starts[r]), int(starts[r + 1])
        cols, coefs = index[a:b], values[a:b]
        if np.any(of_cell[cols] < 0):  # a row over other columns (a budget share): dropped
            continue
        rhs = -float(constraint.constant)
        low = rhs if constraint.sense != pulp.LpConstraintLE else -INF
        high = rhs if constraint.sense != pulp.LpConstraintGE else INF
        add(of_cell[cols], coefs * weight[cols], low, high)
    # what a mission-period costs at coverage c (units at quantity x c, running cost)
    per_unit = needs["unit_cost"].to_numpy(float) * quantity
    cost_per_cell = np.bincount(need_cell, weights=per_unit, minlength=n_cells)
    cost_per_cell = (cost_per_cell + cells["running_cost"].to_numpy(float)) / model.money_unit
    period_of_cell = cells["period_id"].to_numpy()
    # money per period: every source's budget rows of the period together
    budget_total: dict[str, float] = {}
    for (_source, period), constraint in model.budgets.items():
        budget_total[period] = budget_total.get(period, 0.0) - float(constraint.constant)
    for period, total in budget_total.items():
        chosen = np.flatnonzero((period_of_cell == period) & (cost_per_cell > 0))
        add(chosen, cost_per_cell[chosen], -INF, total * (money if guide else 1.0))
    if guide:
        policies = model.scenario.portfolio.policies
        for rule, scope_type, scope_value, share in policies[
            ["rule", "scope_type", "scope_value", "value"]
        ].itertuples(index=False, name=None):
            if rule not in ("min_budget_share", "max_budget_share"):
                continue
            scoped = in_scope(cells, str(scope_type), str(scope_value))
            chosen = np.flatnonzero(cost_per_cell > 0)
            coefs = np.where(scoped[chosen], 1.0 - float(share), -float(share)) * cost_per_cell[chosen]
            if rule == "min_budget_share":
                add(chosen, coefs, 0.0, INF)
            else:
                add(chosen, coefs, -INF, 0.0)
    # mission-periods that cost money but that no source may pay (no flow, or no budget
    # in the period): every plan leaves them at 0
    paid = np.zeros(n_cells, dtype=bool)
    paid[model.flows["cell"].to_numpy(np.int64)] = True
    unpaid = np.flatnonzero((cost_per_cell > 0) & ~(paid & np.isin(period_of_cell, list(budget_total))))
    upper[first[unpaid]] = 0.0
    upper[second[unpaid][second[unpaid] >= 0]] = 0.0

    # each row's coverage terms on both columns of its cells
    term_row = np.concatenate(rows_r) if rows_r else np.zeros(0, dtype=np.int64)
    cell = np.concatenate(rows_cell) if rows_cell else np.zeros(0, dtype=np.int64)
    coef = np.concatenate(rows_coef) if rows_coef else np.zeros(0)
    has2 = second[cell] >= 0
    term_row = np.concatenate([term_row, term_row[has2]])
    col = np.concatenate([first[cell], second[cell][has2]])
    coef = np.concatenate([coef, coef[has2]])
    key = term_row * n_cols + col  # several units of one cell in one row: one term
    unique, inverse = np.unique(key, return_inverse=True)
    merged = np.bincount(inverse, weights=coef)
    term_row, col = unique // n_cols, unique % n_cols
    lp_starts = np.zeros(len(row_lower) + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_row, minlength=len(row_lower)), out=lp_starts[1:])
    return CoverageLp(
        lower=lower,
        upper=upper,
        cost=lp_cost,
        constant=float(objective.constant),
        row_lower=np.asarray(row_lower, dtype=float),
        row_upper=np.asarray(row_upper, dtype=float),
        starts=lp_starts,
        index=col,
        values=merged,
        first=first,
        second=second,
    )


def coverage_point(model: MissionModel, coverage: np.ndarray) -> np.ndarray:
    """Column values of ``model`` from each mission-period's coverage: coverage and its
    excess, units ``quantity x coverage``, running where the coverage reaches the running
    floor (starts, stops and money flows 0): a point to round, not a plan."""
    cells, needs = model.cells, model.needs
    coverage = np.array(coverage, dtype=float)
    unit_col = needs["column"].to_numpy(np.int64)
    whole = unit_col >= 0
    need_cell = needs["cell"].to_numpy(np.int64)
    quantity = needs["quantity"].to_numpy(float)
    run = cells["running_column"].to_numpy(np.int64)
    floor = cells["running_floor"].to_numpy(float)
    # a mission-period that may stop runs only where its whole units, rounded down from
    # quantity x coverage, reach what its running floor takes in whole units
    least = np.ceil(quantity * floor[need_cell] - 1e-6)
    short = whole & (np.floor(quantity * coverage[need_cell] + 1e-6) < least) & (run[need_cell] >= 0)
    stopped = np.zeros(len(cells), dtype=bool)
    stopped[need_cell[short]] = True
    coverage[stopped & ~cells["must_fund"].to_numpy(bool)] = 0.0
    x = np.zeros(len(model.variables))
    x[cells["coverage_column"].to_numpy(np.int64)] = coverage
    exc = cells["excess_column"].to_numpy(np.int64)
    x[exc[exc >= 0]] = np.maximum(coverage[exc >= 0] - HALF, 0.0)
    x[unit_col[whole]] = quantity[whole] * coverage[need_cell[whole]]
    on = run >= 0
    x[run[on]] = (coverage[on] >= floor[on] - 1e-6).astype(float)
    return x
