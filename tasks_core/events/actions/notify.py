"""Running SendNotification: Apprise delivers to its URLs; ``log://`` (or no target) writes
to the engine's log (logger ``tasks_core.automations``, INFO).

Apprise is the whole integration: ``json://``, ``mailto://``, ``slack://``, ``ntfy://`` and
every service it supports work without code here (https://github.com/caronc/apprise).
Messages never show a URL past its scheme: Apprise URLs hold credentials.
"""

from __future__ import annotations

import logging
from typing import Any

from tasks_core.events.actions.context import ActionContext, ActionResult
from tasks_core.events.actions.errors import ActionFailed
from tasks_core.events.actions.models import SendNotification

__all__ = ["LOG_URL", "apprise_refusal", "scheme_of", "send_notification"]

LOG_URL = "log://"
log = logging.getLogger("tasks_core.automations")


def _capture() -> Any:
    """Apprise's log of one call (its reasons for refusing a URL or a delivery)."""
    import apprise

    return apprise.LogCapture(level=logging.WARNING)  # type: ignore[no-untyped-call]


def scheme_of(url: str) -> str:
    """``json://...``: the URL with everything after its scheme hidden."""
    return url.split("://", 1)[0] + "://..."


def _is_log(url: str) -> bool:
    return url.strip().lower().startswith(LOG_URL)


def apprise_refusal(url: str) -> str | None:
    """Why Apprise cannot use `url` (no network), or None when it can."""
    import apprise

    if _is_log(url):
        return None
    with _capture() as captured:
        usable = apprise.Apprise().add(url)
    if usable:
        return None
    detail = captured.getvalue().strip().splitlines()
    reason = detail[-1].split(" - ")[-1] if detail else "unsupported or malformed URL"
    return f"{scheme_of(url)} is not a URL Apprise can use ({reason})"


def send_notification(action: SendNotification, ctx: ActionContext) -> ActionResult:
    """Deliver ``subject`` (title) and ``body`` (already rendered) to every target. Detail:
    ``{"delivered": ["json://...", ...], "logged": bool}``.

    Raises:
        ActionFailed: a URL Apprise cannot use, or a delivery Apprise reports failed (its
            logged reason included).
    """
    import apprise

    urls = [u for u in action.to if not _is_log(u)]
    logged = not action.to or len(urls) < len(action.to)
    if logged:
        log.info("automation %r notification: %s\n%s", ctx.automation.name, action.subject,
                 action.body)
    if urls:
        sender = apprise.Apprise()
        for url in urls:
            problem = apprise_refusal(url)
            if problem is not None or not sender.add(url):
                raise ActionFailed(f"{action.describe()}: {problem or scheme_of(url)}")
        with _capture() as captured:
            delivered = bool(sender.notify(body=action.body, title=action.subject))
        if not delivered:
            lines = captured.getvalue().strip().splitlines()
            reason = "; ".join(line.split(" - ", 2)[-1] for line in lines[-3:]) or "no reason"
            raise ActionFailed(f"{action.describe()}: delivery failed: {reason}")
    return ActionResult(action.type, ctx.action_index, "",
                        {"delivered": [scheme_of(u) for u in urls], "logged": logged})
