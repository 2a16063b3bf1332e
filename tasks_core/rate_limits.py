"""Celery's ``rate_limit`` task option, parsed (pure).

``rate_limit="10/m"`` allows at most 10 starts of the task a minute; ``"10/s"``, ``"10/h"``
and plain numbers (starts per second) work as in Celery (docs.celeryq.dev, userguide/tasks,
``Task.rate_limit``; parsed by Celery's own `celery.utils.time.rate`).

On purpose unlike Celery: the limit holds across ALL workers together (a token bucket in
Redis, `tasks_core.store.rate_limits`), not per worker process, so ``10/m`` means 10 a
minute for the whole cluster however many workers run. A run over the limit waits (it stays
Pending and its message comes back when its slot is due), never fails. It applies to runs
executed from their own message (``.delay()``, ``apply_async``, ``send_task``); runs of a
``.map()`` chunk and task calls inside a flow are not limited.
"""

from __future__ import annotations

from celery.utils.time import rate

from tasks_core.errors import ConfigurationError

__all__ = ["parse_rate_limit"]


def parse_rate_limit(owner: str, value: object) -> float | None:
    """Starts per second of a ``rate_limit`` option: ``"10/m"``, ``"10/s"``, ``"10/h"`` or a
    number (per second); None (or 0) for no limit.

    Raises:
        ConfigurationError: naming `owner` and the value, for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigurationError(f"{owner}: rate_limit must be like '10/m', '10/s', '10/h' or "
                                 f"a number, got {value!r}")
    try:
        per_second = float(rate(value))
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(f"{owner}: rate_limit {value!r} is not a rate: give '10/m', "
                                 "'10/s', '10/h' or a number of starts per second") from None
    if per_second < 0 or per_second != per_second or per_second == float("inf"):
        raise ConfigurationError(f"{owner}: rate_limit must be >= 0, got {value!r}")
    return per_second or None
