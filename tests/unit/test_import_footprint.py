"""What importing tasks-core loads (issue 16, footprint): each check runs the import in a
fresh interpreter and reads its ``sys.modules``, so a module-level import that pulls a
heavy dependency back into the everyday path fails here (a record, not a timing).

- ``import tasks_core``: the public names are read lazily (tasks_core/__init__.py), so no
  engine, pydantic, Redis or Celery.
- ``from tasks_core import task, flow``: Celery, Redis and pydantic are honest costs (a task
  is a Celery task with a pydantic-validated record), automations, trigger and action
  models, deployments, jinja2 and the API's fastapi/httpx are not.
- ``tasks-core``'s entry point (`tasks_core.cli.main`), which a worker runs: the process
  commands only; the others load when the command line names them.
- the worker's start-up path (the entry point, `workers.main`, its tasks registered): no
  rich (the CLI's tables and consoles load when a command prints), no deployments (their
  definition, schedules, croniter), no automations, templates or API. What the main
  process imports, each prefork child carries too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded(statement: str, watched: list[str]) -> list[str]:
    """Which of `watched` (modules or packages) are in sys.modules after `statement`, run
    in a fresh interpreter that imports this tree (not an installed copy)."""
    probe = (f"import sys, json\n{statement}\n"
             f"w = {watched!r}\n"
             "print(json.dumps(sorted(m for m in w if any(k == m or k.startswith(m + '.')"
             " for k in sys.modules))))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


HEAVY = ["tasks_core.engine", "tasks_core.automations", "tasks_core.deployments",
         "tasks_core.events", "tasks_core.store", "pydantic", "redis", "celery", "kombu",
         "jinja2", "fastapi", "httpx"]
NOT_FOR_TASKS = ["tasks_core.automations", "tasks_core.events.triggers",
                 "tasks_core.events.actions", "tasks_core.deployments", "tasks_core.api",
                 "tasks_core.dashboard", "jinja2", "fastapi", "httpx"]


def test_the_probe_sees_what_an_import_loads() -> None:
    loaded = set(_loaded("import tasks_core.automations", HEAVY))
    assert {"tasks_core.automations", "pydantic", "jinja2"} <= loaded


def test_import_tasks_core_loads_no_engine_pydantic_redis_or_celery() -> None:
    assert _loaded("import tasks_core", HEAVY) == []


def test_task_and_flow_load_no_automations_deployments_or_templates() -> None:
    assert _loaded("from tasks_core import task, flow", NOT_FOR_TASKS) == []


def test_importing_deployments_loads_no_automation_models() -> None:
    assert _loaded("import tasks_core.deployments", ["tasks_core.automations",
                                                     "tasks_core.events.actions",
                                                     "jinja2"]) == []


def test_the_lazy_names_are_the_real_ones_and_task_stays_the_decorator() -> None:
    statement = ("import tasks_core, tasks_core.task, tasks_core.flow, tasks_core.errors\n"
                 "assert tasks_core.task is sys.modules['tasks_core.task'].task\n"
                 "assert tasks_core.flow is sys.modules['tasks_core.flow'].flow\n"
                 "assert tasks_core.StoreUnavailable is tasks_core.errors.StoreUnavailable\n"
                 "assert set(tasks_core.__all__) <= set(dir(tasks_core))")
    assert _loaded(statement, ["tasks_core.task"]) == ["tasks_core.task"]


def test_the_cli_entry_point_loads_only_the_process_commands() -> None:
    """``tasks-core worker`` imports `tasks_core.cli.main`; what it loads is in the worker
    and each prefork child (tasks_core/cli/lazy_group.py)."""
    assert _loaded("import tasks_core.cli.main", [
        "tasks_core.cli.automations", "tasks_core.cli.webhooks", "tasks_core.cli.artifacts",
        "tasks_core.cli.events", "tasks_core.automations", "tasks_core.webhooks",
        "tasks_core.events.triggers", "tasks_core.events.actions", "jinja2"]) == []


def test_a_lazy_command_loads_when_the_command_line_names_it() -> None:
    statement = ("from typer.testing import CliRunner\n"
                 "from tasks_core.cli.main import app\n"
                 "out = CliRunner().invoke(app, ['automation', '--help'])\n"
                 "assert out.exit_code == 0 and 'ls' in out.output, out.output")
    assert _loaded(statement, ["tasks_core.cli.automations", "tasks_core.cli.webhooks"]) == [
        "tasks_core.cli.automations"]


WORKER_LAZY = ["rich", "tasks_core.cli.output", "tasks_core.cli.tables",
               "tasks_core.cli.worker_list", "tasks_core.deployments", "tasks_core.schedules",
               "croniter", "tasks_core.automations", "tasks_core.events.triggers",
               "tasks_core.events.actions", "tasks_core.api", "tasks_core.dashboard", "jinja2",
               "fastapi", "httpx", "apprise", "prometheus_client"]


def test_the_worker_start_up_path_loads_no_rich_deployments_or_automations() -> None:
    """``tasks-core worker`` imports the entry point and `workers.main`, then registers the
    worker's tasks; none of that needs rich or the deployments (issue 16, footprint)."""
    statement = ("import tasks_core.cli.main, workers.main\n"
                 "from celery import Celery\n"
                 "from workers.execute import register_tasks\n"
                 "register_tasks(Celery('probe', set_as_current=False))")
    assert _loaded(statement, WORKER_LAZY) == []


def test_the_worker_probe_sees_what_printing_loads() -> None:
    """The lazy imports are still there: a process command that prints loads rich."""
    statement = ("from tasks_core.cli.failing import fail\n"
                 "try:\n    fail('probe')\nexcept BaseException:\n    pass")
    assert _loaded(statement, ["rich", "tasks_core.cli.consoles", "tasks_core.cli.output"]) == [
        "rich", "tasks_core.cli.consoles"]
