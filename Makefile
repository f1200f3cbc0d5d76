# kinlink developer and user entry points. The README's two commands are
# `make demo` and `make test`; .ci/run runs `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
CONSTRAINTS := requirements/constraints.txt

.PHONY: install install-dev demo test lint system-deps lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP) install -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -c $(CONSTRAINTS) -e '.[dev,spark]'
	touch $@

## install: kinlink and its pinned runtime dependencies into .venv
install: $(VENV)/.installed

## install-dev: also the test and lint tools
install-dev: $(VENV)/.installed-dev

## demo: install, load the synthetic demo data into the embedded store, link it
demo: install
	$(BIN)/kinlink demo

## system-deps: Debian packages and services the tests need (PostgreSQL)
system-deps:
	bash scripts/ensure-system-deps.sh

## lint: ruff (also run by `make test`)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: install everything, then lint and run the whole test suite
## (two pytest-xdist workers, one test file each at a time: the files' module
## fixtures, such as trained models and Spark sessions, are then built once)
TEST_WORKERS ?= 2
test: install-dev system-deps lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

## lock: re-pin every dependency after changing pyproject.toml
lock: $(BIN)/python
	$(PIP) install -e '.[dev,spark]'
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^kinlink' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
