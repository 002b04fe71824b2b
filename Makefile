# Quick start:  make run   (the main job: paramlab demo)      make test   (the whole test suite)
# Both create their own virtual environment in .venv, every package at the version pinned in
# constraints.txt, so the suite that passed yesterday passes today. PyTorch is pinned to the
# 2.13.0 CPU build first: an unpinned torch would pull a multi-GB GPU build.
#   make test-latest   the same checks on the newest release of every dependency (torch aside)
#   make test-oldest   the same checks at the lowest versions paramlab supports that matter
#   make docs          the documentation site (docs/, mkdocs.yml) served at http://127.0.0.1:8000
#   make docs-build    ...built into site/ with warnings as errors (tests/test_docs.py does too)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
CONSTRAINTS := constraints.txt
# The lower bounds of pyproject.toml's ranges that change what paramlab counts.
OLDEST := transformers==5.23.0
# ...and the pins its own requirements rule out (it needs huggingface_hub < 2), left free.
OLDEST_FREE := huggingface_hub
export KERAS_BACKEND := torch

.PHONY: run count test test-latest test-oldest constraints lint bench docs docs-build clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-lab: pyproject.toml $(CONSTRAINTS) | $(BIN)/activate
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[lab]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/activate
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@

$(VENV)/.installed-docs: pyproject.toml $(CONSTRAINTS) | $(BIN)/activate
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[docs]'
	touch $@

run: $(VENV)/.installed-lab
	$(BIN)/paramlab demo --out runs/demo

count: $(VENV)/.installed-lab
	$(BIN)/paramlab count 784-10-10-3 --explain
	$(BIN)/paramlab count seed-mnist-cnn
	$(BIN)/paramlab count 40-2048-1024-1024-1 --data 13000,40

# The checks every target below runs, with the interpreter of $(1); lint-imports checks the
# layering contracts in .importlinter (the package is installed editable, so importable).
checks = $(1)/ruff check src tests benchmarks && $(1)/python -m mypy src && \
	$(1)/lint-imports && $(1)/python -m pytest -q

test: $(VENV)/.installed-test
	$(call checks,$(BIN))

# A fresh .venv-latest with the newest releases (torch stays the CPU 2.13.0 build); what was
# installed is written to .venv-latest/versions.txt. A failure here, with `make test` green,
# is upstream drift: fix it, then `make constraints` pins the versions that pass.
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/pip install --quiet --upgrade pip
	.venv-latest/bin/pip install --quiet $(TORCH)
	echo '$(TORCH)' > .venv-latest/torch.txt
	.venv-latest/bin/pip install --quiet --upgrade --upgrade-strategy eager \
		-c .venv-latest/torch.txt -e '.[test]'
	.venv-latest/bin/pip freeze --exclude-editable > .venv-latest/versions.txt
	$(call checks,.venv-latest/bin)

# A fresh .venv-oldest: the pinned set, with $(OLDEST) in place of their pins.
test-oldest:
	rm -rf .venv-oldest
	$(PYTHON) -m venv .venv-oldest
	.venv-oldest/bin/pip install --quiet --upgrade pip
	.venv-oldest/bin/pip install --quiet $(TORCH)
	grep -v -i -E '^($(subst $(eval) ,|,$(OLDEST_FREE) $(foreach p,$(OLDEST),$(firstword $(subst ==, ,$(p))))))==' \
		$(CONSTRAINTS) > .venv-oldest/constraints.txt
	.venv-oldest/bin/pip install --quiet -c .venv-oldest/constraints.txt $(OLDEST) -e '.[test]'
	.venv-oldest/bin/pip freeze --exclude-editable > .venv-oldest/versions.txt
	$(call checks,.venv-oldest/bin)

# Pin what `make test-latest` installed and passed on.
constraints: .venv-latest/versions.txt
	{ sed -n '/^#/p' $(CONSTRAINTS); grep -v -E '^torch==' $<; \
	  echo '$(TORCH)  # the CPU build; an unpinned torch pulls a multi-GB GPU build'; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs serve

docs-build: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_count.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_engine.py --quick

clean:
	rm -rf $(VENV) .venv-latest .venv-oldest .pytest_cache .hypothesis site .import_linter_cache .grimp_cache
