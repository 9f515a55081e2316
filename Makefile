# Plotify: `make run` sets everything up and serves the app; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_YES := 1
export PIPENV_NOSPIN := 1
export TF_CPP_MIN_LOG_LEVEL ?= 3
# Local copies of the demo files (these machines keep them in ../shared/data); empty = download.
DEMO_DATA_DIR ?= $(wildcard $(abspath ../shared/data))
export DEMO_DATA_DIR

.PHONY: run test lint upgrade setup python-env assets data models bench wrk hardening soak clean

run: setup data models ## set up, load demo data and train models if missing, serve on 127.0.0.1:5000
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup lint ## set up, check the code's style, and run the whole test suite
	$(BIN)/python -m pytest

lint: python-env ## ruff: lint and format check (settings in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every package moves to its newest release and is pinned there again (tools/pins.py); then the
# whole suite runs: commit the new Pipfile only if it passes.
upgrade: python-env ## upgrade every pinned package to its newest release, re-pin, run the tests
	$(BIN)/python -m tools.pins upgrade
	@touch $(VENV)/.installed
	$(MAKE) test

setup: python-env assets

python-env: $(VENV)/.installed

# pipenv lives in a small virtualenv of its own, so nothing is installed into the system Python
# (which Debian forbids); it resolves the Pipfile into .venv (the lock it writes is ignored: it
# names the index host).
TOOLS := .tools
$(TOOLS)/bin/pipenv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet pipenv

$(VENV)/.installed: Pipfile $(TOOLS)/bin/pipenv
	$(TOOLS)/bin/pipenv install --dev
	@touch $@

assets: static/dist/.built ## front-end packages from npm, the Vite bundle and the compiled SCSS

# Rebuilt only when the front end's sources or packages change.
static/dist/.built: $(VENV)/.installed package.json package-lock.json vite.config.js web/assets.py \
		$(shell find frontend static/scss -type f 2>/dev/null)
	npm ci --no-audit --no-fund
	npm run build
	$(BIN)/python -m web.assets
	@touch $@

data: python-env ## load the demo data if the store is empty
	$(FLASK) etl demo

models: data ## train the genre model and cluster the catalogue if models/ lacks them
	$(FLASK) ml train-missing

# Benchmarks run as modules of the bench package, so they import the project and tests.support
# from the checkout without editing sys.path.
bench: setup models wrk ## run the benchmarks and record their results under bench/results/
	@for script in bench/bench_*.py; do name=$$(basename $$script .py); echo "== $$script"; \
		$(BIN)/python -m bench.$$name || exit 1; done

# bench_api.py and bench_serving.py drive the server with wrk (a Debian package).
wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

hardening: setup models ## the hardening campaigns at full size: faults and kills, API fuzz, hostile files, soak
	@for name in faults fuzz hostile soak; do echo "== bench/bench_$$name.py"; $(BIN)/python -m bench.bench_$$name || exit 1; done

soak: setup models ## 60 s of mixed load on gunicorn (production config); fails on any error
	$(BIN)/python -m bench.bench_soak

clean:
	rm -rf $(VENV) $(TOOLS) node_modules static/dist static/css .pytest_cache test-artifacts
