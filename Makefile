# Quick start:  make run   (the main job)      make test   (the whole test suite)
# Both create their own virtual environment in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export KERAS_BACKEND := torch

.PHONY: run test lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed-core
	$(BIN)/paramlab count 784-10-10-3
	$(BIN)/paramlab count seed-mnist-cnn
	$(BIN)/paramlab count 40-2048-1024-1024-1 --data 13000,40

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_count.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
