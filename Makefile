# Two commands do everything on a fresh machine:
#   make demo   set up, then check the seed article against its source with the shipped model
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup benchmark devmetrics leaderboard

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# constraints.txt pins torch to the local CPU build; an unpinned torch pulls CUDA wheels.
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,train,eval,web,ray]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/nli-check check seeds/article.txt --source seeds/source.txt

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# The browser test (tests/test_browser.py) drives Debian's chromium; install it when missing
# (CI runs as root on a fresh Debian machine). Playwright's own browser download is never used.
.PHONY: browser
browser:
	@test "$$NLI_CHECK_SKIP_BROWSER" = 1 || test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| (echo "make: chromium is missing and could not be installed (run apt-get install -y chromium as root, or set NLI_CHECK_SKIP_BROWSER=1 to skip the browser tests)" >&2; exit 1)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/check_speed.py

devmetrics: $(STAMP)
	$(BIN)/python -m nli_check.evaluation.devmetrics --model models/nli-minilm-l6 --data ../shared/data

# The leaderboard (eval/RESULTS.md): the shipped model and both baselines on every labelled
# set with a dev or test split this project may use. The six large general-NLI sets are
# cut to their first 1000 examples; the whole run took 40 minutes on 2 cores.
EVAL_FULL := wice-dev wice-oracle-dev wice-tokens-dev check-covid-dev citation-integrity-dev \
	attributionbench-dev healthver-dev xsumfaith-dev summedits-ectsum summedits-podcast summedits-qmsumm \
	summedits-sales_call summedits-sales_email summedits-samsum summedits-scitldr anli-r3-dev cad-snli-test \
	conjnli-dev glue-rte-dev scifact-dev covidfact-dev
EVAL_CAPPED := snli-test taxinli-heldout sick-test fever-dev climate-fever factcheck-gpt
leaderboard: $(STAMP)
	$(BIN)/nli-check eval $(EVAL_FULL) --baselines --output eval/runs --record eval/results
	$(BIN)/nli-check eval $(EVAL_CAPPED) --limit 1000 --baselines --output eval/runs --record eval/results
	$(BIN)/nli-check leaderboard
