"""kombu's tagged JSON for date, datetime, time, UUID and Decimal (`engine.tagged`), and
parameters and results that use it, without Redis."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from kombu.utils.json import dumps as kombu_dumps

from tasks_core.engine.results import decode_result, encode_result
from tasks_core.engine.tagged import loads_tagged, tag_values
from tasks_core.task import task

VALUES = {"d": date(2024, 1, 2), "dt": datetime(2024, 1, 2, 3, 4, tzinfo=UTC),
          "t": time(5, 6), "u": UUID(int=9), "n": Decimal("1.50")}


def test_tagged_as_kombu_tags_them_and_read_back() -> None:
    text = json.dumps(tag_values(VALUES))
    assert json.loads(text) == json.loads(kombu_dumps(VALUES))
    assert loads_tagged(text) == VALUES


def test_plain_data_is_not_copied_and_lookalikes_are_left_alone() -> None:
    plain = {"a": [1, "x", {"b": None}]}
    assert tag_values(plain) is plain
    lookalikes = ['{"__type__": "date", "__value__": "not a date"}',
                  '{"__type__": "date", "__value__": "2024-01-02", "more": 1}',
                  '{"__type__": "set", "__value__": [1]}']
    for text in lookalikes:
        assert loads_tagged(text) == json.loads(text)


def test_parameters_sent_to_a_queue_round_trip_without_hints() -> None:
    @task
    def untyped(*args, **kwargs):  # type: ignore[no-untyped-def]
        return args, kwargs

    text = untyped.encode_parameters({"args": (VALUES["d"],), "kwargs": {"n": VALUES["n"]}})
    args, kwargs = untyped.parameters.decode(text)
    assert args == [VALUES["d"]] and kwargs == {"n": VALUES["n"]}
    assert type(args[0]) is date


def test_results_round_trip() -> None:
    text = encode_result("task 't'", [VALUES, (VALUES["u"],)], 10_000)
    assert decode_result(text) == [VALUES, [VALUES["u"]]]


def test_tagged_values_are_read_back_however_the_text_spells_the_tag() -> None:
    """Text with no ``__type__`` is read plainly (quicker); an escaped tag (another JSON
    producer may write ``\\u005f``) or bytes still go through the tag hook."""
    escaped = '{"\\u005f_type__": "date", "__value__": "2024-01-02"}'
    assert loads_tagged(escaped) == date(2024, 1, 2)
    assert loads_tagged('{"x": 5, "s": "__type"}') == {"x": 5, "s": "__type"}
    assert loads_tagged(bytearray(b'{"__type__": "date", "__value__": "2024-01-02"}')) == \
        date(2024, 1, 2)
