# Every target bootstraps .venv itself; on a fresh machine only python3 (>= 3.10) and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test test-spark lint typecheck pytest bench docs dist data clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Runtime environment for the demo: the package plus matplotlib for the HTML plots.
$(VENV)/.demo-installed: $(BIN)/activate pyproject.toml
	$(PIP) install -e ".[plot]"
	touch $@

# Development environment: every optional extra the test-suite exercises.
$(VENV)/.dev-installed: $(BIN)/activate pyproject.toml
	$(PIP) install -e ".[dev,dask,docs,progress,interactive,sql]" build twine
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/touchpoint demo

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

pytest: $(VENV)/.dev-installed
	$(PY) -m pytest -q

test: lint typecheck pytest

# Lazy scans on a local Spark session (needs Java: Debian's default-jre-headless when
# `java` is missing and we may install it as root).
test-spark: $(VENV)/.dev-installed
	@if ! command -v java >/dev/null 2>&1 && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Java for the Spark tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	fi
	$(PIP) install -e ".[spark]"
	$(PY) -m pytest tests/scan -m spark -q -p no:cacheprovider

bench: $(VENV)/.dev-installed
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

docs: $(VENV)/.dev-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

dist: $(VENV)/.dev-installed
	rm -rf dist && $(PY) -m build && $(BIN)/twine check dist/*

data: $(VENV)/.demo-installed
	$(PY) -m touchpoint.datasets._generator

clean:
	rm -rf $(VENV) dist site .mypy_cache .ruff_cache .pytest_cache
