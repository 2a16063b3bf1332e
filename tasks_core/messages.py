"""Messages a worker cannot run, and the dead-letter entry that sets one aside (pure).

A worker never drops a message and never dies of one: whatever it cannot run is moved to
the dead-letter list (`tasks_core.store.deadletters`) with the reason, before the message
is acked, and the worker keeps consuming. Three places catch them, each with the checks
here:

- the broker transport (`tasks_core.store.transport`), on the raw popped payload:
  `envelope_problem` (not JSON, not kombu's envelope, a body that does not decode);
- the worker's Celery consumer (`workers.consumer`): undecodable or refused bodies (pickle:
  only JSON is accepted), unknown task names, and `body_problem` / `args_problem` (the
  shape of a task message, and the arguments of tasks-core's own three tasks);
- the run's claim (`tasks_core.engine.recovery`): a run id with no record, given the
  `Delivery` the worker is executing (`current_delivery()`, Celery's current task).

Entries keep the raw payload (exact bytes: text, or base64 when it is not UTF-8), the
queue it came from and its priority, so `tasks-core deadletter requeue ID` puts it back.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from celery import current_task

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_FLOW, EXECUTE_RUN

__all__ = [
    "OWN_TASKS",
    "DeadLetter",
    "Delivery",
    "args_problem",
    "body_problem",
    "clamp_priority",
    "current_delivery",
    "decoded_body",
    "envelope_problem",
    "raw_bytes",
]

OWN_TASKS = frozenset({EXECUTE_RUN, EXECUTE_FLOW, EXECUTE_CHUNK})
"""tasks-core's Celery tasks: their arguments are checked before they run."""

Stage = Literal["transport", "consumer", "claim"]
"""Where a message was set aside: the broker transport, the Celery consumer, the claim."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message set aside instead of run.

    Attributes:
        id: the entry's id (32 hex digits).
        reason: why it cannot run, for a person.
        queue: the queue (work pool) it was taken from, unprefixed; "" when unknown.
        raw: the message as the broker held it (kombu's JSON envelope on Redis), as text,
            or base64 when `raw_encoding` is "base64" (bytes that are not UTF-8).
        time: when it was set aside, epoch seconds.
        stage: where it was caught (`Stage`).
        priority: its kombu priority (0-9), so it goes back onto the same list.
        task: the Celery task name it named, if any.
        message_id: the Celery task id it carried, if any.
        raw_encoding: "utf-8" or "base64".
    """

    id: str
    reason: str
    queue: str
    raw: str
    time: float
    stage: Stage
    priority: int = 0
    task: str | None = None
    message_id: str | None = None
    raw_encoding: Literal["utf-8", "base64"] = "utf-8"

    @classmethod
    def new(cls, reason: str, *, queue: str, raw: bytes | str, stage: Stage,
            priority: int = 0, task: str | None = None, message_id: str | None = None,
            now: float | None = None) -> DeadLetter:
        """A new entry with a fresh id, set aside at `now` (default: the clock)."""
        text, encoding = _raw_text(raw)
        return cls(id=uuid.uuid4().hex, reason=reason, queue=queue, raw=text,
                   time=time.time() if now is None else now, stage=stage,
                   priority=clamp_priority(priority), task=task, message_id=message_id,
                   raw_encoding=encoding)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DeadLetter:
        data = json.loads(text)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def raw_bytes(entry: DeadLetter) -> bytes:
    """The exact bytes the broker held."""
    if entry.raw_encoding == "base64":
        return base64.b64decode(entry.raw)
    return entry.raw.encode()


def decoded_body(entry: DeadLetter) -> str | None:
    """The body of the entry's message as text, when its raw form is kombu's envelope with
    a base64 or text body that decodes to UTF-8; else None (show the raw form)."""
    try:
        payload = json.loads(raw_bytes(entry))
        body = payload["body"]
        if payload["properties"].get("body_encoding") == "base64":
            return base64.b64decode(body).decode()
        return body if isinstance(body, str) else None
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error):
        return None


def _raw_text(raw: bytes | str) -> tuple[str, Literal["utf-8", "base64"]]:
    if isinstance(raw, str):
        return raw, "utf-8"
    try:
        return raw.decode(), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), "base64"


def clamp_priority(value: Any) -> int:
    """A message's priority as kombu's Redis transport can use it: an int clamped to 0-9,
    0 for anything else (a message from another producer may carry any JSON value)."""
    return max(0, min(9, value)) if isinstance(value, int) and not isinstance(value, bool) else 0


# -- the transport's check: kombu's Redis envelope ---------------------------------------


def envelope_problem(payload: Any) -> str | None:
    """Why a decoded kombu Redis envelope cannot be delivered, or None when it can.

    Mirrors what kombu's virtual `Message` and the Redis QoS read from it: an object with
    ``properties`` (an object with ``delivery_tag`` and ``delivery_info`` holding
    ``exchange`` and ``routing_key``), a string ``body`` when it has one, and a string
    ``body_encoding`` if any. Whether the body decodes is the transport's to check.
    """
    if not isinstance(payload, dict):
        return f"not a message envelope: a JSON {_json_type(payload)}, not an object"
    properties = payload.get("properties")
    if not isinstance(properties, dict):
        return "not a message envelope: no 'properties' object"
    if "delivery_tag" not in properties:
        return "not a message envelope: no 'properties.delivery_tag'"
    info = properties.get("delivery_info")
    if not isinstance(info, dict) or not {"exchange", "routing_key"} <= info.keys():
        return "not a message envelope: 'properties.delivery_info' lacks exchange/routing_key"
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        return f"not a message envelope: 'body' is a JSON {_json_type(body)}, not a string"
    encoding = properties.get("body_encoding")
    if encoding is None or (isinstance(encoding, str) and encoding.lower() == "utf-8"):
        return None
    if encoding != "base64":
        return f"unknown body encoding {_short(encoding)} (kombu knows base64 and utf-8)"
    try:  # as kombu decodes it: characters outside the alphabet are skipped
        base64.b64decode((body or "").encode())
    except (binascii.Error, ValueError) as exc:
        return f"body is not valid base64 ({exc})"
    return None


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
             dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


# -- the consumer's checks: Celery's task message and our tasks' arguments -----------------


def body_problem(body: Any) -> str | None:
    """Why a decoded task body is not Celery's protocol 2 ``[args, kwargs, embed]``."""
    if not isinstance(body, (list, tuple)) or len(body) != 3:
        return f"task body is not [args, kwargs, embed]: {_short(body)}"
    args, kwargs, embed = body
    if not isinstance(args, (list, tuple)):
        return f"task args are not a list: {_short(args)}"
    if not isinstance(kwargs, dict):
        return f"task kwargs are not an object: {_short(kwargs)}"
    if embed is not None and not isinstance(embed, dict):
        return f"task embed is not an object: {_short(embed)}"
    return None


def args_problem(task: str, args: Any, kwargs: Mapping[str, Any]) -> str | None:
    """Why `args`/`kwargs` do not fit tasks-core's task `task`, or None when they do.

    ``tasks_core.run`` and ``tasks_core.run_flow`` take ``[run_id, attempt]`` (a non-empty
    string, an integer >= 1; `attempt` may be left out), ``tasks_core.run_chunk`` takes
    ``[[run_id, ...]]`` (a non-empty list of non-empty strings); none takes keywords. Any
    other task name is not ours to check (None).
    """
    if task not in OWN_TASKS:
        return None
    if kwargs:
        return f"{task} takes no keyword arguments, got {sorted(kwargs)}"
    if task == EXECUTE_CHUNK:
        ids = args[0] if len(args) == 1 else None
        if not isinstance(ids, list) or not ids or not all(_is_id(i) for i in ids):
            return f"{task} takes [[run_id, ...]] (non-empty strings), got {_short(args)}"
        return None
    if not 1 <= len(args) <= 2 or not _is_id(args[0]):
        return f"{task} takes [run_id, attempt], got {_short(args)}"
    if len(args) == 2 and not (isinstance(args[1], int) and not isinstance(args[1], bool)
                               and args[1] >= 1):
        return f"{task} takes [run_id, attempt] with an integer attempt >= 1, got {_short(args)}"
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"


# -- the claim's check: which message is being executed -------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """The Celery message a worker is executing (set around each task it runs).

    Attributes:
        task: the Celery task name.
        queue: the queue (work pool) the message came from, unprefixed.
        priority: its priority (0-9).
        message_id: its Celery task id.
        args: its positional arguments.
    """

    task: str
    queue: str
    priority: int = 0
    message_id: str | None = None
    args: tuple[Any, ...] = field(default=())

    def names(self, run_id: str) -> bool:
        """Whether this message is the one that names `run_id` (a chunk names several)."""
        if self.task == EXECUTE_CHUNK:
            return bool(self.args) and isinstance(self.args[0], list) and run_id in self.args[0]
        return bool(self.args) and self.args[0] == run_id


def current_delivery() -> Delivery | None:
    """The message the worker executes in this thread (Celery's current task), when it is
    one of tasks-core's; None elsewhere (a run called in process). Read only when a claim
    finds no record, so running a task costs nothing for it."""
    task = current_task
    if task is None or task.name not in OWN_TASKS:
        return None
    request = task.request
    info = request.delivery_info or {}
    return Delivery(task=task.name, queue=str(info.get("routing_key") or ""),
                    priority=clamp_priority(info.get("priority")), message_id=request.id,
                    args=tuple(request.args or ()))
