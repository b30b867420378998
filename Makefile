# Set-up and everyday commands. Each target creates .venv/ on first use and reuses it after.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test bench bench-1m train-reader clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: a bare requirement resolved later could pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/newsqa serve

test: $(STAMP)
	bash scripts/browser-deps.sh
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# Rebuild the answer reader's weights (qa/weights/) from ../shared/data/reading: ~30-40 minutes on 2 cores.
train-reader: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/newsqa train-reader

# Benchmarks print figures (about 10 minutes on 2 cores); never part of the test run. The 100k archive
# is rebuilt each time; the sentence-pool vectors are cached in bench/.cache.
bench: $(STAMP)
	$(BIN)/pip install -q -e '.[test,bench]'
	HF_HUB_OFFLINE=1 $(BIN)/python bench/embed_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/index_bench.py
	HF_HUB_OFFLINE=1 $(BIN)/python bench/faiss_bench.py --sizes 100000
	rm -rf bench/.cache/archive-100k
	HF_HUB_OFFLINE=1 $(BIN)/python bench/corpus.py bench/.cache/archive-100k --paragraphs 100000 --stand-in --factory HNSW32
	HF_HUB_OFFLINE=1 $(BIN)/python bench/serve_bench.py archive-100k=bench/.cache/archive-100k/index
	HF_HUB_OFFLINE=1 $(BIN)/python bench/peer_bench.py --paragraphs 3000
	HF_HUB_OFFLINE=1 $(BIN)/python bench/store_bench.py

# The 1M-paragraph archive (HNSW32,SQfp16, the recommended factory at that size): ~15 minutes to build, several GB of RAM while building.
bench-1m: $(STAMP)
	rm -rf bench/.cache/archive-1m
	HF_HUB_OFFLINE=1 $(BIN)/python bench/corpus.py bench/.cache/archive-1m --paragraphs 1000000 --stand-in --factory HNSW32,SQfp16
	HF_HUB_OFFLINE=1 $(BIN)/python bench/keyword_bench.py bench/.cache/archive-1m/index
	HF_HUB_OFFLINE=1 $(BIN)/python bench/serve_bench.py archive-1m=bench/.cache/archive-1m/index
	HF_HUB_OFFLINE=1 $(BIN)/python bench/faiss_bench.py --sizes 1000000

clean:
	rm -rf $(VENV) build *.egg-info
