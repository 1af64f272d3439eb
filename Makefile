# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip -q --disable-pip-version-check

.PHONY: guide run test install install-test oidc-provider translations compile-translations migrate seed serve lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip setuptools wheel 2>/dev/null

$(STAMP): setup.cfg setup.py pyproject.toml referendum_core/crypto/_ed25519.c | $(BIN)/python
	$(PIP) install -e . > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	touch $@

$(TESTSTAMP): $(STAMP)
	$(PIP) install -e '.[test]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	touch $@

install: $(STAMP) compile-translations
install-test: $(TESTSTAMP) compile-translations oidc-provider

# The certified OpenID Connect provider the sign-in tests start (tests/oidc_provider), installed
# from its lock file; without npm those tests skip and say why.
OIDC_PROVIDER := tests/oidc_provider
oidc-provider:
	@if command -v npm >/dev/null; then $(MAKE) -s $(OIDC_PROVIDER)/node_modules/.package-lock.json; \
	else echo "npm not found: the OpenID Connect sign-in tests will be skipped"; fi

$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error

compile-translations: | $(BIN)/python
	@$(BIN)/python -m portal.i18n_build

# Lists strings marked for translation that have no Latvian text yet.
translations: $(TESTSTAMP)
	$(BIN)/python -m pytest -q tests/portal/test_translations.py

migrate: install
	$(BIN)/referendum-portal migrate

# The living demo runs on a demo clock (README "Try it in ten minutes"): this week's online-voting
# Tuesday at the current time of day. `make run DEMO_CLOCK=` serves real time.
DEMO_CLOCK ?= auto
# `make run PORT=5001` when 5000 is taken.
PORT ?= 5000

seed: migrate
	DEMO_CLOCK=$(DEMO_CLOCK) $(BIN)/referendum-portal seed

run: seed
	DEMO_CLOCK=$(DEMO_CLOCK) $(BIN)/referendum-portal serve --dev --port $(PORT)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# The whole suite: lint, architecture contracts, tests on SQLite and, when DATABASE_URL is
# set, the database tests again on PostgreSQL (each worker on a database of its own,
# <database>_gw0, ...). Tests run in TEST_WORKERS processes (pytest-xdist; 0: in this one), the
# tests of a module on one worker (tests/conftest.py). Compiled modules are kept even where the
# environment says PYTHONDONTWRITEBYTECODE: every worker and every portal process a test starts
# would otherwise compile the portal (and pytest rewrite its plugins) again.
TEST_WORKERS ?= auto
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup
test: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	env -u DATABASE_URL $(PYTEST) $(PYTEST_ARGS)
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "== database tests again on $$DATABASE_URL =="; \
	  PORTAL_TEST_DATABASE_URL="$$DATABASE_URL" $(PYTEST) -m "uses_db and not browser" $(PYTEST_ARGS); \
	else echo "DATABASE_URL not set: PostgreSQL pass skipped"; fi

# Re-take the user guide's screenshots (docs/guide/img) from the current portal.
guide: install-test
	GUIDE_SCREENSHOTS=write $(BIN)/pytest -q tests/guide

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
