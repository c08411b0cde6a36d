# Two commands set everything up on a fresh machine: `make eval` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch goes in first, as its own step: the CPU build. Installed later by a dependency,
# pip would pick a CUDA build of several GB. evalkit[models] accepts any torch>=2.2.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: install eval test lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[models,dev]"
	touch $(STAMP)

# The main job: the built-in test set with the built-in systems.
eval: install
	$(BIN)/evalkit run --data seeds --system copy --name seeds

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check evalkit tests
	$(BIN)/ruff format --check evalkit tests

format: install
	$(BIN)/ruff check --fix evalkit tests
	$(BIN)/ruff format evalkit tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
