# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo run test faults lint histories templates clean bench bench-sweden screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,devstack]'
	touch $(STAMP)

demo: $(STAMP)  ## Start the embedded stack, drive Hallsberg through every phase, stop.
	$(BIN)/leda demo

run: $(STAMP)  ## Start the embedded stack and keep it serving until Ctrl-C.
	$(BIN)/leda stack run

test: $(STAMP)  ## Run the whole suite (unit, workflows, integration, e2e with the browser tests, short fault tests) and lint.
	$(BIN)/ruff check .
	@$(BROWSER_NOTE)
	$(BIN)/python -m pytest

# The browser tests drive the system's Chromium; without one they are skipped, and `make test` says so first.
BROWSER_NOTE = { test -n "$$LEDA_CHROMIUM" || command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
	|| command -v google-chrome >/dev/null; } || echo "NOTE: no Chromium found: the browser tests \
	(tests/e2e/test_web_browser.py) will be SKIPPED. Install Debian's chromium package (apt-get install chromium) to run them."

screenshots: $(STAMP)  ## Run the browser tests and keep their screenshots in docs/screenshots (the README shows them).
	LEDA_SCREENSHOTS=docs/screenshots LEDA_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q tests/e2e/test_web_browser.py \
		tests/e2e/test_accessibility.py::test_the_reports_and_the_municipality_page_print_on_a4_with_nothing_cut_off

faults: $(STAMP)  ## The long fault tests, left out of `make test`: kill -9 of the worker during whole programmes (~3-5 min).
	$(BIN)/python -m pytest -m faults tests/faults

bench: $(BENCH_STAMP)  ## Leda against bare Temporal and raw PostgreSQL, as ratios; writes BENCHMARKS.md (< 15 min).
	$(BIN)/python -m bench

bench-sweden: $(BENCH_STAMP)  ## make bench, with all 290 municipalities through the deep analysis and 50 whole programmes (< 30 min).
	$(BIN)/python -m bench --sweden

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,devstack,bench]'
	touch $(BENCH_STAMP)

templates: $(STAMP)  ## Register the current version of every shipped programme template (README: The programme).
	$(BIN)/python -m programmes.versions

histories: $(STAMP)  ## Record workflow histories of the committed code for the replay test (README: Changing a running workflow).
	$(BIN)/python -m tests.histories.record

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain

clean:
	rm -rf .leda
