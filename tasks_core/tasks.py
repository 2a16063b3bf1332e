"""Prefect's ``prefect.tasks`` module path: ``from tasks_core.tasks import task_input_hash``.

- `task`, `Task`: `tasks_core.task`.
- `task_input_hash(context, parameters)`: a ``cache_key_fn`` keying on the task and its
  inputs (`tasks_core.engine.caching`).
- `exponential_backoff(backoff_factor)`: ``retry_delay_seconds`` of
  ``backoff_factor * 2**n`` seconds for retry n (Prefect's retries page).
"""

from tasks_core.engine.caching import task_input_hash
from tasks_core.task import Task, exponential_backoff, task

__all__ = ["Task", "exponential_backoff", "task", "task_input_hash"]
