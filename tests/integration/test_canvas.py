"""Celery's canvas on real workers: chains, groups, chords (with the concurrent-finish race
and a failed member), link= / link_error=, GroupResult. Follow-up runs are created held and
released by the ledger (the terminal transition of the run they wait for)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from celery.exceptions import ChordError

from tasks_core.canvas import GroupResult, ResultSet, chain, chord, group
from tasks_core.errors import CancelledRun, ConfigurationError, ParameterError
from tasks_core.futures import TaskFuture
from tasks_core.process_runtime import get_runtime
from tasks_core.states import StateName
from tasks_core.store.runs import Transition
from tests.integration import canvas_tasks as c

S = StateName


def _notes(tc_env: dict[str, Any]) -> list[str]:
    return list(tc_env["client"].lrange(f"{tc_env['prefix']}:test-notes", 0, -1))


def _history(run_id: str) -> list[str]:
    return [h.name for h in get_runtime().store.get(run_id).history]


def test_chain_feeds_each_result_to_the_next_and_links_the_run_tree(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    result = (c.add.s(2, 2) | c.add.s(4) | c.mul.s(10)).delay()
    second, first = result.parent, result.parent.parent
    # nothing runs yet: the first step waits on the queue, the rest are held by the ledger
    assert get_runtime().store.states_of([first.id, second.id, result.id]) == [
        "Pending", "Paused", "Paused"]
    start_worker()
    assert result.get(timeout=20) == 80
    assert second.get(timeout=5) == 8 and first.get(timeout=5) == 4
    store = get_runtime().store
    assert store.get(second.id).parent_task_run_id == first.id
    assert store.get(result.id).parent_task_run_id == second.id
    assert store.children(first.id) == [second.id]
    assert _history(result.id) == [S.PAUSED, S.PENDING, S.RUNNING, S.COMPLETED]
    assert store.get(result.id).parameters == {"x": 8, "y": 10}


def test_immutable_step_ignores_the_previous_result(tc_env: dict[str, Any],
                                                    start_worker: Any) -> None:
    start_worker()
    assert chain(c.add.s(1, 1), c.add.si(5, 5), c.add.s(1))().get(timeout=20) == 11
    assert chain(c.add.s(1), c.mul.s(3)).apply_async((4,)).get(timeout=20) == 15


def test_failed_step_fails_the_rest_and_runs_its_errback_once(tc_env: dict[str, Any],
                                                            start_worker: Any) -> None:
    start_worker()
    flow = chain(c.add.s(1, 1), c.boom.s(), c.add.s(1), c.mul.s(2))
    result = flow.on_error(c.note.s(label="err")).delay()
    with pytest.raises(ValueError, match="boom 2"):
        result.get(timeout=20)
    failed = result.parent.parent
    store = get_runtime().store
    assert store.state_of(result.parent.id) == S.FAILED
    assert store.get(result.id).state_message.startswith("upstream run ")
    assert result.parent.parent.parent.get(timeout=5) == 2
    deadline = time.monotonic() + 10
    while not _notes(tc_env) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert _notes(tc_env) == [f"err:{failed.id}"]  # only the step that failed calls it
    # the errbacks of the steps that never ran ended Cancelled: none is left waiting
    assert not store.list_ids("task", state="Paused")


def test_group_result_counts_joins_and_restores(tc_env: dict[str, Any],
                                               start_worker: Any) -> None:
    start_worker()
    result = group(c.add.s(i, i) for i in range(6)).apply_async()
    assert isinstance(result, GroupResult) and len(result) == 6
    assert result.get(timeout=20) == [0, 2, 4, 6, 8, 10]
    assert result.ready() and result.successful() and not result.failed()
    assert result.completed_count() == 6
    result.save()
    again = GroupResult.restore(result.id)
    assert again is not None and [r.id for r in again.results] == [r.id for r in result]
    assert again.join(timeout=5) == [0, 2, 4, 6, 8, 10]
    assert GroupResult.restore("no-such-group") is None

    mixed = group(c.add.s(1, 1), c.boom.s(3), c.add.s(2, 2))()
    values = mixed.join(timeout=20, propagate=False)
    assert values[0] == 2 and values[2] == 4 and isinstance(values[1], ValueError)
    assert mixed.failed() and not mixed.successful() and mixed.completed_count() == 2
    with pytest.raises(ValueError, match="boom 3"):
        ResultSet(mixed.results).get(timeout=5)


def test_chord_body_gets_the_header_results_in_order(tc_env: dict[str, Any],
                                                     start_worker: Any) -> None:
    start_worker(concurrency=4)
    result = chord(c.add.s(i, i) for i in range(8))(c.tsum.s())
    assert result.get(timeout=30) == 56
    assert isinstance(result.parent, GroupResult)
    assert result.parent.get(timeout=5) == [0, 2, 4, 6, 8, 10, 12, 14]
    listed = get_runtime().store.get(result.id).parameters
    assert listed == {"values": [0, 2, 4, 6, 8, 10, 12, 14]}
    assert (group(c.add.s(1, 1), c.add.s(2, 2)) | c.tsum.s())().get(timeout=20) == 6


def test_chord_body_runs_once_when_the_header_ends_at_one_instant(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    at = time.time() + 4
    size = 16
    result = chord([c.at_instant.s(i, at) for i in range(size)],
                   c.note.s(label="body")).delay()
    start_worker(concurrency=4)
    start_worker(concurrency=4)
    assert result.get(timeout=40) == f"body:{list(range(size))}"
    time.sleep(0.5)
    assert _notes(tc_env) == [f"body:{list(range(size))}"]
    assert _history(result.id) == [S.PAUSED, S.PENDING, S.RUNNING, S.COMPLETED]


def test_chord_counter_under_many_simultaneous_terminal_transitions(
        tc_env: dict[str, Any]) -> None:
    """No worker: 32 threads end the 32 header runs at once through the store; the body is
    released exactly once, with every result (the counter lives in the transition)."""
    size = 32
    result = chord([c.add.s(i, 0) for i in range(size)], c.tsum.s()).delay()
    store = get_runtime().store
    header = [r.id for r in result.parent.results]
    for run_id in header:
        assert store.transition(Transition(run_id, S.RUNNING)).applied
    gate = threading.Barrier(size)
    applied: list[bool] = []

    def finish(i: int) -> None:
        gate.wait()
        change = Transition(header[i], S.COMPLETED, result_json=str(i),
                            fields={"result_ref": store.keys.result(header[i])})
        applied.append(store.transition(change).applied)

    threads = [threading.Thread(target=finish, args=(i,)) for i in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert applied == [True] * size
    body = store.get(result.id)
    assert body.state == S.PENDING
    assert [h.name for h in body.history] == [S.PAUSED, S.PENDING]
    assert body.parameters == {"values": list(range(size))}
    client = tc_env["client"]
    [joint] = client.scan_iter(f"{tc_env['prefix']}:chord:*")
    assert client.hget(joint, "left") == "0"
    queue_key = json.loads(client.hget(joint, "body"))[0]["push"][0]
    queued = client.lrange(queue_key, 0, -1)
    assert sum(result.id in message for message in queued) == 1  # one message, not two


def test_failed_chord_member_fails_the_chord_and_runs_its_errback(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=3)
    body = c.tsum.s()
    body.link_error(c.note.s(label="chord-err"))
    result = chord([c.add.s(1, 1), c.boom.s(7), c.add.s(3, 3)], body)()
    with pytest.raises(ValueError, match="boom 7"):  # Celery: the parent's error first
        result.get(timeout=20)
    with pytest.raises(ChordError, match=r"Dependency .* raised ValueError"):
        result.get(timeout=5, follow_parents=False)  # the callback's own end
    assert S.RUNNING not in _history(result.id)  # the callback never ran
    result.parent.join(timeout=10, propagate=False)  # the other members still finish
    assert result.parent.completed_count() == 2
    deadline = time.monotonic() + 10
    while not _notes(tc_env) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _notes(tc_env) == [f"chord-err:{result.id}"]


def test_link_and_link_error_on_apply_async(tc_env: dict[str, Any],
                                            start_worker: Any) -> None:
    start_worker()
    ok = c.add.apply_async((2, 2), link=c.note.s(label="ok"),
                           link_error=c.note.s(label="err"))
    assert ok.get(timeout=20) == 4
    bad = c.boom.apply_async((5,), link=[c.note.s(label="ok")],
                             link_error=[c.note.s(label="err")])
    with pytest.raises(ValueError):
        bad.get(timeout=20)
    deadline = time.monotonic() + 10
    while len(_notes(tc_env)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(_notes(tc_env)) == sorted(["ok:4", f"err:{bad.id}"])
    store = get_runtime().store
    for parent in (ok.id, bad.id):
        # a note is written inside its run's body: wait for each callback's own end
        states = sorted(TaskFuture(child).wait(timeout=10) for child in store.children(parent))
        assert states in ([S.CANCELLED, S.COMPLETED], [S.COMPLETED, S.FAILED])


def test_one_link_or_link_error_signature_on_a_chain_or_group(tc_env: dict[str, Any],
                                                              start_worker: Any) -> None:
    """Celery takes one signature as well as a list for a canvas's link= / link_error=
    (a new user's trial: a chain's or group's single one raised ConfigurationError)."""
    start_worker()
    failed = chain(c.add.s(1, 1), c.boom.s()).apply_async(link_error=c.note.s(label="err"))
    with pytest.raises(ValueError):
        failed.get(timeout=20)
    done = chain(c.add.s(1, 1), c.add.s(1)).apply_async(link=c.note.s(label="chain"))
    assert done.get(timeout=20) == 3
    both = group(c.add.s(1, 1), c.add.s(2, 2)).apply_async(link=c.note.s(label="group"))
    assert both.get(timeout=20) == [2, 4]
    wanted = ["chain:3", "group:2", "group:4"]
    deadline = time.monotonic() + 10
    while len(_notes(tc_env)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    notes = _notes(tc_env)
    assert sorted(n for n in notes if not n.startswith("err:")) == wanted
    assert len([n for n in notes if n.startswith("err:")]) == 1


def test_cancelling_the_first_step_ends_the_held_ones(tc_env: dict[str, Any]) -> None:
    result = chain(c.add.s(1, 1), c.add.s(1), c.add.s(1)).delay()
    result.parent.parent.revoke()
    with pytest.raises(CancelledRun):
        result.get(timeout=5)
    assert get_runtime().store.states_of([result.parent.id, result.id]) == [
        "Cancelled", "Cancelled"]


def test_map_starmap_and_chunks_run_sequentially_in_one_run(tc_env: dict[str, Any],
                                                           start_worker: Any) -> None:
    from tasks_core.canvas.builtins import chunks_signature, map_signature, starmap_signature

    start_worker()
    mapped = map_signature(c.double, [1, 2, 3]).delay()
    assert mapped.get(timeout=20) == [2, 4, 6]
    assert get_runtime().store.children(mapped.id) == []  # one run, not one per item
    assert starmap_signature(c.add, [(1, 2), (3, 4)]).delay().get(timeout=20) == [3, 7]
    parts = chunks_signature(c.add, zip(range(5), range(5), strict=True), 2)
    assert len(parts) == 3
    assert parts.apply_async().get(timeout=20) == [[0, 2], [4, 6], [8]]
    # a chain step like any other: the list is the next task's first argument
    assert (map_signature(c.double, [1, 2]) | c.tsum.s()).delay().get(timeout=20) == 6


def test_nested_canvases_groups_of_chains_and_a_group_inside_a_chain(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=4)
    members = group(chain(c.add.s(1, 1), c.add.s(1)), c.add.s(5, 5))()
    assert members.get(timeout=20) == [3, 10]
    # a group inside a chain gets the previous result; the next step gets the list (a chord)
    middle = chain(c.add.s(1, 1), group(c.add.s(1), c.add.s(2)), c.tsum.s())()
    assert middle.get(timeout=20) == 7
    assert middle.parent.get(timeout=5) == [3, 4]
    header = chord([chain(c.add.s(1, 1), c.mul.s(10)), c.add.s(2, 2)], c.tsum.s())()
    assert header.get(timeout=20) == 24


def test_canvas_options_go_where_celery_puts_them_and_bad_ones_are_refused(
        tc_env: dict[str, Any]) -> None:
    store = get_runtime().store
    res = chain(c.add.s(1, 1), c.add.s(1)).apply_async(queue="elsewhere", priority=7)
    first = store.get(res.parent.id)
    assert (first.queue, first.priority) == ("elsewhere", 7)
    assert store.get(res.id).queue == tc_env["queue"]  # a chain's options: its first task
    members = group(c.add.s(1, 1), c.add.s(2, 2)).apply_async(queue="elsewhere")
    assert {store.get(r.id).queue for r in members.results} == {"elsewhere"}
    before = len(store.list_ids("task", limit=100))
    with pytest.raises(ConfigurationError, match="expires are not supported inside a canvas"):
        chain(c.add.s(1, 1), c.add.s(1)).apply_async(expires=10)
    with pytest.raises(ConfigurationError, match="countdown/eta is supported on a canvas's "
                                                 "first tasks only"):
        chain(c.add.s(1, 1), c.add.s(1).set(countdown=5)).delay()
    with pytest.raises(ParameterError):
        chain(c.add.s(1, 1), c.add.s(1, 2, 3)).delay()
    assert len(store.list_ids("task", limit=100)) == before  # nothing was sent


def test_a_group_joins_in_order_and_raises_its_first_failure_before_later_runs_end(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    from tasks_core.async_result import AsyncResult
    from tasks_core.errors import RunNotFound, RunTimeout

    start_worker()
    big = group(c.add.s(i, i) for i in range(300)).apply_async()
    seen: list[tuple[str, Any]] = []
    assert big.join(timeout=60) == [2 * i for i in range(300)]
    # with a callback, each (task_id, value) goes to it in order and join returns nothing,
    # as Celery's join does
    callback_values = big.join(timeout=60, callback=lambda task_id, value: seen.append(
        (task_id, value)))
    assert callback_values == []
    assert seen == [(r.id, 2 * i) for i, r in enumerate(big.results)]

    # Celery's join: the failure is raised once it and those before it ended, while a
    # later run still runs (it ends 20 s from now)
    late = group(c.add.s(1, 1), c.boom.s(7), c.at_instant.s(3, time.time() + 20))()
    started = time.monotonic()
    with pytest.raises(ValueError, match="boom 7"):
        late.join(timeout=15)
    assert time.monotonic() - started < 10
    assert late.join(timeout=40, propagate=False)[2] == 3

    never = AsyncResult("no-such-run-yet")  # its run never appears: the join times out
    with pytest.raises(RunTimeout, match=r"1 of 2 results not ready after 0\.3s"):
        ResultSet([big.results[0], never]).join(timeout=0.3)
    # a plain future's run that does not exist is an error at once, as its own get()
    started = time.monotonic()
    with pytest.raises(RunNotFound, match="'gone' not found"):
        ResultSet([TaskFuture(big.results[0].id), TaskFuture("gone")]).join(timeout=30)
    assert time.monotonic() - started < 5
