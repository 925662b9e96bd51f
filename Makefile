# Two entry points a new user needs: `make demo` and `make test`. Both build .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[progress,plots,images,fast]'
	touch $@

$(VENV)/.test: pyproject.toml | $(VENV)/.core
	# Pin the CPU build of torch first, so the `test` extra's range never pulls a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,progress,plots,images,fast]'
	touch $@

.PHONY: demo test test-all bench clean
demo: $(VENV)/.core
	$(BIN)/lamina demo

test: $(VENV)/.test
	$(BIN)/python -m pytest

test-all: $(VENV)/.test
	$(BIN)/python -m pytest -m ''

bench: $(VENV)/.test
	$(BIN)/python benchmarks/suite.py

clean:
	rm -rf $(VENV) build *.egg-info
