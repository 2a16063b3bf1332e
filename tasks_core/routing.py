"""Which queue a new task run goes to: Celery's ``task_routes`` and ``task_default_queue``.

The order is Celery's (docs.celeryq.dev, userguide/routing): the ``queue=`` of the call,
then the task's own ``queue=`` option, then the routers, then the default queue.

- Routers are Celery's ``task_routes``, read from two places, the app's first:
  the Celery configuration of this process (``app.conf.task_routes`` of
  `tasks_core.celery.Celery`, the tasks-core Celery app's conf) and the ``task_routes``
  setting (``tasks-core.toml`` or ``TASKS_CORE_TASK_ROUTES`` as JSON). Each may be a dict
  (task name or glob pattern -> a queue name or ``{"queue": ..., "priority": ...}``; a
  ``re.compile(...)`` key is a regex), a router function ``(name, args, kwargs, options,
  task=None, **kw)`` returning a queue name, a dict or None, a dotted path to one, or a
  list of any of these tried in order; Celery's own `celery.app.routes.prepare` reads them.
- The default queue is ``task_default_queue`` of the app's conf, which is the
  ``default_pool`` setting unless code changed it (``app.conf.task_default_queue = "io"``).

Routing is by the task's name (its ``name=``, or Celery's ``module.qualname`` for tasks of
`tasks_core.celery`). A worker consumes only the queues it is started on (``tasks-core
worker --pool NAME``, default the ``default_pool``): start one on every queue you route to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from celery.app.routes import prepare
from celery.utils.functional import maybe_evaluate
from kombu.entity import Queue

from tasks_core.errors import ConfigurationError
from tasks_core.process_runtime import Runtime

__all__ = ["Route", "destination", "route_for", "routed_queue"]

Route = tuple[str | None, int | None]
"""A router's answer: (queue, priority), either None when it says nothing of it."""

_prepared: dict[int, tuple[Any, list[Any]]] = {}


def _routers(value: Any) -> list[Any]:
    """Celery's prepared routers of a ``task_routes`` value (cached per value object)."""
    if not value:
        return []
    cached = _prepared.get(id(value))
    if cached is not None and cached[0] is value:
        return cached[1]
    try:
        routers = list(prepare(value))
    except Exception as exc:
        raise ConfigurationError(f"task_routes {value!r:.200} cannot be read: {exc}") from None
    _prepared[id(value)] = (value, routers)
    return routers


def _answer(found: Any) -> Route:
    if isinstance(found, str):
        return found, None
    if isinstance(found, Queue):
        return found.name, None
    if isinstance(found, Mapping):
        queue = found.get("queue")
        if isinstance(queue, Queue):
            queue = queue.name
        priority = found.get("priority")
        return (queue if isinstance(queue, str) and queue else None,
                priority if isinstance(priority, int) else None)
    raise ConfigurationError(f"a task_routes router returned {found!r:.100}: give a queue "
                             "name, a dict with 'queue' or None")


def route_for(name: str, args: Sequence[Any], kwargs: Mapping[str, Any],
              *routes: Any) -> Route:
    """What the first router of `routes` (``task_routes`` values, tried in order) that
    answers says of task `name` called with `args` / `kwargs`; (None, None): none does.

    Raises:
        ConfigurationError: a ``task_routes`` value Celery cannot read, or a router that
            answers something other than a queue name, a dict or None.
    """
    for value in routes:
        for lazy in _routers(value):
            try:
                router = maybe_evaluate(lazy)  # a dotted path is imported on first use
            except Exception as exc:
                path = getattr(lazy, "_args", (lazy,))[0]  # mlazy(import, "dotted.path")
                raise ConfigurationError(f"task_routes router {path!r:.100} cannot be "
                                         f"imported: {exc}") from None
            if hasattr(router, "route_for_task"):  # Celery's pre-4.0 router classes
                found = router.route_for_task(name, tuple(args), dict(kwargs))
            else:
                found = router(name, tuple(args), dict(kwargs), {}, task=None)
            if found:
                return _answer(found)
    return None, None


def routed_queue(rt: Runtime, name: str, args: Sequence[Any] = (),
                 kwargs: Mapping[str, Any] | None = None) -> tuple[str, int | None]:
    """The queue (and a router's priority, else None) of a new run of task `name` that
    neither the call nor the task names a queue for: its route, else the default queue."""
    conf = rt.app.conf
    conf_routes = conf.task_routes
    if conf_routes or rt.settings.task_routes:
        queue, priority = route_for(name, args, kwargs or {}, conf_routes,
                                    rt.settings.task_routes)
        if queue:
            return queue, priority
    return str(conf.task_default_queue or rt.settings.default_pool), None


def destination(rt: Runtime, name: str, args: Sequence[Any], kwargs: Mapping[str, Any], *,
                queue: str | None, priority: int | None, task_queue: str | None,
                task_priority: int = 0) -> tuple[str, int]:
    """Queue and priority of a new run of task `name`: the call's `queue` / `priority`,
    else the task's `task_queue`, else its route (`routed_queue`); the priority is the
    call's, else the route's, else the task's `task_priority`."""
    if queue or task_queue:
        return str(queue or task_queue), task_priority if priority is None else priority
    routed, route_priority = routed_queue(rt, name, args, kwargs)
    if priority is None:
        priority = task_priority if route_priority is None else route_priority
    return routed, priority
