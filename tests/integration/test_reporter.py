"""The batched reporter: ordered, never drops a batch, drains on demand."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import redis

from tasks_core.settings import Settings
from tasks_core.states import StateName
from tasks_core.store.reporter import Reporter
from tasks_core.store.runs import RunStore, Transition
from tests.helpers import free_port, record_of, wait_until
from tests.integration import sample_tasks as t

S = StateName


def _redis_on(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A redis-server that keeps its data in `folder` across restarts (AOF)."""
    binary = shutil.which("redis-server")
    assert binary is not None
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "yes", "--appendfsync", "always",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    wait_until(lambda: _pings(client), 10, message="redis to start")
    return proc


def _private(folder: Path) -> tuple[subprocess.Popen[bytes], redis.Redis, RunStore, Reporter]:
    """A redis-server of this test's own (`_redis_on`), a client, a store and a reporter on
    it (flushed only when asked)."""
    port = free_port()
    server = _redis_on(port, folder)
    client = redis.Redis(port=port, decode_responses=True)
    store = RunStore(client, Settings(redis_url=f"redis://127.0.0.1:{port}/0"))
    return server, client, store, Reporter(store, interval_ms=10_000, batch_size=10_000)


def _full(client: redis.Redis) -> None:
    """Make Redis full: below what it holds, under noeviction, it refuses writes (OOM)."""
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", 1)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_a_batch_survives_redis_going_away(tc_env: dict[str, Any], tmp_path: Path) -> None:
    server, client, store, reporter = _private(tmp_path)
    port = client.connection_pool.connection_kwargs["port"]
    run = record_of(t.add, "{}", state=S.PENDING)
    store.create(run)
    server.terminate()
    server.wait(10)
    reporter.transition(Transition(run.id, S.RUNNING))
    reporter.transition(Transition(run.id, S.COMPLETED), urgent=True)
    done = threading.Event()
    threading.Thread(target=lambda: (reporter.flush(timeout=30), done.set())).start()
    assert not done.wait(1.0)  # Redis is down: the batch waits, it is not dropped
    server = _redis_on(port, tmp_path)  # the same Redis back, with its data
    assert done.wait(30)
    assert [h.name for h in store.get(run.id).history] == [S.PENDING, S.RUNNING, S.COMPLETED]
    reporter.close()
    server.terminate()
    server.wait(10)


def test_taken_writes_given_back_keep_their_order(tc_env: dict[str, Any]) -> None:
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().store
    reporter = Reporter(store, interval_ms=10_000, batch_size=10_000)
    run = record_of(t.add, "{}", state=S.PENDING)
    reporter.create(run)
    reporter.transition(Transition(run.id, S.RUNNING))
    taken = reporter.take()
    reporter.transition(Transition(run.id, S.COMPLETED))
    reporter.give_back(taken)
    assert reporter.flush(timeout=10)
    assert [h.name for h in store.get(run.id).history] == [S.PENDING, S.RUNNING, S.COMPLETED]
    reporter.close()


def test_a_stripped_rewrite_tells_the_outcome_callback_when_refused(tc_env: dict[str, Any]
                                                                   ) -> None:
    """An outcome the client cannot send is written stripped (Failed); when that rewrite is
    refused too (the run was being cancelled meanwhile), the outcome's callback still hears
    it, so the run can end Cancelled instead of staying Cancelling."""
    from tasks_core.process_runtime import get_runtime
    from tasks_core.store.runs import Outcome

    store = get_runtime().store
    reporter = Reporter(store, interval_ms=10_000, batch_size=10_000)
    cancelling = record_of(t.add, "{}", state=S.CANCELLING)
    running = record_of(t.add, "{}", state=S.RUNNING)
    store.create(cancelling)
    store.create(running)
    heard: dict[str, list[Outcome]] = {cancelling.id: [], running.id: []}
    bad = "\udc80"  # a lone surrogate: the client cannot encode the write
    for run in (cancelling, running):
        reporter.transition(Transition(run.id, S.COMPLETED, result_json=bad, outcome=True),
                            urgent=True, on_outcome=heard[run.id].append)
    assert reporter.flush(timeout=10)
    [refused] = heard[cancelling.id]
    assert not refused.applied and refused.state == S.CANCELLING
    assert store.get(cancelling.id).state == S.CANCELLING
    # applied stripped: the run ended Failed, and what follows an applied outcome does not
    assert heard[running.id] == []
    assert store.get(running.id).state == S.FAILED
    reporter.close()


def test_a_written_batch_whose_reply_cannot_be_read_is_not_written_again(
        tc_env: dict[str, Any]) -> None:
    """Once Redis answered a batch, its writes are done: a reply that cannot be read is
    logged, and the batch is not sent again one by one (log lines would be appended twice
    and callbacks run twice)."""
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().store
    reporter = Reporter(store, interval_ms=10_000, batch_size=10_000)
    run = record_of(t.add, "{}", state=S.PENDING)
    store.create(run)
    calls: list[Any] = []
    real = store.parse_outcome

    def unreadable_once(raw: Any) -> Any:
        if not calls:
            calls.append(raw)
            raise ValueError("unreadable")
        return real(raw)

    store.parse_outcome = unreadable_once  # type: ignore[method-assign]
    try:
        reporter.log(run.id, '{"message": "once"}')
        reporter.transition(Transition(run.id, S.RUNNING), urgent=True)
        assert reporter.flush(timeout=10)
    finally:
        del store.parse_outcome
    assert len(calls) == 1
    assert len(tc_env["client"].lrange(store.keys.logs(run.id), 0, -1)) == 1
    assert [h.name for h in store.get(run.id).history] == [S.PENDING, S.RUNNING]
    reporter.close()


def test_log_lines_sent_again_after_a_lost_reply_are_kept_once(tc_env: dict[str, Any]) -> None:
    """A batch Redis applied whose reply was lost is sent again (redis-py's retry, or the
    reporter's once Redis is back): append_logs.lua knows each write by its id and appends
    nothing again, with several writes per run in the batch and newer lines written
    between; lines written later still append."""
    from tasks_core.process_runtime import get_runtime

    store = get_runtime().store
    reporter = Reporter(store, interval_ms=10_000, batch_size=10_000)
    first = record_of(t.add, "{}", state=S.RUNNING)
    second = record_of(t.add, "{}", state=S.RUNNING)
    store.create(first)
    store.create(second)
    for i in range(3):  # interleaved: three writes per run in one batch
        reporter.log(first.id, f'{{"message": "first {i}"}}')
        reporter.log(second.id, f'{{"message": "second {i}"}}')
    batch = reporter.take()
    assert len(batch) == 6

    reporter._write(batch)  # written (and counted done)
    reporter.log(first.id, '{"message": "first 3"}')  # newer lines, written between
    reporter._write(reporter.take())
    reporter._in_flight += len(batch)  # as `give_back` and a new take count it
    reporter._write(batch)  # the first batch, sent again
    reporter.log(first.id, '{"message": "first 0"}')  # a later line like an earlier one
    assert reporter.flush(timeout=10)
    client = tc_env["client"]
    assert [json.loads(e)["message"] for e in client.lrange(store.keys.logs(first.id), 0, -1)
            ] == ["first 0", "first 1", "first 2", "first 3", "first 0"]
    assert [json.loads(e)["message"] for e in client.lrange(store.keys.logs(second.id), 0, -1)
            ] == ["second 0", "second 1", "second 2"]
    assert 0 < client.ttl(store.keys.log_writes(first.id)) <= 3600
    reporter.close()


def test_writes_redis_refuses_for_now_are_kept_and_sent_again(tc_env: dict[str, Any],
                                                              tmp_path: Path) -> None:
    """A full Redis (maxmemory with noeviction) answers every write with OOM. An outcome it
    refuses so is kept and sent again, not rewritten stripped (which was refused too, so
    the run stayed Running); a direct write raises StoreRefusing, which its callers handle
    as Redis away. Once Redis takes writes again, the run ends as it ended."""
    import pytest

    from tasks_core.errors import StoreRefusing, StoreUnavailable
    from tasks_core.store.runs import Outcome

    server, client, store, reporter = _private(tmp_path)
    buffered = record_of(t.add, "{}", state=S.RUNNING)
    direct = record_of(t.add, "{}", state=S.RUNNING)
    store.create(buffered)
    store.create(direct)
    _full(client)
    heard: list[Outcome] = []
    try:
        reporter.transition(Transition(buffered.id, S.COMPLETED, result_json="3", outcome=True),
                            urgent=True, on_outcome=heard.append)
        assert not reporter.flush(timeout=1.0)  # refused for now: kept, not dropped
        with pytest.raises(StoreRefusing) as raised:
            reporter.apply_now([Transition(direct.id, S.COMPLETED, result_json="4",
                                           outcome=True)])
        assert isinstance(raised.value, StoreUnavailable)
        assert "OOM" in str(raised.value) or "maxmemory" in str(raised.value)
        assert store.get(buffered.id).state == S.RUNNING
    finally:
        client.config_set("maxmemory", 0)
    assert reporter.flush(timeout=15)
    record = store.get(buffered.id)
    assert (record.state, record.state_message) == (S.COMPLETED, "")
    assert len(heard) == 1 and heard[0].applied
    [outcome] = reporter.apply_now([Transition(direct.id, S.COMPLETED, result_json="4",
                                               outcome=True)])
    assert outcome.applied
    reporter.close()
    server.terminate()
    server.wait(10)


def test_a_run_whose_creation_redis_refused_keeps_its_later_changes_too(
        tc_env: dict[str, Any], tmp_path: Path) -> None:
    """In one batch, a run's creation refused for now (Redis full) and its next changes
    answered "missing" (they only read before they write): all are kept and sent again in
    order. Before, the changes were dropped as refused and the run, created later, stayed
    Pending."""
    server, client, store, reporter = _private(tmp_path)
    run = record_of(t.add, "{}", state=S.PENDING)
    _full(client)
    try:
        reporter.create(run)
        reporter.transition(Transition(run.id, S.RUNNING))
        reporter.transition(Transition(run.id, S.COMPLETED, result_json="3", outcome=True),
                            urgent=True)
        assert not reporter.flush(timeout=1.0)
    finally:
        client.config_set("maxmemory", 0)
    assert reporter.flush(timeout=15)
    assert [h.name for h in store.get(run.id).history] == [S.PENDING, S.RUNNING, S.COMPLETED]
    reporter.close()
    server.terminate()
    server.wait(10)
