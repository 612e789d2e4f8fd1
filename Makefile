# Two commands on a fresh machine with Python 3.11+ and make: `make run`, `make test`.
PY ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
        command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1

.PHONY: install run worker test lint bench eval eval-asr audit lock clean

# Installed from requirements.lock (every package pinned, hashes checked), then bestpart itself.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PY)" || { echo "bestpart needs Python 3.11 or newer on PATH"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/bestpart serve $(SERVE_ARGS)

worker: $(STAMP)
	$(BIN)/bestpart worker

test: $(STAMP) lint
	@scripts/ensure-chromium.sh
	$(BIN)/python -m pytest

# ruff (lint and format) over the project's Python files, and mypy over the service's packages
# (both configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Each benchmark prints PASS/MISS against its targets; a MISS (exit 1) does not stop the others.
bench: $(STAMP)
	-$(BIN)/python bench/pipeline.py
	-$(BIN)/python bench/upload.py
	-$(BIN)/python bench/concurrency.py
	-$(BIN)/python bench/search.py
	-$(BIN)/python bench/pages.py
	-$(BIN)/python bench/dashboard.py
	-$(BIN)/python bench/redaction.py
	-$(BIN)/python bench/pii/run.py

eval: $(STAMP)
	$(BIN)/python -m api.recognition.evaluate

# What bestpart hears: WER, words kept and speaker attribution on generated BWC-like clips
# (espeak-ng and sox), median and worst; SPLIT=dev|blind|all, MODEL=base|tiny|PATH.
eval-asr: $(STAMP)
	$(BIN)/python bench/asr/run.py --split $(or $(SPLIT),all) $(if $(MODEL),--model $(MODEL))

clean:
	rm -rf $(VENV) data .pytest_cache test-output

# Supply chain. requirements.lock pins every package (and its hashes) that pyproject.toml resolves
# to; `make lock` refreshes it, `make audit` checks it against a vulnerability database.
AUDIT_SERVICE ?= pypi
audit: $(STAMP)
	@$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/python scripts/audit.py --service $(AUDIT_SERVICE)

lock: $(STAMP)
	@$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra test --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

