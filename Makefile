# Every command a user needs. `make demo` and `make test` set up the pinned
# environment first; everything else assumes `make setup` has run.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PYTHON_VERSION := 3.11
DBT := $(BIN)/dbt
DBT_FLAGS := --profiles-dir . --target $${ACCESS_DBT_TARGET:-duckdb}
# What sqlfluff lints: dbt models and singular tests (macros are linted as
# rendered in the models that call them). The pre-commit hook's `files` says
# the same; tests/test_lint.py keeps the two equal.
SQL_PATHS := models tests/dbt

# The local demo's defaults; a real deployment sets its own.
export ACCESS_LAKE_ROOT ?= data/lake
export ACCESS_WAREHOUSE_PATH ?= data/warehouse.duckdb
export ACCESS_PSEUDONYM_KEY ?= demo-pseudonym-key

.PHONY: help setup airflow-setup airflow-up airflow-down demo test lint dbt-lint format build generate docs clean trino-up trino-down serve bench bench-demo

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: $(VENV)/.synced ## Create .venv from uv.lock (quick when nothing changed)

$(VENV)/.synced: uv.lock pyproject.toml
	@command -v uv >/dev/null || python3 -m pip install --quiet --disable-pip-version-check uv
	uv sync --frozen --python $(PYTHON_VERSION)
	@touch $@

# Airflow has its own locked environment beside the project's: it needs SQLAlchemy 2,
# Superset 1.4, so the two cannot share one. Only the daily pipeline and its tests need it.
ORCH_VENV := orchestration/.venv

airflow-setup: $(ORCH_VENV)/.synced ## Create orchestration/.venv (Airflow) from orchestration/uv.lock

$(ORCH_VENV)/.synced: orchestration/uv.lock orchestration/pyproject.toml
	@command -v uv >/dev/null || python3 -m pip install --quiet --disable-pip-version-check uv
	cd orchestration && uv sync --frozen --python $(PYTHON_VERSION)
	@touch $@

demo: setup ## Generate a fleet, build and test the warehouse, serve the dashboards
	$(BIN)/access-analytics demo

test: setup airflow-setup lint ## The whole suite (what CI runs): lint, pytest, dbt build on a generated lake
	$(BIN)/pytest

lint: setup ## ruff, sqlfluff and YAML checks, dbt parse, dbt-score
	$(BIN)/ruff check src tests lint superset_config.py orchestration/dags
	$(BIN)/ruff format --check src tests lint superset_config.py orchestration/dags
	$(BIN)/sqlfluff lint $(SQL_PATHS)
	git ls-files -z --cached --others --exclude-standard "*.yml" "*.yaml" | xargs -0 $(BIN)/check-yaml --allow-multiple-documents
	@$(MAKE) --no-print-directory dbt-lint
	$(BIN)/access-analytics dashboards check

dbt-lint: setup ## dbt parse (macro YAML must match the signatures), then dbt-score on the manifest
	$(DBT) parse $(DBT_FLAGS) --quiet --warn-error-options '{"error": ["InvalidMacroAnnotation"]}'
	@# Prints only the items that fail the run; every finding: --show failing-rules.
	$(BIN)/dbt-score lint --manifest target/manifest.json --show failing-items

format: setup ## Apply ruff and sqlfluff fixes
	$(BIN)/ruff check --fix src tests lint superset_config.py orchestration/dags
	$(BIN)/ruff format src tests lint superset_config.py orchestration/dags
	$(BIN)/sqlfluff fix $(SQL_PATHS)

generate: setup ## Write a default fleet's raw lake to $ACCESS_LAKE_ROOT
	$(BIN)/access-analytics generate --lake $(ACCESS_LAKE_ROOT) --overwrite

build: setup ## dbt build of the lake at $ACCESS_LAKE_ROOT; replaces the last good build only when it passes
	$(BIN)/access-analytics build

# Benchmark scale and repetitions: `make bench BENCH_EVENTS=10000000 BENCH_RUNS=1`.
BENCH_EVENTS ?= 1000000
BENCH_RUNS ?= 3

bench: setup ## Time generator, dbt build and the pandas / DuckDB baselines on a lake of $BENCH_EVENTS events (JSON in data/bench)
	$(BIN)/access-analytics bench --events $(BENCH_EVENTS) --runs $(BENCH_RUNS) --workdir data/bench --markdown BENCHMARKS.md

bench-demo: setup ## Time `make demo` once in a fresh clone of this checkout's HEAD (into BENCHMARKS.md)
	$(BIN)/access-analytics bench --demo-clone --workdir data/bench --markdown BENCHMARKS.md

serve: setup ## Restart Superset on the published warehouse (http://localhost:8088)
	$(BIN)/access-analytics serve --demo

docs: setup ## Generate the dbt docs site into target/
	$(DBT) docs generate $(DBT_FLAGS)

trino-up: setup ## Start the local Trino 476 (port $ACCESS_TRINO_PORT, default 8085) and register the lake
	$(BIN)/python -m access_analytics.trino up
	$(BIN)/python -m access_analytics.trino register-lake --lake $(ACCESS_LAKE_ROOT)

airflow-up: airflow-setup ## Start a local Airflow (UI on $ACCESS_AIRFLOW_PORT, default 8080) with the daily DAG; prints the login
	$(BIN)/python -m access_analytics.airflow_server up

airflow-down: ## Stop the local Airflow
	$(BIN)/python -m access_analytics.airflow_server down

trino-down: ## Stop the local Trino
	$(BIN)/python -m access_analytics.trino down

# Servers whose pid files live in var/ are stopped first, else removing var/ would leave
# them holding their ports; a server that cannot be stopped stops `clean` before any removal.
CLEAN_PATHS := data target logs var

clean: ## Stop the local servers, then remove generated data, build output and runtime state (keeps .venv and caches)
	@PYTHONPATH=src $(if $(wildcard $(BIN)/python),$(BIN)/python,python3) -m access_analytics.local_servers stop $(CLEAN_PATHS)
	rm -rf $(CLEAN_PATHS)
