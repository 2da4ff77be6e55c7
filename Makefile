# Community Fund Ledger. `make run` serves the demo; `make test` runs every test.
# Both install what they need first (system packages, a virtual environment, Python packages).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The message catalogs; their compiled .mo files are build output, made here and ignored by git.
CATALOGS := $(wildcard ledger/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
# axe-core, which the browser tests inject into every page to check accessibility (package.json).
AXE := node_modules/axe-core/axe.min.js
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test test-fast lint typecheck bench openapi messages clean

$(STAMP): pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics --input-file $< --output-file $@

$(AXE): package.json package-lock.json $(STAMP)
	npm ci --no-audit --no-fund --silent
	touch $(AXE)

setup: $(STAMP) $(COMPILED) $(AXE)

# After changing strings: extract them and merge into both catalogs, then translate what is new.
messages: setup
	$(BIN)/pybabel extract --mapping-file babel.cfg --no-location --sort-by-file --project community-fund-ledger --output-file ledger/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete --input-file ledger/translations/messages.pot --output-dir ledger/translations

run: setup
	$(BIN)/ledger init
	$(BIN)/ledger demo
	@echo "Serving on http://$(HOST):$(PORT)/ (API at /api/v1, spec at /api/v1/openapi.json)"
	$(BIN)/ledger run --host $(HOST) --port $(PORT)

# The tests run on every core (pytest-xdist, at most four workers); the few marked `serial` (one
# restarts PostgreSQL under the others) run alone afterwards. Exit status 5 is "nothing selected".
TEST_WORKERS ?= auto
test: setup
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4 -m "not serial" $(PYTEST_ARGS); parallel=$$?; \
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS); alone=$$?; \
	for status in $$parallel $$alone; do [ $$status -eq 0 ] || [ $$status -eq 5 ] || exit $$status; done

# Everything but the browser tests, the PostgreSQL-only ones and the slow ones: a few minutes.
test-fast: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4 -m "not browser and not postgres_only and not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check ledger tests bench migrations/env.py
	$(BIN)/ruff format --check ledger tests bench
	$(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy ledger

# The benchmarks measure posting against django-hordak in the same run: the optional [peer] extra.
bench: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,peer]'
	$(BIN)/python -m bench

openapi: setup
	$(BIN)/ledger openapi --output schemas/openapi.json

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
