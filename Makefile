# Alliance CRM — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: install install-dev run test lint bench clean

# The app's requirements (what production runs) ...
install: $(VENV)/.installed
	@echo "==> Installed: the app's requirements are in $(VENV) (make install-dev adds the test tools)"

$(VENV)/.installed: requirements.txt
	@echo "==> 1/3 Creating the virtual environment in $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> 2/3 Upgrading pip"
	$(BIN)/pip install --quiet --upgrade pip
	@echo "==> 3/3 Installing the pinned requirements (requirements.txt); each package is listed"
	$(BIN)/pip install --disable-pip-version-check -r requirements.txt
	touch $@

# ... and on top of them the tests and tooling (pytest, schemathesis, playwright, ruff, bandit).
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@echo "==> Installing the test and lint tools (requirements-dev.txt)"
	$(BIN)/pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

# `make run PORT=8080` (or PORT in the environment) serves on another port. In development
# (CRM_ENV unset or development) the server restarts when a source file changes.
PORT ?= 5000
RUN_ENV := $(or $(CRM_ENV),development)
RELOAD := $(if $(filter development,$(RUN_ENV)),--reload,--no-reload)

run: install
	@echo "==> Database: applying migrations (flask db upgrade)"
	$(BIN)/flask db upgrade
	@echo "==> Demo data: a small community on real Chicago beats, if the database is empty"
	$(BIN)/flask crm seed-demo --size small --if-empty
	@echo "==> Serving Alliance CRM ($(RUN_ENV)) on http://127.0.0.1:$(PORT) (Ctrl-C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT) $(RELOAD)

test: install-dev
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r crm analytics --severity-level medium

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
