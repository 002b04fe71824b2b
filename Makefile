# Quick start:  make run   (the main job: paramlab demo)      make test   (the whole test suite)
# Both create their own virtual environment in .venv. PyTorch is pinned to the 2.13.0 CPU
# build first: an unpinned torch would pull a multi-GB GPU build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
export KERAS_BACKEND := torch

.PHONY: run count test lint bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-lab: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[lab]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed-lab
	$(BIN)/paramlab demo --out runs/demo

count: $(VENV)/.installed-lab
	$(BIN)/paramlab count 784-10-10-3 --explain
	$(BIN)/paramlab count seed-mnist-cnn
	$(BIN)/paramlab count 40-2048-1024-1024-1 --data 13000,40

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m mypy src
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_count.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_engine.py --quick

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
