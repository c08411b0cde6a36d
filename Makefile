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
	$(BIN)/python -m pip install --quiet -e ".[models,neural,dev]"
	touch $(STAMP)

# The main job: the built-in test set with the built-in systems: the copy floor and the
# packaged default model on CTranslate2, float32 and int8. Ends by writing the run's HTML
# report, results/<run-id>/report.html, and printing its path.
MODEL  := packaged:qwen2.5-coder-0.5b-instruct
eval: install
	$(BIN)/evalkit run --data seeds --name seeds --system copy \
		--system qwen0.5b-f32=$(MODEL) --system qwen0.5b-int8=$(MODEL),compute_type=int8
	$(BIN)/evalkit report latest

# Speed, memory and agreement of the engines on the default model (minutes, not a test).
bench: install
	$(BIN)/python bench/engines.py

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check evalkit tests bench
	$(BIN)/ruff format --check evalkit tests bench

format: install
	$(BIN)/ruff check --fix evalkit tests
	$(BIN)/ruff format evalkit tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
