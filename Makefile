# The two commands a fresh machine needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Written after a complete install; re-installs only when the lock or the project changes.
STAMP := $(VENV)/.bootstrapped
SYSTEM_PACKAGES := chromium docker-compose prometheus redis-server nodejs npm
# The widget's bundle: built from widget/src/ by esbuild (pinned in package-lock.json), never committed.
WIDGET := engagement/web/static/widget.js
NODE_STAMP := node_modules/.installed

.PHONY: bootstrap system-packages services demo test lint lock widget messages

bootstrap: $(STAMP) system-packages $(WIDGET)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/engagement i18n compile >/dev/null
	touch $@

widget: $(WIDGET)

$(NODE_STAMP): package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	touch $@

$(WIDGET): $(NODE_STAMP) widget/build.mjs $(wildcard widget/src/*.js widget/src/features/*.js)
	npm run --silent build

# Chromium drives the browser tests, docker-compose validates docker-compose.yml, promtool
# (Debian's prometheus package) checks and tests the alert rules, the fault tests start
# (and kill) redis-servers of their own, node and npm build the widget.
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "warning: missing$$missing: run as root: apt-get install$$missing" >&2; \
	  fi; \
	fi

services:
	@scripts/services

demo: bootstrap
	$(BIN)/engagement demo $(DEMO_ARGS)

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint services
	$(BIN)/pytest

# After changing a user-facing string: re-extract, merge into every language, compile, check.
# The check lists what still needs a translation (exit 1 until every catalog is complete).
messages: $(STAMP)
	$(BIN)/engagement i18n extract
	$(BIN)/engagement i18n compile
	$(BIN)/engagement i18n check

lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock
