# The two commands a newcomer needs: `make dev` runs the whole system, `make test` the suite.
# Only Python 3.11+ and make are required; everything else is installed into .venv from the
# lock file (uv.lock).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)

# The web inbox (web/): Node.js 20+ and npm. Installed from package-lock.json with `npm ci`,
# stamped like the Python install so it reruns only when the lock file changes.
NPM := $(shell command -v npm 2>/dev/null)
WEB_STAMP := web/node_modules/.installed-$(shell cat web/package-lock.json | cksum | cut -d' ' -f1)
CHROMIUM ?= /usr/bin/chromium

.PHONY: install dev test lint typecheck unit schemas bench up down clean web-install web-check

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --extra embedded --python $(BIN)/python
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) web-install

web-install:
ifdef NPM
	@test -f $(WEB_STAMP) || (cd web && npm ci --no-audit --no-fund && rm -f node_modules/.installed-* && touch ../$(WEB_STAMP))
else
	@echo "npm not found: the web inbox (web/) is not installed; install Node.js 20+ for it"
endif

## The web inbox: ESLint, TypeScript (tsc --noEmit) and vitest. Its production build (web/dist)
## is made by the browser tests and `make dev` when the sources changed (devstack/web.py).
web-check: web-install
ifdef NPM
	cd web && npm run lint && npm run typecheck && npm test
else
	@echo "web-check did not run: npm not found (install Node.js 20+)"
endif

## Run everything locally until Ctrl-C (infrastructure embedded unless addresses are given).
dev: install
	$(BIN)/omni dev

## Lint, type-check and run the whole test-suite against real Postgres, Kafka and S3; the web
## inbox's checks, and its browser tests (tests/e2e/web) when Chromium is at $(CHROMIUM).
## deploy/monitoring is parsed and checked against the code always, and also run through
## promtool (rules check and the alerts' unit tests) when Debian's prometheus is installed.
test: install lint typecheck web-check
	@test -x $(CHROMIUM) || echo "NOTE: browser tests (tests/e2e/web) will be skipped: no Chromium at $(CHROMIUM) (apt-get install chromium)"
	@command -v promtool >/dev/null || echo "NOTE: promtool tests (tests/monitoring) will be skipped: no promtool (apt-get install prometheus)"
	OMNI_CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)
	@test -x $(CHROMIUM) || echo "NOTE: browser tests (tests/e2e/web) did not run: no Chromium at $(CHROMIUM)"
	@command -v promtool >/dev/null || echo "NOTE: promtool tests (tests/monitoring) did not run: no promtool; the rules were checked by the PromQL parser only"

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

## Validate docker-compose.yml, deploy/k8s and deploy/monitoring offline (schemas, env
## coverage, entry points; alert rules and dashboard queries).
.PHONY: deploy-check
deploy-check: install
	$(BIN)/pytest tests/deploy tests/monitoring -q

## The README's dashboard screenshot (docs/screenshots/dashboard.png): the system under a short
## load, scraped by a real Prometheus (apt-get install prometheus), drawn from the dashboard's
## own queries. A few minutes; not part of `make test`.
.PHONY: dashboard-screenshot
dashboard-screenshot: install
	$(BIN)/uv sync --frozen --extra embedded --group bench --python $(BIN)/python
	$(BIN)/python -m bench.dashboard

## Regenerate the committed JSON Schemas and AsyncAPI document after changing libs/contracts.
schemas: install
	$(BIN)/omni contracts export
	$(BIN)/omni contracts asyncapi

clean:
	rm -rf $(VENV) .omni .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist
