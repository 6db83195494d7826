# The two commands: `make dev` (set up + run the local stack) and `make test` (set up + run every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8765

.PHONY: install dev test test-fast bench synth security lock clean

$(STAMP): pyproject.toml clients/pyproject.toml devstack/pyproject.toml
	@echo "Installing cloutagent and its dependencies into $(VENV) (a few minutes the first time; once after each change to a pyproject.toml)…"
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[auth,billing,executor,infra,dev]" -e ./clients -e ./devstack
	@# A venv from before the split has the `cloutagent` script recorded under the old root package,
	@# whose upgrade deletes it; reinstalling the two small packages puts their scripts back.
	$(BIN)/python -m pip install -q --no-deps --force-reinstall -e ./clients -e ./devstack
	@touch $(STAMP)

install: $(STAMP)

dev: install
	$(BIN)/cloutagent dev --port $(PORT) --ready-file .cloutagent/ready.json

# Two workers, each with a local stack of its own; a test file stays on one worker (its module
# fixtures, a synthesis or a stack's users, are made once). Half the time of one worker on two cores.
TEST_WORKERS ?= 2

# The agent-facing suites once more on stacks whose runs are claimed by pool executors: a run that
# starts a session is then served by a spare CLI (executor_container/cloutagent_executor/spare.py),
# so each of their sandbox, secret and steering proofs holds on that path too.
POOLED_SUITES := tests/e2e/test_sandbox.py tests/e2e/test_secrets.py tests/e2e/test_real_agent.py \
	tests/e2e/test_steering.py tests/e2e/test_repositories.py

test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile
	CLOUTAGENT_TEST_EXECUTOR_POOL=2 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(POOLED_SUITES)

test-fast: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not infra and not browser"

# make bench ARGS="--strict --only relay": make takes --strict for an option of its own.
bench: install
	$(BIN)/python -m bench $(ARGS)

synth: install
	$(BIN)/python -m infra.app

security: install
	$(BIN)/python -m pytest -q -rs tests/reliability/test_supply_chain.py

# After a change to what ships in pyproject.toml: the hashed locks the Lambda layers and the executor
# image install from (requirements/*.lock); `make test` fails until they agree (infra/locks.py).
lock: install
	$(BIN)/python -m infra.locks

clean:
	rm -rf $(VENV) .cloutagent cdk.out .pytest_cache .hypothesis
