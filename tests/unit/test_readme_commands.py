"""The README's Command line section names every command the CLI has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tasks_core.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every command path; a group that also runs alone (`worker`) is a command too. Read
    through click's group API (``list_commands``/``get_command``), as help and dispatch
    do: the root imports most commands on first use (`tasks_core.cli.lazy_group`)."""
    if hasattr(command, "list_commands"):  # a group (of the click that Typer vendors)
        ctx = typer.Context(command)
        found = [" ".join(path)] if path and command.invoke_without_command else []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                found += _commands(sub, (*path, name))
        return found
    return [" ".join(path)]


def _command_line_block() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Command line\n", 1)[1]
    return section.split("```\n", 2)[1]


def test_every_cli_command_is_in_the_readmes_command_line_section() -> None:
    block = _command_line_block()
    commands = _commands(typer.main.get_command(app))
    assert len(commands) > 20, commands
    missing = [c for c in commands if f"tasks-core {c} " not in block
               and f"tasks-core {c}\n" not in block]
    assert not missing, f"not in README's Command line block: {missing}"
