"""`tasks-core redis ...`: which Redis is in use."""

import typer

app = typer.Typer(help="The Redis in use (configured or embedded).", no_args_is_help=True)
