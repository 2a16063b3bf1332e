"""`tasks-core`: the command line entry point; each resource adds its commands here.

The process commands (`processes.register`: worker, beat, up, flower, down) are registered
at import; every other command is named in `tasks_core.cli.lazy_group` and imported when
the command line uses it, so a worker does not carry the other commands' modules.

Every command runs inside one error path (`TasksCoreTyper.__call__`): an expected error
(`TasksCoreError`, a Redis error, bad settings) becomes one red line on stderr and exit
code 1, never a traceback, whichever command raised it (worker, beat, flower, up, deploy
included).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer

from tasks_core.cli import processes
from tasks_core.cli.failing import expected_errors
from tasks_core.cli.lazy_group import LAZY_GROUPS, LazyGroup

__all__ = ["READ_ONLY_COMMANDS", "TasksCoreTyper", "app", "command_role"]

READ_ONLY_COMMANDS = frozenset({"ls", "inspect", "logs", "status", "view", "test"})
"""Sub-commands that only read: they never start the embedded Redis (they say it is not
running instead of starting an empty-looking one)."""


def command_role(argv: Sequence[str], groups: set[str]) -> tuple[str, bool]:
    """The command of `argv` (``worker``, ``flow-run``, ...) and whether it only reads:
    a sub-command of a group named in READ_ONLY_COMMANDS (``flow-run ls``)."""
    words = [arg for arg in argv if not arg.startswith("-")]
    name = words[0] if words else "cli"
    reading = name in groups and len(words) > 1 and words[1] in READ_ONLY_COMMANDS
    return name, reading


class TasksCoreTyper(typer.Typer):
    """The root app: one error path for every command, and connections named after it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = kwargs.get("args") or (args[0] if args else sys.argv[1:])
        groups = {info.name for info in self.registered_groups if info.name} | set(LAZY_GROUPS)
        groups.add("worker")  # a group whose callback runs the worker itself
        name, reading = command_role(list(argv or []), groups)
        from tasks_core.store.connection import set_process_role

        set_process_role(name, start_embedded=not reading)
        try:
            with expected_errors():
                return super().__call__(*args, **kwargs)
        except typer.Exit as exc:  # raised by expected_errors, outside click's own handling
            sys.exit(exc.exit_code)


app = TasksCoreTyper(
    name="tasks-core",
    help="Prefect-style tasks and flows on Celery and Redis.",
    no_args_is_help=True,
    add_completion=False,
    cls=LazyGroup,  # every command but the process ones is imported when first used
)
processes.register(app)

if __name__ == "__main__":
    app()
