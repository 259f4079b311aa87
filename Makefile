# Rescue Nearby — every command a newcomer needs. `make run` and `make test` set everything up.
SHELL := /bin/bash
# The functions run on Lambda's Python 3.13, so the venv (tests, bench, synth) does too where this machine
# has one (on PATH, or pyenv's); otherwise the first python3 (3.11 or newer), and `make test` says so.
# (pyenv's shim for a version that is not selected exists but fails: each candidate is run once.)
PYTHON ?= $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13 python3; do \
  "$$p" -c pass >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_MODULES := node_modules/.installed
PORT ?= 8080
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test lint bench synth openapi clean

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.version_info[:2] == (3, 13) or print("note: testing on Python %d.%d; the functions run on 3.13" % sys.version_info[:2])'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

# The npm packages the pages use (Swagger UI for /docs; Leaflet, its clusters, gcoord and ECharts for the web
# pages, web/vendor.json) and the CDK CLI, pinned in package.json/package-lock.json, served offline by the
# local runtime. Without npm the API still runs, and /docs and the pages say how to install them.
$(NODE_MODULES): package-lock.json
	@if command -v npm >/dev/null; then \
	  echo "npm ci (Swagger UI for /docs, the web pages' map and chart libraries)"; \
	  npm ci --ignore-scripts --no-audit --no-fund && touch $(NODE_MODULES); \
	else echo "npm is missing, so /docs and the web pages have no libraries: install Node 20 and npm, then run npm ci" >&2; fi

## chromium: the headless browser the page tests drive (/docs, the map, console and cockpit; apt-get, when missing)
.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "chromium is missing: install it (the page tests need it)" >&2; exit 1; }; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  echo "installing chromium and CJK fonts with apt-get (the page tests drive it)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
	    chromium fonts-liberation fonts-noto-cjk >/dev/null; }

## run: the whole platform on this machine (embedded AWS, seeded Hangzhou demo, API on :$(PORT));
## PROFILE=cn runs the China profile (OIDC issuer, mainland SMS and push providers' loopback stand-ins)
run: $(INSTALLED) $(NODE_MODULES)
	PORT=$(PORT) DEPLOYMENT_PROFILE=$(or $(PROFILE),global) $(BIN)/python -m local_runtime

## demo: one rescue from SOS to credits through the local runtime, printed as a timeline (PROFILE=cn too)
.PHONY: demo
demo: $(INSTALLED)
	DEPLOYMENT_PROFILE=$(or $(PROFILE),global) $(BIN)/python -m local_runtime.demo

## test: lint, then every test (unit, integration, workflow, infrastructure, e2e);
## PYTEST_ARGS=--clock=2026-12-06T03:00+08:00 runs them as if it were that instant
test: $(INSTALLED) $(NODE_MODULES) chromium lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

## lint: ruff and mypy
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared functions local_runtime infra bench cli

## screenshots: docs/screenshots/*.png, taken by the browser tests of the pages (the README shows them)
.PHONY: screenshots
screenshots: $(INSTALLED) $(NODE_MODULES) chromium
	RESCUE_NEARBY_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -p no:randomly \
	  tests/e2e/test_aed_map_browser.py tests/e2e/test_console_browser.py tests/e2e/test_cockpit_browser.py \
	  tests/e2e/test_home_browser.py

## bench: geo search, SOS path and cold-start figures; the last line is one JSON object
## (SECTIONS="cold_start sos" runs only those)
bench: $(INSTALLED)
	$(BIN)/python -m bench $(SECTIONS)

## openapi: regenerate docs/openapi.json from the code (a test fails when it drifts)
openapi: $(INSTALLED)
	$(BIN)/python -m local_runtime.openapi > docs/openapi.json

## wheels: the Lambda layer's cp313 wheels for the profile's architecture (arm64; x86_64 for PROFILE=cn;
## ARCH=arm64|x86_64 to choose) into build/wheels (from PyPI, once); synth is then offline
PROFILE ?= global
REGION ?=
ARCH ?=
.PHONY: wheels
wheels: $(INSTALLED)
	$(BIN)/python -m infra.wheels --profile $(PROFILE) $(if $(ARCH),--architecture $(ARCH))

## synth: the CloudFormation template into cdk.out (fails on any cdk-nag finding), then cfn-lint on it;
## PROFILE=cn for the AWS China regions (REGION=cn-northwest-1 by default, or cn-north-1): docs/deploy.md
synth: $(INSTALLED) $(NODE_MODULES) wheels
	$(BIN)/python -m infra.app -c profile=$(PROFILE) $(if $(REGION),-c region=$(REGION)) $(if $(ARCH),-c lambda_architecture=$(ARCH))
	$(BIN)/python -m infra.lint cdk.out --profile $(PROFILE)

clean:
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache .hypothesis
