# commentmod — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= ../shared/data

.DEFAULT_GOAL := help
.PHONY: help install run test lint typecheck fmt check models evaluate bench bench-isso clean
.PHONY: test-wordpress wordpress-zip wordpress-screenshots console-screenshots

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS=":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its dev tools

var/secrets.env: | $(STAMP)
	@mkdir -p var
	@umask 077 && $(BIN)/commentmod keys generate > var/secrets.env
	@echo "generated development secrets in var/secrets.env (never commit them)"

run: $(STAMP) var/secrets.env ## start web + worker + scheduler + trainer on SQLite and the embedded broker (127.0.0.1:8000)
	@set -a && . ./var/secrets.env && set +a && \
	  $(BIN)/commentmod db upgrade && \
	  exec $(BIN)/commentmod serve

test: $(STAMP) ## run the whole suite (PostgreSQL + Redis when COMMENTMOD_TEST_* are set, else embedded)
	$(BIN)/lint-imports
	$(BIN)/pytest --ignore=tests/wordpress

lint: $(STAMP) ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy on service/ and workers/
	$(BIN)/mypy service workers

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint typecheck test ## everything CI cares about, plus style and types

# The solver's dot products run in OpenBLAS, whose kernel (AVX2 vs AVX-512) and thread count
# change the last bits of the weights: pinned, `make models` rewrites the committed artifacts
# byte for byte on any x86-64 machine (docs/models.md, "Commands").
REPRODUCIBLE_BLAS := OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=2

models: $(STAMP) ## retrain every detector artifact from ../shared/data (byte-identical)
	$(REPRODUCIBLE_BLAS) $(BIN)/commentmod train --data $(DATA)

models-nc: $(STAMP) ## build the opt-in TRAC-1 toxicity model locally (CC BY-NC-SA 4.0: never commit it)
	$(BIN)/python -m workers.training --data $(DATA) --include-nc

evaluate: $(STAMP) ## evaluate the detectors on the dev splits (see docs/models.md)
	$(BIN)/commentmod evaluate --check spam $(DATA)/youtube_spam_uci/dev.csv
	$(BIN)/commentmod evaluate --check toxicity $(DATA)/trac1_hi/dev.csv

ISSO_VENV := var/bench/isso

$(ISSO_VENV)/bin/gunicorn:
	$(PYTHON) -m venv $(ISSO_VENV)
	$(ISSO_VENV)/bin/pip install --quiet 'isso==0.14.0' 'gunicorn>=23,<24'

bench-isso: $(ISSO_VENV)/bin/gunicorn ## install Isso in its own virtualenv, for the embedded comparison

bench: $(STAMP) bench-isso ## run the benchmarks (needs wrk and a local PostgreSQL; see docs/benchmarks.md)
	$(BIN)/python bench/bench_detectors.py
	$(BIN)/python bench/run.py
	$(BIN)/python bench/embedded.py

console-screenshots: $(STAMP) ## redraw docs/console/*.png in headless Chromium (needs chromium, chromium-driver)
	COMMENTMOD_CONSOLE_SCREENSHOTS=docs/console $(BIN)/pytest tests/console/test_console_pages.py -k screenshots -q

clean: ## remove the virtualenv and local state
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# --- WordPress plugin (integrations/wordpress/commentmod, docs/wordpress.md) ----------------
WP_PLUGIN := integrations/wordpress/commentmod
WP_ZIP    := dist/commentmod-wordpress.zip

test-wordpress: $(STAMP) ## the plugin end to end against a real WordPress (needs wordpress php-cli php-mysql, MariaDB)
	$(BIN)/pytest tests/wordpress

wordpress-zip: ## build dist/commentmod-wordpress.zip (upload it in Plugins -> Add New)
	@mkdir -p dist
	@rm -f $(WP_ZIP)
	$(PYTHON) -m zipfile -c $(WP_ZIP) $(WP_PLUGIN)
	@echo "built $(WP_ZIP)"

wordpress-screenshots: $(STAMP) ## retake docs/images/wordpress-*.png with headless Chromium
	$(BIN)/python -m tests.wordpress.screenshots docs/images
