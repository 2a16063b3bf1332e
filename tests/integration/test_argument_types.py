"""Arguments and results that Celery's JSON (kombu) carries as their own types, through
`.delay()` to a real worker and back, without pickle (issue 14, item 11)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import tasks_core
from tests.integration import argument_types_tasks as a

IMPORTS = ("tests.integration.argument_types_tasks",)
VALUES = [date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
          datetime(2024, 1, 2, 3, 4), time(13, 14, 15), UUID(int=42), Decimal("10.10")]


def test_dates_uuids_and_decimals_arrive_and_return_as_themselves(
        tc_env: dict[str, Any], start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    future = a.types_of.delay(*VALUES[:3], at=VALUES[3], uid=VALUES[4], amount=VALUES[5])
    result = future.get(timeout=20)
    assert result["types"] == ["date", "datetime", "datetime", "time", "UUID", "Decimal"]
    assert result["values"] == VALUES  # equal values of the same types, results too
    assert [type(v) for v in result["values"]] == [type(v) for v in VALUES]
    assert result["values"][1].tzinfo is not None and result["values"][2].tzinfo is None
    assert str(result["values"][5]) == "10.10"  # a Decimal keeps its digits


def test_nested_values_hinted_parameters_and_send_task(tc_env: dict[str, Any],
                                                       start_worker: Any) -> None:
    start_worker(concurrency=1, imports=IMPORTS)
    assert a.next_day.delay(date(2024, 2, 28)).get(timeout=20) == date(2024, 2, 29)
    shaped = a.nested.delay({"when": time(1, 2), "items": (Decimal(1), UUID(int=1))})
    assert shaped.get(timeout=20) == {"when": time(1, 2), "kind": "time",
                                      "items": ["Decimal", "UUID"]}
    by_name = tasks_core.send_task("proj.types_of", [date(2020, 1, 1)],
                                   {"n": Decimal("0.1")})
    assert by_name.get(timeout=20) == {"types": ["date", "Decimal"],
                                       "values": [date(2020, 1, 1), Decimal("0.1")]}
    assert a.stamp.delay().get(timeout=20) == datetime(2024, 5, 6, 7, 8, 9)


def test_the_message_is_json_in_kombus_tagged_form(tc_env: dict[str, Any]) -> None:
    future = a.types_of.delay(date(2024, 1, 2))
    raw = tc_env["client"].hget(f"{tc_env['prefix']}:run:{future.id}", "parameters")
    assert json.loads(raw) == {"args": [{"__type__": "date", "__value__": "2024-01-02"}]}
    from kombu.utils.json import loads

    assert loads(raw) == {"args": [date(2024, 1, 2)]}  # kombu reads it as Celery would
