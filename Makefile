# Quarry developer entry points. Every target bootstraps .venv on its own and is idempotent:
# the venv is rebuilt only when its inputs change (stamp file, below).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB := .quarry-demo/demo.duckdb
export PIP_DISABLE_PIP_VERSION_CHECK=1

# llama.cpp is compiled once per machine into a wheel kept outside the clone. It is built for a portable
# instruction set, not `-march=native`: a native build on a virtual CPU that reports AVX-512/AMX died with
# "Illegal instruction" at the first decode. x86_64 gets AVX2+FMA+F16C (any x86 CPU since 2015); override
# LLAMA_CMAKE_ARGS for another build (e.g. LLAMA_CMAKE_ARGS="-DGGML_CUDA=on" on a machine with a GPU).
LLAMA_VERSION := 0.3.36
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
endif
LLAMA_WHEELS := $(HOME)/.cache/quarry/llama-wheels/$(LLAMA_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)
# The venv is rebuilt when pyproject.toml, this file or the llama.cpp build changes.
STAMP  := $(VENV)/.installed-$(shell (cksum pyproject.toml Makefile; echo '$(LLAMA_WHEELS)') | cksum | cut -d' ' -f1)

.PHONY: setup demo test bench clean

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch (a bare `torch` pulls a multi-GB CUDA build on this kind of machine).
	$(BIN)/pip install -q torch==2.13.0
	# llama-cpp-python compiles llama.cpp from source the first time (~11 min on 2 cores) into $(LLAMA_WHEELS).
	test -n "$$(ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl 2>/dev/null)" || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" \
	  $(BIN)/pip wheel -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/pip install -q -e '.[local,train,rag,dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

## demo: set up, ingest sample_corpus/ into a fresh DuckDB file and show what was found.
demo: setup
	rm -f $(DEMO_DB) $(DEMO_DB).wal
	$(BIN)/quarry ingest sample_corpus/ --db $(DEMO_DB)
	$(BIN)/quarry calendar import sample_corpus/my_calendar.ics --db $(DEMO_DB)
	$(BIN)/quarry facts events --since 2026-11-01 --until 2026-11-30 --db $(DEMO_DB)
	$(BIN)/quarry sql "SELECT title, starts_at, status FROM events WHERE status <> 'scheduled' ORDER BY starts_at" --db $(DEMO_DB)
	$(BIN)/quarry traces generate --teacher oracle --n 24 --db $(DEMO_DB)
	$(BIN)/quarry stats --db $(DEMO_DB)
	# The owned model shipped with Quarry (a LoRA adapter on SmolLM2-135M, served by llama.cpp) answers:
	$(BIN)/quarry models pull smollm2-135m
	$(BIN)/quarry models adapters
	$(BIN)/quarry ask "When is the board dinner?" --show-steps --db $(DEMO_DB)

## test: set up and run the whole suite (fails if no test ran).
test: setup
	# Every model the suite runs or reads (templates of Qwen and Gemma): nothing core skips.
	$(BIN)/quarry models pull smollm2-135m
	$(BIN)/quarry models pull qwen2.5-coder-0.5b
	$(BIN)/quarry models pull gemma3-270m
	$(BIN)/python -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .quarry-demo .pytest_cache
