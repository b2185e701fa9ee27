# `make test` is the one command CI runs: it creates ./venv from requirements.txt (the same virtual
# environment `pulumi up` uses through `toolchain: pip`), lints, type-checks and runs the tests.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: test lint typecheck unit docs plan bench clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

test: lint typecheck unit docs

# zizmor audits the workflows and dependabot.yml under .github at its default persona; --offline
# keeps `make test` reproducible (no GitHub API calls, so no online-only audits).
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/zizmor --offline .github
	$(BIN)/lint-imports

typecheck: $(BIN)/.installed
	$(BIN)/mypy .
	cd policy && ../$(BIN)/mypy --config-file ../pyproject.toml controls.py __main__.py

unit: $(BIN)/.installed
	$(BIN)/python -m pytest

# The user guide, built strictly: a broken link, anchor or example include fails `make test`.
# Not --quiet: it hides the warnings from the strict check, which then passes anything.
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

plan: $(BIN)/.installed
	$(BIN)/python -m plan $(STACK)

bench: $(BIN)/.installed
	$(BIN)/python bench/lifecycle_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
