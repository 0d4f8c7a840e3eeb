# opswire developer tasks. Every target bootstraps what it needs (.venv, .tools/sam) itself.
#   make demo    the whole platform locally          make test   everything CI runs
#   make format  rewrite code with ruff               make clean  remove build output and caches

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# `test` runs its steps in the order listed, even under `make -j`.
.NOTPARALLEL:

export SAM_CLI_TELEMETRY := 0

# ---- interpreters -----------------------------------------------------------------------------
# A real interpreter path, not a pyenv shim: the python3.13 shim fails unless 3.13 is selected.
PYENV_ROOT := $(or $(PYENV_ROOT),$(shell pyenv root 2>/dev/null))
PY_FROM_PATH = $(shell $(1) -c 'import sys; print(sys.executable)' 2>/dev/null)
PY313 := $(lastword $(sort $(filter-out %t/bin/python3.13,\
	$(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13))))
PY313 := $(or $(PY313),$(call PY_FROM_PATH,python3.13))
# aws-sam-cli pins boto3/pydantic below ours, so it lives in its own venv on 3.11 or 3.12.
PY_SAM := $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3.11 \
	$(PYENV_ROOT)/versions/3.12*/bin/python3.12))
PY_SAM := $(or $(PY_SAM),$(call PY_FROM_PATH,python3))

# uv lives in its own small venv (.tools/uv), made with the interpreter that is on PATH: no
# dependence on PATH, pyenv shims or the user site, so an empty HOME works the same.
UV_VERSION := 0.13.9
UV_STAMP := .tools/uv/.installed-$(UV_VERSION)
UV := .tools/uv/bin/uv

define need_py313
test -n "$(PY313)" || { echo "error: no Python 3.13 found: install it (pyenv install 3.13)" \
	"or put python3.13 on PATH" >&2; exit 1; }
endef

# ---- environments -----------------------------------------------------------------------------
VENV := .venv
VENV_STAMP := $(VENV)/.installed
VENV_INPUTS := layers/common/requirements.txt requirements-dev.txt pyproject.toml
SAM_VERSION := 1.170.0
SAM_STAMP := .tools/sam/.installed-$(SAM_VERSION)
SAM := .tools/sam/bin/sam

.PHONY: .venv .tools/sam
.venv: $(VENV_STAMP)
.tools/sam: $(SAM_STAMP)

# The venv is recreated only when missing or not 3.13; otherwise the packages are just synced.
$(UV_STAMP):
	rm -rf .tools/uv
	python3 -m venv .tools/uv
	.tools/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

# --python names the target interpreter: without it uv may resolve for the one that runs it.
# --compile-bytecode: uv writes no .pyc by default, and with PYTHONDONTWRITEBYTECODE set (as on
# these machines) every new interpreter (each `opswire` command, each test worker) would compile
# moto, boto3 and the rest again: seconds of CPU each time.
$(VENV_STAMP): $(VENV_INPUTS) $(UV_STAMP)
	@$(need_py313)
	@$(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null \
		|| $(UV) venv --quiet --no-project --clear --python "$(PY313)" $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(VENV)/bin/python \
		-r layers/common/requirements.txt -r requirements-dev.txt -e .
	@touch $@

# No stamp for this version: start from an empty venv (uv's cache makes it quick).
$(SAM_STAMP): $(UV_STAMP)
	$(UV) venv --quiet --no-project --clear --python "$(PY_SAM)" .tools/sam
	$(UV) pip install --quiet --python .tools/sam/bin/python aws-sam-cli==$(SAM_VERSION)
	@touch $@

# ---- targets ----------------------------------------------------------------------------------
.PHONY: help demo test lint format typecheck validate check build pytest bench clean

help:
	@echo "targets: demo test lint format typecheck validate check build pytest bench clean"

demo: .venv
	$(VENV)/bin/opswire demo

test: lint typecheck validate check build pytest

lint: .venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: .venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Paths map to unique module names (explicit_package_bases): functions/<name>/app.py is
# functions.<name>.app, so the handlers, all called app.py, are checked together.
typecheck: .venv
	$(VENV)/bin/mypy layers/common/opswire local/opswire_local cli/opswire_cli functions tools bench

validate: .venv .tools/sam
	$(SAM) validate --lint --region us-east-1
	$(VENV)/bin/statelint --ignore=URI statemachines/*.asl.json && echo "statelint: ASL ok"

check: .venv
	$(VENV)/bin/python tools/check_template.py

# sam build runs the python3.13 workflow, which needs `python3.13` on PATH (no Docker here);
# the arm64 layer gets aarch64 wheels from PyPI. cached/parallel come from samconfig.toml.
build: .tools/sam
	@$(need_py313)
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build

# Real GitHub webhook payloads for the deployment tests (tests/octokit.py), pinned, gitignored.
OCTOKIT_INDEX := tests/.octokit/node_modules/@octokit/webhooks-examples/api.github.com/index.json
$(OCTOKIT_INDEX):
	npm install --prefix tests/.octokit --no-save --no-audit --no-fund \
		@octokit/webhooks-examples@7.6.1

# A second IAM evaluator for the provisioning IAM tests (tests/unit/provisioning/iam_simulate.py;
# AGPL-3.0, a test tool only), pinned, gitignored.
IAM_SIMULATE := tests/.iam-simulate/node_modules/@cloud-copilot/iam-simulate/package.json
$(IAM_SIMULATE):
	npm install --prefix tests/.iam-simulate --no-save --no-audit --no-fund \
		@cloud-copilot/iam-simulate@0.1.173

# Tests run in parallel (pytest-xdist): PYTEST_WORKERS=auto is one worker per CPU; the local
# platform's tests mostly wait on threads, so more workers than CPUs can still help (measured in
# docs/performance.md). PYTEST_WORKERS=0 runs them in this process, one after another.
# --dist worksteal: an idle worker takes tests queued on a busy one (with the default `load`,
# the slow local tests stayed queued on one worker while the other had finished). The default
# is one worker more than CPUs: the local tests wait on threads and subprocesses part of the time.
# Bytecode is written (PYTHONDONTWRITEBYTECODE unset): else every worker and every `opswire`
# subprocess of the tests compiles the project and rewrites the test modules again.
PYTEST_WORKERS ?= $(shell echo $$(( $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1 )))
pytest: .venv .tools/sam $(OCTOKIT_INDEX) $(IAM_SIMULATE)
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist worksteal

bench: .venv
	@for script in bench/[!_]*.py; do echo "== $$script"; $(VENV)/bin/python "$$script"; done

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache dist
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './.tools/*' \
		-prune -exec rm -rf {} +
