"""`tasks-core deploy`: register the deployments of a deployments file."""

from __future__ import annotations

from pathlib import Path

import typer

from tasks_core.cli.output import console, expected_errors

__all__ = ["deploy"]


def deploy(
    names: list[str] = typer.Argument(None, help="deployment names from the file"),
    all_: bool = typer.Option(False, "--all", help="every deployment in the file"),
    file: Path = typer.Option(Path("deployments.yaml"), "--file", "-f",
                              help="the deployments file (see configs/deployments.yaml)"),
) -> None:
    """Register (create or update) deployments declared in a deployments file."""
    from tasks_core.deployment_file import load_deployment_file, register
    from tasks_core.errors import ConfigurationError

    with expected_errors():
        specs = load_deployment_file(file)
        if not all_ and not names:
            raise ConfigurationError(f"name deployments of {file} to register, or use --all "
                                     f"(it has: {', '.join(s.name for s in specs)})")
        chosen = specs if all_ else [s for s in specs if s.name in set(names)]
        missing = set(names or []) - {s.name for s in chosen}
        if missing:
            raise ConfigurationError(f"{file} has no deployment named "
                                     f"{', '.join(sorted(missing))}")
        for spec in chosen:
            deployment_id = register(spec, file.resolve().parent)
            console.print(f"Deployed [bold]{spec.name}[/bold] ({spec.entrypoint}) "
                          f"as {deployment_id}")
