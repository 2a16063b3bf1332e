"""Redis goes away mid-life: callers get StoreUnavailable naming it, beat keeps trying and
sends what fell due meanwhile, and everything works again once Redis is back."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from beat import sweeper
from tasks_core import StateName, StoreUnavailable
from tasks_core.engine.claim import apply_claim, claim
from tasks_core.process_runtime import get_runtime, reset_runtime
from tasks_core.settings import reset_settings
from tasks_core.store.runs import utcnow
from tests.helpers import ROOT, free_port, record_of, wait_until
from tests.integration import sample_tasks as t


class DurableRedis:
    """A redis-server with an append-only file, so a restart keeps its data."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="tc-redis-aof-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
        wait_until(up, 10, 0.05, "redis-server to answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def durable_redis(tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[DurableRedis]:
    server = DurableRedis()
    monkeypatch.setenv("TASKS_CORE_REDIS_URL", server.url)
    tc_env["env"]["TASKS_CORE_REDIS_URL"] = server.url
    reset_settings()
    reset_runtime()
    yield server
    reset_runtime()
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


def test_beat_survives_a_redis_restart_and_sends_what_fell_due(
        tc_env: dict[str, Any], durable_redis: DurableRedis, start_worker: Any) -> None:
    rt = get_runtime()
    env = {**tc_env["env"], "TASKS_CORE_CONNECT_RETRIES": "1"}  # give up on a command soon
    beat = subprocess.Popen([sys.executable, "-m", "tasks_core.cli.main", "beat"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.05,
                   "beat to take its lock")
        future = t.add.apply_async((20, 22), countdown=1.5)
        durable_redis.stop()  # Redis goes away before the run is due
        wait_until(lambda: beat.poll() is None, 1, 0.1, "beat to stay up")
        time.sleep(2.5)  # the due time passes while Redis is down
        assert beat.poll() is None, "beat exited while Redis was down"
        durable_redis.start()
        reset_runtime()
        worker = start_worker(concurrency=1, wait=False)  # heartbeats go to this Redis
        worker.wait_ready(redis.Redis.from_url(durable_redis.url, decode_responses=True),
                          tc_env["prefix"])
        assert future.result(timeout=30) == 42
        assert get_runtime().store.get(future.id).state == StateName.COMPLETED
    finally:
        beat.terminate()
        _, err = beat.communicate(timeout=15)
    assert "Redis unreachable" in err


def test_a_worker_draining_survives_a_redis_restart_and_every_run_ends(
        tc_env: dict[str, Any], durable_redis: DurableRedis, start_worker: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis restarts while a worker drains: batches fetched, acks not yet written and the
    reporter's writes are in flight. The worker reconnects and every run ends Completed
    (beat's sweeper re-sends a run whose message was in flight). A claim whose reply was
    lost (redis-py then sends it again, and it finds the run Running under its own owner)
    is known by its history entry and token (transition.lua): before, such a run stayed Running
    under a live worker, in about one restart in five here."""
    # the test's own sweeps must not take the worker for dead while Redis is away: its
    # heartbeats (2 s in tests) may lapse during the restart, and this process reports no
    # contact with Redis (`engine.contact`: beat does, tested below)
    monkeypatch.setenv("TASKS_CORE_HEARTBEAT_TIMEOUT_SECONDS", "30")
    tc_env["env"]["TASKS_CORE_HEARTBEAT_TIMEOUT_SECONDS"] = "30"
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    futures = [t.add.delay(i, 1) for i in range(400)]
    worker = start_worker(concurrency=2, wait=False)  # heartbeats go to this Redis
    worker.wait_ready(redis.Redis.from_url(durable_redis.url, decode_responses=True),
                      tc_env["prefix"])
    done = rt.store.keys.state_index("task", StateName.COMPLETED)
    wait_until(lambda: rt.client.zcard(done) >= 60, 30, 0.02, "the drain to be under way")
    durable_redis.stop()
    time.sleep(1)
    durable_redis.start()
    ids = [f.id for f in futures]

    def all_done() -> bool:
        sweeper.tick(rt, utcnow())
        return all(r.is_terminal for r in rt.store.get_many(ids))

    try:
        wait_until(all_done, 60, 0.5, "every run to end")
    except AssertionError:
        stuck = [(r.id, r.state, r.owner) for r in rt.store.get_many(ids) if not r.is_terminal]
        raise AssertionError(f"runs not ended: {stuck}\n{worker.output()[-4000:]}") from None
    assert {r.state for r in rt.store.get_many(ids)} == {StateName.COMPLETED}
    assert [f.result(timeout=5) for f in futures] == [i + 1 for i in range(400)]
    assert worker.proc.poll() is None, worker.output()[-3000:]


def test_an_outage_longer_than_the_heartbeat_timeout_takes_no_live_run_for_dead(
        tc_env: dict[str, Any], durable_redis: DurableRedis, start_worker: Any,
        start_beat: Any) -> None:
    """Redis is away longer than the heartbeat timeout (2 s in tests) while a run is Running:
    its worker's heartbeat key lapses meanwhile though the worker lives. Beat's sweeper,
    back in contact first (it retries every 0.2 s), must not take the run for crashed
    (`engine.contact`): the run ends Completed in its one attempt. Before, it ended Crashed
    while its body still ran."""
    rt = get_runtime()
    worker = start_worker(concurrency=1, wait=False)  # heartbeats go to this Redis
    worker.wait_ready(redis.Redis.from_url(durable_redis.url, decode_responses=True),
                      tc_env["prefix"])
    beat = start_beat(connect_retries="1")  # gives up on a command at once, tries again
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.05,
               "beat to take its lock")
    future = t.record_pid_and_sleep.delay("outage", 7.0)
    wait_until(lambda: rt.store.state_of(future.id) == StateName.RUNNING, 20, 0.05,
               "the run to start")
    time.sleep(1)  # the sweeper has seen the run Running under a live owner
    durable_redis.stop()
    time.sleep(4)  # twice the heartbeat timeout: the worker's key lapses meanwhile
    durable_redis.start()
    assert future.result(timeout=30) == "done"
    record = get_runtime().store.get_many([future.id], history=True)[0]
    assert record.state == StateName.COMPLETED
    assert [h.name for h in record.history] == [
        StateName.PENDING, StateName.RUNNING, StateName.COMPLETED]
    assert beat.poll() is None
    assert worker.proc.poll() is None, worker.output()[-3000:]


def test_a_beat_just_started_waits_a_heartbeat_timeout_before_judging_heartbeats(
        tc_env: dict[str, Any], start_beat: Any) -> None:
    """A beat may start just after an outage (restarted with Redis), when live workers'
    keys have lapsed: it takes no owner for dead by a missing heartbeat until a heartbeat
    timeout (2 s in tests) after its first round trip; then a run whose owner is really gone
    is recovered as usual."""
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    assert apply_claim(rt, claim(run.id, 1, "another-host:4242")).applied  # no heartbeat
    start_beat()
    wait_until(lambda: rt.client.exists(rt.store.keys.lock("beat")), 20, 0.02,
               "beat to take its lock")
    time.sleep(1.0)  # sweeps every 0.5 s meanwhile
    assert rt.store.state_of(run.id) == StateName.RUNNING
    wait_until(lambda: rt.store.state_of(run.id) == StateName.CRASHED, 15, 0.1,
               "the run of a gone owner to be recovered")


def test_a_missing_heartbeat_counts_only_once_contact_held(tc_env: dict[str, Any]) -> None:
    """`owner_alive` (the sweeper's and a worker's judge of a refused claim): an owner on
    another host with no heartbeat is dead while this process trusts its contact with
    Redis, alive (judged later) after a loss until contact held a heartbeat timeout."""
    from tasks_core.engine.contact import RedisContact
    from tasks_core.engine.recovery import owner_alive

    rt = get_runtime()
    now = [0.0]
    rt.__dict__["contact"] = RedisContact(2.0, 1.0, lambda: now[0])
    elsewhere = "another-host:4242"
    rt.procs.beat(elsewhere, 60_000)
    assert owner_alive(rt, elsewhere)
    rt.procs.clear(elsewhere)
    assert not owner_alive(rt, elsewhere)
    rt.contact.lost()
    assert owner_alive(rt, elsewhere)
    assert not owner_alive(rt, f"{socket.gethostname()}:{_dead_pid()}")  # by its pid
    rt.contact.ok()
    now[0] = 1.0
    rt.contact.ok()
    assert owner_alive(rt, elsewhere)
    now[0] = 2.0
    rt.contact.ok()
    assert not owner_alive(rt, elsewhere)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize(("task", "parameters", "ended"), [
    (t.add, '{"x": 1, "y": 2}', StateName.CRASHED),
    (t.flaky, '{"name": "given-up", "succeed_on": 1}', StateName.AWAITING_RETRY),
])
def test_a_claim_given_up_that_redis_applied_is_settled_once_redis_is_back(
        tc_env: dict[str, Any], durable_redis: DurableRedis, monkeypatch: pytest.MonkeyPatch,
        task: Any, parameters: str, ended: StateName) -> None:
    """A claim Redis applied whose reply was lost, then Redis away past the claim's patience:
    the worker gives the claim up (its task fails) and the run was left Running under the
    live process forever (no sweeper takes a live owner's run). Now the process's heartbeat,
    once Redis answers, recovers it as an attempt that never started: Crashed, or retried
    when it has retries."""
    from workers.heartbeat import start_heartbeat

    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "1")
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    run = record_of(task, parameters, state=StateName.PENDING)
    rt.store.create(run)
    change = claim(run.id, 1, rt.owner)
    assert rt.store.transition(change).applied  # Redis applied it; its reply was lost
    durable_redis.stop()
    with pytest.raises(StoreUnavailable):  # sent again while Redis is away, then given up
        apply_claim(rt, change, patience_s=1)
    durable_redis.start()
    assert rt.store.state_of(run.id) == StateName.RUNNING
    stop = start_heartbeat()
    try:
        wait_until(lambda: rt.store.state_of(run.id) == ended, 20, 0.1,
                   f"the run to end {ended.value}")
    finally:
        stop.set()
    [record] = rt.store.get_many([run.id], history=True)
    assert "never started" in record.history[2].message


def test_a_caller_gets_store_unavailable_naming_redis_then_recovers(
        tc_env: dict[str, Any], durable_redis: DurableRedis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "1")
    reset_settings()
    reset_runtime()
    first = t.add.delay(1, 2)  # recorded while Redis is up
    durable_redis.stop()
    with pytest.raises(StoreUnavailable, match=rf"lost Redis at redis://127\.0\.0\.1:"
                                               rf"{durable_redis.port}/0"):
        t.add.delay(3, 4)
    with pytest.raises(StoreUnavailable):
        first.result(timeout=1)
    durable_redis.start()
    second = t.add.delay(5, 6)  # the same client reconnects
    store = get_runtime().store
    assert {r.id for r in store.get_many([first.id, second.id])} == {first.id, second.id}
    assert len(store.list_ids()) == 2  # the failed call recorded nothing


def test_pipelines_skip_script_checks_and_survive_a_script_flush(tc_env: dict[str, Any]) -> None:
    from tasks_core.store.runs import Transition

    rt = get_runtime()
    runs = [t.add.delay(i, i) for i in range(3)]  # Pending: no worker here
    cancel = [Transition(r.id, StateName.CANCELLED, message="test") for r in runs]
    assert rt.store.apply_many(cancel[:1])[0].applied  # the first pipeline loads the script
    rt.client.config_resetstat()
    assert rt.store.apply_many(cancel[1:2])[0].applied
    stats = rt.client.info("commandstats")
    assert not any("script" in name for name in stats), stats  # no SCRIPT EXISTS round trip
    rt.client.script_flush()  # as after a Redis restart: the scripts are gone
    assert rt.store.apply_many(cancel[2:])[0].applied  # NOSCRIPT: loaded again, run once
    [third] = rt.store.get_many([runs[2].id], history=True)
    assert third.state == StateName.CANCELLED
    assert [h.name for h in third.history].count(StateName.CANCELLED) == 1


def test_a_claim_waits_for_redis_rather_than_give_up(
        tc_env: dict[str, Any], durable_redis: DurableRedis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis away longer than the client's own retries (about 5 s): the claim is sent again
    until Redis is back, rather than failing the task with its claim perhaps applied."""
    monkeypatch.setenv("TASKS_CORE_CONNECT_RETRIES", "1")  # the client gives up at once
    reset_settings()
    reset_runtime()
    rt = get_runtime()
    run = record_of(t.add, '{"x": 1, "y": 2}', state=StateName.PENDING)
    rt.store.create(run)
    durable_redis.stop()
    outcome: list[Any] = []
    claiming = threading.Thread(
        target=lambda: outcome.append(apply_claim(rt, claim(run.id, 1, rt.owner),
                                                  patience_s=30)))
    claiming.start()
    time.sleep(3)
    assert claiming.is_alive() and not outcome  # still trying, not failed
    durable_redis.start()
    claiming.join(30)
    assert outcome and outcome[0].applied
    assert rt.store.get(run.id).state == StateName.RUNNING
    with pytest.raises(StoreUnavailable):  # and gives up after its patience
        durable_redis.stop()
        apply_claim(rt, claim(run.id, 2, rt.owner), patience_s=1)
