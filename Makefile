# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHECKED := assistant tests benchmarks training scripts
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test check lint bench study train-reader clean

setup: $(STAMP)

# torch comes first and pinned (constraints.txt): any other spec pulls gigabytes of CUDA wheels.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: setup
	$(BIN)/assistant index seeds || [ $$? -eq 3 ]
	$(BIN)/assistant

test: setup
	$(BIN)/python -m pytest -q

# Lint, format and types; CI runs it before the tests (.ci/run). mypy's settings are in pyproject.toml.
check: setup
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy assistant

lint: check

# The bench extra holds the anchors' libraries (LangChain's splitter, txtai).
bench: setup
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,bench]'
	$(BIN)/python -m pytest -q -m bench
	$(BIN)/python benchmarks/run_all.py

# The SciFact study behind RESULTS.md's notes (keeps its index and vectors in benchmarks/out).
study: setup
	$(BIN)/python benchmarks/study.py --index benchmarks/out/scifact-index

# Trains the span reader (resuming from training/out/reader/), scores it on SQuAD's dev-a
# articles and writes assistant/models/reader.onnx and its card. About 80 minutes on 2 cores.
train-reader: setup
	$(BIN)/python training/reader.py

clean:
	rm -rf $(VENV) index/chroma* index/catalog.sqlite3* index/onnx index/.build-*
