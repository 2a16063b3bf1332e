"""Send runs to Celery queues.

When the broker is the same Redis as the ledger, a Celery message is built here (Celery's
task protocol 2, in the envelope kombu's Redis transport uses) and pushed by the same Lua
call that writes the run record: record and message share one round trip and cannot drift
apart. With any other broker (RabbitMQ), the record is written first and the message is
published through Celery.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from datetime import datetime
from typing import Any

from celery import Celery

from tasks_core.celery_app import EXECUTE_CHUNK, EXECUTE_RUN
from tasks_core.settings import Settings
from tasks_core.store.keys import Keys
from tasks_core.store.runs import BrokerPush

__all__ = ["Dispatcher", "Envelope", "hard_time_limit"]

_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def hard_time_limit(timeout_seconds: float | None) -> float | None:
    """Celery's hard time limit for a run: a backstop a little after its timeout_seconds."""
    if timeout_seconds is None:
        return None
    return timeout_seconds + max(5.0, timeout_seconds * 0.1)


class Envelope:
    """What a message says: which Celery task, for which run(s), where and when."""

    __slots__ = ("args", "argsrepr", "eta", "headers", "message_id", "parent_id", "priority",
                 "queue", "retries", "root_id", "shadow", "task", "time_limit")

    def __init__(
        self,
        *,
        message_id: str,
        args: list[Any],
        queue: str,
        shadow: str,
        argsrepr: str,
        task: str = EXECUTE_RUN,
        priority: int = 0,
        eta: datetime | None = None,
        time_limit: float | None = None,
        retries: int = 0,
        root_id: str | None = None,
        parent_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        self.headers = headers or {}  # the caller's headers= (Celery's own ones win)
        self.message_id = message_id
        self.args = args
        self.queue = queue
        self.shadow = shadow
        self.argsrepr = argsrepr
        self.task = task
        self.priority = priority
        self.eta = eta
        self.time_limit = time_limit
        self.retries = retries
        self.root_id = root_id or message_id
        self.parent_id = parent_id

    @classmethod
    def for_run(
        cls,
        run_id: str,
        attempt: int,
        *,
        queue: str,
        name: str,
        argsrepr: str,
        priority: int = 0,
        eta: datetime | None = None,
        time_limit: float | None = None,
        task: str = EXECUTE_RUN,
        root_id: str | None = None,
        parent_id: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> Envelope:
        """The message that executes attempt `attempt` of one run (a task run, or a flow
        run with ``task=EXECUTE_FLOW``).

        Celery sees one task per run: its task id is the run id on every attempt, and
        ``retries`` is ``attempt - 1``, as a Celery retry would carry (Flower shows one
        task going RETRY -> STARTED). `root_id` / `parent_id` are the run's place in the
        flow-run tree (the top run, the flow run it belongs to), so Flower links them.
        """
        return cls(
            message_id=run_id,
            retries=max(0, attempt - 1),
            root_id=root_id,
            parent_id=parent_id,
            args=[run_id, attempt],
            queue=queue,
            shadow=name,
            argsrepr=argsrepr,
            task=task,
            priority=priority,
            eta=eta,
            time_limit=time_limit,
            headers=headers,
        )

    @classmethod
    def for_chunk(cls, run_ids: list[str], *, queue: str, name: str,
                  root_id: str | None = None, parent_id: str | None = None) -> Envelope:
        """One message that executes several runs of the same task, one after another
        (each run shows in Flower as a task of its own, parented by this message)."""
        return cls(
            root_id=root_id,
            parent_id=parent_id,
            message_id=str(uuid.uuid4()),
            args=[run_ids],
            queue=queue,
            shadow=f"{name}[x{len(run_ids)}]",
            argsrepr=f"{len(run_ids)} runs: {run_ids[0]}..{run_ids[-1]}",
            task=EXECUTE_CHUNK,
        )


def redis_push(envelope: Envelope, keys: Keys) -> BrokerPush:
    """The kombu-Redis-transport message for an envelope, ready to LPUSH onto the list of
    its queue and priority under the stack's broker prefix (`Keys.broker_queue`)."""
    body = json.dumps([envelope.args, {}, _EMBED])
    hard_limit = envelope.time_limit
    headers: dict[str, Any] = {
        **envelope.headers,
        "lang": "py",
        "task": envelope.task,
        "id": envelope.message_id,
        "shadow": envelope.shadow,
        "eta": envelope.eta.isoformat() if envelope.eta else None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": envelope.retries,
        "timelimit": [hard_limit, None],
        "root_id": envelope.root_id,
        "parent_id": envelope.parent_id,
        "argsrepr": envelope.argsrepr,
        "kwargsrepr": "{}",
        "origin": _ORIGIN,
        "ignore_result": True,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    message = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": envelope.message_id,
            "reply_to": None,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": envelope.queue},
            "priority": envelope.priority,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return BrokerPush(key=keys.broker_queue(envelope.queue, envelope.priority),
                      payload=json.dumps(message, separators=(",", ":")))


class Dispatcher:
    """Turns envelopes into messages: pushed with the record, or published via Celery."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self.app = app
        self.keys = Keys(settings.key_prefix)
        broker = settings.broker_url
        # Direct when the broker is the ledger's Redis (an unset broker means exactly that).
        self.direct = broker is None or broker == settings.redis_url

    def push_for(self, envelope: Envelope) -> BrokerPush | None:
        """The message to write together with the record, or None when not direct."""
        return redis_push(envelope, self.keys) if self.direct else None

    def publish(self, envelope: Envelope) -> None:
        """Publish through Celery (non-Redis brokers); call after the record is written."""
        self.app.send_task(
            envelope.task,
            args=envelope.args,
            task_id=envelope.message_id,
            queue=envelope.queue,
            priority=envelope.priority,
            eta=envelope.eta,
            shadow=envelope.shadow,
            argsrepr=envelope.argsrepr,
            time_limit=envelope.time_limit,
            retries=envelope.retries,
            root_id=envelope.root_id,
            parent_id=envelope.parent_id,
            headers=envelope.headers or None,
        )
