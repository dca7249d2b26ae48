# `make run` and `make test` each set everything up on a fresh machine first (venv, packages, models).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.quarry-installed
MODELS := smollm2-135m minilm-l6 gemma3-270m
DEMO := .
# Test files run in this many processes (a file stays in one, so its module fixtures are built once); on
# 2 cores, three overlap one test's waits (subprocesses, sockets) with another's work: 294 s vs 339 s with two.
TEST_WORKERS ?= 3

.PHONY: setup models run test lint bench bench-ocr fonts demo clean FORCE

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel

# The llama.cpp build flags are a prerequisite: `CMAKE_ARGS=... make setup` reinstalls when they change.
FLAGS := $(VENV)/.cmake-args
$(FLAGS): FORCE | $(PY)
	@printf '%s\n' '$(CMAKE_ARGS)' | cmp -s - $@ || printf '%s\n' '$(CMAKE_ARGS)' > $@

$(STAMP): pyproject.toml scripts/install_llama_cpp.sh $(FLAGS) | $(PY)
	bash scripts/install_llama_cpp.sh
	$(PY) -m pip install --quiet -e '.[export,dev,scale]'
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python rapidocr-onnxruntime==1.4.4
	touch $@

setup: $(STAMP) models

models: $(STAMP)
	$(PY) -m tui models pull $(MODELS)

demo: setup
	$(PY) -m tui ingest --workspace $(DEMO) demo/docs
	$(PY) -m tui labels demo --workspace $(DEMO)
	$(PY) -m tui recommend import --workspace $(DEMO) --demo

run: demo
	$(PY) -m tui --workspace $(DEMO)

test: setup
	@$(PY) -c 'import os; from engine import cpus; print(f"CPUs: {os.cpu_count()} visible, {cpus.usable()} usable; load {os.getloadavg()[0]:.1f}")'
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/llm_speed.py

# The fonts bench/ocr.py draws its pages in (Debian packages; the tests do not need them).
fonts:
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	  || (apt-get install -y fonts-dejavu-core fonts-noto-cjk || (apt-get update && apt-get install -y fonts-dejavu-core fonts-noto-cjk))

bench-ocr: setup fonts
	$(PY) bench/ocr.py
	$(PY) bench/ocr.py --retrieval

clean:
	rm -rf $(VENV) quarry.duckdb quarry.duckdb.wal indexes/*/
