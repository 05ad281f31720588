# The two commands the README opens with: `make run` and `make test`.
# Both create .venv with Python 3.12 (Mesa 3.5 needs it) and install cscsim into it first.
# `make test` also installs what the browser test needs (Debian's chromium, Playwright) and the
# sector's tools in their own environment (.venv-sector: DfE's SSDA903 validator and
# cs-demand-model, which pin pandas<2), so a newcomer's tests run all of them, none skipped.

PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test setup lint docs bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "cscsim needs $(PYTHON) (pyenv: 'pyenv install 3.12')" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,app,parquet]"
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/cscsim run

test: $(STAMP)
	bash scripts/install_browser.sh
	bash scripts/sector_env.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

docs: $(STAMP)
	$(BIN)/cscsim indicators > docs/indicators.md
	$(BIN)/cscsim indicators --format csv > docs/indicators.csv
	$(BIN)/cscsim params --format markdown > docs/parameters.md
	$(BIN)/cscsim params --format toml > policies/scenarios/default.toml
	$(BIN)/python -m sim.workflows.history > policies/scenarios/england_2010.toml
	$(BIN)/python -m sim.workflows.history baseline > policies/scenarios/england_history_baseline.toml

bench: $(STAMP)
	$(BIN)/python benchmarks/run_speed.py
