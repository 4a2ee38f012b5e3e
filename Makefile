# objlen: `make run` starts the app, `make test` runs every test.
# Both create the virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PORT ?= 8501
# Loopback by default. `make run ADDRESS=0.0.0.0` shares the app on the network,
# and is refused unless a login is configured ([auth] in .streamlit/secrets.toml)
# or ALLOW_ANONYMOUS=1 says that anyone who reaches it may use it.
ADDRESS ?= localhost
ALLOW_ANONYMOUS ?=

.PHONY: run test lint bench samples screenshots browser-deps oidc-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	$(BIN)/python -m objlen app --address $(ADDRESS) --port $(PORT) \
		$(if $(filter 1 true yes,$(ALLOW_ANONYMOUS)),--allow-anonymous)

browser-deps:
	@scripts/ensure-chromium

# The login tests' OpenID Connect provider: node (apt) and oidc-provider (npm ci).
oidc-deps:
	@scripts/ensure-oidc-provider

test: $(DEV_STAMP) browser-deps oidc-deps
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/python -m ruff check .

bench: $(DEV_STAMP)
	$(BIN)/python bench/accuracy.py
	$(BIN)/python bench/speed.py

screenshots: $(DEV_STAMP) browser-deps
	OBJLEN_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e -q

samples: $(RUNTIME_STAMP)
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
