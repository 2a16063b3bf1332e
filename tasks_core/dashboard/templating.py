"""Rendering pages: Jinja2 templates from this package, autoescaped, with the context every
page shares (navigation, the CSRF token, whether a login is in force)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tasks_core.dashboard.flower import probe as flower_probe
from tasks_core.dashboard.session import COOKIE, csrf_token, session_nonce
from tasks_core.settings import Settings

__all__ = ["NAV", "page", "templates"]

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
"""The package's templates; Starlette's Jinja2 environment autoescapes ``.html``."""

NAV: list[tuple[str, str]] = []
"""(label, path) of each page in the navigation bar, in order; page modules add theirs."""


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "—"
    seconds = (now - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


templates.env.filters["age"] = lambda moment: _age(moment, datetime.now(UTC))
templates.env.filters["duration"] = _duration


def page(request: Request, name: str, **context: Any) -> HTMLResponse:
    """Render template `name` with `context` and what every page needs: ``nav``,
    ``csrf_token``, ``login`` (an API key is set), ``path``, ``flower_url`` (None unless
    Flower answers at ``settings.flower_url``)."""
    settings: Settings = request.app.state.settings
    key = settings.api_key.get_secret_value() if settings.api_key else None
    nonce = session_nonce(key, request.cookies.get(COOKIE)) if key else None
    return templates.TemplateResponse(request, name, {
        "nav": NAV, "csrf_token": csrf_token(key, nonce), "login": key is not None,
        "path": request.url.path, "flower_url": flower_probe.link(settings.flower_url),
        **context})
