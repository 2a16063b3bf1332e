"""The Flower link's probe: a connect per URL at most every 10 s (injected time)."""

from __future__ import annotations

import socket

from tasks_core.dashboard.flower import CACHE_SECONDS, FlowerProbe, can_connect


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_link_follows_the_connect_and_is_cached() -> None:
    up = {"value": False}
    calls: list[tuple[str, int]] = []

    def connect(host: str, port: int) -> bool:
        calls.append((host, port))
        return up["value"]

    clock = Clock()
    probe = FlowerProbe(connect, clock)
    assert probe.link("http://127.0.0.1:5555") is None
    up["value"] = True
    clock.now += CACHE_SECONDS - 0.1
    assert probe.link("http://127.0.0.1:5555") is None  # cached
    clock.now += 0.2
    assert probe.link("http://127.0.0.1:5555") == "http://127.0.0.1:5555"
    assert calls == [("127.0.0.1", 5555)] * 2
    assert probe.link("https://flower.example") == "https://flower.example"
    assert calls[-1] == ("flower.example", 443)


def test_no_url_or_a_bad_one_is_no_link() -> None:
    probe = FlowerProbe(lambda host, port: True, Clock())
    assert probe.link("") is None
    assert probe.link("not a url") is None
    assert probe.link("http://h:99999") is None


def test_can_connect_to_a_listening_port_only() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert can_connect("127.0.0.1", port)
    assert not can_connect("127.0.0.1", port)
