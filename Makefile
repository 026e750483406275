# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test test-prepare lint format messages compilemessages migrate demo chromium clean help bench-data bench bench-live bench-digest bench-load

help:
	@echo "make run    – installieren, migrieren, Demo laden, Server auf http://$(HOST):$(PORT)"
	@echo "make test   – installieren, Lint und alle Tests (auch im Browser)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependency list changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Translations are compiled with Babel, so GNU gettext is not needed to run the site. A catalogue
# is compiled only when its .po file changed, so two test runs side by side do not rewrite it.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po locale-overrides/*/LC_MESSAGES/django.po))

compilemessages: $(MO_FILES)

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile -i $< -o $@

# Extracting strings needs GNU gettext (apt-get install gettext); only developers need it.
messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages -l de -l en -i node_modules -i var -i bench --no-obsolete
	$(MAKE) compilemessages

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: $(VENV)/.installed node_modules/.installed compilemessages demo
	@echo "Forum auf http://$(HOST):$(PORT)/ (HTTP und WebSockets, dazu ein Task-Worker für E-Mails; Strg+C beendet beide)"
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installiere Debians Chromium für die Browsertests …"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Everything the tests need, without running them (.ci/run calls it before two test runs).
test-prepare: $(VENV)/.installed-dev node_modules/.installed compilemessages chromium

test: test-prepare lint
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null || { echo "Fehlende Migrationen"; exit 1; }
	$(BIN)/pytest tests --ignore=tests/browser -q
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/pytest tests/browser -q

clean:
	rm -rf $(VENV) node_modules var/static

# Benchmark (bench/README.md). Its own database: var/bench.sqlite3, or the PostgreSQL database
# "bench" when DATABASE_URL is set; the demo database is never touched.
bench-data: $(VENV)/.installed
	$(BIN)/python -m bench.generate

# Serves the app with two uvicorn workers and measures with wrk (installed when missing).
bench: $(VENV)/.installed compilemessages
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installiere wrk für die Lastmessung …"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.search

# Live notifications: N WebSocket clients (1,000) against the same server with the Redis layer;
# PostgreSQL and Redis default to the local servers (started when down). Needs make bench-data
# with the same DATABASE_URL first.
bench-live: $(VENV)/.installed compilemessages
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench}" \
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/1}" \
	$(BIN)/python -m bench.live

# Digests: 10,000 subscribers on the benchmark data, claimed, built and sent by two worker
# processes into a counting mail backend. Needs make bench-data with the same DATABASE_URL.
bench-digest: $(VENV)/.installed compilemessages
	$(BIN)/python -m bench.digest

# Load and faults (bench/load.py): 200 members for 60 s through nginx and three uvicorn workers,
# two task workers, a private Redis; first undisturbed, then with Redis, an ASGI worker and a
# task worker restarted; then a consistency check. Needs make bench-data with the same
# DATABASE_URL (PostgreSQL). nginx is installed with apt-get when missing. About 4 minutes.
bench-load: $(VENV)/.installed $(VENV)/.installed-bench compilemessages
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installiere Debians nginx für die Lastmessung …"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx-light; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq nginx-light; fi; }
	DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench}" \
	$(BIN)/python -m bench.load
