# ecgscope: two commands do all set-up.
#   make demo   install what is missing, then run the main job on built-in data
#   make test   install what is missing, then run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test test-all demo bench clean splits

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest

test-all: setup
	$(BIN)/python -m pytest -m ""

demo: setup
	$(BIN)/ecgscope demo

bench: setup
	$(BIN)/python benchmarks/read_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
