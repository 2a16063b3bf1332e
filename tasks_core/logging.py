"""Prefect's ``prefect.logging`` module path: ``from tasks_core.logging import
get_run_logger``. The run logger itself is `tasks_core.run_logging.get_run_logger`: a
logger whose entries are stored with the flow or task run executing here; outside a run it
raises `tasks_core.context.MissingContextError`."""

from tasks_core.run_logging import get_run_logger

__all__ = ["get_run_logger"]
