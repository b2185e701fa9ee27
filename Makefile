# `make test` is the one command CI runs: it creates ./venv from requirements-dev.txt (the runtime
# pins of requirements.txt, which `pulumi up` installs into the same venv through `toolchain: pip`,
# plus the development tools), lints, type-checks and runs the tests.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: test lint typecheck unit fuzz docs plan bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
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

# --- the suite (docs/development.md): pytest-xdist workers, one test file per worker at a time
# (--dist loadfile), so a file's session fixtures (rendered stacks) are built once per worker.
# Hypothesis runs the `ci` profile (tests/conftest.py: derandomized, the same examples every run);
# `make fuzz` runs only the property tests under the `fuzz` profile (random, many more examples).
PYTEST_WORKERS ?= 2

unit: $(BIN)/.installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

fuzz: $(BIN)/.installed
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m hypothesis -n $(PYTEST_WORKERS) --dist loadfile
# --- end of the suite

# The user guide, built strictly: a broken link, anchor or example include fails `make test`.
# Not --quiet: it hides the warnings from the strict check, which then passes anything.
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

plan: $(BIN)/.installed
	$(BIN)/python -m plan $(STACK)

# Exits non-zero when a figure misses its goal (bench/goals.py); not part of `make test`.
bench: $(BIN)/.installed
	$(BIN)/python bench/lifecycle_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
