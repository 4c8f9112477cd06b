"""The Trade-offs tab (ui/tradeoffs.py) through Streamlit's AppTest, widgets found by key.

On the money-only portfolio of test_sweep.py, whose curve is known by hand: value
0, 12, 20, 25, 28 at budget_scale 0, 0.25, 0.5, 0.75, 1 (money 0..300), flat above.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_sweep import MONEY_ONLY

from optimiser import sweep, validate
from optimiser.read import read_tables
from ui import tradeoffs

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120


def tab(portfolio, levers, workers):  # the script AppTest runs: imports inside
    from ui.tradeoffs import render_tradeoffs

    render_tradeoffs(portfolio, levers, workers=workers)


@pytest.fixture(scope="module")
def portfolio():
    return validate(read_tables(MONEY_ONLY))


def open_tab(portfolio, levers=None, workers=1) -> AppTest:
    at = AppTest.from_function(tab, args=(portfolio, levers or portfolio.levers, workers),
                               default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def test_sweep_values_hold_the_current_value():
    assert tradeoffs.sweep_values(0.6, 0.0, 1.0, 5) == [0.0, 0.25, 0.5, 0.6, 0.75, 1.0]
    assert tradeoffs.sweep_values(None, 1.0, 0.5, 3) == [0.5, 0.75, 1.0]  # ends in any order
    assert tradeoffs.sweep_values(1.0, -1, 1.0, 2) == [0.0, 1.0]


def test_the_tab_asks_before_planning_the_curve(portfolio):
    at = open_tab(portfolio)
    assert tradeoffs.RESULT not in at.session_state
    assert at.selectbox(key=tradeoffs.LEVER).value == "budget_scale"
    assert at.number_input(key=tradeoffs.range_key("budget_scale", "from")).value == pytest.approx(0.5)
    assert at.number_input(key=tradeoffs.range_key("budget_scale", "to")).value == pytest.approx(1.5)
    assert "Draw the curve (21 plans)" in at.button(key=tradeoffs.RUN).label


def test_drawing_the_budget_curve_marks_the_scenario_and_the_next_million(portfolio):
    # At budget 0.5 the next point (0.75) adds 5 value for 75 money: 66,666.67 per million,
    # which reads 66,667 (a value per unit, to three significant figures).
    at = open_tab(portfolio, portfolio.levers.changed(budget_scale=0.5))
    at.number_input(key=tradeoffs.range_key("budget_scale", "from")).set_value(0.0)
    at.number_input(key=tradeoffs.range_key("budget_scale", "to")).set_value(1.0)
    at.slider(key=tradeoffs.POINTS).set_value(5)
    at.button(key=tradeoffs.RUN).click().run()
    assert not at.exception, at.exception

    result = at.session_state[tradeoffs.RESULT][1]
    assert list(result.table["budget_scale"]) == [0, 0.25, 0.5, 0.75, 1]
    assert list(result.table["value"]) == pytest.approx([0, 12, 20, 25, 28])
    metric = at.get_by_key(tradeoffs.MARGINAL).metric[0]
    assert metric.value == "66,667"  # a value per unit: formats.per_unit, as everywhere
    assert len(at.get_by_key(tradeoffs.CURVE).get("vega_lite_chart")) == 1
    drops = at.get_by_key(tradeoffs.DROPOUTS).dataframe[0].value
    assert list(drops["Mission ID"]) == ["M3", "M2", "M3", "M1", "M2", "M1"]  # as the budget falls from 1
    assert at.download_button(key=tradeoffs.DOWNLOAD_XLSX).label


def test_the_scenario_on_screen_is_marked_on_the_curve(portfolio):
    result = sweep(portfolio, None, {"budget_scale": [0.5, 1.0]}, workers=1)
    chart = tradeoffs.curve_chart(result, 1.0, "Budget").to_dict()
    marked = [layer for layer in chart["layer"] if layer.get("mark", {}).get("shape") == "diamond"
              or (isinstance(layer.get("mark"), dict) and layer["mark"].get("type") == "rule")]
    assert len(marked) == 2


def test_a_curve_for_other_levers_says_so_and_is_kept_until_drawn_again(portfolio):
    at = open_tab(portfolio)
    at.slider(key=tradeoffs.POINTS).set_value(3)
    at.button(key=tradeoffs.RUN).click().run()
    assert not at.exception, at.exception
    assert at.session_state[tradeoffs.RESULT][1].table.shape[0] == 3
    at.number_input(key=tradeoffs.range_key("budget_scale", "to")).set_value(2.0).run()
    assert any("draw it again" in info.value for info in at.info)
    assert len(at.get_by_key(tradeoffs.CURVE).get("vega_lite_chart")) == 1  # the old curve stays


@pytest.mark.slow  # the page's first plan of the national sample is an integer solve
def test_the_page_has_a_trade_offs_tab():
    app = (ROOT / "ui" / "app.py").read_text(encoding="utf-8")
    if "render_tradeoffs" not in app:
        pytest.skip("ui/app.py does not draw the Trade-offs tab yet")
    from ui import controls, state, views

    at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=300)
    at.run()
    at.toggle(key=controls.INTEGER).set_value(False).run()
    at.session_state[views.VIEW] = tradeoffs.TAB
    at.run()
    assert not at.exception, at.exception
    at.slider(key=tradeoffs.POINTS).set_value(3)
    at.button(key=tradeoffs.RUN).click().run()
    assert not at.exception, at.exception
    result = at.session_state[tradeoffs.RESULT][1]
    levers = at.session_state[state.CURRENT_LEVERS]
    assert levers.budget_scale in set(result.table["budget_scale"])
    assert at.get_by_key(tradeoffs.MARGINAL).metric[0].value != "–"
