# Two commands for a new user: `make run` (set up, then serve the demo) and `make test`.
# Each step is a file target, so a second `make run` skips what is already done.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_PY := $(VENV)/.installed
STAMP_JS := static/vendor/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench setup db demo lint format clean serve

setup: $(STAMP_PY) $(STAMP_JS)

$(STAMP_PY): pyproject.toml .ci/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e '.[test]'
	touch $@

$(STAMP_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/uswds
	cp -R node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
	      node_modules/@uswds/uswds/dist/img node_modules/@uswds/uswds/dist/fonts static/vendor/uswds/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/axe-core/axe.min.js static/vendor/axe.min.js
	touch $@

db: $(STAMP_PY)
	$(BIN)/marketplace db upgrade

demo: db
	$(BIN)/marketplace demo load --if-empty

run: setup demo
	@echo ""
	@echo "  HHS Data Marketplace: http://$(HOST):$(PORT)"
	@echo "  Demo sign-ins (password: demo-marketplace-2026):"
	@echo "    admin@demo.hhs.gov        administrator"
	@echo "    leader@demo.hhs.gov       leadership (all divisions)"
	@echo "    steward.cdc@demo.hhs.gov  CDC data steward"
	@echo "    steward.cms@demo.hhs.gov  CMS data steward"
	@echo "    officer.nih@demo.hhs.gov  NIH procurement officer"
	@echo "    officer.cms@demo.hhs.gov  CMS procurement officer"
	@echo "    steward.fda@demo.hhs.gov  FDA steward and procurement officer"
	@echo "    viewer.hrsa@demo.hhs.gov  HRSA staff (read-only)"
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/marketplace worker & \
	  $(BIN)/marketplace run --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e '.[test,bench]'
	$(BIN)/python tests/benchmarks/run_all.py

lint: $(STAMP_PY)
	$(BIN)/ruff check marketplace procurement tests
	$(BIN)/ruff format --check marketplace procurement tests

format: $(STAMP_PY)
	$(BIN)/ruff format marketplace procurement tests
	$(BIN)/ruff check --fix marketplace procurement tests

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
