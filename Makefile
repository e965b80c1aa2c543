# sgpadmin: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/sgpadmin
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: demo test deps system-packages services lint test-postgres test-embedded bench \
        bench-controller bench-webhook bench-node soak migrate clean

$(STAMP): pyproject.toml requirements/constraints.txt $(wildcard node-agent/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[standins,dev]'
	if [ -f node-agent/pyproject.toml ]; then \
	  $(BIN)/pip install --quiet -c requirements/constraints.txt -e node-agent; fi
	touch $(STAMP)

deps: $(STAMP)

system-packages:
	bash scripts/system-packages.sh

services:
	bash scripts/services.sh

# Type checks on the pure cores and the protocol code (STYLE: mypy on the core packages).
MYPY_PATHS := apps/controller/core apps/policies/selectors.py apps/policies/matching.py \
              apps/policies/validation.py apps/policies/sync/plan.py apps/webhooks \
              node-agent/src/sgp_node_agent

lint: deps
	$(BIN)/ruff check .
	$(BIN)/mypy $(MYPY_PATHS)

migrate: deps
	SGPADMIN_MODE=demo $(BIN)/python manage.py migrate --no-input

demo: deps system-packages
	SGPADMIN_MODE=demo $(BIN)/python -m sgpadmin.demo

# The whole suite on PostgreSQL and Redis, then the database-backed tests again on the
# embedded defaults (SQLite, a broker without a server).
test: deps system-packages services lint test-postgres test-embedded

test-postgres: deps
	SGPADMIN_MODE=test DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) \
	  $(BIN)/pytest $(PYTEST_ARGS)

test-embedded: deps
	SGPADMIN_MODE=test DATABASE_URL= REDIS_URL= \
	  $(BIN)/pytest -m "not postgres and not redis and not netns and not browser and not slow" \
	  $(PYTEST_ARGS)

# Benchmarks (not tests): each writes its figures and command to docs/benchmarks/.
bench: bench-controller bench-webhook bench-node

bench-controller: deps services
	$(BIN)/python benchmarks/bench_controller.py --profile both --timeout 900 --breakdown --write var/bench-controller.md

bench-node: deps system-packages
	$(BIN)/python benchmarks/bench_node.py --pods 100

bench-webhook: deps
	$(BIN)/python benchmarks/bench_webhook.py --write docs/benchmarks/webhook.md

# The fault soak (benchmarks/soak.py): attach/detach cycles through real workers while killing
# them, injecting EC2 faults and restarting a broker of its own. Not a test; prints figures.
SOAK_CYCLES ?= 300
soak: deps services
	SGPADMIN_MODE=test SOAK_CYCLES=$(SOAK_CYCLES) $(BIN)/python benchmarks/soak.py

clean:
	rm -rf var .pytest_cache
