# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv and install what they need on a machine that has only python3.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck install-check bench browse clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sotewatch demo --out out

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot follow setuptools' editable import hook: it reads the checkout as the
# `sotewatch` package through a symlink.
typecheck: $(STAMP)
	mkdir -p build/mypy && ln -sfn "$(CURDIR)" build/mypy/sotewatch
	MYPYPATH=build/mypy $(BIN)/mypy -p sotewatch.pipeline -p sotewatch.scrapers

test: lint typecheck
	$(BIN)/pytest -q

# The wheel, installed into a fresh venv, works outside the checkout.
install-check:
	rm -rf build/install-check && $(PYTHON) -m venv build/install-check/venv
	build/install-check/venv/bin/pip install --quiet .
	mkdir -p build/install-check/elsewhere
	cd build/install-check/elsewhere && ../venv/bin/sotewatch --db check.db check
	cd build/install-check/elsewhere && ../venv/bin/sotewatch --db demo.db demo --out out
	cd build/install-check/elsewhere && ../venv/bin/sotewatch eval-tagger "$(CURDIR)/tests/data/tagging.jsonl"

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

browse: $(STAMP)
	$(BIN)/sotewatch --db out/demo.db browse

clean:
	rm -rf out bench-out build .pytest_cache .ruff_cache .mypy_cache
