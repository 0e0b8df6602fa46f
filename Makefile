# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv on first use.
# `make demo` installs only what changegate needs to run; `make test` adds the dev toolchain.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-stamp
DEV_STAMP     := $(VENV)/.dev-stamp
PORT   ?= 8000
HOST   ?= 127.0.0.1

.PHONY: demo test lint format install install-dev chromium mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(MAKE) --no-print-directory chromium
	touch $@ $(RUNTIME_STAMP)

# The browser tests (tests/web) drive Debian's Chromium: installed here when absent and we
# are root; otherwise a loud warning, and `make test` skips them (CI fails instead).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y chromium || (apt-get update && apt-get install -y chromium); \
	  else \
	    echo "WARNING: /usr/bin/chromium is absent: the browser tests will be SKIPPED" \
	      "(sudo apt-get install chromium)"; \
	  fi; \
	fi

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/changegate demo --host $(HOST) --port $(PORT)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint chromium
	$(BIN)/pytest -n auto

# Mutation testing of domain/ and ledger.py (about 5 minutes; docs/testing.md has the score).
mutation: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) changegate-demo.db* .pytest_cache .mypy_cache .ruff_cache mutants
