"""Taking one authenticated webhook request: rate limit, event, replay check, write.

`accept` is synchronous (it runs in the server's thread pool) and writes the event to the
stream itself, through the event store, in one atomic call: when it returns, the event is
on the stream; when it raises, nothing was written. Steps, in order:

1. the per-webhook rate limit: a fixed window of ``webhook_rate_window_seconds`` counted in
   Redis (`WebhookStore.count_request`), so every server on that Redis shares the count;
   past ``webhook_rate_limit`` -> `RateLimited` (429, Retry-After: seconds to the window's
   end);
2. the event (`ingest.make_event`): a `ValidationError` names why there is none (400);
3. a Standard Webhooks message id is marked for `auth.REPLAY_TTL_SECONDS`; one already
   marked -> `Replayed` (401: a replay is an authentication failure);
4. the event is written (`EventStore.write`); if that fails the mark is taken back;
5. an id already stored (events are stored once by id) is looked up: the same event re-sent
   through this webhook (same name, resource, related resources and payload) is accepted
   again, as it is on the stream; a different event holding that id is refused with
   `EventConflict` (409), so a 2xx never answers an event that is not stored.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tasks_core.errors import TasksCoreError
from tasks_core.events.schema import Event, EventLimits
from tasks_core.webhooks.auth import REPLAY_TTL_SECONDS, AuthFailed
from tasks_core.webhooks.ingest import HookRequest, make_event
from tasks_core.webhooks.model import StoredWebhook

if TYPE_CHECKING:
    from tasks_core.settings import Settings

__all__ = ["EventConflict", "RateLimited", "Replayed", "accept", "rate_window"]


class RateLimited(TasksCoreError):
    """A webhook took more requests than its rate limit allows in this window."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EventConflict(TasksCoreError):
    """The request's event id is held by another stored event: nothing was stored."""


class Replayed(AuthFailed):
    """A Standard Webhooks message id already accepted within the replay window."""


def rate_window(now: float, window_seconds: int) -> tuple[int, int]:
    """(the fixed window's number, whole seconds until it ends, at least 1) at `now`."""
    index = int(now // window_seconds)
    return index, max(1, math.ceil((index + 1) * window_seconds - now))


def _check_rate(webhook: StoredWebhook, settings: Settings, now: float) -> None:
    from tasks_core.process_runtime import get_runtime

    limit = settings.webhook_rate_limit
    if limit <= 0:
        return
    window = settings.webhook_rate_window_seconds
    index, retry_after = rate_window(now, window)
    count = get_runtime().webhooks.count_request(webhook.id, index, window * 1000)
    if count > limit:
        raise RateLimited(f"webhook {webhook.name!r} is over its rate limit of {limit} "
                          f"requests per {window} s (webhook_rate_limit); retry in "
                          f"{retry_after} s", retry_after)


def accept(webhook: StoredWebhook, request: HookRequest, message_id: str | None, *,
           settings: Settings, now: float) -> Event:
    """Turn an authenticated request into an event on the stream; the event.

    Args:
        message_id: the Standard Webhooks ``webhook-id`` (``hmac`` webhooks), else None.
        now: the time (epoch seconds), for the rate window.

    Raises:
        RateLimited: over the rate limit (nothing written).
        ValidationError: the request makes no valid event (nothing written).
        Replayed: the message id was accepted before (nothing written).
        StoreUnavailable, redis.ConnectionError: Redis is away (the event may not be stored;
            the sender should retry).
    """
    from tasks_core.process_runtime import get_runtime

    rt = get_runtime()
    _check_rate(webhook, settings, now)
    event = make_event(webhook, request, EventLimits.from_settings(settings))
    if message_id is not None and not rt.webhooks.mark_message(webhook.id, message_id,
                                                                REPLAY_TTL_SECONDS):
        raise Replayed(f"webhook-id {message_id!r} was already accepted (a replay)")
    try:
        written = rt.events.write([(event.id, event.model_dump_json())])
    except BaseException:
        if message_id is not None:
            _unmark(webhook.id, message_id)
        raise
    if not written:
        stored = rt.events.find(event.id)
        if stored is None or not same_event(Event.model_validate_json(stored[1]), event):
            raise EventConflict(
                f"event id {event.id!r} is already held by another event (or was stored "
                "so long ago that its mark outlived it); nothing was stored: send a "
                "different id")
    return event


def same_event(stored: Event, new: Event) -> bool:
    """Whether `new` is `stored` sent again: the same name, resource, related resources
    and payload (times may differ: a template may stamp ``occurred`` with now)."""
    return (stored.event, stored.resource, stored.related, stored.payload) == (
        new.event, new.resource, new.related, new.payload)


def _unmark(webhook_id: str, message_id: str) -> None:
    from tasks_core.process_runtime import get_runtime

    try:
        get_runtime().webhooks.unmark_message(webhook_id, message_id)
    except Exception:  # Redis is away: the mark expires by itself
        return
