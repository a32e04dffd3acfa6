# blogsite: `make run` serves the site with demo content; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
EDGE_PORT ?= 8080
export PORT EDGE_PORT

.PHONY: prepare run edge test lint format bench soak browser-deps edge-deps clean

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(BIN)/.dev: requirements-dev.txt requirements.txt $(BIN)/.runtime
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Written once with a fresh key; never overwritten.
.env:
	@umask 077; printf 'SECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "wrote .env with a new SECRET_KEY"

prepare: $(BIN)/.runtime .env
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py collectstatic --noinput -v0

run: prepare
	$(BIN)/gunicorn blogsite.wsgi -c gunicorn.conf.py

# `make run` with Varnish in front on EDGE_PORT, purged by tag on every write.
edge: prepare
	scripts/edge.sh

browser-deps:
	scripts/ensure-browser.sh

# Varnish + vmod xkey and Redis Sentinel for the edge, multi-server and failover tests.
edge-deps:
	scripts/ensure-varnish.sh

test: $(BIN)/.dev browser-deps edge-deps
	scripts/with-services.sh scripts/test-all.sh

lint: $(BIN)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.dev
	bench/run.sh

# Two minutes of mixed load with Redis killed and PostgreSQL restarted; not part of `make test`.
soak: $(BIN)/.dev
	bench/soak.sh

clean:
	rm -rf $(VENV) var node_modules
