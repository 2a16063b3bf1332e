"""`tasks-core deploy`: register the deployments of a deployments file.

The whole file is checked first (`deployment_file.check_file`), whichever deployments are
named: on any problem nothing is registered and every problem is printed, one line each,
naming the entry and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.text import Text

from tasks_core.cli.output import console, err_console, expected_errors

__all__ = ["deploy"]


def deploy(
    names: list[str] = typer.Argument(None, help="deployment names from the file"),
    all_: bool = typer.Option(False, "--all", help="every deployment in the file"),
    file: Path = typer.Option(Path("deployments.yaml"), "--file", "-f",
                              help="the deployments file (see configs/deployments.yaml)"),
) -> None:
    """Register (create or update) deployments declared in a deployments file.

    The whole file is checked before anything is registered: every entry's fields, its
    source and entrypoint (imported), parameters against the flow's signature, schedules,
    work pool names and duplicate deployments. On any problem nothing is registered, each
    problem is printed on one line naming the entry and the field, and the exit code is 1.
    """
    from tasks_core.deployment_file import check_file, register_all
    from tasks_core.errors import ConfigurationError

    with expected_errors():  # settings and Redis errors, as every command prints them
        try:
            checked = check_file(file)
            _check_names(file, [item.spec.name for item in checked], names, all_)
        except ConfigurationError as exc:
            _print_problems(exc)
    chosen = checked if all_ else [c for c in checked if c.spec.name in set(names)]
    with expected_errors():
        ids = register_all(chosen)
    if not chosen:
        console.print(f"{file} declares no deployments: nothing to register.", highlight=False)
    for item, deployment_id in zip(chosen, ids, strict=True):
        console.print(f"Deployed [bold]{item.deployment.full_name}[/bold] "
                      f"({item.spec.entrypoint}) as {deployment_id}", highlight=False,
                      soft_wrap=True)


def _check_names(file: Path, in_file: list[str], names: list[str] | None, all_: bool) -> None:
    """ConfigurationError unless --all or names of the file's deployments were given."""
    from tasks_core.errors import ConfigurationError

    has = f"it has: {', '.join(in_file)}" if in_file else "it has none"
    if not all_ and not names:
        raise ConfigurationError(f"name deployments of {file} to register, or use --all ({has})")
    missing = set(names or []) - set(in_file)
    if missing:
        raise ConfigurationError(f"{file} has no deployment named "
                                 f"{', '.join(sorted(missing))} ({has})")


def _print_problems(error: Exception) -> NoReturn:
    """The error's lines on stderr, never wrapped (each problem stays one greppable line),
    then exit 1."""
    head, *lines = str(error).splitlines()
    err_console.print(Text.assemble(("error: ", "red"), head), soft_wrap=True)
    for line in lines:
        err_console.print(Text(line), soft_wrap=True)
    raise typer.Exit(1)
