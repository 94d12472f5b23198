# The two commands of the README: `make demo` and `make test`. Both work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Installing is skipped when neither pyproject.toml nor this file changed since the last install.
STAMP := $(VENV)/.installed-test
# The `examples` extra (scikit-learn, which the examples train) is installed so that the demo runs, and the
# `gp` extra (torch, for the Gaussian process inside the `auto` algorithm) so that the suite covers it.
# torch is pinned to the CPU build that lies on this machine's disk; elsewhere pip downloads this release.
TORCH ?= torch==2.13.0

.PHONY: demo test check lint typecheck imports install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PIP) install --quiet -e '.[test,gp,examples]' '$(TORCH)'
	@touch $@

install: $(STAMP)

# The quickstart experiment on the embedded defaults (SQLite and trial folders in the per-user data folder);
# an earlier demo run is deleted first so that the demo always runs for real.
demo: install
	@$(PY) -m tuner.cli experiments delete quickstart-digits --yes >/dev/null 2>&1 || true
	$(PY) -m tuner.cli run examples/quickstart/experiment.yaml

test: install check
	@bash tests/ui/ensure_chromium.sh  # the browser of tests/ui (apt-get when missing and possible)
	$(PY) -m pytest -n 2

check: lint typecheck imports

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy tuner controllers pipelines suggestions serving

imports: install
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
