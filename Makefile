# sms-optin developer commands. Every target installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SANDBOX_STAMP := $(VENV)/.sandbox-installed
PIP := $(BIN)/pip install --disable-pip-version-check -q

.PHONY: install run test lint unit synth deploy smoke bench chaos fuzz clean

# Everything: the CDK, lint and test tools too (make test, make synth, make deploy, ...).
$(STAMP): requirements.txt requirements-dev.txt requirements-sandbox.txt lambdas/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements-dev.txt
	$(PIP) --no-deps -e .  # .venv/bin/sms-optin (the admin tool)
	touch $(STAMP) $(SANDBOX_STAMP)

# Only what the sandbox needs (make run): no CDK, lint or browser-test tools.
$(SANDBOX_STAMP): requirements-sandbox.txt lambdas/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements-sandbox.txt
	touch $(SANDBOX_STAMP)

install: $(STAMP)

## the local sandbox at http://127.0.0.1:8000 (PORT=... overrides): the form, the API's real handlers
## with DynamoDB emulated in-process, an outbox for texts and a phone simulator. Ctrl-C stops it.
run: $(SANDBOX_STAMP)
	$(BIN)/python -m local

## lint + all tests (the README's test command)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## benchmarks: cold start and cost (issue 2), sms-optin export (issue 13), WhatsApp delivery (issue 5)
bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.whatsapp

## the send guarantees under injected faults (issue 10): one table, non-zero exit when a target is missed
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

## fuzzing (issue 10): 10,000 generated bodies each at /register and /validate through the real
## handlers; prints the status counts and fails on any 5xx (EXAMPLES=..., SEED=... override)
EXAMPLES ?= 10000
fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz --examples $(EXAMPLES) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(VENV) cdk.out .build .pytest_cache .ruff_cache

## --- CDK (infrastructure): the aws-cdk CLI pinned in package.json, run through npx ---
# Extra CLI arguments, e.g. make synth CDK_ARGS="-c numberMode=new -c numberType=TOLL_FREE"
CDK_ARGS ?=
CDK := npx --no-install cdk
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## synthesize cdk.out/ (no AWS credentials, no Docker, no network once installed)
synth: $(STAMP) $(NODE_STAMP)
	$(CDK) synth --quiet --no-notices $(CDK_ARGS)

## deploy with the current AWS credentials (once per account and region: npx cdk bootstrap)
deploy: $(STAMP) $(NODE_STAMP)
	$(CDK) deploy --require-approval broadening --no-notices $(CDK_ARGS)

## after `make deploy` (simulator mode): register a destination simulator number, wait for DELIVERED,
## reply YES (CONFIRMED) and STOP (OPTED_OUT), remove the contact. Your AWS credentials only.
## make smoke STACK=MyStack REGION=eu-west-1 SMOKE_ARGS="--timeout 300"
STACK ?= SmsOptin
REGION ?=
SMOKE_ARGS ?=
smoke: $(STAMP)
	$(BIN)/python -m ops.smoke --stack $(STACK) $(if $(REGION),--region $(REGION)) $(SMOKE_ARGS)
