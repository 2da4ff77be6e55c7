# Community Fund Ledger. `make run` serves the demo; `make test` runs every test.
# Both install what they need first (system packages, a virtual environment, Python packages).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test test-fast lint typecheck bench openapi clean

$(STAMP): pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/ledger init
	$(BIN)/ledger demo
	@echo "Serving on http://$(HOST):$(PORT)/ (API at /api/v1, spec at /api/v1/openapi.json)"
	$(BIN)/ledger run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything but the browser tests, the PostgreSQL-only ones and the slow ones: a few minutes.
test-fast: setup
	$(BIN)/python -m pytest -m "not browser and not postgres_only and not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check ledger tests bench migrations/env.py
	$(BIN)/ruff format --check ledger tests bench

typecheck: setup
	$(BIN)/mypy ledger

bench: setup
	$(BIN)/python -m bench

openapi: setup
	$(BIN)/ledger openapi --output schemas/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
