"""`tasks-core webhook create | ls | inspect | enable | disable | rotate-secret | delete` as
subprocesses through a pipe, 80 columns wide, against the test Redis; then a request to
the URL create printed, through a real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import json_lines, refused, run_cli

STATIC = json.dumps({"event": "acme.ping", "resource": {"tasks-core.resource.id": "acme.x"}})


@pytest.fixture
def env80(cli_env: dict[str, str]) -> dict[str, str]:
    return {**cli_env, "COLUMNS": "80", "TASKS_CORE_SERVER_PORT": "4321"}


def _ok(env: dict[str, str], *args: str) -> str:
    done = run_cli(env, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def test_create_prints_url_and_secret_once_then_every_command(
        env80: dict[str, str], tmp_path: Path) -> None:
    template = tmp_path / "t.j2"
    template.write_text('{"event": "acme.{{ body.kind }}", '
                        '"resource": {"tasks-core.resource.id": "acme.{{ body.id }}"}}')
    out = _ok(env80, "webhook", "create", "orders", "--template", str(template),
              "--methods", "post", "--auth", "hmac")
    assert "Created webhook orders (" in out and "auth hmac" in out
    url_line = next(line for line in out.splitlines() if line.startswith("URL:"))
    assert "http://127.0.0.1:4321/hooks/" in url_line  # server_port
    secret = next(line for line in out.splitlines() if line.startswith("Secret:")).split()[1]
    assert secret.startswith("whsec_") and "shown once" in out

    created = json.loads(_ok(env80, "webhook", "create", "pings", "--template-json", STATIC,
                             "--auth", "none", "--json"))
    assert created["url"] == f"http://127.0.0.1:4321/hooks/{created['slug']}"
    assert created["secret"].startswith("whsec_") and created["methods"] == ["POST", "GET"]

    listing = _ok(env80, "webhook", "ls")
    assert "orders" in listing and "pings" in listing and "hmac" in listing
    assert all(len(line) <= 80 for line in listing.splitlines())
    assert secret not in listing
    lines = json_lines(_ok(env80, "webhook", "ls", "--json"))
    assert [w["name"] for w in lines] == ["orders", "pings"]
    assert all("secret" not in w and w["url"].startswith("http://") for w in lines)

    shown = _ok(env80, "webhook", "inspect", "orders")
    assert "body.kind" in shown and "POST" in shown and secret not in shown
    inspected = json.loads(_ok(env80, "webhook", "inspect", created["id"][:8], "--json"))
    assert inspected["name"] == "pings" and "secret" not in inspected

    assert "is now disabled" in _ok(env80, "webhook", "disable", "pings")
    assert "is already disabled" in _ok(env80, "webhook", "disable", "pings")
    enabled = json.loads(_ok(env80, "webhook", "enable", "pings", "--json"))
    assert enabled["enabled"] is True and enabled["changed"] is True

    rotated = _ok(env80, "webhook", "rotate-secret", "orders")
    new_secret = next(line for line in rotated.splitlines()
                      if line.startswith("Secret:")).split()[1]
    assert new_secret.startswith("whsec_") and new_secret != secret
    rotated_json = json.loads(_ok(env80, "webhook", "rotate-secret", "orders", "--json"))
    assert rotated_json["secret"] not in (secret, new_secret)

    deleted = json.loads(_ok(env80, "webhook", "delete", "pings", "--yes", "--json"))
    assert deleted["deleted"] is True and deleted["name"] == "pings"
    assert [w["name"] for w in json_lines(_ok(env80, "webhook", "ls", "--json"))] == ["orders"]


def test_mistakes_are_one_red_line(env80: dict[str, str], tmp_path: Path) -> None:
    refused(run_cli(env80, "webhook", "create", "a"), "a template is needed")
    refused(run_cli(env80, "webhook", "create", "a", "--template-json", "{{ x "),
            "invalid template")
    refused(run_cli(env80, "webhook", "create", "a", "--template-json", STATIC,
                    "--auth", "basic"), "auth")
    refused(run_cli(env80, "webhook", "create", "a", "--template-json", STATIC,
                    "--methods", "POST,TRACE"), "methods")
    refused(run_cli(env80, "webhook", "create", "a", "--template",
                    str(tmp_path / "missing.j2")), "cannot read template file")
    _ok(env80, "webhook", "create", "a", "--template-json", STATIC)
    refused(run_cli(env80, "webhook", "create", "a", "--template-json", STATIC), "is taken")
    refused(run_cli(env80, "webhook", "inspect", "nope"), "webhook 'nope' not found")
    refused(run_cli(env80, "webhook", "delete", "a"), "pass --yes")
    assert "cloudevents" in _ok(env80, "webhook", "create", "ce", "--cloudevents", "--json")


def test_the_printed_url_takes_requests_through_a_server(
        env80: dict[str, str], start_server: Any) -> None:
    from tasks_core.process_runtime import get_runtime

    server = start_server()
    created = json.loads(_ok(env80, "webhook", "create", "live", "--template-json", STATIC,
                             "--json"))
    url = f"{server.url}/hooks/{created['slug']}"  # the server runs on a test port
    reply = httpx.post(url, headers={"authorization": f"Bearer {created['secret']}"})
    assert reply.status_code == 202, reply.text
    texts = [text for _, text in get_runtime().events.newest_first()]
    assert any(json.loads(t)["id"] == reply.json()["id"] for t in texts)
