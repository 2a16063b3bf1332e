"""The request and reply models of the deployment and work-pool routes (pure, no Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest

from tasks_core.api.deployments import RunRequest
from tasks_core.api.work_pools import (
    ConcurrencyRequest,
    CreateRequest,
    ResumeReply,
    WorkPoolDetail,
    WorkPoolSummary,
)
from tasks_core.deployment_models import WorkPool

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_a_run_starts_now_after_a_delay_or_at_a_time_in_utc() -> None:
    assert RunRequest().start_at(NOW) is None
    assert RunRequest(schedule_after=90).start_at(NOW) == NOW + timedelta(seconds=90)
    paris = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    at = RunRequest.model_validate({"scheduled_time": paris.isoformat()}).start_at(NOW)
    assert at == paris and at is not None and at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("body", "says"), [
    ({"scheduled_time": "2030-01-01T00:00:00Z", "schedule_after": 1},
     "scheduled_time or schedule_after, not both"),
    ({"scheduled_time": "2030-01-01T00:00:00"}, "timezone"),
    ({"scheduled_time": "0001-01-01T00:00:00+05:00"}, "out of range once in UTC"),
    ({"schedule_after": -1}, "greater than or equal to 0"),
    ({"work_queue_name": "fast lane"}, "work_queue_name 'fast lane' has ' '"),
    ({"tags": [""]}, "at least 1 character"),
    ({"params": {}}, "Extra inputs are not permitted"),
])
def test_bad_run_requests_say_what_is_wrong(body: dict[str, object], says: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=says):
        RunRequest.model_validate(body)


def test_pool_requests_are_checked_strictly() -> None:
    with pytest.raises(pydantic.ValidationError, match="work pool name 'a/b' has '/'"):
        CreateRequest(name="a/b")
    for limit in (0, True, "2", 1.5):
        with pytest.raises(pydantic.ValidationError, match="concurrency_limit"):
            ConcurrencyRequest.model_validate({"concurrency_limit": limit})
    with pytest.raises(pydantic.ValidationError, match="Field required"):
        ConcurrencyRequest.model_validate({})
    assert ConcurrencyRequest.model_validate({"concurrency_limit": None}).concurrency_limit is None


def test_pool_replies_carry_every_field_of_the_pool_record() -> None:
    # replies extend the SDK's record, so a field WorkPool gains appears in them unchanged
    for reply in (WorkPoolSummary, WorkPoolDetail, ResumeReply):
        assert issubclass(reply, WorkPool)
        assert set(WorkPool.model_fields) <= set(reply.model_fields)
