# sellbot — every command a developer or CI needs. `make help` lists them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt typecheck pytest lock db-upgrade bench clean reliability audit container-check

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock requirements-dev.lock pyproject.toml
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)  ## create .venv and install runtime + dev dependencies from the lock files

run: $(STAMP)  ## run the daemon against the embedded simulator (SQLite under ./data)
	$(BIN)/sellbot run --simulate

test: $(STAMP)  ## lint, type-check and run the whole test suite
	$(BIN)/ruff format --check bot tests bench migrations
	$(BIN)/ruff check bot tests bench migrations
	$(BIN)/mypy bot tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest -q -n auto --dist loadfile

fmt: $(STAMP)  ## format the code
	$(BIN)/ruff format bot tests bench migrations
	$(BIN)/ruff check --fix bot tests bench migrations

db-upgrade: $(STAMP)  ## apply database migrations to DATABASE_URL
	$(BIN)/sellbot db upgrade

bench: $(STAMP)  ## run the speed benchmarks (engine, prioritisation)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/prioritisation.py

FAULT_SHARDS ?= 5
KILLS ?= 50
OUTAGE_S ?= 30
RELIABILITY_OUT ?= build/reliability

LEADER_KILLS ?= 20
LEADER_DB ?= $(or $(TEST_DATABASE_URL),postgresql+asyncpg://postgres@127.0.0.1:5432/test)

reliability: $(STAMP)  ## faults (1,000 sales), cap, bad stream frames, bad books, 50 SIGKILLs, DB outage, two daemons, long run; one table
	rm -rf $(RELIABILITY_OUT)
	$(BIN)/python -m bench.faults --shards $(FAULT_SHARDS) --rounds 11 --http-sales 12 --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.reliability.cap_leg --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.reliability.stream_leg --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.reliability.book_leg --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.crashes --kills $(KILLS) --outage-s $(OUTAGE_S) --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.leadership --kills $(LEADER_KILLS) --database-url $(LEADER_DB) --out $(RELIABILITY_OUT)
	$(BIN)/python -m bench.longrun --out $(RELIABILITY_OUT)
	@echo; $(BIN)/python -m bench.reliability.report $(RELIABILITY_OUT)

container-check:  ## build the image with podman and run it (root; needs podman runc debootstrap; minutes; not in CI)
	scripts/container-check.sh

AUDIT_VENV ?= build/audit-venv

audit:  ## pip-audit the pinned dependencies (needs the PyPI/OSV vulnerability service)
	test -x $(AUDIT_VENV)/bin/pip-audit || ($(PY) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install -q pip-audit)
	$(AUDIT_VENV)/bin/pip-audit --strict --requirement requirements.lock --requirement requirements-dev.lock --no-deps --disable-pip

lock:  ## regenerate the lock files from pyproject.toml (needs the package registry)
	rm -rf /tmp/sellbot-lock && $(PY) -m venv /tmp/sellbot-lock
	/tmp/sellbot-lock/bin/pip install -q .
	/tmp/sellbot-lock/bin/pip freeze --exclude sellbot > requirements.lock
	/tmp/sellbot-lock/bin/pip install -q '.[dev,bench]'
	/tmp/sellbot-lock/bin/pip freeze --all --exclude sellbot --exclude pip --exclude setuptools > requirements-dev.lock

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) data/*.db
