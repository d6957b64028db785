# One entry point for people and CI. `make run` and `make test` work on a fresh
# machine with only Python 3.11+: they make the virtualenv and install into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# `make test-both`: the linters, then the suite on SQLite and on PostgreSQL side by side
# (tools/test-both; PostgreSQL at PARLEY_TEST_POSTGRES_URL). CI runs this.
.PHONY: run test test-both lint format lock clean hapi hapi-stop fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs are pinned by constraints.txt and redone only when it or pyproject changes.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/parley seed-demo --if-empty
	@echo "Parley: sign in at http://$(HOST):$(PORT)/ (API docs at /docs, health at /health)"
	$(BIN)/parley serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

test-both: lint
	PYTEST=$(BIN)/pytest tools/test-both

# A longer fuzzing run of the whole OpenAPI document than the test suite's.
fuzz: $(VENV)/.installed-dev
	PARLEY_FUZZ_EXAMPLES=$${PARLEY_FUZZ_EXAMPLES:-100} $(BIN)/pytest tests/test_fuzz.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The real HAPI FHIR server (fhir/hapi), on 127.0.0.1:8080 until `make hapi-stop`.
hapi:
	fhir/hapi/start-background.sh

hapi-stop:
	fhir/hapi/stop.sh

# Re-resolve every dependency to its newest allowed version and pin the result.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | sort > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
