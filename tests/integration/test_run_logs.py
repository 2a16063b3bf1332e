"""Run logs: get_run_logger() and log_prints, stored per run in Redis (real Redis, workers)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from tasks_core import TasksCoreError, flow, get_run_logger, task
from tasks_core.errors import ConfigurationError
from tasks_core.process_runtime import get_runtime
from tasks_core.run_logging import FLOW_RUN_LOGGER, TASK_RUN_LOGGER, MissingRunContext
from tasks_core.store.reporter import LOG_ENTRIES_PER_WRITE, Reporter
from tests.helpers import wait_until
from tests.integration import sample_tasks as t


def _logs(run_id: str) -> list[dict[str, Any]]:
    rt = get_runtime()
    rt.reporter.flush()
    return rt.store.logs(run_id)


def _messages(run_id: str) -> list[str]:
    return [e["message"] for e in _logs(run_id)]


def _last_flow_id() -> str:
    get_runtime().reporter.flush()
    return get_runtime().store.list_ids("flow", limit=1)[0]


def _children(run_id: str) -> dict[str, str]:
    """Child task runs of a run: name -> id."""
    rt = get_runtime()
    return {r.name: r.id for r in rt.store.get_many(rt.store.children(run_id))}


@task
def shout(word: str) -> str:
    print(f"task says {word}")
    return word


@task(log_prints=False)
def quiet(word: str) -> str:
    print(f"not captured {word}")
    return word


@flow(log_prints=True)
def printing_flow(word: str) -> str:
    print("flow starts")
    shout(word)
    quiet(word)
    shout.submit("threaded").result()
    print("flow", "ends", sep="-")
    return word


def test_log_prints_captures_the_flow_and_its_tasks(
    tc_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert printing_flow("hi") == "hi"
    flow_id = _last_flow_id()
    entries = _logs(flow_id)
    assert [e["message"] for e in entries] == ["flow starts", "flow-ends"]
    assert all(e["level"] == "INFO" and e["run_id"] == flow_id and
               e["logger"] == FLOW_RUN_LOGGER for e in entries)
    runs = get_runtime().store.get_many(get_runtime().store.children(flow_id))
    shouts = [r.id for r in runs if r.name == "shout"]
    assert sorted(_messages(shouts[0]) + _messages(shouts[1])) == [
        "task says hi", "task says threaded"]
    task_entry = _logs(shouts[0])[0]
    assert task_entry["level"] == "INFO" and task_entry["logger"] == TASK_RUN_LOGGER
    assert task_entry["run_id"] == shouts[0] and task_entry["timestamp"].startswith("20")
    [quiet_id] = [r.id for r in runs if r.name == "quiet"]
    assert _messages(quiet_id) == []  # log_prints=False on the task wins over the flow
    out = capsys.readouterr().out  # captured prints still reach stdout
    assert "flow starts" in out and "task says hi" in out and "not captured hi" in out


@flow
def plain_flow() -> None:
    print("plain flow print")
    shout("plain")


@task(log_prints=True)
def loud() -> None:
    print("loud task print")


@flow
def mixed_flow() -> None:
    print("mixed flow print")
    loud()


def test_prints_are_not_captured_without_log_prints(
    tc_env: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    plain_flow()
    flow_id = _last_flow_id()
    assert _messages(flow_id) == []
    assert _messages(_children(flow_id)["shout"]) == []
    assert "plain flow print" in capsys.readouterr().out
    mixed_flow()
    flow_id = _last_flow_id()
    assert _messages(flow_id) == []
    assert _messages(_children(flow_id)["loud"]) == ["loud task print"]
    print("outside any run")  # the installed print wrapper passes through


@task
def logs_in_task(n: int) -> int:
    get_run_logger().info("task %d", n)
    return n


@flow
def logging_flow() -> None:
    logger = get_run_logger()
    logger.info("in flow")
    logs_in_task(1)
    logs_in_task.submit(2).result()
    logger.error("flow %s", "error", extra={"step": "end"})


def test_run_logger_attaches_to_the_right_runs(
    tc_env: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        logging_flow()
    flow_id = _last_flow_id()
    entries = _logs(flow_id)
    assert [(e["level"], e["message"]) for e in entries] == [("INFO", "in flow"),
                                                            ("ERROR", "flow error")]
    assert {e["run_id"] for e in entries} == {flow_id}
    rt = get_runtime()
    task_ids = rt.store.children(flow_id)
    assert sorted(m for run_id in task_ids for m in _messages(run_id)) == ["task 1", "task 2"]
    for run_id in task_ids:
        assert [e["run_id"] for e in _logs(run_id)] == [run_id]
    # the same records went to normal Python logging, tagged with their run
    records = [r for r in caplog.records if r.name in (FLOW_RUN_LOGGER, TASK_RUN_LOGGER)]
    assert [r.getMessage() for r in records if r.name == FLOW_RUN_LOGGER] == [
        "in flow", "flow error"]
    assert {r.__dict__["run_id"] for r in records} == {flow_id, *task_ids}
    assert records[-1].__dict__["step"] == "end"


def test_logs_outside_a_run_raise_a_clear_error(tc_env: dict[str, Any]) -> None:
    with pytest.raises(MissingRunContext, match=r"needs a running flow or task"):
        get_run_logger()
    assert issubclass(MissingRunContext, TasksCoreError)
    assert issubclass(MissingRunContext, RuntimeError)


def test_log_prints_is_validated_at_decoration() -> None:
    with pytest.raises(ConfigurationError, match="log_prints must be True, False or None"):
        task(log_prints="yes")(lambda: None)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="flow bad: log_prints"):
        flow(name="bad", log_prints=1)(lambda: None)  # type: ignore[call-overload]
    assert shout.log_prints is None and quiet.log_prints is False
    assert printing_flow.log_prints is True and plain_flow.log_prints is None


@task
def numbered(i: int) -> int:
    print(f"item {i}")
    return i


@flow(log_prints=True)
def many_threads(n: int) -> list[int]:
    return [f.result() for f in numbered.map(range(n))]


def test_threads_of_other_runs_are_not_mixed_up(tc_env: dict[str, Any]) -> None:
    other: list[str] = []

    def outsider() -> None:  # a thread outside any run, printing meanwhile
        for i in range(50):
            print(f"outsider {i}")
        other.append("done")

    thread = threading.Thread(target=outsider)
    thread.start()
    assert many_threads(20) == list(range(20))
    thread.join()
    flow_id = _last_flow_id()
    assert _messages(flow_id) == []
    rt = get_runtime()
    for record in rt.store.get_many(rt.store.children(flow_id)):
        assert _messages(record.id) == [f"item {record.parameters['i']}"]


@flow(log_prints=True)
def long_log(n: int) -> None:
    logger = get_run_logger()
    for i in range(n):
        if i % 7 == 0:
            logger.info("log %d", i)
        else:
            print(f"print {i}")


def test_entries_keep_their_order_and_expire_with_the_run(tc_env: dict[str, Any]) -> None:
    n = LOG_ENTRIES_PER_WRITE * 3 + 17  # several merged writes, across batches
    long_log(n)
    flow_id = _last_flow_id()
    expected = [f"log {i}" if i % 7 == 0 else f"print {i}" for i in range(n)]
    assert _messages(flow_id) == expected
    rt = get_runtime()
    ttl = tc_env["client"].ttl(rt.store.keys.logs(flow_id))
    assert 0 < ttl <= rt.settings.run_ttl_seconds
    assert rt.store.logs(flow_id, start=n - 2) == _logs(flow_id)[-2:]


def test_taken_log_writes_share_the_claim_round_trip(tc_env: dict[str, Any]) -> None:
    """take()/queue_batch()/settle() (the worker's claim path) and give_back() handle logs."""
    rt = get_runtime()
    store = rt.store
    reporter = Reporter(store, interval_ms=10_000, batch_size=10_000)
    reporter.log("r1", '{"message":"a"}')
    reporter.log("r1", '{"message":"b"}')  # merged into the same write
    reporter.log("r2", '{"message":"c"}')
    taken = reporter.take()
    assert [(kind, run_id, entries) for kind, run_id, entries in taken] == [
        ("log", "r1", ['{"message":"a"}', '{"message":"b"}']),
        ("log", "r2", ['{"message":"c"}'])]
    reporter.log("r1", '{"message":"d"}')  # not merged into a taken write
    reporter.give_back(taken)
    again = reporter.take()
    with store.client.pipeline(transaction=False) as pipe:
        reporter.queue_batch(pipe, again)
        replies = pipe.execute(raise_on_error=False)
    reporter.settle(again, replies)
    assert replies == [2, 1, 3]
    assert reporter.flush(timeout=5)
    assert [e["message"] for e in store.logs("r1")] == ["a", "b", "d"]
    assert [e["message"] for e in store.logs("r2")] == ["c"]
    reporter.close()


def test_logs_of_a_task_on_a_worker_are_stored(tc_env: dict[str, Any],
                                                start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = t.chatty.delay(3)
    assert future.result(timeout=30) == 3
    expected = ["starting 3", "line 0", "line 1", "line 2", "done"]
    entries = wait_until(lambda: len(_logs(future.id)) == 5 and _logs(future.id), 10,
                         message="the worker's log entries")
    assert [e["message"] for e in entries] == expected
    assert [e["level"] for e in entries] == ["INFO", "INFO", "INFO", "INFO", "WARNING"]
    assert {e["run_id"] for e in entries} == {future.id}
