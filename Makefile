# The two commands: `make run` (the whole system, with demo data) and `make test` (lint + the suite).
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STRIPE_PORT ?= 8420

.PHONY: run test lint format migrate bench

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

# The demo needs the development set too: it runs the local Stripe server.
run: $(VENV)/.dev migrate
	$(BIN)/python manage.py seed_demo
	@mkdir -p run
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python scripts/local_stripe.py --port $(STRIPE_PORT) --state run/localstripe.pickle \
	  --webhook http://$(HOST):$(PORT)/billing/stripe/webhook/ & \
	for _ in $$(seq 50); do STRIPE_API_HOST=http://127.0.0.1:$(STRIPE_PORT) $(BIN)/python manage.py billing_sync_catalog > run/catalog.log 2>&1 && break; sleep 0.2; done; \
	tail -n 1 run/catalog.log; \
	echo ""; \
	echo "  Cedar Heights is starting at http://$(HOST):$(PORT)/"; \
	echo "  Back office (Django admin): http://$(HOST):$(PORT)/admin/   admin@cedarheights.test / cedarheights-admin"; \
	echo "  Parents and teachers: http://$(HOST):$(PORT)/accounts/login/   e.g. linh.nguyen@example.com / cedarheights-demo"; \
	echo "  Background worker: django-q2 cluster. Local Stripe server: http://127.0.0.1:$(STRIPE_PORT)/"; \
	echo "  Ctrl-C stops everything."; \
	echo ""; \
	STRIPE_API_HOST=http://127.0.0.1:$(STRIPE_PORT) $(BIN)/python manage.py qcluster & \
	STRIPE_API_HOST=http://127.0.0.1:$(STRIPE_PORT) $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	@url="$${DATABASE_URL:-$$($(BIN)/python scripts/postgres_url.py)}"; \
	if [ -n "$$url" ]; then export DATABASE_URL="$$url"; echo "Tests on PostgreSQL: $$url"; \
	else unset DATABASE_URL; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!! PostgreSQL is not reachable: the suite runs on SQLite, and the tests that need   !!"; \
	  echo "!! PostgreSQL (exclusion constraints, row locks, races) are SKIPPED.                  !!"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; fi; \
	DJANGO_SETTINGS_MODULE=cedarheights.settings.test $(BIN)/python manage.py makemigrations --check --dry-run && \
	$(BIN)/pytest $(PYTEST_ARGS)

# The benchmark (bench/run.py): a school at scale on PostgreSQL, gunicorn on loopback, a table and bench/results.json.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py
