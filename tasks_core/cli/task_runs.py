"""`tasks-core task-run ...`: list and inspect task runs."""

import typer

app = typer.Typer(help="List and inspect task runs.", no_args_is_help=True)
