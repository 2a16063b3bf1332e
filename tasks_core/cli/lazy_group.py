"""The root command group, whose resource commands are imported when first used.

``tasks-core worker`` (and ``beat``, ``up``, ...) should not pay for the modules of every
other command: the automation, webhook, artifact and event commands import their pydantic
models, rich tables and the automation/action machinery (jinja2 templates), which a worker
process would then carry, in its main process and in every prefork child, for nothing
(issue 16, footprint). The process commands are registered as usual (`processes.register`);
every other command or group is named here with the module that defines it, and imported
by `LazyGroup.get_command` when the command line (or ``--help``, which lists them all)
asks for it. Click's group API (``list_commands`` / ``get_command``, in the click Typer
vendors) is how sub-commands are resolved and listed, so help, dispatch and ``CliRunner``
see them all; a mistyped name loads them all first, so Typer's "did you mean" still does.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

__all__ = ["LAZY_COMMANDS", "LAZY_GROUPS", "LazyGroup"]

LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "deploy": ("tasks_core.cli.deploy_cmd", "deploy"),
    "server": ("tasks_core.cli.server_cmd", "server"),
}
"""Single commands of the root: name -> (module, function)."""

LAZY_GROUPS: dict[str, str] = {
    "config": "tasks_core.cli.config_cmd",
    "redis": "tasks_core.cli.redis_cmd",
    "task-run": "tasks_core.cli.task_runs",
    "flow-run": "tasks_core.cli.flow_runs",
    "deployment": "tasks_core.cli.deployments",
    "work-pool": "tasks_core.cli.work_pools",
    "deadletter": "tasks_core.cli.deadletter",
    "events": "tasks_core.cli.events",
    "automation": "tasks_core.cli.automations",
    "webhook": "tasks_core.cli.webhooks",
    "artifact": "tasks_core.cli.artifacts",
    "variable": "tasks_core.cli.variables",
    "concurrency-limit": "tasks_core.cli.concurrency_limits",
}
"""Command groups of the root: name -> module whose ``app`` (a Typer) is the group. Help
lists them in this order, after the process commands."""


def _flow_run_app() -> typer.Typer:
    """``flow-run``, with ``resume`` (defined apart: it reads a pause's input schema)."""
    from tasks_core.cli import flow_runs, resume_cmd

    if not any(info.name == "resume" for info in flow_runs.app.registered_commands):
        flow_runs.app.command("resume")(resume_cmd.resume)
    return flow_runs.app


class LazyGroup(TyperGroup):
    """A Typer root group that imports `LAZY_COMMANDS` and `LAZY_GROUPS` on first use.
    Each is converted by Typer exactly as ``app.command(name)(fn)`` or
    ``app.add_typer(sub, name=name)`` on the root would, then kept in ``self.commands``."""

    def list_commands(self, ctx: Any) -> list[str]:
        eager = list(super().list_commands(ctx))
        return eager + [n for n in [*LAZY_COMMANDS, *LAZY_GROUPS] if n not in eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None and (cmd_name in LAZY_COMMANDS or cmd_name in LAZY_GROUPS):
            found = self.commands[cmd_name] = _load(cmd_name, self)
        return found

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Typer's resolution; for a name that is no command, every command is loaded first,
        so its "did you mean" suggestions (read from ``self.commands``) consider them all."""
        if args and self.get_command(ctx, args[0]) is None:
            for name in self.list_commands(ctx):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def _load(name: str, root: TyperGroup) -> Any:
    """The click command of lazy command or group `name`, as Typer builds it. `holder` is
    a Typer with the root's presentation options (the root sets none: Typer's defaults)."""
    holder = typer.Typer()
    options: dict[str, Any] = {"pretty_exceptions_short": holder.pretty_exceptions_short,
                               "rich_markup_mode": holder.rich_markup_mode}
    if name in LAZY_COMMANDS:
        module, function = LAZY_COMMANDS[name]
        holder.command(name)(getattr(importlib.import_module(module), function))
        return typer.main.get_command_from_info(holder.registered_commands[0], **options)
    sub = _flow_run_app() if name == "flow-run" else importlib.import_module(
        LAZY_GROUPS[name]).app
    holder.add_typer(sub, name=name)
    return typer.main.get_group_from_info(holder.registered_groups[0], **options,
                                          suggest_commands=root.suggest_commands)
