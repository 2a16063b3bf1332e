"""Mounting the dashboard on the API's application: static files, the login, each page.

`PAGE_MODULES` lists the page modules of this package, in navigation order; each has a
``router`` and calls `templating.NAV.append` for its entry. Pages ask for a login when an
API key is set (`require_login`) and refuse cross-site writes like the API does.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from tasks_core.api.auth import refuse_cross_site
from tasks_core.dashboard.session import COOKIE, session_nonce
from tasks_core.settings import Settings

__all__ = ["PAGE_MODULES", "mount_dashboard", "require_login"]

PAGE_MODULES = ("flow_runs", "flow_run", "task_runs", "deployments", "automations",
                "events", "work_pools", "webhooks")
"""Page modules of `tasks_core.dashboard`, in navigation order."""


def require_login(request: Request) -> None:
    """FastAPI dependency of every page: with an API key set, a request without a valid
    session is sent to ``/login`` (303), which brings it back after."""
    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return
    if session_nonce(settings.api_key.get_secret_value(), request.cookies.get(COOKIE)):
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise HTTPException(status.HTTP_303_SEE_OTHER, detail="log in first",
                        headers={"Location": f"/login?next={quote(target, safe='')}"})


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard's static files (``/static``), login (``/login``) and pages."""
    from tasks_core.dashboard import login

    app.mount("/static", StaticFiles(directory=Path(__file__).with_name("static")),
              name="static")
    app.include_router(login.router, dependencies=[Depends(refuse_cross_site)])
    guards = [Depends(refuse_cross_site), Depends(require_login)]
    for name in PAGE_MODULES:
        app.include_router(import_module(f"tasks_core.dashboard.{name}").router,
                           dependencies=guards)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/flow-runs", status_code=status.HTTP_303_SEE_OTHER)
