"""``/login`` and ``/logout``: the API key once, then a session cookie (HttpOnly,
SameSite=Strict, Secure when served over https)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tasks_core.dashboard.session import COOKIE, SESSION_SECONDS, new_session
from tasks_core.dashboard.templating import page
from tasks_core.settings import Settings

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this server (never another site: ``//host`` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, api_key: str = Form(""), next: str = Form("/")) -> Response:
    settings: Settings = request.app.state.settings
    if settings.api_key is None:
        return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    key = settings.api_key.get_secret_value()
    if not hmac.compare_digest(api_key.encode(), key.encode()):
        refused = page(request, "login.html", next=_safe_next(next),
                       error="That is not the API key (TASKS_CORE_API_KEY).")
        refused.status_code = status.HTTP_401_UNAUTHORIZED
        return refused
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(COOKIE, new_session(key), max_age=SESSION_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response
