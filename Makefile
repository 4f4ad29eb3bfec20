# Alliance CRM — two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: install install-dev run test lint bench clean

# The app's requirements (what production runs) ...
install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# ... and on top of them the tests and tooling (pytest, schemathesis, playwright, ruff, bandit).
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask crm seed-demo --size small --if-empty
	@echo "Serving Alliance CRM on http://127.0.0.1:5000 (Ctrl-C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-dev
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r crm analytics --severity-level medium

bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache tests/artifacts
