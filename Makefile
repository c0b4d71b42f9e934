# Riskometer's tasks, as a table of contents. Every target runs an npm script (package.json) or
# the riskometer command, so each works without make too. `make` alone lists the targets.
# Extra options go through ARGS, e.g. `make train ARGS="--param trials=50"`.

.DEFAULT_GOAL := help
ARGS ?=

.PHONY: help setup start test lint bench train report docker-build compose-up compose-down

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## install the dependencies the lock file names, and build
	npm ci
	npm run build

start: ## serve the Risk-O-Meter and run the scheduled flows (riskometer up)
	npm start

test: ## run the tests
	npm test

lint: ## lint, check formatting and type-check
	npm run lint
	npm run typecheck

bench: ## run the benchmarks (they print numbers)
	npm run bench

train: ## run the training flow now: tune, compare, track and register a model version
	npm run train -- $(ARGS)

report: ## run the drift-report flow now: drift, quality and fairness of recent decisions
	npm run report -- $(ARGS)

docker-build: ## build the container image riskometer:local
	npm run docker:build

compose-up: ## start the compose stack (app, worker, Postgres, Prometheus, Grafana)
	npm run compose:up

compose-down: ## stop the compose stack (its volumes stay)
	npm run compose:down
