"""One run engine: each fault of issue 8, on every path a run can take.

Paths: a direct call in process (sync and async), `.delay()` on a worker, a flow's Celery
task runner, a deployment's flow run. Real redis-server, real worker processes.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tasks_core import ParameterError, StateName, flow
from tasks_core.deployments import run_deployment
from tasks_core.errors import TaskTimeout
from tasks_core.process_runtime import get_runtime
from tasks_core.records import RunRecord
from tasks_core.store.runs import Transition
from tests.helpers import record_of, run_cli, wait_until
from tests.integration import sample_flows as f
from tests.integration import sample_tasks as t

S = StateName


def _record(run_id: str) -> RunRecord:
    rt = get_runtime()
    rt.reporter.flush()
    return rt.store.get(run_id)


def _only_run(kind: str, name: str) -> RunRecord:
    rt = get_runtime()
    rt.reporter.flush()
    records = [r for r in rt.store.get_many(rt.store.list_ids(kind, limit=500))
               if r.name == name]
    assert len(records) == 1, [r.name for r in records]
    return records[0]


def _deploy(tc_env: dict[str, Any], flow_obj: Any, name: str = "d") -> str:
    flow_obj.deploy(name, work_pool_name=tc_env["queue"])
    return f"{flow_obj.name}/{name}"


# -- an outcome that cannot be recorded still ends the run ------------------------------


def test_unprintable_exception_in_process_sync_and_async(tc_env: dict[str, Any]) -> None:
    with pytest.raises(t.Unprintable):
        t.raise_unprintable()
    record = _only_run("task", "raise_unprintable")
    assert record.state == S.FAILED
    assert record.error is not None and "unprintable Unprintable" in record.error.message
    with pytest.raises(t.Unprintable):
        asyncio.run(t.raise_unprintable_async())
    assert _only_run("task", "raise_unprintable_async").state == S.FAILED


def test_unprintable_exception_on_a_worker(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = t.raise_unprintable.delay()
    with pytest.raises(t.Unprintable):
        future.result(timeout=20)  # at once: the run ended, it did not stay Running
    record = future.record()
    assert record.state == S.FAILED and record.error is not None
    assert "unprintable Unprintable" in record.error.message
    unencodable = t.raise_unencodable.delay()
    with pytest.raises(ValueError, match="bad byte"):
        unencodable.result(timeout=20)
    assert unencodable.state == S.FAILED


def test_unprintable_exception_through_the_celery_runner(tc_env: dict[str, Any],
                                                         start_worker: Any) -> None:
    start_worker(concurrency=2)
    state = f.unprintable_on_workers(return_state=True)
    assert state.name == S.FAILED
    assert _only_run("task", "raise_unprintable").state == S.FAILED


def test_unprintable_exception_in_a_deployment_run(tc_env: dict[str, Any],
                                                   start_worker: Any) -> None:
    name = _deploy(tc_env, f.raise_unprintable_flow)
    start_worker(concurrency=1)
    run = run_deployment(name, timeout=30)
    assert run.state == S.FAILED
    assert run.error is not None and "unprintable" in run.error.message


def test_an_outcome_redis_cannot_take_is_written_stripped(tc_env: dict[str, Any]) -> None:
    """A write the client cannot even encode (a lone surrogate in the result) must not stop
    the reporter, nor leave the run live: the run ends Failed, naming why."""
    rt = get_runtime()
    buffered = record_of(t.add, "{}", state=S.RUNNING)
    direct = record_of(t.add, "{}", state=S.RUNNING)
    rt.store.create(buffered)
    rt.store.create(direct)
    bad = "\udc80"
    rt.reporter.log(buffered.id, bad)  # a log entry that cannot be sent either
    rt.reporter.transition(Transition(buffered.id, S.COMPLETED, result_json=bad,
                                      outcome=True), urgent=True)
    assert rt.reporter.flush(timeout=10)
    [outcome] = rt.reporter.apply_now([Transition(direct.id, S.COMPLETED, result_json=bad,
                                                  outcome=True)])
    assert outcome.applied
    for run in (buffered, direct):
        record = rt.store.get(run.id)
        assert record.state == S.FAILED
        assert record.state_message.startswith("could not record Completed")
    later = record_of(t.add, "{}", state=S.RUNNING)  # the reporter still works
    rt.store.create(later)
    rt.reporter.transition(Transition(later.id, S.COMPLETED), urgent=True)
    assert rt.reporter.flush(timeout=10)
    assert rt.store.get(later.id).state == S.COMPLETED


# -- caching on every path ------------------------------------------------------------


def _count(tc_env: dict[str, Any], name: str) -> int:
    return int(tc_env["client"].get(f"{tc_env['prefix']}:test-counter:{name}") or 0)


def test_task_caching_holds_on_workers(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    first = t.cached_count.delay("b")
    assert first.result(timeout=20) == 1
    second = t.cached_count.delay("b")
    assert second.result(timeout=20) == 1  # the cached value: the body did not run again
    assert second.state == S.CACHED
    assert _count(tc_env, "b") == 1
    assert t.cached_count("b") == 1  # in process and on workers share the cache
    assert _count(tc_env, "b") == 1
    assert t.cached_count.delay("c").result(timeout=20) == 1  # other inputs run


def test_task_caching_holds_through_the_celery_runner(tc_env: dict[str, Any],
                                                      start_worker: Any) -> None:
    start_worker(concurrency=2)
    assert f.cached_on_workers("r") == [1, 1]
    assert _count(tc_env, "r") == 1


# -- inherited settings travel with the run ---------------------------------------------


def test_log_prints_is_inherited_on_workers(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    assert f.shouting_on_workers("hello from a worker") == "hello from a worker"
    task_run = _only_run("task", "shout")
    assert task_run.options.log_prints
    messages = [e["message"] for e in get_runtime().store.logs(task_run.id)]
    assert "hello from a worker" in messages
    flow_run = _only_run("flow", "shouting-on-workers")
    tree = run_cli(tc_env["env"], "flow-run", "logs", flow_run.id, "--tree")
    assert "hello from a worker" in tree.stdout, tree.stdout + tree.stderr


def test_log_prints_is_inherited_in_process(tc_env: dict[str, Any]) -> None:
    @flow(log_prints=True)
    def loud() -> str:
        return str(t.shout.submit("x").result())  # a thread of the flow's runner

    assert loud() == "x"
    task_run = _only_run("task", "shout")
    assert task_run.options.log_prints
    assert [e["message"] for e in get_runtime().store.logs(task_run.id)] == ["x"]


def test_log_prints_travels_with_a_deployment_run(tc_env: dict[str, Any],
                                                 start_worker: Any) -> None:
    name = _deploy(tc_env, f.loud_flow)
    start_worker(concurrency=1)
    run = run_deployment(name, parameters={"message": "hi"}, timeout=30)
    assert run.state == S.COMPLETED
    store = get_runtime().store
    assert "flow says hi" in [e["message"] for e in store.logs(run.id)]
    [child] = store.get_many(store.children(run.id))
    assert child.name == "shout" and child.options.log_prints
    assert [e["message"] for e in store.logs(child.id)] == ["hi"]


# -- a late attempt is TimedOut on every path ---------------------------------------------


def test_a_blocking_async_task_times_out_in_process(tc_env: dict[str, Any]) -> None:
    with pytest.raises(TaskTimeout, match="past its timeout of 1s"):
        asyncio.run(f.awaits_a_blocking_task(1.5))
    assert _only_run("task", "block_async").state == S.TIMED_OUT
    assert _only_run("flow", "awaits-a-blocking-task").state == S.FAILED


def test_a_blocking_async_task_times_out_on_a_worker(tc_env: dict[str, Any],
                                                     start_worker: Any) -> None:
    start_worker(concurrency=1)
    future = t.block_async.delay(1.5)
    assert future.wait(timeout=20) == S.TIMED_OUT


# -- rich parameter and result types -------------------------------------------------------


def test_rich_types_in_process(tc_env: dict[str, Any]) -> None:
    assert f.stamp("2024-03-01T10:00:00") == "2024-03-01T10:00:00"
    assert _only_run("flow", "stamp").parameters == {"when": "2024-03-01T10:00:00"}
    assert f.next_day(date(2024, 3, 1)) == date(2024, 3, 2)  # a date returned as a date
    assert _record(_only_run("flow", "next-day").id).state == S.COMPLETED
    weird = object()
    values: list[Any] = [datetime(2024, 1, 1), Path("/tmp"), {1, 2}, b"ab", weird,
                         list(range(300_000)), _deep(10_000)]

    @flow
    def anything() -> list[Any]:
        return [t.echo(value) for value in values] + [t.year(datetime(2024, 1, 1))]

    results = anything()
    assert all(got is sent for got, sent in zip(results, values, strict=False))
    assert results[-1] == 2024
    rt = get_runtime()
    rt.reporter.flush()
    runs = rt.store.get_many(rt.store.list_ids("task", limit=50))
    assert {r.state for r in runs} == {S.COMPLETED}
    by_type = {}
    for run in runs:
        if run.name == "echo":
            by_type[type(run.parameters["value"]).__name__] = run.parameters["value"]
    assert any(isinstance(v, dict) and "__repr__" in v for v in by_type.values())
    year_run = next(r for r in runs if r.name == "year")
    assert year_run.parameters["day"].startswith("2024-01-01")


def test_rich_types_cross_processes(tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=2)
    assert t.year.delay(datetime(2024, 1, 1, tzinfo=UTC)).result(timeout=20) == 2024
    assert t.tomorrow.delay(date(2024, 2, 28)).result(timeout=20) == date(2024, 2, 29)
    assert f.years_on_workers() == [2020, 2021]  # through a flow's Celery task runner
    name = _deploy(tc_env, f.next_day)
    run = run_deployment(name, parameters={"day": date(2024, 3, 1)}, timeout=30)
    assert run.state == S.COMPLETED
    assert run.result() == date(2024, 3, 2)  # results keep kombu's types (engine.tagged)
    assert run.parameters == {"day": "2024-03-01"}


# -- run_deployment checks with the worker's validation, before a run exists --------------


def test_run_deployment_refuses_what_the_worker_would(tc_env: dict[str, Any]) -> None:
    name = _deploy(tc_env, f.count_to)
    with pytest.raises(ParameterError, match="n"):
        run_deployment(name, parameters={"n": "1.5"}, timeout=0)
    with pytest.raises(ParameterError, match="names"):
        run_deployment(name, parameters={"n": 1, "names": [1, 2]}, timeout=0)
    assert get_runtime().store.list_ids("flow") == []  # nothing was created
    run = run_deployment(name, parameters={"n": "2", "names": ["a"]}, timeout=0)
    assert run.state == S.PENDING


# -- one size and depth limit on every path ------------------------------------------------


def _deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def test_the_same_limits_on_every_path(tc_env: dict[str, Any]) -> None:
    name = _deploy(tc_env, f.count_to)
    big = ["x" * 1000] * 20_000  # 20 MB of JSON
    for send in (lambda v: t.add.delay(v, 1),
                 lambda v: run_deployment(name, parameters={"n": 1, "names": v}, timeout=0)):
        with pytest.raises(ParameterError) as info:
            send(big)
        assert "TASKS_CORE_PARAMETERS_MAX_BYTES" in str(info.value)
        assert len(str(info.value)) < 600
        with pytest.raises(ParameterError, match="TASKS_CORE_PARAMETERS_MAX_DEPTH") as info:
            send(_deep(10_000))
        assert len(str(info.value)) < 600
    with pytest.raises(ParameterError) as wrong:
        run_deployment(name, parameters={"n": "y" * 20_000_000}, timeout=0)
    assert len(str(wrong.value)) < 600
    deep = "[" * 10_000 + "]" * 10_000
    result = run_cli(tc_env["env"], "deployment", "run", name, "--param", f"names={deep}",
                     "--param", "n=1")
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "names" in result.stdout + result.stderr
    assert get_runtime().store.list_ids("flow") == []
    assert get_runtime().store.list_ids("task") == []


# -- an outcome is in Redis before the message is acked -----------------------------------


def test_the_outcome_is_written_before_the_ack(tc_env: dict[str, Any],
                                               start_worker: Any) -> None:
    start_worker(concurrency=2)
    futures = [t.finish_and_count.delay(f"r{i}") for i in range(50)]
    futures.append(t.divide.delay(1, 0))
    futures += t.finish_and_count.map([f"m{i}" for i in range(250)])  # chunks of 100
    for future in futures:
        future.wait(timeout=30)
    seen = wait_until(lambda: (v := tc_env["client"].hgetall(f"{tc_env['prefix']}:test-postrun"))
                      and len(v) == len(futures) and v, 10, message="postrun records")
    assert set(seen.values()) == {"Completed", "Failed"}, seen



# -- what a new user tried (fresh-eyes review) ----------------------------------------------


def test_run_deployment_takes_model_enum_and_dataclass_instances(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    name = _deploy(tc_env, f.shapes)
    start_worker(concurrency=1)
    run = run_deployment(name, parameters={
        "point": f.Point(x=1), "color": f.Color.RED,
        "window": f.Window(date(2024, 3, 1), 7)}, timeout=30)
    assert run.state == S.COMPLETED, run.state_message
    assert run.result() == ["Point", "red", "2024-03-01"]
    with pytest.raises(ParameterError, match="color"):
        run_deployment(name, parameters={"point": {"x": 1}, "color": "green",
                                         "window": {"start": "2024-03-01", "days": 1}},
                       timeout=0)


def test_integers_python_cannot_read_back_are_refused_before_anything_exists(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    huge = 10 ** 5000
    with pytest.raises(ParameterError, match=r"parameter 'x'.*4300 digits"):
        t.add.delay(huge, 1)
    name = _deploy(tc_env, f.count_digits)
    with pytest.raises(ParameterError, match="'n'"):
        run_deployment(name, parameters={"n": huge}, timeout=0)
    assert get_runtime().store.list_ids("flow") == []
    assert t.add(huge, 1) == huge + 1  # in process: the object itself, recorded as a stand-in
    listing = run_cli(tc_env["env"], "task-run", "ls")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    start_worker(concurrency=1)
    future = t.huge_int.delay(5000)  # a result no caller could read back fails clearly
    with pytest.raises(Exception, match="4300 digits"):
        future.result(timeout=20)
    assert future.state == S.FAILED


def test_a_returned_generator_reaches_the_caller_unconsumed(tc_env: dict[str, Any]) -> None:
    assert list(t.countdown_generator(3)) == [3, 2, 1]
    record = _only_run("task", "countdown_generator")
    assert record.state == S.COMPLETED
    assert record.state_message.startswith("result not stored: generator")


def test_a_run_completed_after_retries_keeps_no_retry_message_or_error(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    assert t.flaky("in-process", 2) == 2
    record = _record(_only_run("task", "flaky").id)
    assert (record.state, record.attempt, record.state_message, record.error) == (
        S.COMPLETED, 2, "", None)
    assert [h.name for h in record.history][-2:] == [S.RETRYING, S.COMPLETED]
    start_worker(concurrency=1)
    future = t.flaky.delay("on-a-worker", 2)
    assert future.result(timeout=20) == 2
    on_worker = future.record()
    assert (on_worker.state_message, on_worker.error) == ("", None)


def test_log_prints_captures_stdout_only_where_stderr_is_the_same_object(
        tc_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """On a worker Celery redirects stdout and stderr to one object: a traceback that
    logging prints to stderr must not become the run's log entries."""
    import sys

    monkeypatch.setattr(sys, "stderr", sys.stdout)

    @flow(log_prints=True)
    def printer() -> None:
        print("to stdout")
        print("to stderr", file=sys.stderr)

    printer()
    run = _only_run("flow", "printer")
    assert [e["message"] for e in get_runtime().store.logs(run.id)] == ["to stdout"]
