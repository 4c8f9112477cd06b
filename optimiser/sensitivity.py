"""What binds and what it is worth: shadow prices in words, their ranges, and re-solves.

Three answers to "what would more of something buy?", from the cheapest to the surest:

- every plan's ``sensitivity``: each positive shadow price as a sentence
  (:func:`optimiser.prices.shadow_price_table`, made with the plan's tables);
- :func:`price_ranges`: how far each availability, budget or cap can move before its
  shadow price changes (HiGHS ranging on the continuous model with the plan's on/off
  decisions fixed: the model the shadow prices come from).
- :func:`what_if_more`: for integer plans, where duals mean little, the answer measured
  by solving again with 10% more of the resources and funding sources that matter most.

:func:`explain` attaches the last two to a plan (``plan.ranges``, ``plan.what_if``) for
the report's Sensitivity sheet, the JSON and ``optimiser solve --explain``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from optimiser import formats, wording
from optimiser.levers import Levers, SolverName
from optimiser.model import build_model
from optimiser.plan import Plan
from optimiser.portfolio import Portfolio
from optimiser.prices import (
    TOP_SHADOW_PRICES,
    money_step,
    texts_of,
    top_sentences,
    typical_amount,
)
from optimiser.processes import plain_main, process_context
from optimiser.scenario import Scenario, apply_levers
from optimiser.solve import solve
from optimiser.solvers import StageState, make_engine

log = logging.getLogger(__name__)

RANGE_COLUMNS = [
    "constraint",
    "id",
    "period_id",
    "limit",
    "used",
    "shadow_price",
    "unit",
    "low",
    "high",
    "sentence",
]
WHAT_IF_COLUMNS = [
    "kind",
    "id",
    "name",
    "change",
    "added",
    "estimated_gain",
    "measured_gain",
    "gain_bound",
    "extra_cost",
    "seconds",
    "sentence",
]
OBJECTIVE_RANGE_COLUMNS = [
    "mission_id",
    "period_id",
    "coverage",
    "value_per_unit",
    "low",
    "high",
    "weight",
    "weight_low",
    "weight_high",
    "sentence",
]
STEP_SHARE = 0.10  # what_if_more adds this share of a resource or source
RESOLVE_GAP = 0.001  # what_if_more proves its re-solves at least this closely
RESOLVE_MIN_S = 10.0  # ... and gives each at least this long (within time_limit_s)


# -- ranges ---------------------------------------------------------------------------------


def _ranging_lp(plan: Plan):
    """The continuous model of a plan's scenario with its on/off decisions fixed, ranged
    by HiGHS: (scenario, model, ranging), or None when there is nothing to range."""
    if plan.portfolio is None:
        return None
    levers = plan.levers.changed(solver=SolverName.HIGHS)  # ranging is HiGHS's
    scenario = apply_levers(plan.portfolio, levers)
    model = build_model(scenario, name="ranging")
    if not model.variables:
        return None
    engine = make_engine(model, levers)
    coverage = plan.missions.set_index(["mission_id", "period_id"])["coverage"]
    keys = list(model.running)
    if keys:
        decisions = np.array([float(coverage.get(k, 0.0) > 1e-9) for k in keys])
        engine.fix_running(*model.fixed_running(decisions))  # and the starts and stops they imply
    ranging = engine.ranging("ranging", model.value, True, max(float(levers.time_limit_s), 1.0))
    if ranging is None or ranging.state is not StageState.OPTIMAL:
        log.warning("ranging LP ended %s", None if ranging is None else ranging.state)
        return None
    return scenario, model, ranging


def is_relaxed(plan: Plan) -> bool:
    """Whether a plan is continuous (no whole units): its LP's ranging is its own."""
    portfolio = plan.portfolio
    if portfolio is None:
        return False
    return not (bool(plan.levers.integer) and bool(portfolio.resources["integer"].astype(bool).any()))


def objective_ranges(plan: Plan) -> pd.DataFrame:
    """Objective ranging for a relaxed plan: how far each mission's value per unit of
    coverage may move before the plan changes shape.

    HiGHS's ranging of the continuous model with the plan's on/off decisions fixed (the
    model of a relaxed plan): each mission-period's coverage coefficient (worth, times
    4/3 with diminishing returns) may move between ``low`` and ``high``, every other
    coefficient fixed, while the optimal basis stays (the same missions at their limits,
    the same limits binding); ``weight_low`` and ``weight_high`` say the same as the
    mission's weight. With diminishing returns a weight also moves the second half's
    coefficient, so the weight range is that of the first half's value. Whole-unit plans
    get none (their basis is not the plan's): :func:`optimiser.why.why` answers "how far
    would its weight have to rise" by solving again.

    Returns
    -------
    DataFrame
        columns of :data:`OBJECTIVE_RANGE_COLUMNS`; ``low``/``high`` NaN: no end.
    """
    if plan.portfolio is None or not plan.has_plan or not is_relaxed(plan):
        return _empty(OBJECTIVE_RANGE_COLUMNS)
    ranged = _ranging_lp(plan)
    if ranged is None or not len(ranged[2].col_cost_up):
        return _empty(OBJECTIVE_RANGE_COLUMNS)
    scenario, model, ranging = ranged
    cells = model.cells
    column = cells["coverage_column"].to_numpy(np.int64)
    cost = ranging.col_cost[column]
    up, down = ranging.col_cost_up[column], ranging.col_cost_down[column]
    high = np.where(np.isfinite(up) & (np.abs(up) < 1e20), up, np.nan)
    low = np.where(np.isfinite(down) & (np.abs(down) < 1e20), down, np.nan)
    weight = cells["weight"].to_numpy(float)
    ratio = np.divide(weight, cost, out=np.full(len(cost), np.nan), where=np.abs(cost) > 1e-12)
    frame = pd.DataFrame(
        {
            "mission_id": cells["mission_id"].astype(str),
            "period_id": cells["period_id"].astype(str),
            "coverage": np.round(ranging.col_value[column], 9) + 0.0,
            "value_per_unit": cost,
            "low": low,
            "high": high,
            "weight": weight,
            "weight_low": np.maximum(low * ratio, 0.0),
            "weight_high": high * ratio,
        }
    )
    portfolio = scenario.portfolio
    frame["sentence"] = [_objective_sentence(r, portfolio) for r in frame.itertuples(index=False)]
    order = {m: i for i, m in enumerate(portfolio.missions.index)}
    frame["_m"] = frame["mission_id"].map(order)
    frame["_p"] = frame["period_id"].map({p: i for i, p in enumerate(portfolio.period_ids)})
    frame = frame.sort_values(["_m", "_p"], kind="stable")
    return frame[OBJECTIVE_RANGE_COLUMNS].reset_index(drop=True)


def _objective_sentence(row, portfolio: Portfolio) -> str:
    period = portfolio.periods["name"].get(row.period_id, row.period_id)

    def end(x: float, text: str) -> str:
        return text if math.isnan(x) else formats.per_unit(x)

    weights = (
        f"weight {end(row.weight_low, '0')} to {end(row.weight_high, 'any')}, now {row.weight:g}"
    )
    return (
        f"{row.mission_id} in {period} (coverage {formats.percent(row.coverage)}): its value per unit of "
        f"coverage, {formats.per_unit(row.value_per_unit)}, may move from {end(row.low, 'any lower')} to "
        f"{end(row.high, 'any higher')} ({weights}) before the plan changes shape"
    )


def price_ranges(plan: Plan) -> pd.DataFrame:
    """How far each limit can move before its shadow price changes.

    Solves the continuous model with the plan's on/off decisions fixed (the model the
    shadow prices come from) with HiGHS and reads its ranging: for a limit that binds,
    the price holds while the limit stays between ``low`` and ``high``; for one that
    does not, it may fall to what the plan uses (``low``) before it binds.

    Returns
    -------
    DataFrame
        columns ``constraint`` ("resource", "budget", "zone_cap"), ``id``,
        ``period_id``, ``limit`` (usable units, money or cap), ``used``,
        ``shadow_price`` (value per unit), ``unit``, ``low``, ``high`` (NaN: no end),
        ``sentence``; binding limits first, largest price x step first.
    """
    if plan.portfolio is None or not plan.has_plan:
        return _empty(RANGE_COLUMNS)
    ranged = _ranging_lp(plan)
    if ranged is None:
        return _empty(RANGE_COLUMNS)
    scenario, model, ranging = ranged
    levers = scenario.levers
    duals, activity = ranging.row_dual, ranging.row_value
    up, down = ranging.row_up, ranging.row_down
    valid = ranging.valid
    unit = model.money_unit
    portfolio = scenario.portfolio
    currency = levers.currency
    step = money_step(typical_amount(plan.budgets))
    rows = []
    families = (
        ("resource", model.capacity, 1.0),
        ("budget", model.budgets, unit),
        ("zone_cap", model.zone_caps, 1.0),
    )
    for kind, family, scale in families:
        for (item, period), row in family.items():
            r = row.index
            limit, used = float(row.getUb()) * scale, float(activity[r]) * scale
            price = max(float(duals[r]), 0.0) / scale
            if price < 1e-9 / scale:
                price = 0.0
            if price > 0 and valid:
                low = float(down[r]) * scale if math.isfinite(down[r]) else math.nan
                high = float(up[r]) * scale if math.isfinite(up[r]) and abs(up[r]) < 1e20 else math.nan
            else:
                low, high = used, math.nan
            what = _unit_of(kind, item, portfolio, currency)
            rows.append((kind, item, period, limit, used, price, what, low, high))
    frame = pd.DataFrame(rows, columns=RANGE_COLUMNS[:-1])
    if not len(frame):
        return _empty(RANGE_COLUMNS)
    frame["sentence"] = [
        _range_sentence(row, portfolio, currency, step) for row in frame.itertuples(index=False)
    ]
    frame["_gain"] = frame["shadow_price"] * np.where(frame["constraint"] == "budget", step, 1.0)
    frame["_p"] = frame["period_id"].map({p: i for i, p in enumerate(portfolio.period_ids)})
    frame = frame.sort_values(
        ["_gain", "constraint", "id", "_p"], ascending=[False, True, True, True], kind="stable"
    )
    return frame[RANGE_COLUMNS].reset_index(drop=True)


def _unit_of(kind: str, item: str, portfolio: Portfolio, currency: str) -> str:
    if kind == "resource":
        return texts_of(portfolio.resources, "unit")[item]
    return currency if kind == "budget" else "person"


def range_words(constraint: str, low: float, high: float, limit: float, currency: str) -> str:
    """Where a binding limit's shadow price holds, in words: ``"from 12.4 to 12.6 (now
    12.6; 0.2 more at most)"``, or ``"from 18 up (now 20)"`` when the range has no top.

    Parameters
    ----------
    constraint : "resource", "budget" or "zone_cap" (budgets are spoken of as money).
    low, high : the ends of the range (NaN: no end), as in :func:`price_ranges`.
    limit : the limit now (usable units, money or cap).
    currency : label for money.
    """

    def amount(x: float) -> str:
        return formats.money(x, currency) if constraint == "budget" else formats.units(x)

    start = "" if math.isnan(low) else f"from {amount(low)} "
    end = "up" if math.isnan(high) else f"to {amount(high)}"
    more = "" if math.isnan(high) else f"; {amount(high - limit)} more at most"
    return f"{start}{end} (now {amount(limit)}{more})"


def _range_sentence(row, portfolio: Portfolio, currency: str, step: float) -> str:
    period = portfolio.periods["name"].get(row.period_id, row.period_id)
    if row.constraint == "resource":
        what = f"{texts_of(portfolio.resources, 'name')[row.id]} in {period}"
    elif row.constraint == "budget":
        what = f"{texts_of(portfolio.sources, 'name')[row.id]} in {period}"
    else:
        what = f"The personnel cap of {texts_of(portfolio.zones, 'name')[row.id]} in {period}"

    if row.shadow_price > 0:
        if row.constraint == "budget":
            per = f"{currency} {formats.money_step(step)}"
            price = f"{formats.per_unit(row.shadow_price * step)} value per {per}"
        else:
            per = "person" if row.constraint == "zone_cap" else str(row.unit)
            price = f"{formats.per_unit(row.shadow_price)} value per {per}"
        holds = range_words(row.constraint, row.low, row.high, row.limit, currency)
        return f"{what}: {price} holds {holds}"

    def amount(x: float) -> str:
        return formats.money(x, currency) if row.constraint == "budget" else formats.units(x)

    spare = row.limit - row.used
    return (
        f"{what}: not binding; it could fall by {amount(spare)} (to {amount(row.used)}) "
        "before it limits the plan"
    )


# -- re-solve answers -----------------------------------------------------------------------


def what_if_more(
    portfolio: Portfolio,
    levers: Levers | None = None,
    top: int = 5,
    *,
    plan: Plan | None = None,
    share: float = STEP_SHARE,
    workers: int | None = None,
) -> pd.DataFrame:
    """Measured answers to "what would 10% more of X add?", by solving again.

    The resources (all periods together) and funding sources whose shadow prices
    promise the most are each given ``share`` more (at least one whole unit of a
    whole-unit resource) and the scenario is solved again; the value added is
    measured, not estimated. Integer plans need this: their shadow prices come from a
    continuous model and may promise value the whole units cannot deliver.

    Parameters
    ----------
    portfolio : the validated portfolio.
    levers : the scenario (``None``: the workbook's Settings).
    top : how many resources and how many sources to try (each: one solve).
    plan : the plan of this scenario, if already solved (saves one solve).
    share : the step, 0.10 for 10% more.
    workers : solves run side by side, in processes (default: one per CPU).

    Returns
    -------
    DataFrame
        columns ``kind`` ("resource" or "source"), ``id``, ``name``, ``change`` (words:
        "+54 Military engineers per period (+10%)"), ``added`` (units per period or money
        over all periods), ``estimated_gain`` (from shadow prices), ``measured_gain``
        (value of the new plan minus the plan's: the new search starts from the plan in
        hand, so a plan with this much more value exists), ``gain_bound`` (the new
        search's bound minus the plan's value: more than this cannot be gained over the
        plan in hand; equal to ``measured_gain`` when the search is proven),
        ``extra_cost`` (change in money spent), ``seconds``, ``sentence``; largest
        measured gain first. Empty when nothing binds.
    """
    levers = portfolio.levers if levers is None else levers
    scenario = apply_levers(portfolio, levers)
    plan = plan if plan is not None else solve(scenario)
    if not plan.has_plan:
        return _empty(WHAT_IF_COLUMNS)
    trials = _resource_trials(plan, scenario, share, top) + _source_trials(plan, scenario, share, top)
    if not trials:
        return _empty(WHAT_IF_COLUMNS)

    # The plan in hand is a plan of each scenario with more: start from it, and prove the
    # new optimum more closely (at most a quarter of the promised gain, at least 0.1%) so
    # that the gain is not lost in the accepted gap; each re-solve may take ten times
    # what the plan took (at least RESOLVE_MIN_S), within the time limit.
    limit = min(float(levers.time_limit_s), max(RESOLVE_MIN_S, 10.0 * float(plan.solver.total_s)))
    tasks = []
    for trial in trials:
        target = 0.25 * max(trial["estimated_gain"], 0.0) / max(abs(float(plan.value or 0.0)), 1e-9)
        gap = min(float(levers.mip_gap), max(target, RESOLVE_GAP))
        scenario = trial.pop("scenario")
        closer = scenario.levers.changed(mip_gap=gap, time_limit_s=limit)
        tasks.append(dataclasses.replace(scenario, levers=closer))
    count = min(workers if workers is not None else (os.cpu_count() or 1), len(tasks))
    if count <= 1:
        solved = [_solve_from(task, plan) for task in tasks]
    else:  # processes, as sweeps do: HiGHS is not run from several threads at once
        with ProcessPoolExecutor(max_workers=count, mp_context=process_context([__name__])) as pool:
            with plain_main():
                futures = [pool.submit(_solve_from, task, plan) for task in tasks]
            solved = [future.result() for future in futures]
    rows = []
    for trial, (other, seconds) in zip(trials, solved, strict=True):
        trial["seconds"] = seconds
        if other.has_plan:
            base = float(plan.value or 0.0)
            gain = float(other.value or 0.0) - base
            bound = float(other.best_bound) - base if other.best_bound is not None else math.nan
            extra_cost = other.total_cost - plan.total_cost
        else:
            gain, bound, extra_cost = math.nan, math.nan, math.nan
        trial.update(measured_gain=gain, gain_bound=max(bound, gain), extra_cost=extra_cost)
        trial["sentence"] = _what_if_sentence(trial, plan.levers.currency)
        rows.append(trial)
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(
        ["measured_gain", "estimated_gain"], ascending=False, kind="stable", na_position="last"
    )
    return frame[WHAT_IF_COLUMNS].reset_index(drop=True)


def _solve_from(scenario: Scenario, start: Plan) -> tuple[Plan, float]:
    """One re-solve, started from the plan in hand; its plan and seconds."""
    started = time.perf_counter()
    return solve(scenario, start=start), time.perf_counter() - started


def _resource_trials(plan: Plan, scenario: Scenario, share: float, top: int) -> list[dict]:
    portfolio = scenario.portfolio
    capacity = scenario.capacity
    prices = plan.resources.set_index(["resource_id", "period_id"])["shadow_price"].fillna(0.0)
    whole = portfolio.resources["integer"].astype(bool) & bool(scenario.levers.integer)
    candidates = []
    for resource_id, rows in capacity.groupby("resource_id", sort=False):
        available = rows["available"].to_numpy(float)
        if not np.isfinite(available).all():
            continue  # unlimited: more changes nothing
        added = share * available
        if whole[resource_id]:
            added = np.maximum(np.round(added), 1.0)
        reserve_share = np.divide(
            rows["reserve"].to_numpy(float), available, out=np.zeros(len(rows)), where=available > 0
        )
        usable_added = added * (1.0 - reserve_share)
        price = np.array([prices.get((resource_id, p), 0.0) for p in rows["period_id"]])
        estimate = float((price * usable_added).sum())
        if estimate > 0:
            candidates.append((estimate, resource_id, rows.index, added, reserve_share))
    candidates.sort(key=lambda c: -c[0])
    trials = []
    resources = portfolio.resources
    for estimate, resource_id, index, added, reserve_share in candidates[:top]:
        more = capacity.copy()
        more.loc[index, "available"] = more.loc[index, "available"] + added
        more.loc[index, "reserve"] = more.loc[index, "available"] * reserve_share
        more.loc[index, "usable"] = more.loc[index, "available"] - more.loc[index, "reserve"]
        name, unit = str(resources.at[resource_id, "name"]), str(resources.at[resource_id, "unit"])
        per_period = float(np.max(added))
        same = bool(np.allclose(added, per_period))
        count = wording.count_of(per_period, name, unit)
        change = f"+{count} {'per period' if same else 'in the busiest period'} (+{formats.percent(share)})"
        trials.append(
            dict(
                kind="resource",
                id=resource_id,
                name=name,
                change=change,
                added=per_period,
                estimated_gain=estimate,
                scenario=dataclasses.replace(scenario, capacity=more),
            )
        )
    return trials


def _source_trials(plan: Plan, scenario: Scenario, share: float, top: int) -> list[dict]:
    budget = scenario.budget
    prices = plan.budgets.set_index(["source_id", "period_id"])["shadow_price"].fillna(0.0)
    candidates = []
    for source_id, rows in budget.groupby("source_id", sort=False):
        added = share * rows["amount"].to_numpy(float)
        price = np.array([prices.get((source_id, p), 0.0) for p in rows["period_id"]])
        estimate = float((price * added).sum())
        if estimate > 0:
            candidates.append((estimate, source_id, rows.index, added))
    candidates.sort(key=lambda c: -c[0])
    trials = []
    currency = scenario.levers.currency
    sources = scenario.portfolio.sources
    for estimate, source_id, index, added in candidates[:top]:
        more = budget.copy()
        more.loc[index, "amount"] = more.loc[index, "amount"] + added
        total = float(added.sum())
        name = str(sources.at[source_id, "name"])
        change = f"+{formats.money(total, currency)} of {name} over all periods (+{formats.percent(share)})"
        trials.append(
            dict(
                kind="source",
                id=source_id,
                name=name,
                change=change,
                added=total,
                estimated_gain=estimate,
                scenario=dataclasses.replace(scenario, budget=more),
            )
        )
    return trials


def _what_if_sentence(trial: dict, currency: str) -> str:
    gain, bound = trial["measured_gain"], trial["gain_bound"]
    subject = str(trial["change"])
    if math.isnan(gain):
        return f"{subject}: no plan (the solve failed)"
    promised = formats.per_unit(trial["estimated_gain"])
    if math.isfinite(bound) and bound - gain > max(0.01 * abs(gain), 1e-6):
        text = (
            f"{subject} adds at least {formats.per_unit(gain)} value, at most {formats.per_unit(bound)} "
            f"(the search stopped short of proof; shadow prices promised {promised})"
        )
    else:
        text = f"{subject} adds {formats.per_unit(gain)} value (shadow prices promised {promised})"
    if abs(trial["extra_cost"]) >= 0.5:
        text += (
            f"; spends {formats.money(trial['extra_cost'], currency)} more"
            if trial["extra_cost"] > 0
            else (f"; spends {formats.money(-trial['extra_cost'], currency)} less")
        )
    return text


# -- attach to a plan ------------------------------------------------------------------------


def explain(
    portfolio: Portfolio, levers: Levers | None = None, top: int = 5, *, plan: Plan | None = None
) -> Plan:
    """The plan with ``ranges`` (:func:`price_ranges`) and, for integer plans,
    ``what_if`` (:func:`what_if_more`) filled in; for relaxed plans ``objective_ranges``
    (:func:`objective_ranges`).

    A continuous plan's shadow prices are exact within their ranges, so it is not
    solved again; pass ``top=0`` to skip the re-solves of an integer plan.
    """
    levers = portfolio.levers if levers is None else levers
    plan = plan if plan is not None else solve(apply_levers(portfolio, levers))
    if not plan.has_plan:
        return plan
    ranges = price_ranges(plan)
    integer = bool(levers.integer) and bool(portfolio.resources["integer"].astype(bool).any())
    what_if = (
        what_if_more(portfolio, levers, top, plan=plan) if integer and top > 0 else _empty(WHAT_IF_COLUMNS)
    )
    objective = objective_ranges(plan)
    return dataclasses.replace(plan, ranges=ranges, what_if=what_if, objective_ranges=objective)


def explanation_text(plan: Plan, top: int = TOP_SHADOW_PRICES) -> str:
    """The ranked sentences, ranges and re-solve answers, for a terminal."""
    lines = []
    sentences = top_sentences(plan, top)
    lines.append(
        f"What binds, ranked by the value more would add (top {top}):"
        if sentences
        else "Nothing binds: more people, equipment or money would add no value."
    )
    lines += [f"  {i}. {s}" for i, s in enumerate(sentences, 1)]
    ranges = plan.ranges if plan.ranges is not None else _empty(RANGE_COLUMNS)
    binding = ranges[ranges["shadow_price"] > 0] if len(ranges) else ranges
    if len(binding):
        lines.append("How far each binding limit can move before its price changes:")
        lines += [f"  - {s}" for s in binding["sentence"].head(top)]
    what_if = plan.what_if if plan.what_if is not None else _empty(WHAT_IF_COLUMNS)
    if len(what_if):
        lines.append("Measured by solving again:")
        lines += [f"  - {s}" for s in what_if["sentence"]]
    return "\n".join(lines)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
