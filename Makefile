# Two commands do everything on a fresh machine:
#   make demo   set up, then check the seed article against its source with the shipped model
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup benchmark devmetrics

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# constraints.txt pins torch to the local CPU build; an unpinned torch pulls CUDA wheels.
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,train]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/nli-check check seeds/article.txt --source seeds/source.txt

test: $(STAMP)
	$(BIN)/python -m pytest -q

benchmark: $(STAMP)
	$(BIN)/python benchmarks/check_speed.py

devmetrics: $(STAMP)
	$(BIN)/python -m nli_check.devmetrics --model models/nli-minilm-l6 --data ../shared/data
