# The two commands: `make run` (the demo site, embedded mode) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := chromium libharfbuzz-subset0 adb poppler-utils openssh-server fonts-dejavu-core texlive-latex-base texlive-fonts-recommended
TEST_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/test CELERY_BROKER_URL=redis://127.0.0.1:6379/1

.PHONY: run test install install-test system-packages services lint smoke seed clean

$(VENV)/.installed: pyproject.toml client/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,convert]'
	$(PIP) install -q -e client/
	touch $@

install: $(VENV)/.installed

run: install
	@mkdir -p "$${VAR_DIR:-var}"
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Site:     http://$(HOST):$(PORT)/   (MAI 2021: /mai-2021/, live demo edition: /mai-live/)"
	@echo "  Accounts (password mai-demo-2021): chair@example.com, reviewer@example.com,"
	@echo "            author@example.com, participant@example.com"
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo ""
	DEBUG=1 VENV_BIN=$(CURDIR)/$(VENV)/bin PORT=$(PORT) HOST=$(HOST) SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} \
	  $(VENV)/bin/honcho -f Procfile start

# Debian packages the tests need (browser, WeasyPrint's HarfBuzz subsetting, adb, sshd, pdftotext,
# pdflatex with Times for the LaTeX-made test papers),
# and PostgreSQL/Redis where the machine lacks them. Installed only when missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v pg_ctlcluster >/dev/null || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

services:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "PostgreSQL or Redis did not start"; exit 1

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: system-packages install services lint
	$(TEST_ENV) $(PY) -m pytest -q -ra tests
	$(MAKE) smoke

# The embedded default: SQLite + the serverless broker, in a scratch folder.
smoke: install
	$(PY) scripts/smoke.py

clean:
	rm -rf $(VENV) var
