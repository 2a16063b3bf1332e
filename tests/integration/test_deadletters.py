"""Bad messages are set aside in the dead-letter list, the worker keeps consuming; a worker
that stops on an error exits non-zero (real Redis, real worker processes)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tasks_core import StateName, wait_all
from tasks_core.dispatch import Envelope, redis_push
from tasks_core.messages import raw_bytes
from tasks_core.process_runtime import get_runtime
from tests.helpers import ROOT, run_cli, wait_until
from tests.integration import sample_tasks as t


def envelope(task: str, args: Any, *, queue: str, kwargs: Any = None,
             content_type: str = "application/json", body: str | None = None,
             headers: dict[str, Any] | None = None) -> str:
    """A kombu Redis envelope as Celery would send it, with any part replaced."""
    mid = str(uuid.uuid4())
    if body is None:
        body = base64.b64encode(json.dumps([args, kwargs or {}, {}]).encode()).decode()
    head = {"lang": "py", "task": task, "id": mid, "root_id": mid, "parent_id": None,
            "retries": 0, "timelimit": [None, None], "eta": None, "expires": None,
            "argsrepr": "", "kwargsrepr": "", "origin": "test", "ignore_result": True}
    return json.dumps({
        "body": body, "content-encoding": "utf-8", "content-type": content_type,
        "headers": head if headers is None else headers,
        "properties": {"correlation_id": mid, "reply_to": None, "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue},
                       "priority": 0, "body_encoding": "base64",
                       "delivery_tag": str(uuid.uuid4())}})


def bad_messages(queue: str) -> dict[str, tuple[str | bytes, str]]:
    """name -> (raw message, a part of the reason it is set aside with)."""
    def env(task: str, args: Any, **kw: Any) -> str:
        return envelope(task, args, queue=queue, **kw)

    return {
        "invalid JSON": ("{bad", "JSONDecodeError"),
        "a JSON array": ("[1, 2]", "a JSON array"),
        "not UTF-8": (b"\xff\xfe{", "UnicodeDecodeError"),
        "not base64": (env("tasks_core.run", ["r", 1], body="!!not base64!!x"), "base64"),
        "pickle": (env("tasks_core.run", ["r", 1], content_type="application/x-python-serialize",
                       body=base64.b64encode(b"\x80\x04K\x01.").decode()), "ContentDisallowed"),
        "body not JSON": (env("tasks_core.run", ["r", 1],
                              body=base64.b64encode(b"{nope").decode()), "undecodable body"),
        "no headers": (env("tasks_core.run", ["r", 1], headers={}), "not a Celery task"),
        "unknown task": (env("no.such.task", [1]), "unknown task 'no.such.task'"),
        "run: 3 args": (env("tasks_core.run", ["r", 1, 2]), "takes [run_id, attempt]"),
        "run: attempt 'x'": (env("tasks_core.run", ["r", "x"]), "integer attempt"),
        "run: kwargs": (env("tasks_core.run", ["r", 1], kwargs={"z": 1}), "no keyword"),
        "run_flow: int id": (env("tasks_core.run_flow", [7, 1]), "takes [run_id, attempt]"),
        "run_chunk: flat": (env("tasks_core.run_chunk", ["a", "b"]), "takes [[run_id, ...]]"),
        "run_chunk: empty": (env("tasks_core.run_chunk", [[]]), "takes [[run_id, ...]]"),
        "body not a list": (env("tasks_core.run", None,
                                body=base64.b64encode(b'"text"').decode()), "not [args"),
    }


def _entry_of(entries: list[Any], raw: str | bytes) -> Any:
    """The entry holding `raw`: the same bytes, or (caught by the consumer, which keeps
    kombu's envelope as it decoded it) the same envelope."""
    same = [e for e in entries if raw_bytes(e) == (raw if isinstance(raw, bytes)
                                                    else raw.encode())]
    if same:
        return same[0]
    envelope_ = json.loads(raw)
    (entry,) = [e for e in entries if e.raw_encoding == "utf-8" and _loads(e.raw) == envelope_]
    return entry


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


@pytest.mark.parametrize("queued", [False, True], ids=["one-by-one", "queued-first"])
def test_every_bad_message_is_set_aside_and_the_worker_keeps_going(
        tc_env: dict[str, Any], start_worker: Any, queued: bool) -> None:
    """`queued`: every message is on the queue before the worker starts, so the worker's
    fetch takes them in batches (store/batch_fetch.py), bad ones among good ones."""
    rt = get_runtime()
    queue, client = tc_env["queue"], tc_env["client"]
    worker = None if queued else start_worker(concurrency=1)
    cases = bad_messages(queue)
    key = rt.store.keys.broker_queue(queue)
    for raw, _ in cases.values():
        client.lpush(key, raw)
    missing = str(uuid.uuid4())  # a run id with no record, as tasks-core would send it
    for envelope_ in (Envelope.for_run(missing, 1, queue=queue, name="add", argsrepr=""),
                      Envelope.for_chunk([missing + "-c"], queue=queue, name="add")):
        push = redis_push(envelope_, rt.store.keys)
        client.lpush(push.key, push.payload)
    futures = [t.add.delay(i, 1) for i in range(20)]  # good runs behind the bad ones
    for i in range(10):  # and bad ones behind those
        client.lpush(key, f"{{bad {i}")
    if worker is None:
        worker = start_worker(concurrency=1)

    assert set(wait_all(futures, timeout=60)) == {StateName.COMPLETED}
    total = len(cases) + 2 + 10
    wait_until(lambda: rt.deadletters.count() >= total, 20, message="every dead letter")
    entries = rt.deadletters.entries()
    assert len(entries) == total
    for name, (raw, reason) in cases.items():
        entry = _entry_of(entries, raw)
        assert reason in entry.reason, (name, entry.reason)
        assert entry.queue == queue, name
    claimed = [e for e in entries if e.stage == "claim"]
    assert {e.task for e in claimed} == {"tasks_core.run", "tasks_core.run_chunk"}
    assert all("has no record" in e.reason for e in claimed)
    assert worker.proc.poll() is None  # still running
    assert "Unrecoverable error" not in worker.output()
    assert "message dropped" not in worker.output()
    assert client.llen(key) == 0
    # every one acked (a worker writes its acks within store.batch_fetch.ACK_FLUSH_S)
    wait_until(lambda: client.hlen(f"{tc_env['prefix']}:q:unacked") == 0, 5,
               message="no message left unacked: none returns")


def test_requeue_puts_a_message_back_on_its_queue(tc_env: dict[str, Any],
                                                  start_worker: Any) -> None:
    rt = get_runtime()
    queue = tc_env["queue"]
    start_worker(concurrency=1)
    # a run whose message arrives before its record: set aside, then requeued once it exists
    from tests.helpers import record_of

    run = record_of(t.add, '{"x":20,"y":22}', state=StateName.PENDING, queue=queue)
    push = redis_push(Envelope.for_run(run.id, 1, queue=queue, name="add", argsrepr=""),
                      rt.store.keys)
    tc_env["client"].lpush(push.key, push.payload)
    wait_until(lambda: rt.deadletters.count() == 1, 20, message="the dead letter")
    (entry,) = rt.deadletters.entries()
    assert entry.stage == "claim" and run.id in entry.reason
    rt.store.create(run)  # the record, now (no message with it)

    done = run_cli(tc_env["env"], "deadletter", "requeue", entry.id[:10])
    assert done.returncode == 0, done.stderr
    assert "Requeued" in done.stdout
    assert rt.store.wait(run.id, 20)
    assert rt.store.get(run.id).state == StateName.COMPLETED
    assert rt.store.result_json(run.id) == "42"
    assert rt.deadletters.count() == 0


def test_a_record_less_message_with_a_foreign_priority_is_set_aside(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    """A message naming a run with no record whose priority is not an int (another producer's
    message) is set aside like any record-less one, not failed and dropped."""
    rt = get_runtime()
    queue, client = tc_env["queue"], tc_env["client"]
    worker = start_worker(concurrency=1)
    missing = str(uuid.uuid4())
    push = redis_push(Envelope.for_run(missing, 1, queue=queue, name="add", argsrepr=""),
                      rt.store.keys)
    payload = json.loads(push.payload)
    payload["properties"]["priority"] = "high"
    client.lpush(push.key, json.dumps(payload))
    assert t.add.delay(1, 2).result(timeout=30) == 3  # behind it

    wait_until(lambda: rt.deadletters.count() == 1, 20, message="the dead letter")
    (entry,) = rt.deadletters.entries()
    assert entry.stage == "claim" and missing in entry.reason and entry.priority == 0
    assert "raised unexpected" not in worker.output()


CRASH_MODULE = '''
from tasks_core.store.transport import Channel


def _fatal(self, **options):
    raise RuntimeError("simulated fatal error in the consumer")


Channel._brpop_read = _fatal
'''


def test_a_worker_that_stops_on_an_error_exits_non_zero(tc_env: dict[str, Any],
                                                        tmp_path: Path) -> None:
    (tmp_path / "tc_fatal_consumer.py").write_text(CRASH_MODULE)
    env = {**tc_env["env"], "PYTHONPATH": f"{ROOT}:{tmp_path}"}
    proc = subprocess.run(
        [sys.executable, "-m", "tasks_core.cli.main", "worker", "--pool", tc_env["queue"],
         "--concurrency", "1", "--import", "tc_fatal_consumer"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert "Unrecoverable error" in proc.stdout + proc.stderr
    assert proc.returncode != 0


STACK_CLIENT = '''
import json, sys
from tasks_core import wait_all
from tests.integration import sample_tasks as t
futures = [t.add.delay(i, 1000) for i in range(int(sys.argv[1]))]
states = wait_all(futures, timeout=90)
print(json.dumps({"states": sorted({str(s) for s in states}), "ids": [f.id for f in futures],
                  "results": [f.result() for f in futures]}))
'''


def test_two_stacks_with_different_prefixes_share_one_redis(
        tc_env: dict[str, Any], redis_server: Any) -> None:
    from tests.helpers import Worker

    client, n = tc_env["client"], 60
    prefixes = [tc_env["prefix"], f"{tc_env['prefix']}b"]
    envs = [{**tc_env["env"], "TASKS_CORE_KEY_PREFIX": p, "TASKS_CORE_DEFAULT_POOL": "default"}
            for p in prefixes]
    workers = [Worker(env, "default", concurrency=2) for env in envs]
    try:
        for worker, prefix in zip(workers, prefixes, strict=True):
            worker.wait_ready(client, prefix)
        senders = [subprocess.Popen([sys.executable, "-c", STACK_CLIENT, str(n)], env=env,
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for env in envs]
        outputs = [sender.communicate(timeout=120) for sender in senders]
        sent: list[set[str]] = []
        for (out, err), sender in zip(outputs, senders, strict=True):
            assert sender.returncode == 0, err
            report = json.loads(out.strip().splitlines()[-1])
            assert report["states"] == ["Completed"]
            assert report["results"] == [i + 1000 for i in range(n)]
            sent.append(set(report["ids"]))
        for worker, prefix, ids in zip(workers, prefixes, sent, strict=True):
            log = worker.output()
            ran = re.findall(r"Task add\[([^\]]+)\] succeeded", log)
            assert len(ran) == n and set(ran) == ids  # its own runs, each once, only those
            assert "set aside" not in log and "dropped" not in log and "no record" not in log
            assert client.zcard(f"{prefix}:deadletter:by-time") == 0
            assert client.llen(f"{prefix}:q:default") == 0
        assert not client.exists("default")  # no stack uses the bare, shared name
    finally:
        for worker in workers:
            worker.stop()
        for key in client.scan_iter(f"{prefixes[1]}:*"):
            client.delete(key)
