"""Task workers as Prefect spells them: ``serve(*tasks)`` / ``task.serve()``.

    from tasks_core.task_worker import serve

    if __name__ == "__main__":
        serve(add, shout, limit=4)      # blocks; Ctrl-C stops it

Starts a `tasks-core worker` for the queues of `tasks` (the default work pool for tasks
without ``queue=``, and each task's own queue) as a supervised child of this process
(`tasks_core.supervisor`, as `flow.serve` does): the same worker code, claims and engine
as any worker, so ``.delay()`` / ``.apply_async()`` from any process on the same Redis
reaches it. It imports the tasks' modules (a script's own module too: its directory is put
on the worker's path, and a ``if __name__ == "__main__":`` guard keeps the import from
serving again). Ctrl-C (or SIGTERM) stops the worker warmly: runs in progress finish, as
Celery's warm shutdown; a second Ctrl-C kills it.

`limit` bounds the task runs executing at once (the worker's ``--concurrency``; None: one
per CPU core, the worker's default; Prefect's own default is 10). Semantics: Prefect's
"background tasks" (docs.prefect.io/v3, run-background-tasks); the SDK never imports the
worker package itself (ARCHITECTURE.md, Layout), hence the child process.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from tasks_core.errors import ConfigurationError, ValidationError

__all__ = ["serve", "worker_spec"]


def _check(tasks: tuple[Any, ...], limit: int | None) -> None:
    if not tasks:
        raise ValidationError("serve() needs at least one task: serve(my_task, ...)")
    for each in tasks:
        if not (hasattr(each, "fn") and hasattr(each, "key") and hasattr(each, "delay")):
            raise ValidationError(f"serve() takes @task functions, got {each!r}")
        if each.key.startswith("<"):  # a task defined in a REPL or with exec
            raise ValidationError(f"task {each.name!r} is not importable ({each.key}): "
                                  "define it in a module or script file")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValidationError(f"serve(limit=...) must be an integer >= 1 or None, got "
                              f"{limit!r}")


def _module_dirs(tasks: tuple[Any, ...]) -> list[str]:
    """Directories the worker needs on its path to import the tasks' modules."""
    dirs: list[str] = []
    for each in tasks:
        module = sys.modules.get(each.fn.__module__)
        file = getattr(module, "__file__", None)
        if file and each.fn.__module__ == "__main__":
            dirs.append(str(Path(file).resolve().parent))
    if sys.path and sys.path[0]:
        dirs.append(sys.path[0])
    return list(dict.fromkeys(dirs))


def worker_spec(tasks: tuple[Any, ...], *, limit: int | None, default_pool: str) -> Any:
    """The child process serving `tasks`: a `tasks-core worker` command and its env."""
    from tasks_core.supervisor import ChildSpec, cli_command

    queues = list(dict.fromkeys(each.queue or default_pool for each in tasks))
    args = ["worker", "--pool", queues[0]]
    if queues[1:]:
        args += ["-Q", ",".join(queues[1:])]
    if limit is not None:
        args += ["--concurrency", str(limit)]
    for module in dict.fromkeys(each.key.partition(":")[0] for each in tasks):
        args += ["--import", module]
    env = dict(os.environ)
    paths = [*_module_dirs(tasks), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return ChildSpec("worker", cli_command(*args), env=env)


def serve(*tasks: Any, limit: int | None = None, stop: threading.Event | None = None) -> None:
    """Run a worker for `tasks` until Ctrl-C (or until `stop` is set, from another thread).

    Args:
        tasks: @task functions; their queues are consumed, their modules imported.
        limit: task runs at once (>= 1; None: the worker's default, one per CPU core).
        stop: set it to stop serving (then no signal handlers are installed).

    Raises:
        ValidationError: no tasks, something that is not a task, or a bad `limit`.
        ConfigurationError: the worker exited on its own (its output says why).
    """
    _check(tasks, limit)
    from tasks_core.settings import get_settings
    from tasks_core.supervisor import describe_exit, run_stack, stop_on_signals

    spec = worker_spec(tasks, limit=limit, default_pool=get_settings().default_pool)
    names = ", ".join(each.name for each in tasks)
    print(f"Serving task(s) {names}; Ctrl-C stops.", flush=True)
    force = threading.Event()
    if stop is not None:
        _, died = run_stack([spec], stop=stop, force=force)
    else:
        stop = threading.Event()
        with stop_on_signals(stop, force):
            _, died = run_stack([spec], stop=stop, force=force)
    if died is not None:
        raise ConfigurationError(f"serve: the worker exited unexpectedly with "
                                 f"{describe_exit(died.proc.returncode)}; see its output above")
    print("Stopped serving.", flush=True)
