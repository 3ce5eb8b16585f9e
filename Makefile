# The two commands: `make run` (set up and serve the app) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint setup browser

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the Playwright browser tests (installed when missing and we are root).
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } || { echo "Install chromium (apt-get install chromium) for the browser tests"; exit 1; }

run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py ensure_admin
	DEBUG=$${DEBUG:-true} $(PY) manage.py setup_schedules
	DEBUG=$${DEBUG:-true} $(PY) manage.py run_stack

test: $(STAMP) browser
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
