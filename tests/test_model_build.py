"""The model as PuLP objects made in bulk is the model PuLP's own constructors would make:
rows kept as arrays until read load into HiGHS term for term as their expressions do,
a row changed after building (a diagnosis slack) is loaded with its change, and the
LP algorithms chosen for large models give the same plan."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pulp
import pytest

from optimiser import load_portfolio
from optimiser.entry import optimise
from optimiser.model import BuiltRow, build_model, row_matrix
from optimiser.scenario import apply_levers
from optimiser.solvers import highs as highs_engine
from optimiser.solvers import make_engine

NATIONAL = Path(__file__).resolve().parents[1] / "sample_budgets" / "national_portfolio.xlsx"


@pytest.fixture(scope="module")
def national():
    return load_portfolio(NATIONAL)


def national_model(portfolio, integer: bool):
    levers = portfolio.levers.changed(integer=integer)
    return build_model(apply_levers(portfolio, levers)), levers


def triplets(starts: np.ndarray, columns: np.ndarray, values: np.ndarray) -> list[tuple[int, int, float]]:
    rows = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    return list(zip(rows.tolist(), np.asarray(columns).tolist(), np.asarray(values).tolist(), strict=True))


def read_every_row(constraints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matrix term by term from each row's expression (as the loader once did)."""
    starts, columns, values = [0], [], []
    for row in constraints:
        columns += [variable.index for variable in row.expr]
        values += list(row.expr.values())
        starts.append(len(columns))
    return np.array(starts), np.array(columns, dtype=np.int64), np.array(values)


@pytest.mark.parametrize("integer", [False, True], ids=["relaxed", "integer"])
def test_rows_load_from_the_builders_arrays_exactly_as_from_their_terms(national, integer):
    model, levers = national_model(national, integer)
    constraints = model.constraints
    assert all(isinstance(row, BuiltRow) and row.as_built() is not None for row in constraints)
    fast = row_matrix(constraints, model.variables)
    engine = make_engine(model, levers)
    lp = engine.h.getLp()
    matrix = lp.a_matrix_
    starts, index, value = np.array(matrix.start_), np.array(matrix.index_), np.array(matrix.value_)
    if matrix.format_ == matrix.format_.kColwise:  # HiGHS may keep it by column
        held = sorted((r, c, v) for c, r, v in triplets(starts, index, value))
    else:
        held = triplets(starts, index, value)

    by_terms = read_every_row(constraints)  # reads every expression: no row is as built now
    assert all(row.as_built() is None for row in constraints)
    assert triplets(*fast) == triplets(*by_terms)
    assert triplets(*row_matrix(constraints, model.variables)) == triplets(*by_terms)
    assert sorted(triplets(*by_terms)) == held
    # and the bounds HiGHS holds are each row's own
    lows = [-np.inf if row.getLb() is None else row.getLb() for row in constraints]
    ups = [np.inf if row.getUb() is None else row.getUb() for row in constraints]
    assert np.array_equal(np.array(lp.row_lower_), np.array(lows))
    assert np.array_equal(np.array(lp.row_upper_), np.array(ups))


def test_a_row_changed_after_building_is_loaded_with_its_change(national):
    model, _ = national_model(national, False)
    before = row_matrix(model.constraints, model.variables)
    row = next(iter(model.capacity.values()))
    slack = model.add_variable("stretch", 0.0, None)
    row.expr.addterm(slack, -1.0)  # as the infeasibility diagnosis stretches a limit
    position = model.constraints.index(row)
    starts, columns, values = row_matrix(model.constraints, model.variables)
    terms = dict(zip(columns[starts[position] : starts[position + 1]].tolist(),
                     values[starts[position] : starts[position + 1]].tolist(), strict=True))
    assert terms[slack.index] == -1.0
    assert len(terms) == before[0][position + 1] - before[0][position] + 1
    unchanged = [r for r in range(len(model.constraints)) if r != position]
    old, new = triplets(*before), triplets(starts, columns, values)
    assert [t for t in old if t[0] in unchanged] == [t for t in new if t[0] in unchanged]


def test_built_rows_and_variables_are_what_pulp_would_make(national):
    model, _ = national_model(national, True)
    problem = pulp.LpProblem("reference", pulp.LpMaximize)
    for variable in model.variables[:50]:
        made = problem.add_variable(variable.name, variable.lowBound, variable.upBound, variable.cat)
        ours = {k: v for k, v in vars(variable).items() if k not in ("hash", "index")}
        theirs = {k: v for k, v in vars(made).items() if k != "hash"}
        assert ours == theirs
        assert variable.hash == id(variable) and variable.name == made.name
    for row in model.constraints:
        reference = pulp.LpConstraint(pulp.LpAffineExpression(row.expr), row.sense, row.name, -row.constant)
        assert (row.getLb(), row.getUb(), str(row), row.name) == (
            reference.getLb(), reference.getUb(), str(reference), reference.name
        )
        assert str(row.copy()) == str(reference)
        assert {k: getattr(row, k) for k in vars(reference) if k != "expr"} == {
            k: v for k, v in vars(reference).items() if k != "expr"
        }
    assert len({row.name for row in model.constraints}) == len(model.constraints)
    assert model.problem.numVariables() == len(model.variables)
    assert {v.name for v in model.problem.variables()} == {v.name for v in model.variables}


def test_building_leaves_the_garbage_collector_as_it_found_it(national):
    national_model(national, False)
    assert gc.isenabled()
    gc.disable()
    try:
        national_model(national, False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_lp_algorithms_of_large_models_give_the_same_plan(national, monkeypatch):
    """Interior point for the first LP, primal simplex for a new objective, dual simplex
    for new bounds: on the national sample (as if it were large) the same value and
    money as HiGHS's default."""
    levers = national.levers.changed(integer=False)
    default = optimise(national, levers)
    chosen: list[tuple[str, int]] = []
    choose = highs_engine._PulpHighs.choose_lp

    def spy(self, h, cost, mip):
        choose(self, h, cost, mip)
        chosen.append((h.getOptionValue("solver")[1], h.getOptionValue("simplex_strategy")[1]))

    monkeypatch.setattr(highs_engine._PulpHighs, "large_lp_columns", 1)
    monkeypatch.setattr(highs_engine._PulpHighs, "choose_lp", spy)
    large = optimise(national, levers)
    assert large.solver.stages == default.solver.stages == ("value-bound", "value", "cost")
    assert chosen == [("ipm", 1), ("simplex", 1), ("simplex", 4)]
    assert large.value == pytest.approx(default.value, rel=1e-9)
    assert large.total_cost == pytest.approx(default.total_cost, rel=1e-7)
    assert large.resources["shadow_price"].to_numpy() == pytest.approx(
        default.resources["shadow_price"].to_numpy(), rel=1e-6, abs=1e-9
    )


@pytest.mark.parametrize("integer", [False, True], ids=["relaxed", "integer"])
def test_each_mission_period_knows_its_columns(national, integer):
    model, _ = national_model(national, integer)
    cells = model.cells
    keys = list(zip(cells["mission_id"], cells["period_id"], strict=True))
    for column, handles in (
        ("coverage_column", model.coverage),
        ("excess_column", model.excess),
        ("running_column", model.running),
    ):
        expected = [handles[key].index if key in handles else -1 for key in keys]
        assert cells[column].tolist() == expected
    assert len(model.running) > 0 and len(model.excess) > 0  # both kinds are exercised
