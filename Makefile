# Everything a fresh machine needs: Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format i18n bench clean lock

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# After a dependency changed in pyproject.toml: install it, then record what is installed.
lock:
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

run: install
	$(BIN)/vangnet run

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check bot tests
	$(BIN)/ruff format --check bot tests
	$(BIN)/mypy

# Benchmarks (not part of `make test`): figures beside baselines, written to
# benchmarks/results.md. BENCH_QUICK=1 for fewer sizes; PostgreSQL too when
# VANGNET_TEST_DATABASE_URL points at one.
bench: install
	$(BIN)/python benchmarks/run.py

format: install
	$(BIN)/ruff format bot tests
	$(BIN)/ruff check --fix bot tests

# Re-extract translatable strings and merge them into the catalogues.
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k t -k N_ -k tn:1,2 -o bot/locale/messages.pot --no-location --omit-header --sort-output .
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching --ignore-obsolete --omit-header

clean:
	rm -rf $(VENV) vangnet.db .pytest_cache .mypy_cache .ruff_cache
