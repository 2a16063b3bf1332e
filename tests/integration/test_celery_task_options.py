"""Celery's task options on every path (issue 14, items 1, 4 and 5): bound tasks
(``self.request``, ``self.retry``, ``self.update_state``), autoretry and backoff,
``retry_condition_fn``, soft and hard time limits, ``ignore_result`` and ``base=``
handlers; on a real worker (``.delay()``), in a direct call and inside a flow.
Real redis-server, real `tasks-core worker` processes.
"""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded

from tasks_core import StateName, flow
from tasks_core.errors import ConfigurationError, TaskTimeout, ValidationError
from tasks_core.process_runtime import get_runtime
from tests.helpers import wait_until
from tests.integration import celery_option_tasks as c

S = StateName
IMPORTS = ("tests.integration.celery_option_tasks",)


@pytest.fixture
def worker(start_worker: Any) -> Any:
    return start_worker(concurrency=2, imports=IMPORTS)


def _ended(future: Any, timeout: float = 20) -> Any:
    future.wait(timeout)
    return future.record()


# -- bound tasks --------------------------------------------------------------------------


def test_bound_request_on_a_worker(tc_env: dict[str, Any], worker: Any) -> None:
    future = c.who_am_i.delay(3, label="w")
    info = future.result(timeout=20)
    assert info["id"] == future.id and info["name"] == "who_am_i"
    assert info["retries"] == 0 and info["args"] == [3] and info["kwargs"] == {"label": "w"}
    assert info["delivery_info"]["routing_key"] == tc_env["queue"]
    assert info["root_id"] == future.id and info["parent_id"] is None
    assert info["hostname"] and info["is_eager"] is False
    assert info["called_directly"] is False


def test_bound_request_in_a_direct_call_and_in_a_flow(tc_env: dict[str, Any]) -> None:
    direct = c.who_am_i(1)
    assert direct["id"] and direct["is_eager"] is True and direct["delivery_info"] == {}
    assert direct["root_id"] == direct["id"]

    @flow
    def outer() -> dict[str, Any]:
        return c.who_am_i(2)

    inside = outer()
    get_runtime().reporter.flush(timeout=5)
    run = get_runtime().store.get(inside["id"])
    assert inside["name"] == "who_am_i" and run.parent_flow_run_id == inside["parent_id"]
    assert inside["root_id"] == inside["parent_id"]
    assert c.who_am_i.request.id is None  # outside an attempt: Celery's empty request


def test_self_retry_is_a_retry_of_the_same_run(tc_env: dict[str, Any], worker: Any) -> None:
    future = c.retry_twice.delay("rt")
    assert future.result(timeout=20) == 2  # self.request.retries on the third attempt
    record = get_runtime().store.get_many([future.id], history=True)[0]
    assert record.attempt == 3
    states = [entry.name for entry in record.history]
    assert states.count(S.AWAITING_RETRY) == 2 and states[-1] == S.COMPLETED
    assert "ValueError: flaky" in record.history[states.index(S.AWAITING_RETRY)].message


def test_self_retry_past_max_retries_raises_exc(tc_env: dict[str, Any], worker: Any) -> None:
    record = _ended(c.retry_until_max.delay())
    assert record.state == S.FAILED and record.attempt == 3
    assert record.error is not None and record.error.type == "KeyError"
    record = _ended(c.retry_without_exc.delay())
    assert record.state == S.FAILED and record.attempt == 2
    assert record.error is not None and record.error.type.endswith("MaxRetriesExceededError")


def test_self_retry_in_a_direct_call(tc_env: dict[str, Any]) -> None:
    assert c.retry_twice("direct") == 2
    with pytest.raises(MaxRetriesExceededError):
        c.retry_without_exc()


def test_update_state_is_stored_on_the_running_run(tc_env: dict[str, Any],
                                                   worker: Any) -> None:
    future = c.with_progress.delay("progress-go")
    store = get_runtime().store
    running = wait_until(lambda: (r := store.get(future.id)).celery_state and r, 20,
                         message="the custom state")
    assert running.state == S.RUNNING and running.celery_state == "PROGRESS"
    assert running.celery_meta == {"current": 1, "total": 2}
    get_runtime().client.set(c._key("progress-go"), "1")
    assert future.result(timeout=20) == "done"


def test_update_state_in_a_direct_call_and_a_flow(tc_env: dict[str, Any]) -> None:
    expected = [S.RUNNING, "PROGRESS", {"step": 1}]
    assert c.progress_here() == expected  # the record is written first, then the state

    @flow
    def outer() -> list[Any]:
        return c.progress_here()

    assert outer() == expected
    with pytest.raises(ValidationError, match="meta must be JSON-encodable"):
        c.progress_here.update_state(task_id="x", state="S", meta={"a": object()})


# -- retry options ------------------------------------------------------------------------


def test_autoretry_for_retries_only_the_listed_types(tc_env: dict[str, Any],
                                                     worker: Any) -> None:
    ok = c.flaky_connection.delay("conn")
    wrong = c.wrong_error.delay()
    excluded = c.missing_file.delay()
    assert ok.result(timeout=20) == 3 and ok.record().attempt == 3
    for future, error in ((wrong, "KeyError"), (excluded, "FileNotFoundError")):
        record = _ended(future)
        assert record.state == S.FAILED and record.attempt == 1, record
        assert record.error is not None and record.error.type == error


def test_backoff_and_max_retries(tc_env: dict[str, Any], worker: Any) -> None:
    future = c.backing_off.delay()
    record = get_runtime().store.get_many([_ended(future).id], history=True)[0]
    assert record.state == S.FAILED and record.attempt == 3
    waits = [e.message for e in record.history if e.name == S.AWAITING_RETRY]
    assert [w.split(" after")[0] for w in waits] == ["retrying in 0.1s", "retrying in 0.2s"]


def test_retry_condition_fn(tc_env: dict[str, Any], worker: Any) -> None:
    no = _ended(c.conditional.delay("key"))
    yes = _ended(c.conditional.delay("value"))
    assert (no.state, no.attempt) == (S.FAILED, 1)
    assert (yes.state, yes.attempt) == (S.FAILED, 4)


# -- time limits --------------------------------------------------------------------------


def test_soft_time_limit_lets_the_task_clean_up(tc_env: dict[str, Any], worker: Any) -> None:
    assert issubclass(TaskTimeout, SoftTimeLimitExceeded)
    assert c.cleans_up.delay().result(timeout=20) == "cleaned up"
    record = _ended(c.does_not_clean_up.delay())
    assert record.state == S.TIMED_OUT
    assert record.error is not None and "timed out after 0.5s" in record.error.message
    per_call = c.sleeper.apply_async((5,), soft_time_limit=0.5)
    assert per_call.result(timeout=20) == "cleaned up"
    assert c.cleans_up() == "cleaned up"  # a direct call too


def test_time_limit_kills_the_attempt(tc_env: dict[str, Any], worker: Any) -> None:
    record = _ended(c.killed.delay(), timeout=30)
    assert record.state == S.CRASHED, record
    assert record.end_time is not None and record.start_time is not None
    assert (record.end_time - record.start_time).total_seconds() < 15


# -- other options ------------------------------------------------------------------------


def test_ignore_result(tc_env: dict[str, Any], worker: Any) -> None:
    future = c.unrecorded.delay(4)
    record = _ended(future)
    assert record.state == S.COMPLETED and record.result_ref is None
    assert get_runtime().store.result_json(future.id) is None
    assert c.unrecorded(5) == 10  # a direct call still gets its value


def test_base_class_handlers(tc_env: dict[str, Any], worker: Any) -> None:
    ok = c.handled.delay("h", False)
    assert ok.result(timeout=20) == "ok"
    wait_until(lambda: len(c.notes("handlers")) >= 3, 20, message="handlers")
    assert c.notes("handlers") == [["on_retry", "ValueError", ["h", False]],
                                   ["on_success", "ok", ["h", False]],
                                   ["after_return", "SUCCESS"]]
    get_runtime().client.delete(c._key("handlers"))
    bad = _ended(c.handled.delay("h2", True))
    assert bad.state == S.FAILED
    wait_until(lambda: len(c.notes("handlers")) >= 3, 20, message="handlers")
    assert c.notes("handlers") == [["on_retry", "ValueError", ["h2", True]],
                                   ["on_failure", "ValueError", ["h2", True]],
                                   ["after_return", "FAILURE"]]


def test_refused_and_unknown_options(tc_env: dict[str, Any]) -> None:
    def fn() -> None:
        return None

    with pytest.raises(ConfigurationError, match="serializer 'pickle'"):
        c.task(serializer="pickle")(fn)
    with pytest.raises(ConfigurationError, match="acks_late=False"):
        c.task(acks_late=False)(fn)
    with pytest.raises(TypeError, match="unknown option 'retry_forevr'"):
        c.task(retry_forevr=True)(fn)
    with pytest.raises(ConfigurationError, match="bind=True needs a first parameter"):
        c.task(bind=True)(fn)
    assert c.task(acks_late=True, reject_on_worker_lost=True, serializer="json")(fn)
