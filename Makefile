# 物业助手 — see README.md. `make run` starts the assistant, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Empty: ops/make_venv.sh finds Python 3.10 / 3.11 itself (PATH, pyenv, usual places).
PYTHON310 ?=
PYTHON311 ?=
APP := .venv
RASA := .venv-rasa
MODEL := models/current.tar.gz
# Everything the trained model depends on: retrain when any of it changes.
MODEL_INPUTS := config.yml domain.yml requirements/rasa.lock \
	$(shell find data bot common -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \) 2>/dev/null)

.PHONY: help run test train parse bench load soak lint envs test-bot test-app fuzz faults clean browser

help:
	@echo "make run    start the assistant (web chat on http://127.0.0.1:8080/)"
	@echo "make test   lint, component tests, then the whole stack end to end"
	@echo "make train  retrain the Rasa model if data, config, bot/ or common/ changed"
	@echo "make parse  classify messages: one per line on stdin, one JSON object per line out (PARSE_ARGS="--workers 1")"
	@echo "make fuzz   hostile input, long: over 20,000 fuzzed requests and parser inputs (tests/fuzz)"
	@echo "make bench  held-out NLU evaluation, bulk parse rate, chat latency, tickets/s, delivery latency and the console -> bench/RESULTS.md"
	@echo "make load   owners through the web chat API against bare Rasa, same run: sequential, closed and open loop, time budget -> bench/RESULTS.md (LOAD_ARGS=...; CHANNEL=wechat or sms: through that callback)"
	@echo "make soak   10 minutes of steady traffic; every process's resident memory before and after -> bench/RESULTS.md"
	@echo "make faults kill -9 each process, restart Redis, drop PostgreSQL connections under load; count lost or doubled answers and updates -> bench/RESULTS.md"
	@echo "make browser  install Debian's Chromium and CJK fonts (the console's browser tests; .ci/run does it too)"

$(APP)/.installed: requirements/app.lock ops/make_venv.sh
	@ops/make_venv.sh $(APP) 3.11 requirements/app.lock $(PYTHON311)

$(RASA)/.installed: requirements/rasa.lock ops/make_venv.sh
	@ops/make_venv.sh $(RASA) 3.10 requirements/rasa.lock $(PYTHON310)

envs: $(APP)/.installed $(RASA)/.installed

# The staff console's browser tests (tests/e2e/test_console.py) and bench/console.py drive Debian's
# Chromium through Playwright (which cannot download its own browser here): installed when missing.
# As root (a CI container) it installs them; otherwise it says the command (the tests then skip with
# a loud reason, or fail when WUYE_REQUIRE_SERVICES=1).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk; \
	else echo "Chromium is missing: sudo apt-get install chromium fonts-noto-cjk (the console's browser tests)" >&2; fi

$(MODEL): $(RASA)/.installed $(MODEL_INPUTS)
	@echo "Training the Rasa model (about three minutes)." >&2
	@SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 $(RASA)/bin/rasa train \
		--fixed-model-name current --out models --quiet > models.train.log 2>&1 \
		|| { tail -40 models.train.log; exit 1; }
	@touch $(MODEL)

train: $(MODEL)

run: envs $(MODEL)
	@$(APP)/bin/python -m ops.stack

parse: $(MODEL)
	@$(RASA)/bin/python -m bot.parse_cli --model $(MODEL) $(PARSE_ARGS)

lint: $(APP)/.installed
	$(APP)/bin/ruff check .
	$(APP)/bin/ruff format --check .

# Rasa-side tests (components, text rules, make parse, Rasa test stories) need Python 3.10.
test-bot: $(RASA)/.installed $(MODEL)
	$(RASA)/bin/python -m pytest -c tests/bot/pytest.ini tests/bot

test-app: $(APP)/.installed $(MODEL)
	$(APP)/bin/python -m pytest tests --ignore=tests/bot

test: lint browser test-bot test-app

# The long hostile-input run: every HTTP edge and parser of tests/fuzz with hypothesis's "long"
# profile (over 20,000 cases, on SQLite and PostgreSQL); `make test` runs the same tests briefly.
fuzz: $(APP)/.installed
	WUYE_FUZZ=long $(APP)/bin/python -m pytest tests/fuzz -q -p no:cacheprovider

bench: envs $(MODEL) browser
	$(RASA)/bin/python -m bench.nlu_eval --model $(MODEL)
	$(RASA)/bin/python -m bench.parse --model $(MODEL)
	$(APP)/bin/python -m bench.load
	$(APP)/bin/python -m bench.outbox
	$(APP)/bin/python -m bench.wechat
	$(APP)/bin/python -m bench.wecom
	$(APP)/bin/python -m bench.sms
	$(APP)/bin/python -m bench.console
	$(APP)/bin/python -m bench.report

# bench/load.py: the stack and a bare Rasa beside it (bench/baseline.py), the same messages through both.
# CHANNEL=wechat or sms: the owners write through the 公众号 callback or the SMS provider's push and
# read their answers at the fake platform (bench/owners.py); closed and open loop, no time budget.
CHANNEL ?= webchat
load: envs $(MODEL)
	$(APP)/bin/python -m pip install -q -r requirements/bench.txt
	$(APP)/bin/python -m bench.load --channel $(CHANNEL) $(LOAD_ARGS)
	$(APP)/bin/python -m bench.report > /dev/null

soak: envs $(MODEL)
	$(APP)/bin/python -m bench.load --sequential 0 --senders --rates --budget 0 --soak 600 --out bench/results/soak.json $(SOAK_ARGS)
	$(APP)/bin/python -m bench.report > /dev/null

# The fault campaign (bench/faults.py): a stack on a PostgreSQL database and a Redis of its own,
# owners chatting and staff moving tickets while one part after another dies. Needs PostgreSQL
# (WUYE_TEST_POSTGRES_URL) and redis-server; not part of `make test` (tests/e2e/test_faults.py is its short run).
faults: envs $(MODEL)
	$(APP)/bin/python -m bench.faults $(FAULTS_ARGS)
	$(APP)/bin/python -m bench.report > /dev/null

clean:
	rm -rf models var .pytest_cache
