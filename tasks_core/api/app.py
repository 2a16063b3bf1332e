"""The FastAPI application: routers of each resource, API-key check, error replies.

`create_app(settings)` builds it; `tasks-core server` serves it with uvicorn
(`tasks_core.api.serve`). ``/openapi.json`` and ``/docs`` describe every route.
"""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter, Depends, FastAPI

from tasks_core.api.auth import refuse_cross_site, require_api_key
from tasks_core.api.errors import install_error_handlers
from tasks_core.api.guard import GuardMiddleware
from tasks_core.settings import Settings, get_settings

__all__ = ["API_MODULES", "KEYED_ROOT_MODULES", "OPEN_MODULES", "create_app"]

API_MODULES = ("health", "flow_runs", "task_runs", "deployments", "work_pools", "events",
               "automations", "webhooks", "artifacts", "pauses")
"""Modules of `tasks_core.api` whose ``router`` is mounted under ``/api`` behind the API
key (`health` answers without it)."""

OPEN_MODULES: tuple[str, ...] = ("hooks",)
"""Modules whose ``router`` is mounted at the root, without the API key (webhooks check
their own secrets)."""

KEYED_ROOT_MODULES = ("metrics",)
"""Modules whose ``router`` is mounted at the root behind the API key (``/metrics``)."""

_VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API application on `settings` (default: this process's settings)."""
    app = FastAPI(
        title="tasks-core",
        version=_VERSION,
        summary="Flow runs, task runs, deployments, work pools, events, automations and "
                "webhooks of one tasks-core stack",
    )
    app.state.settings = settings or get_settings()
    install_error_handlers(app)
    for name in API_MODULES:
        router: APIRouter = import_module(f"tasks_core.api.{name}").router
        dependencies = [Depends(refuse_cross_site)]
        if name != "health":
            dependencies.append(Depends(require_api_key))
        app.include_router(router, prefix="/api", dependencies=dependencies)
    for name in KEYED_ROOT_MODULES:
        app.include_router(import_module(f"tasks_core.api.{name}").router,
                           dependencies=[Depends(require_api_key)])
    for name in OPEN_MODULES:
        app.include_router(import_module(f"tasks_core.api.{name}").router)
    from tasks_core.dashboard.app import mount_dashboard

    mount_dashboard(app)
    app.add_middleware(GuardMiddleware, settings=app.state.settings)
    return app
