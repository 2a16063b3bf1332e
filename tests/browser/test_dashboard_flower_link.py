"""The navigation links to Flower while something listens at ``flower_url``."""

from __future__ import annotations

import socket
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("tc_env")


def test_the_flower_link_shows_while_flower_listens(start_server: Any,
                                                   browser_page: Any) -> None:
    with socket.socket() as listener:  # stands in for Flower: the check is a TCP connect
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        up = start_server(flower_url=url)
        page = browser_page
        page.goto(f"{up.url}/events")
        link = page.locator("header nav #flower-link")
        assert link.inner_text() == "Flower" and link.get_attribute("href") == url
    down = start_server(flower_url=url)  # nothing listens there now
    page.goto(f"{down.url}/events")
    assert page.locator("header nav #flower-link").count() == 0
    assert "Events" in page.inner_text("header nav")
