# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.yaml
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck pytest bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24.2"  # older pips mis-resolve lxml's extras (lxml[html_clean])

# Installs are pinned by constraints.txt (regenerate with `make lock`), so every machine gets the same set.
$(VENV)/.run-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e .
	@touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e '.[dev]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## set up and start the daemon on ./config.yaml
	$(BIN)/monitor -c $(CONFIG) run

test: $(VENV)/.dev-installed  ## set up and run every check: lint, types, tests
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(VENV)/.dev-installed  ## benchmarks: figures as ratios against the anchors measured in the same run
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/metadata.py
	$(BIN)/python benchmarks/dedup.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/postgres.py  # issue 16; skipped (one line) without a PostgreSQL server

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed
	$(BIN)/pytest -q

lock: $(BIN)/python  ## re-resolve the newest allowed versions into constraints.txt
	$(PIP) install -U -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
