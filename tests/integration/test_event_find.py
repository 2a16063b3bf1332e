"""`EventStore.find`: one event by id, as stored, against a real Redis (the event page's
lookup)."""

from __future__ import annotations

import json
from typing import Any

from tasks_core import emit_event
from tasks_core.process_runtime import get_runtime

RID = "tasks-core.resource.id"


def test_find_returns_the_exact_stored_entry_across_pages(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    emit_event("acme.target", {RID: "acme.t"}, payload={"n": 1}, id="target-id")
    for i in range(30):  # newer events, one naming the target's id in its payload only
        emit_event("acme.other", {RID: f"acme.o.{i}"}, payload={"about": "target-id"})
    rt.emitter.flush()
    found = rt.events.find("target-id", page=7)
    assert found is not None
    entry_id, text = found
    raw = tc_env["client"].xrange(rt.store.keys.events, min=entry_id, max=entry_id)
    assert raw[0][1]["event"] == text
    assert json.loads(text)["event"] == "acme.target"


def test_find_of_an_unknown_id_is_none(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    emit_event("acme.one", {RID: "acme.t"})
    rt.emitter.flush()
    assert rt.events.find("nope", page=2) is None
    tc_env["client"].xadd(rt.store.keys.events, {"event": '{"id": "bad" not json'})
    assert rt.events.find("bad") is None


def test_find_near_a_time_reads_that_window_first(tc_env: dict[str, Any]) -> None:
    rt = get_runtime()
    emit_event("acme.target", {RID: "acme.t"}, id="near-id")
    rt.emitter.flush()
    entry_id = rt.events.last_id()
    ms = int(entry_id.split("-")[0])
    found = rt.events.find("near-id", near_ms=ms, window_ms=10)
    assert found is not None and found[0] == entry_id
    # a wrong hint still finds it (the whole stream is read after the window)
    far = rt.events.find("near-id", near_ms=ms - 3_600_000, window_ms=10)
    assert far is not None and far[0] == entry_id
