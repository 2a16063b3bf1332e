"""The guarded Redis channel keeps one synchronous client per connection pool."""

from __future__ import annotations

from typing import Any

from tasks_core.celery_app import get_app
from tasks_core.store.transport import Channel


def test_the_channel_reuses_one_client_until_its_pool_is_dropped(tc_env: dict[str, Any]) -> None:
    with get_app().connection_for_write() as conn:
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        with channel.conn_or_acquire() as client:
            client.lpush("transport-probe", "x")  # prefixed by kombu, like every queue key
        assert tc_env["client"].lrange(f"{tc_env['prefix']}:q:transport-probe", 0, -1) == ["x"]

        channel._disconnect_pools()  # what kombu does when the connection drops
        with channel.conn_or_acquire() as renewed:
            assert renewed is not first
            assert renewed.connection_pool is channel.pool
            assert renewed.rpop("transport-probe") in (b"x", "x")
