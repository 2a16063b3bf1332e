"""The catch-up policy, pure: which missed runs run, with injected time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beat.catchup import decide, newer_time_missed, skip_message
from beat.scheduler import plan
from tasks_core.deployment_models import Deployment

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MISSED = [(f"run-{i}", T0 + timedelta(seconds=2 * i)) for i in range(6)]


def _deployment(catchup: str, every: float = 2.0) -> Deployment:
    return Deployment(name="d", flow_name="f", entrypoint="m:f", catchup=catchup,  # type: ignore[arg-type]
                      schedules=[{"interval": every, "anchor_date": T0.isoformat()}])


def test_skip_runs_none_latest_the_newest_all_every_one() -> None:
    shuffled = MISSED[3:] + MISSED[:3]
    assert decide("skip", shuffled) == ([], [r for r, _ in MISSED])
    assert decide("latest", shuffled) == (["run-5"], [f"run-{i}" for i in range(5)])
    assert decide("all", shuffled) == ([r for r, _ in MISSED], [])


def test_latest_skips_them_all_when_a_newer_time_was_missed_too() -> None:
    assert decide("latest", MISSED, newer_missed=True) == ([], [r for r, _ in MISSED])
    deployment = _deployment("latest")
    newest = MISSED[-1][1]
    assert newer_time_missed(deployment, newest, newest + timedelta(seconds=2.5))
    assert not newer_time_missed(deployment, newest, newest + timedelta(seconds=2))


def test_nothing_missed_and_an_unknown_policy() -> None:
    assert decide("latest", []) == ([], [])
    with pytest.raises(ValueError, match="unknown catchup policy 'most'"):
        decide("most", MISSED)


def test_the_skip_message_names_the_policy_and_how_late() -> None:
    text = skip_message("skip", T0, T0 + timedelta(seconds=12))
    assert text == ("skipped by the deployment's catch-up policy 'skip': its time "
                    "2026-11-24T12:00:00+00:00 was missed by 12.0s")


@pytest.mark.parametrize(("policy", "missed"), [("skip", 0), ("latest", 1), ("all", 5)])
def test_plan_after_downtime_treats_times_within_the_grace_as_current(
        policy: str, missed: int) -> None:
    mark = T0  # runs created up to T0; beat down until T0 + 11.5 s
    now = T0 + timedelta(seconds=11.5)
    times = plan(_deployment(policy), mark, now, timedelta(seconds=4), 100,
                 grace=timedelta(seconds=1))
    assert len([t for t in times if t < now - timedelta(seconds=1)]) == missed
    # T0 + 12 and 14 are ahead; T0 + 10 is missed (1.5 s old) even with the grace
    assert [t for t in times if t >= now - timedelta(seconds=1)] == \
        [T0 + timedelta(seconds=12), T0 + timedelta(seconds=14)]
    if policy == "latest":
        assert times[0] == T0 + timedelta(seconds=10)


def test_all_after_a_long_outage_creates_at_most_the_limit_the_newest() -> None:
    now = T0 + timedelta(hours=1, seconds=1)
    times = plan(_deployment("all"), T0, now, timedelta(seconds=2), 100)
    missed = [t for t in times if t < now]
    assert len(missed) == 100 and missed[-1] == T0 + timedelta(hours=1)
    assert missed == sorted(missed) and missed[0] == T0 + timedelta(hours=1, seconds=-198)


def test_latest_after_a_week_finds_the_last_time_quickly() -> None:
    now = T0 + timedelta(days=7, seconds=1)
    times = plan(_deployment("latest", every=1.0), T0, now, timedelta(seconds=1), 100)
    assert times == [T0 + timedelta(days=7, seconds=s) for s in (0, 1, 2)]  # missed, now, ahead
