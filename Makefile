# Rescue Nearby — every command a newcomer needs. `make run` and `make test` set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PORT ?= 8080
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test lint bench synth openapi clean

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(INSTALLED)

## run: the whole platform on this machine (embedded AWS, seeded Hangzhou demo, API on :$(PORT))
run: $(INSTALLED)
	PORT=$(PORT) $(BIN)/python -m local_runtime

## demo: one rescue from SOS to credits through the local runtime, printed as a timeline
.PHONY: demo
demo: $(INSTALLED)
	$(BIN)/python -m local_runtime.demo

## test: lint, then every test (unit, integration, workflow, infrastructure, e2e)
test: $(INSTALLED) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

## lint: ruff and mypy
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared functions local_runtime infra bench cli

## bench: geo search and SOS path figures; the last line is one JSON object
bench: $(INSTALLED)
	$(BIN)/python -m bench

## openapi: regenerate docs/openapi.json from the code (a test fails when it drifts)
openapi: $(INSTALLED)
	$(BIN)/python -m local_runtime.openapi > docs/openapi.json

## wheels: the Lambda layer's arm64/cp313 wheels into build/wheels (from PyPI, once); synth is then offline
.PHONY: wheels
wheels: $(INSTALLED)
	$(BIN)/python -m infra.wheels

## synth: the CloudFormation template into cdk.out (fails on any cdk-nag finding), then cfn-lint on it
synth: $(INSTALLED) wheels
	$(BIN)/python -m infra.app
	$(BIN)/python -m infra.lint cdk.out

clean:
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache .hypothesis
