# flowpressure: two commands on a fresh machine.
#   make demo   set up .venv from requirements.lock, then run the main job on the embedded sample
#   make test   set up .venv, then ruff, mypy and every test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: help setup browser demo test lint typecheck pytest bench lock clean

help:
	@echo "make demo   set up, ingest the embedded sample into build/demo.duckdb, show flows, pension, index demand, multiplier, write build/report.html"
	@echo "make test   set up, then ruff + mypy + pytest (doctests included)"
	@echo "make bench  set up, then run benchmarks/ (slow; not part of make test)"
	@echo "make lock   re-resolve requirements.lock from pyproject.toml (needs the package registry)"

setup: $(STAMP) browser

# The dashboard and report tests drive Debian's Chromium (Playwright cannot download its own
# browser here). These machines run as root; elsewhere install `chromium` yourself, or set
# FLOWPRESSURE_SKIP_BROWSER=1 to skip both this step and the browser tests.
browser:
	@[ "$${FLOWPRESSURE_SKIP_BROWSER:-0}" = 1 ] || command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing and cannot be installed here (needs root and apt-get)" >&2; exit 1; fi; }

# uv comes from pip when it is missing (run as `python3 -m uv`, so no PATH or shim is needed);
# it never downloads a Python (UV_PYTHON_DOWNLOADS=never): the venv uses $(PYTHON).
UV := $(PYTHON) -m uv
$(STAMP): requirements.lock pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $(STAMP)

lock:
	$(UV) pip compile pyproject.toml --all-extras --generate-hashes --quiet -o requirements.lock

# With the real public files beside the clone, the demo also checks every model against them.
SHARED_DATA := $(wildcard ../shared/data)
VALIDATION := $(if $(SHARED_DATA),--validation $(SHARED_DATA))

demo: setup
	@rm -rf build/demo.duckdb build/demo.duckdb.wal build/sample
	$(BIN)/flowpressure sample --out build/sample
	@for kind in fund etf holdings prices index_events buybacks options; do \
	  $(BIN)/flowpressure ingest $$kind build/sample/$$kind.parquet --db build/demo.duckdb; \
	done
	$(BIN)/flowpressure info --db build/demo.duckdb
	@echo; echo "== the largest fund flows in the sample (flow = TNA_t - TNA_t-1 (1 + R_t))"
	$(BIN)/flowpressure flows fund fund --db build/demo.duckdb --top 5
	@echo; echo "== what a 60/40 mandate must trade at the next month, quarter and year end"
	$(BIN)/flowpressure pension --aum 1e12 --db build/demo.duckdb --equity-id SPX --bond-id AGG_TR
	@echo; echo "== index-event demand against liquidity"
	$(BIN)/flowpressure index-demand index_events --db build/demo.duckdb --prices prices
	@echo; echo "== how far \$$1 of inflow moves prices in an inelastic market (seed 002)"
	$(BIN)/flowpressure multiplier --inflow 1 --theta 0.8 --shares 80 --price 1
	@if [ -n "$(SHARED_DATA)" ]; then echo; echo "== every model against what really happened (real files in $(SHARED_DATA))"; \
	  $(BIN)/flowpressure validate --data $(SHARED_DATA); fi
	@echo; echo "== the report: the four questions (source, mechanism, timing, absorption) with charts"
	$(BIN)/flowpressure report --db build/demo.duckdb -o build/report.html --float-cap $(VALIDATION)

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

# pytest exits 5 when it collects no test: that is a failure here, never a pass.
pytest: setup
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
