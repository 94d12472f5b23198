# The two commands of the README: `make demo` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Installing is skipped when pyproject.toml has not changed since the last install.
STAMP := $(VENV)/.installed-test

.PHONY: demo test check lint typecheck imports install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

demo: install
	$(PY) -m tuner.cli validate examples/quickstart/experiment.yaml

test: install check
	$(PY) -m pytest

check: lint typecheck imports

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy tuner/errors.py tuner/states.py tuner/config.py tuner/spec tuner/space suggestions

imports: install
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
