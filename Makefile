# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The PostgreSQL pass of the test suite; pytest-django creates and drops test_tiebreak.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tiebreak
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: venv dev-venv demo serve test lint format test-sqlite test-postgres browser bench clean

$(VENV)/.runtime: requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime
dev-venv: $(VENV)/.dev

demo: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Debian's Chromium (and an emoji font for the screenshots) for the Playwright browser tests;
# Playwright's own browser download does not work offline, so the tests use /usr/bin/chromium.
browser:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/noto || \
		{ apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji; }

lint: dev-venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Everything, on the embedded default (SQLite, eager Celery). PostgreSQL/Redis-only tests
# are deselected here and run in the next pass.
test-sqlite: dev-venv browser
	env -u DATABASE_URL -u CELERY_BROKER_URL $(VENV)/bin/pytest -m "not postgres and not redis" -q

# Every test that touches the database, again on the real PostgreSQL, plus the tests that
# need PostgreSQL itself (concurrency) or Redis and a real Celery worker.
test-postgres: dev-venv
	DATABASE_URL=$(TEST_DATABASE_URL) TIEBREAK_TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest -m "(django_db or postgres or redis) and not browser" -q

test: lint test-sqlite test-postgres

bench: dev-venv
	@echo "Benchmarks print their own figures; see bench/README.md"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles .test-media
