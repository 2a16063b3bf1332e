"""The CLI's two rich consoles: `console` (stdout) and `err_console` (stderr).

Apart from `tasks_core.cli.output` (which re-exports them) so that the error path
(`tasks_core.cli.failing`) prints with the same console without importing the CLI's tables
and formatting; this module, and rich, load when something is printed.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["console", "err_console"]

console = Console()
err_console = Console(stderr=True)
