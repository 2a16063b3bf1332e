"""emit_event and the event stream against a real Redis, real workers and subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tasks_core import EventError, StoreUnavailable, emit_event
from tasks_core.events import client as event_client
from tasks_core.events.feed import EventFilter, follow, list_events
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.settings import reset_settings
from tests.helpers import ROOT, wait_until
from tests.integration import event_tasks
from tests.integration.test_redis_outage import DurableRedis, durable_redis  # noqa: F401

RID = "tasks-core.resource.id"


def _names(where: EventFilter | None = None, limit: int = 1000) -> list[str]:
    return [e.event for e in list_events(get_runtime().events, where or EventFilter(),
                                         limit=limit)]


def test_an_emitted_event_is_written_without_a_flush_within_the_interval(
        tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    assert rt.emitter.interval == 0.05
    start = time.monotonic()
    event = emit_event("acme.order.shipped", {"prefect.resource.id": "acme.order.42"},
                       payload={"items": 3})
    wait_until(lambda: rt.events.length() == 1, 5, 0.002, "the event on the stream")
    elapsed = time.monotonic() - start
    assert elapsed < 0.5, elapsed  # 50 ms interval; slack for a loaded 2-core machine
    [stored] = list_events(rt.events, EventFilter())
    assert stored.id == event.id and stored.resource == {RID: "acme.order.42"}
    assert stored.payload == {"items": 3} and stored.received is not None
    assert stored.received >= stored.occurred - timedelta(seconds=1)


def test_the_same_id_is_stored_once(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    same = str(uuid.uuid4())
    emit_event("acme.a", {RID: "r"}, id=same)
    emit_event("acme.a", {RID: "r"}, id=same)  # in the same batch
    rt.emitter.flush()
    emit_event("acme.a", {RID: "r"}, id=same)  # in a later batch
    rt.emitter.flush()
    assert rt.events.length() == 1
    assert rt.events.write([(same, '{"id": "x"}')]) == 0  # a re-sent batch adds nothing
    assert 0 < tc_env["client"].ttl(rt.store.keys.event_seen(same)) <= 7 * 86_400


def test_a_bad_event_raises_and_writes_nothing(tc_env: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_EVENT_PAYLOAD_MAX_BYTES", "100")
    reset_settings()
    reset_runtime()
    with pytest.raises(EventError, match="event_payload_max_bytes"):
        emit_event("acme.big", {RID: "r"}, payload={"x": "y" * 200})
    with pytest.raises(EventError, match=r"tasks-core\.resource\.id"):
        emit_event("acme.no-id", {"name": "x"})
    emit_event("acme.ok", {RID: "r"})
    get_runtime().emitter.flush()
    assert _names() == ["acme.ok"]


def test_events_from_a_task_on_a_worker_and_from_a_flow(tc_env: dict[str, Any],
                                                        start_worker: Any) -> None:
    start_worker(concurrency=1, imports=("tests.integration.event_tasks",))
    from_task = event_tasks.emit_from_task.delay("w").result(timeout=30)
    from_flow = event_tasks.emit_from_flow("f")
    get_runtime().emitter.flush()
    found = wait_until(lambda: list_events(get_runtime().events,
                                           EventFilter(events=("test.*",))), 10)
    wait_until(lambda: len(list_events(get_runtime().events,
                                       EventFilter(events=("test.*",)))) == 2, 10)
    found = {e.event: e for e in list_events(get_runtime().events,
                                             EventFilter(events=("test.*",)))}
    assert found["test.task.w"].id == from_task
    assert found["test.task.w"].resource == {RID: "test.w"}
    assert found["test.flow.f"].id == from_flow
    assert found["test.flow.f"].related_ids() == ["test.owner"]


def test_a_process_that_emits_and_exits_at_once_loses_nothing(tc_env: dict[str, Any]) -> None:
    code = ("from tasks_core import emit_event\n"
            "for i in range(300):\n"
            "    emit_event(f'acme.n.{i}', {'tasks-core.resource.id': 'acme'})\n")
    done = subprocess.run([sys.executable, "-c", code], env=tc_env["env"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    names = _names()
    assert len(names) == 300 and set(names) == {f"acme.n.{i}" for i in range(300)}


def test_a_redis_restart_mid_emit_loses_and_repeats_nothing(
        tc_env: dict[str, Any], durable_redis: DurableRedis,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "1")
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    for i in range(50):
        emit_event(f"acme.before.{i}", {RID: "acme"})
    rt.emitter.flush()
    durable_redis.stop()
    for i in range(50):  # buffered while Redis is away
        emit_event(f"acme.during.{i}", {RID: "acme"})
    time.sleep(0.5)  # the client tries and backs off meanwhile
    assert rt.emitter.pending == 50
    durable_redis.start()
    assert rt.emitter.flush(timeout=30)
    names = _names()
    assert len(names) == 100 and len(set(names)) == 100
    assert names[:50] == [f"acme.during.{i}" for i in reversed(range(50))]  # order kept


def test_a_redis_paused_mid_emit_loses_and_repeats_nothing(
        tc_env: dict[str, Any], durable_redis: DurableRedis) -> None:  # noqa: F811
    rt = get_runtime()
    emit_event("acme.first", {RID: "acme"})
    rt.emitter.flush()
    assert durable_redis.proc is not None
    os.kill(durable_redis.proc.pid, signal.SIGSTOP)  # a batch's write hangs mid-way
    try:
        for i in range(50):
            emit_event(f"acme.paused.{i}", {RID: "acme"})
        time.sleep(0.5)
        assert rt.emitter.pending == 50
    finally:
        os.kill(durable_redis.proc.pid, signal.SIGCONT)
    assert rt.emitter.flush(timeout=30)
    names = _names()
    assert len(names) == 51 and len(set(names)) == 51


def test_a_full_buffer_makes_emit_raise_instead_of_dropping(
        tc_env: dict[str, Any], durable_redis: DurableRedis,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_EVENT_BUFFER_MAX", "5")
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "1")
    monkeypatch.setattr(event_client, "FULL_WAIT_S", 0.3)
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    rt.emitter.flush()  # started, connected
    durable_redis.stop()
    accepted = []
    with pytest.raises(StoreUnavailable, match="event_buffer_max=5"):
        for i in range(20):
            emit_event(f"acme.x.{i}", {RID: "acme"})
            accepted.append(f"acme.x.{i}")
    assert 5 <= len(accepted) < 20
    durable_redis.start()
    assert rt.emitter.flush(timeout=30)
    assert sorted(_names()) == sorted(accepted)  # every accepted event, none dropped


def test_newest_first_with_filters_across_pages(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    for i in range(1200):
        kind = "rare" if i % 100 == 0 else "common"
        emit_event(f"acme.{kind}", {RID: f"acme.item.{i}"},
                   related=[{RID: f"acme.batch.{i // 100}", "tasks-core.resource.role": "b"}])
    rt.emitter.flush()
    rare = list_events(rt.events, EventFilter(events=("acme.rare",)), limit=100)
    assert [e.resource_id for e in rare] == [f"acme.item.{i}" for i in range(1100, -1, -100)]
    assert len(list_events(rt.events, EventFilter(), limit=7)) == 7
    ones = list_events(rt.events, EventFilter(resource="acme.item.?"), limit=50)
    assert [e.resource_id for e in ones] == [f"acme.item.{i}" for i in range(9, -1, -1)]
    batch = list_events(rt.events, EventFilter(related="acme.batch.3"), limit=500)
    assert len(batch) == 100
    future = datetime.now(UTC) + timedelta(hours=1)
    assert list_events(rt.events, EventFilter(since=future)) == []
    assert list_events(rt.events, EventFilter(until=datetime.now(UTC) - timedelta(hours=1))) \
        == []


def test_a_malformed_entry_is_skipped(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    emit_event("acme.first", {RID: "r"})
    rt.emitter.flush()
    tc_env["client"].xadd(rt.store.keys.events, {"event": "{not json"})
    tc_env["client"].xadd(rt.store.keys.events, {"other": "field"})
    emit_event("acme.second", {RID: "r"})
    rt.emitter.flush()
    assert _names() == ["acme.second", "acme.first"]


def test_follow_yields_new_events_as_they_come(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    emit_event("acme.old", {RID: "r"})
    rt.emitter.flush()
    seen: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for event in follow(rt.events, EventFilter(events=("acme.new.*",)), block_ms=100,
                            stop=done.is_set):
            seen.append(event.event)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.3)  # the reader is blocked on the stream
    for name in ("acme.new.1", "acme.other", "acme.new.2"):
        emit_event(name, {RID: "r"})
    wait_until(lambda: len(seen) == 2, 5, message="followed events")
    done.set()
    thread.join(5)
    assert seen == ["acme.new.1", "acme.new.2"]


def test_retention_trims_by_age(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    rt.events.write([(str(uuid.uuid4()), '{"e": 1}') for _ in range(350)])
    assert rt.events.length() == 350
    assert rt.events.trim(now=time.time() + 30) == 0  # nothing older than 7 days
    trimmed = rt.events.trim(now=time.time() + 8 * 86_400)
    assert trimmed >= 250 and rt.events.length() == 350 - trimmed  # whole nodes (MINID ~)


def test_run_state_events_read_back_as_events_in_either_spelling(
        tc_env: dict[str, Any]) -> None:
    event_tasks.emit_from_flow("g")
    rt = get_runtime()
    rt.reporter.flush()
    rt.emitter.flush()
    runs = list_events(rt.events, EventFilter(events=("prefect.flow-run.*",),
                                              related="prefect.flow.emit-from-flow"))
    assert [e.event for e in runs] == ["tasks-core.flow-run.Completed",  # created Running
                                       "tasks-core.flow-run.Running"]
    assert runs[0].follows == runs[1].id and runs[0].received is not None
