"""The Celery facade's app object without a cluster: task names, decorator forms, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core.celery import Celery, CeleryTask, Task, shared_task
from tasks_core.celery.task import celery_task_name
from tasks_core.errors import ConfigurationError


def double(x: int) -> int:
    return 2 * x


def test_app_task_names_tasks_as_celery_does() -> None:
    app = Celery("proj")
    plain = app.task(double)
    named = app.task(name="proj.twice")(double)
    shared = shared_task(double)
    assert isinstance(plain, CeleryTask) and Task is CeleryTask
    assert plain.name == f"{__name__}.double"
    assert named.name == "proj.twice"
    assert shared.name == f"{__name__}.double"
    assert plain.fn(4) == 8  # the function is kept


def test_tasks_of_main_take_the_apps_name() -> None:
    def f() -> None: ...
    f.__module__ = "__main__"
    assert celery_task_name(f, "proj") == "proj.test_tasks_of_main_take_the_apps_name.<locals>.f"


def test_base_must_be_a_facade_task_class() -> None:
    class Custom(CeleryTask):
        pass

    app = Celery("proj")
    assert type(app.task(base=Custom)(double)) is Custom
    with pytest.raises(ConfigurationError, match="base= must be a subclass"):
        app.task(base=object)(double)


def test_positional_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="keyword options only"):
        Celery("proj").task("proj.x")


def test_a_broker_that_is_not_redis_is_refused_when_none_is_configured(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tasks_core.settings import reset_settings

    for name in ("TASKS_CORE_REDIS_URL", "TASKS_CORE_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TASKS_CORE_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    reset_settings()
    try:
        with pytest.raises(ConfigurationError, match="must be a redis://"):
            Celery("proj", broker="amqp://guest@localhost//")
    finally:
        reset_settings()
