"""The CLI's one error path, without rich at import: `expected_errors` and `fail`.

Expected errors (`TasksCoreError`, Redis errors, invalid settings or records) become one
red line on stderr and exit code 1, never a traceback: wrap a command's body in
`expected_errors()`. `tasks_core.cli.output` re-exports both.

Why a module of its own: the process commands (`tasks-core worker`, ...) need this error
path, not rich's consoles and tables, and what a worker's main process imports is carried
by each of its prefork children too (issue 16, footprint). The red line is printed by the
CLI's ``err_console`` (`tasks_core.cli.consoles`), imported only when there is one to print.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pydantic
import typer

from tasks_core.errors import TasksCoreError
from tasks_core.store.connection import StoreError

__all__ = ["expected_errors", "fail"]


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print `message` in red on stderr and exit with `code`."""
    from rich.markup import escape

    from tasks_core.cli.consoles import err_console  # rich: only when an error is printed

    # soft_wrap: one line at any width, so `2>&1 | grep` finds the whole message
    err_console.print(f"[red]error:[/red] {escape(message)}", style="red", highlight=False,
                      soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def expected_errors() -> Iterator[None]:
    """Turn the errors tasks-core raises on purpose (and Redis errors) into `fail`."""
    try:
        yield
    except TasksCoreError as exc:
        fail(str(exc))
    except StoreError as exc:
        fail(f"Redis error: {exc}")
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'value'}: {error['msg']}"
            for error in exc.errors()
        )
        if exc.title == "Settings":
            fail(f"invalid settings (TASKS_CORE_* environment or the settings file): {problems}")
        fail(f"malformed {exc.title} data: {problems}")
