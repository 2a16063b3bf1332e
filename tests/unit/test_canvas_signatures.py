"""Signatures, chains, groups and chords as data (no Redis): building, partial
application, JSON round trips and the errors bad input gets."""

from __future__ import annotations

import inspect
import json

import pytest

from tasks_core import task
from tasks_core.canvas import Signature, chain, chord, group, maybe_signature, signature
from tasks_core.errors import ConfigurationError


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def tsum(values: list[int]) -> int:
    return sum(values)


def test_s_si_and_signature_build_the_celery_dict() -> None:
    sig = add.s(2, y=3)
    assert dict(sig) == {"task": add.key, "args": [2], "kwargs": {"y": 3}, "options": {},
                         "subtask_type": None, "immutable": False}
    assert add.si(1, 2).immutable and not sig.immutable
    made = add.signature((1,), {"y": 2}, countdown=5, queue="io")
    assert made.args == (1,) and made.kwargs == {"y": 2}
    assert made.options == {"countdown": 5, "queue": "io"}
    assert sig.type is add and sig.name == "add"
    assert isinstance(add._signature, inspect.Signature)  # the function's, renamed


def test_partial_application_is_celerys_merge() -> None:
    sig = add.s(2)
    assert sig.clone((3,)).args == (3, 2)  # new positional arguments go first
    assert add.s(y=1).clone(kwargs={"y": 5, "x": 0}).kwargs == {"y": 5, "x": 0}
    frozen = add.si(1, 1).clone((9,), {"y": 4})
    assert frozen.args == (1, 1) and frozen.kwargs == {}  # immutable keeps its own


def test_set_and_links_mutate_in_place_and_stay_json() -> None:
    sig = add.s(1, 1).set(queue="io", countdown=2)
    assert sig.set(immutable=True) is sig and sig.immutable
    callback = sig.link(tsum.s())
    assert callback.task == tsum.key
    sig.on_error(add.si(0, 0))
    text = json.dumps(sig)
    back = signature(json.loads(text))
    assert back == sig and isinstance(back, Signature)
    assert back.options["link"][0]["task"] == tsum.key
    assert back.options["link_error"][0]["immutable"] is True


def test_pipe_builds_chains_and_group_pipe_task_is_a_chord() -> None:
    made = add.s(1, 1) | add.s(2) | add.s(3)
    assert isinstance(made, chain) and [t.args for t in made.tasks] == [(1, 1), (2,), (3,)]
    joined = group(add.s(i, i) for i in range(3)) | tsum.s()
    assert isinstance(joined, chord) and len(joined.header) == 3
    assert joined.body == tsum.s()


def test_canvas_dicts_round_trip_through_json() -> None:
    made = chain(add.s(1, 1), group(add.s(2), add.s(3)), chord([add.s(1, 2)], tsum.s()))
    assert made["subtask_type"] == "chain" and made["task"] == "celery.chain"
    back = maybe_signature(json.loads(json.dumps(made)))
    assert isinstance(back, chain) and back == made
    kinds = [t.subtask_type for t in back.tasks]
    assert kinds == [None, "group", "chord"]
    inner = back.tasks[2]
    assert isinstance(inner, chord) and inner.body == tsum.s()


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Signature(print), "needs a task"),
    (lambda: Signature(add, args="12"), "args must be a list or tuple"),
    (lambda: Signature(add, kwargs=[1]), "kwargs must be a dict"),
    (lambda: chain(), "at least one task"),
    (lambda: chord([], tsum.s()), "at least one header task"),
    (lambda: maybe_signature(42, owner="link"), "link must be a signature"),
    (lambda: signature({"subtask_type": "map", "task": "x"}), "unknown signature type 'map'"),
    (lambda: add.s(1).link(lambda v: v), "signature must be a signature"),
])
def test_bad_input_gets_one_clear_error(build: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()  # type: ignore[operator]
