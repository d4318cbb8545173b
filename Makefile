# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The web port is SREDESK_PORT (environment or .env, default 8000): honcho and every manage.py command read the
# same .env, so links that commands print point at the server `make run` starts.

.PHONY: run test test-fast lint bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## run: set up everything, load demo data, start web + worker + beat on http://127.0.0.1:$SREDESK_PORT (8000)
run: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo --banner
	$(BIN)/python -m sredesk.procfile  # honcho, stopping each process cleanly on Ctrl-C

## test: lint, check migrations, run the test suite
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

## test-fast: the quick loop while you work: lint, then the tests on every core (pytest-xdist), without the
## end-to-end ones (tests/e2e: real workers, gunicorn, Chromium). CI keeps running `make test`.
TEST_FAST_WORKERS ?= auto
test-fast: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_FAST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

## bench: speed benchmarks on PostgreSQL (see README "Benchmarks"); each ends "<name>: <figure> vs <ceiling> ratio=<x>"
# Each benchmark works in its own database, named after DATABASE_URL's plus _<name> (sredesk_bench_sweep, ...).
# `make bench BENCHES=junit` runs one.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sredesk_bench
# bench/slack.py publishes to a real Redis (its messages are removed again at the end), bench/page.py runs a worker
# on it (only on an empty database, emptied again at the end): CELERY_BROKER_URL, else this.
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/0
BENCHES ?= sweep junit api ingest slo slack page oncall
bench: $(BIN)/.installed
	@status=0; for name in $(BENCHES); do \
	  echo "== bench/$$name.py"; \
	  DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)}" \
	    $(BIN)/python bench/$$name.py $(BENCH_ARGS) || status=1; \
	done; exit $$status

clean:
	rm -rf var/broker var/celerybeat-schedule* var/static
