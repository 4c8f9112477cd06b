# The few verbs people type. Everything runs in a local virtual environment (.venv),
# created and filled on first use from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := sample_budgets/national_portfolio.xlsx
OUT    := out

.PHONY: run report page test bench lint clean

run: report page  ## solve the national sample, write its report, open the what-if page

$(STAMP): pyproject.toml
	@echo "[1/3] Creating the virtual environment in $(VENV) (first run only)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "[2/3] Updating pip"
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "[3/3] Installing the optimiser with the page and test tools (about 2 minutes; pip names each package)"
	$(BIN)/python -m pip install --progress-bar off -e '.[ui,dev]'
	touch $(STAMP)
	@echo "Installed. Next: make report, make page, make test"

report: $(STAMP)  ## scripted run: the national sample's report, JSON and summary
	mkdir -p $(OUT)
	$(BIN)/optimiser solve $(SAMPLE) --out $(OUT)/national_plan.xlsx --json $(OUT)/national_plan.json

page: $(STAMP)  ## the what-if page on http://localhost:8501
	@echo "Opening the what-if page on http://localhost:8501 (Ctrl+C to stop)"
	$(BIN)/streamlit run ui/app.py --server.address localhost --browser.gatherUsageStats false

test: $(STAMP)  ## every test, the browser one included
	$(BIN)/python -m pytest

bench: $(STAMP)  ## speed figures (medians of several runs), kept in bench/results.jsonl
	$(BIN)/python bench/bench.py

lint: $(STAMP)
	$(BIN)/ruff check optimiser ui tests bench sample_budgets
	$(BIN)/mypy

clean:
	rm -rf $(OUT) .pytest_cache .ruff_cache .mypy_cache
