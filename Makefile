# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo run test lint histories clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## Start the embedded stack, drive Hallsberg through every phase, stop.
	$(BIN)/leda demo

run: $(STAMP)  ## Start the embedded stack and keep it serving until Ctrl-C.
	$(BIN)/leda stack run

test: $(STAMP)  ## Run the whole suite (unit, workflows, integration, e2e) and lint.
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

histories: $(STAMP)  ## Record workflow histories of the committed code for the replay test (README: Changing a running workflow).
	$(BIN)/python -m tests.histories.record

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain

clean:
	rm -rf .leda
