# Quarry developer entry points. Every target bootstraps .venv on its own and is idempotent:
# the venv is rebuilt only when pyproject.toml changes (stamp file).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml Makefile | cksum | cut -d' ' -f1)
DEMO_DB := .quarry-demo/demo.duckdb
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: setup demo test bench clean

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch (a bare `torch` pulls a multi-GB CUDA build on this kind of machine).
	$(BIN)/pip install -q torch==2.13.0
	# llama-cpp-python compiles llama.cpp from source the first time (~11 min on 2 cores); pip caches the wheel.
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
	$(BIN)/quarry models pull smollm2-135m
	$(BIN)/python -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$rc

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .quarry-demo .pytest_cache
