# The two commands: `make run` (the whole system, with demo data) and `make test` (lint + the suite, with branch
# coverage: a table per app, and floors it fails below; see scripts/coverage_by_app.py).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STRIPE_PORT ?= 8420

.PHONY: run prod-local test lint format migrate bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --no-input

# The demo needs the development set too: it runs the local Stripe server. scripts/run.py starts it, the
# worker and the web server, and stops them together on Ctrl-C.
run: $(VENV)/.dev migrate
	$(BIN)/python scripts/run.py --seed-demo --host $(HOST) --port $(PORT) --stripe-port $(STRIPE_PORT)

# What compose.yaml runs, as plain processes: production settings, gunicorn (gunicorn.conf.py) and a worker, on the
# PostgreSQL and Redis of DATABASE_URL and REDIS_URL (required), after migrate, billing_sync_catalog, collectstatic.
prod-local: $(VENV)/.runtime
	$(BIN)/python scripts/prod_local.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	@url="$${DATABASE_URL:-$$($(BIN)/python scripts/postgres_url.py)}"; coverage_args=""; \
	if [ -n "$$url" ]; then export DATABASE_URL="$$url"; echo "Tests on PostgreSQL: $$url"; \
	else unset DATABASE_URL; coverage_args="--table-only"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!! PostgreSQL is not reachable: the suite runs on SQLite, and the tests that need   !!"; \
	  echo "!! PostgreSQL (exclusion constraints, row locks, races) are SKIPPED.                  !!"; \
	  echo "!! The coverage table is printed, its floors (PostgreSQL's figures) are not held.   !!"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; fi; \
	DJANGO_SETTINGS_MODULE=cedarheights.settings.test $(BIN)/python manage.py makemigrations --check --dry-run && \
	$(BIN)/pytest --cov --cov-report= $(PYTEST_ARGS) && \
	$(BIN)/python scripts/coverage_by_app.py $$coverage_args

# The benchmark (bench/run.py): a school at scale on PostgreSQL, gunicorn on loopback, a table and bench/results.json.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py
