"""``Celery(...)`` on tasks-core: the app object a Celery project builds, kept as its facade.

``app = Celery("proj", broker=..., backend=...)`` gives an object with Celery's everyday
surface: ``@app.task`` / ``@shared_task`` make tracked tasks-core tasks (`CeleryTask`),
``app.conf`` is the real Celery configuration of this process's tasks-core app (so
``app.conf.task_always_eager``, ``task_routes`` or ``beat_schedule`` set there are read by
tasks-core), ``app.AsyncResult(id)``, ``app.send_task(name, ...)``, ``app.control`` and the
rest of Celery's app API reach the tasks-core cluster.

Where the broker comes from: tasks-core's settings (``TASKS_CORE_REDIS_URL`` /
``TASKS_CORE_BROKER_URL`` or ``tasks-core.toml``) win; a ``broker=`` given here is used only
when neither is set (it must then be a Redis URL: runs are kept in Redis). ``backend=`` is
accepted and not used: results live in the run ledger.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from celery import Celery as _CeleryApp

from tasks_core.celery.task import CeleryTask, celery_task_name
from tasks_core.celery_app import is_redis_url
from tasks_core.errors import ConfigurationError
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.settings import get_settings, reset_settings

__all__ = ["Celery", "current_app", "shared_task"]

log = logging.getLogger(__name__)

_apps: list[Celery] = []


def _adopt_broker(url: str) -> None:
    """Use `url` as the Redis URL when tasks-core's settings name none."""
    settings = get_settings()
    configured = settings.effective_broker_url
    if configured is not None:
        if configured != url:
            log.info("Celery(broker=%r) not used: tasks-core's settings name %r", url, configured)
        return
    if not is_redis_url(url):
        raise ConfigurationError(
            f"Celery(broker={url!r}): tasks-core keeps runs in Redis, so the broker must be a "
            "redis:// or rediss:// URL (or set TASKS_CORE_BROKER_URL beside "
            "TASKS_CORE_REDIS_URL)")
    os.environ["TASKS_CORE_REDIS_URL"] = url  # child processes (workers it starts) agree
    reset_settings()
    reset_runtime()


def _make_task(fn: Callable[..., Any], main: str | None, options: dict[str, Any]) -> CeleryTask:
    base = options.pop("base", None)
    cls: type[CeleryTask] = CeleryTask
    if base is not None:
        if not (isinstance(base, type) and issubclass(base, CeleryTask)):
            raise ConfigurationError(
                f"task {fn.__name__}: base= must be a subclass of tasks_core.celery.Task, "
                f"got {base!r}")
        cls = base
    options.setdefault("name", celery_task_name(fn, main))
    return cls(fn, **options)


def _decorator(main: str | None, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    if len(args) == 1 and callable(args[0]) and not options:
        return _make_task(args[0], main, {})
    if args:
        raise ConfigurationError(
            "app.task takes a function or keyword options only, e.g. @app.task(bind=True)")
    return lambda fn: _make_task(fn, main, dict(options))


class Celery:
    """A Celery project's app object on tasks-core.

    Args:
        main: the project's name; Celery's default task names of functions defined in
            ``__main__`` start with it.
        broker: a Redis URL, used only when tasks-core's settings name none (see module).
        backend: accepted, not used (results live in the run ledger).
        include: modules to import, as Celery imports them on a worker.

    Attributes of Celery's app this object does not define (``control``, ``events``,
    ``amqp``, ``tasks`` ...) are the real Celery app's (`tasks_core.celery_app`).

    Raises:
        ConfigurationError: a broker URL that is not Redis while none is configured.
    """

    def __init__(self, main: str | None = None, *, broker: str | None = None,
                 backend: str | None = None, include: Iterable[str] | None = None,
                 **config: Any) -> None:
        self.main = main
        self.backend = backend
        if broker:
            _adopt_broker(broker)
        if config:
            self.conf.update(config)
        self._include = list(include or ())
        _apps.append(self)

    @property
    def app(self) -> _CeleryApp:
        """The real Celery app of this process's tasks-core runtime."""
        return get_runtime().app

    @property
    def conf(self) -> Any:
        """The real Celery configuration (read by tasks-core for eager mode, routes, beat)."""
        return self.app.conf

    def task(self, *args: Any, **options: Any) -> Any:
        """``@app.task`` or ``@app.task(**options)``: a tracked task (`CeleryTask`)."""
        return _decorator(self.main, args, options)

    def AsyncResult(self, task_id: str, **_: Any) -> Any:  # Celery's name
        """The result handle of the run `task_id` (Celery's ``app.AsyncResult``)."""
        from tasks_core.celery.result import AsyncResult

        return AsyncResult(task_id)

    def GroupResult(self, *args: Any, **kwargs: Any) -> Any:  # Celery's name
        """Celery's ``app.GroupResult``."""
        from tasks_core.celery.result import GroupResult

        return GroupResult(*args, **kwargs)

    def send_task(self, name: str, args: Iterable[Any] | None = None,
                  kwargs: dict[str, Any] | None = None, **options: Any) -> Any:
        """Send a run of the task registered under `name` (Celery's ``send_task``): its
        Celery ``AsyncResult``, whether the task is known in this process or only on the
        workers."""
        import tasks_core
        from tasks_core.async_result import AsyncResult

        sent = tasks_core.send_task(name, args, kwargs, **options)
        return sent if isinstance(sent, AsyncResult) else AsyncResult.from_future(sent)

    def signature(self, name: str, args: Iterable[Any] | None = None,
                  kwargs: dict[str, Any] | None = None, **options: Any) -> Any:
        """A signature of the task registered under `name`."""
        from tasks_core.canvas import signature

        return signature(name, args=args, kwargs=kwargs, **options)

    def autodiscover_tasks(self, packages: Iterable[str] | Callable[[], Iterable[str]],
                           related_name: str = "tasks", force: bool = False) -> None:
        """Import ``<package>.<related_name>`` of each package that has one (Celery's
        ``autodiscover_tasks``, done at once: there is no app finalisation to wait for)."""
        names = packages() if callable(packages) else packages
        for package in names:
            try:
                importlib.import_module(f"{package}.{related_name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{related_name}":
                    raise

    def config_from_object(self, obj: Any, namespace: str | None = None, **_: Any) -> None:
        """Copy settings from an object or module (path), Celery's lower-case names, or
        upper-case names under `namespace` (``namespace="CELERY"``: ``CELERY_TASK_ROUTES``
        sets ``task_routes``). Broker and backend names are left to tasks-core's settings."""
        source = importlib.import_module(obj) if isinstance(obj, str) else obj
        prefix = f"{namespace}_" if namespace else ""
        values: dict[str, Any] = {}
        for attr in dir(source):
            if prefix and attr.startswith(prefix):
                values[attr[len(prefix):].lower()] = getattr(source, attr)
            elif not prefix and attr.islower() and not attr.startswith("_"):
                values[attr] = getattr(source, attr)
        for skipped in ("broker_url", "result_backend", "broker", "backend"):
            values.pop(skipped, None)
        self.conf.update({k: v for k, v in values.items() if not callable(v) or
                          k in ("task_routes",)})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.app, name)

    def __repr__(self) -> str:
        return f"<tasks_core.celery.Celery {self.main or '__main__'}>"


def current_app() -> Celery:
    """The most recently made facade app (one is made when none exists)."""
    return _apps[-1] if _apps else Celery()


def shared_task(*args: Any, **options: Any) -> Any:
    """``@shared_task`` / ``@shared_task(**options)``: a task not bound to an app object
    (Celery's ``shared_task``; every task here belongs to the one tasks-core cluster)."""
    return _decorator(None, args, options)
