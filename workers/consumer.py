"""The worker's Celery consumer: a message it cannot run is set aside, never dropped.

Celery's own consumer logs and acks (or rejects) a message whose body does not decode or
is refused (pickle: only JSON is accepted), that names an unknown task or is not a task
message at all: the message is gone. And a task message of the wrong shape becomes a
TypeError failure of a task that never had a run. This consumer moves each of them to the
dead-letter list (`rt.deadletters`) with the reason, the queue and the raw message first,
then acks it; the worker keeps consuming. When the dead-letter write fails (Redis away),
the message is left unacked: kombu gives it back later, nothing is lost.

Checked before a task is handed to the pool (`_checked_strategy`): the body is Celery's
protocol 2 ``[args, kwargs, embed]`` (`messages.body_problem`) and tasks-core's own
tasks get the arguments they take (`messages.args_problem`).

Installed by `use_safe_consumer(app)` (Celery's ``worker_consumer`` setting).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.exceptions import InvalidTaskError
from celery.worker.consumer import Consumer

from tasks_core.messages import OWN_TASKS, DeadLetter, Stage, args_problem, body_problem
from tasks_core.process_runtime import get_runtime

__all__ = ["SafeConsumer", "raw_message", "set_aside", "use_safe_consumer"]

log = logging.getLogger("tasks_core.worker")


def use_safe_consumer(app: Celery) -> None:
    """Make `app`'s workers use `SafeConsumer`."""
    app.conf.worker_consumer = f"{__name__}:SafeConsumer"


def raw_message(message: Any) -> str:
    """The message as the broker held it: kombu's Redis envelope (JSON); on other brokers,
    an envelope of the same shape built from its body, headers and properties."""
    raw = getattr(message, "_raw", None)  # kombu's virtual transports keep the envelope
    if isinstance(raw, dict):
        return json.dumps(raw, separators=(",", ":"))
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    properties = dict(message.properties or {})
    properties.update(delivery_info=dict(message.delivery_info or {}),
                      body_encoding="base64", delivery_tag=str(message.delivery_tag))
    return json.dumps({"body": base64.b64encode(body).decode(),
                       "content-type": message.content_type,
                       "content-encoding": message.content_encoding,
                       "headers": message.headers, "properties": properties},
                      separators=(",", ":"), default=str)


def set_aside(message: Any, reason: str, *, stage: Stage = "consumer") -> bool:
    """Write `message` to the dead-letter list; whether it was written (ack only then)."""
    headers = message.headers if isinstance(message.headers, dict) else {}
    info = message.delivery_info if isinstance(message.delivery_info, dict) else {}
    properties = message.properties if isinstance(message.properties, dict) else {}
    entry = DeadLetter.new(
        reason, queue=str(info.get("routing_key") or ""), raw=raw_message(message),
        stage=stage, priority=properties.get("priority") or 0,
        task=_text(headers.get("task")), message_id=_text(headers.get("id")))
    try:
        get_runtime().deadletters.add(entry)
    except Exception:  # left unacked: the broker gives it back later
        log.exception("could not set aside a message (%s); left unacked", reason)
        return False
    log.error("message %s from queue %s set aside as dead letter %s: %s "
              "(see `tasks-core deadletter inspect %s`)", entry.message_id or "-",
              entry.queue or "-", entry.id, reason, entry.id)
    return True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _checked_strategy(name: str, strategy: Callable[..., Any]) -> Callable[..., Any]:
    """`strategy` behind the shape checks: a bad message raises InvalidTaskError, which the
    consumer sends to `on_invalid_task` (set aside)."""

    def handle(message: Any, body: Any, *args: Any, **kwargs: Any) -> Any:
        payload = message.payload if body is None else body  # refused/undecodable: raises
        if isinstance(payload, (list, tuple)) or name in OWN_TASKS:
            problem = body_problem(payload)
            if problem is None:
                problem = args_problem(name, payload[0], payload[1])
            if problem is not None:
                raise InvalidTaskError(problem)
        return strategy(message, body, *args, **kwargs)

    return handle


class SafeConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, with every message it cannot run set aside before it is acked."""

    def update_strategies(self) -> None:
        super().update_strategies()
        for name, strategy in list(self.strategies.items()):
            self.strategies[name] = _checked_strategy(name, strategy)

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        reason = f"undecodable body ({message.content_type}): {type(exc).__name__}: {exc}"
        if set_aside(message, reason):
            message.ack()

    def on_unknown_message(self, body: Any, message: Any) -> None:
        if set_aside(message, "not a Celery task message (no task name in its headers)"):
            message.ack()

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        headers = message.headers if isinstance(message.headers, dict) else {}
        name = headers.get("task")
        reason = (f"unknown task {name!r}: not registered on this worker (tasks-core "
                  f"workers run tasks_core.run, tasks_core.run_flow, tasks_core.run_chunk)")
        if set_aside(message, reason):
            message.ack()

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        if set_aside(message, f"invalid task message: {type(exc).__name__}: {exc}"):
            message.ack()
