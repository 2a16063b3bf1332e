"""`tasks-core webhook ...`: create, ls, inspect, enable, disable, rotate-secret, delete.

Records go through `tasks_core.webhooks` (the same checks as ``POST /api/webhooks``). The
URL printed is ``http://127.0.0.1:<server_port>/hooks/<slug>``: the host is where
`tasks-core server` runs, so senders on other machines use that machine's address. The
secret is printed by create and rotate-secret only. Every error is one red line on stderr
and exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydantic
import typer
from rich.table import Table
from rich.text import Text

from tasks_core.cli.ids import short_ids
from tasks_core.cli.jsonout import print_json, print_json_lines
from tasks_core.cli.output import EMPTY, console, expected_errors, fail, field_grid, format_time
from tasks_core.cli.tables import Cell, Column, fit_table
from tasks_core.webhooks.model import AUTH_SCHEMES, Webhook

__all__ = ["AUTH_HINTS", "app", "webhooks_table"]

app = typer.Typer(help="Create, list, inspect, enable, disable, rotate the secret of and "
                       "delete webhooks (URLs that turn requests into events).",
                  no_args_is_help=True)

_NAME_HELP = "the webhook: its name, its id, or any unique start of the id"
_JSON_HELP = "print JSON (every field, and the url)"

AUTH_HINTS = {
    "bearer": "send it as: Authorization: Bearer <secret>",
    "hmac": "sign as Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature "
            "(v1,<base64 HMAC-SHA256 of id.timestamp.body>, key: the base64 after whsec_)",
    "github": "paste it as the webhook secret in GitHub (X-Hub-Signature-256)",
    "none": "no authentication: anyone who knows the URL can send events",
}
"""How a sender uses the secret, per auth scheme (printed by create and rotate-secret)."""


def _url(webhook: Webhook) -> str:
    from tasks_core.settings import get_settings
    from tasks_core.webhooks import webhook_url

    return webhook_url(webhook.slug, get_settings())


def _json(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    out = {**webhook.model_dump(mode="json"), "url": _url(webhook)}
    return out if secret is None else {**out, "secret": secret}


def _enabled_text(enabled: bool) -> Text:
    return Text("yes", style="green") if enabled else Text("disabled", style="yellow")


WEBHOOK_COLUMNS = (
    Column("ID", style="cyan"), Column("Name", style="bold", shrink=True), Column("Enabled"),
    Column("Auth"), Column("Methods", drop=2), Column("CloudEvents", drop=3),
    Column("Path", drop=1, flexible=True))
"""Columns of `webhooks_table`: id, name, enabled and auth at any width, the others as room
allows (Path: ``/hooks/<slug>``; `inspect` shows the whole URL)."""


def webhooks_table(webhooks: Sequence[Webhook], width: int | None = None) -> Table:
    """Webhooks as a table that fits `width` cells (default: the console's)."""
    short = short_ids(w.id for w in webhooks)
    rows: list[list[Cell]] = []
    for w in webhooks:  # user-supplied values go in as Text: never rich markup
        rows.append([Text(short[w.id]), Text(w.name), _enabled_text(w.enabled), Text(w.auth),
                     Text(",".join(w.methods)), Text("yes" if w.cloudevents else EMPTY),
                     Text(f"/hooks/{w.slug}")])
    return fit_table(WEBHOOK_COLUMNS, rows, width or console.width, title="Webhooks")


def _print_secret(webhook: Webhook, secret: str) -> None:
    console.print(Text.assemble(("URL:    ", "bold"), _url(webhook)), soft_wrap=True)
    console.print("        (the host is where `tasks-core server` runs: senders elsewhere use "
                  "that machine's address)", highlight=False, soft_wrap=True)
    console.print(Text.assemble(("Secret: ", "bold"), secret), soft_wrap=True)
    console.print(f"        shown once: keep it ({AUTH_HINTS[webhook.auth]})", highlight=False,
                  soft_wrap=True)


def _problems(exc: pydantic.ValidationError) -> str:
    """pydantic's errors as one line: ``field: message; ...`` (a whole-webhook check's
    message names its field itself)."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _template(file: Path | None, text: str | None, cloudevents: bool) -> str | None:
    if file is not None and text is not None:
        fail("give --template FILE or --template-json TEXT, not both")
    if file is not None:
        try:
            return file.read_text()
        except OSError as exc:
            fail(f"cannot read template file {file}: {exc.strerror}")
    if text is None and not cloudevents:
        fail("a template is needed: --template FILE or --template-json TEXT (only a "
             "--cloudevents webhook may go without one)")
    return text


@app.command("create")
def create(
    name: str = typer.Argument(..., help="a unique name"),
    template: Path | None = typer.Option(None, "--template", help="a file holding the Jinja2 "
                                         "template that renders the event's JSON"),
    template_json: str | None = typer.Option(None, "--template-json", help="the template "
                                             "itself, e.g. '{\"event\": \"acme.ping\", "
                                             "\"resource\": {\"tasks-core.resource.id\": "
                                             "\"acme.x\"}}'"),
    methods: str = typer.Option("POST,GET", "--methods", help="HTTP methods taken, comma "
                                "separated (others get 405)"),
    auth: str = typer.Option("bearer", "--auth", help=f"{' | '.join(AUTH_SCHEMES)}: how "
                             "requests prove they know the secret (none: on purpose only)"),
    cloudevents: bool = typer.Option(False, "--cloudevents", help="take a request carrying "
                                     "a CloudEvent (structured or binary) as-is"),
    slug: str | None = typer.Option(None, "--slug", help="the URL's last part (default: "
                                    "random, 22 characters)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON: every field, url and "
                                 "secret"),
) -> None:
    """Create a webhook; print its URL and its secret (shown once)."""
    from tasks_core.webhooks import WebhookSpec, create_webhook

    source = _template(template, template_json, cloudevents)
    fields: dict[str, Any] = {"name": name, "template": source, "methods": methods,
                              "auth": auth, "cloudevents": cloudevents}
    if slug is not None:
        fields["slug"] = slug
    try:
        spec = WebhookSpec.model_validate(fields)
    except pydantic.ValidationError as exc:
        fail(f"invalid webhook: {_problems(exc)}")
    with expected_errors():
        webhook, secret = create_webhook(spec)
    if as_json:
        print_json(_json(webhook, secret))
        return
    console.print(Text.assemble("Created webhook ", (webhook.name, "bold cyan"),
                                f" ({webhook.id}), auth {webhook.auth}."), soft_wrap=True)
    _print_secret(webhook, secret)


@app.command("ls")
def ls(as_json: bool = typer.Option(False, "--json", help="print JSON Lines: one webhook "
                                    "per line, every field and the url (no secrets)")) -> None:
    """List every webhook by name: short id, name, enabled, auth, then what fits."""
    from tasks_core.webhooks import list_webhooks

    with expected_errors():
        webhooks = list_webhooks()
    if as_json:
        print_json_lines(_json(w) for w in webhooks)
        return
    if not webhooks:
        console.print("No webhooks. Create one with `tasks-core webhook create NAME "
                      "--template FILE`.", highlight=False)
        return
    console.print(webhooks_table(webhooks))


@app.command("inspect")
def inspect_webhook(name: str = typer.Argument(..., help=_NAME_HELP),
                    as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Show one webhook: every field (never the secret) and its template."""
    from tasks_core.webhooks import read_webhook

    with expected_errors():
        webhook = read_webhook(name).public()
    if as_json:
        print_json(_json(webhook))
        return
    console.print(Text.assemble(("Webhook ", "bold"), (webhook.name, "bold cyan")))
    console.print(field_grid([
        ("ID", Text(webhook.id)), ("URL", Text(_url(webhook))),
        ("Enabled", _enabled_text(webhook.enabled)), ("Auth", Text(webhook.auth)),
        ("Methods", Text(", ".join(webhook.methods))),
        ("CloudEvents", Text("taken as-is" if webhook.cloudevents else "no")),
        ("Created", format_time(webhook.created)), ("Updated", format_time(webhook.updated)),
    ]))
    console.print(Text("Template", style="bold"))
    console.print(Text(webhook.template or EMPTY))


def _set_enabled(name: str, enabled: bool, as_json: bool) -> None:
    from tasks_core.webhooks import set_enabled

    with expected_errors():
        webhook, changed = set_enabled(name, enabled)
    if as_json:
        print_json({**_json(webhook), "changed": changed})
        return
    state = "enabled" if enabled else "disabled"
    console.print(f"Webhook {webhook.name} {'is now' if changed else 'is already'} {state}.",
                  highlight=False, soft_wrap=True)


@app.command("enable")
def enable(name: str = typer.Argument(..., help=_NAME_HELP),
           as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Enable a webhook: its URL takes requests again."""
    _set_enabled(name, True, as_json)


@app.command("disable")
def disable(name: str = typer.Argument(..., help=_NAME_HELP),
            as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Disable a webhook: its URL answers 404 until enabled."""
    _set_enabled(name, False, as_json)


@app.command("rotate-secret")
def rotate(name: str = typer.Argument(..., help=_NAME_HELP),
           as_json: bool = typer.Option(False, "--json", help="print JSON: every field, url "
                                        "and the new secret")) -> None:
    """Give a webhook a new secret (the old one stops working at once); print it once."""
    from tasks_core.webhooks import rotate_secret

    with expected_errors():
        webhook, secret = rotate_secret(name)
    if as_json:
        print_json(_json(webhook, secret))
        return
    console.print(Text.assemble("New secret for webhook ", (webhook.name, "bold cyan"),
                                " (the old one no longer works)."), soft_wrap=True)
    _print_secret(webhook, secret)


@app.command("delete")
def delete(name: str = typer.Argument(..., help=_NAME_HELP),
           yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
           as_json: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Delete a webhook: its URL answers 404 from now on."""
    from tasks_core.webhooks import delete_webhook, read_webhook

    with expected_errors():
        webhook = read_webhook(name)
        if not yes and not sys.stdin.isatty():
            fail(f"refusing to delete webhook {webhook.name!r} without a prompt: pass --yes")
        if not yes and not typer.confirm(f"Delete webhook {webhook.name!r}?", default=False):
            fail("delete cancelled (nothing was removed)")
        deleted = delete_webhook(webhook.id)
    if as_json:
        print_json({**_json(deleted), "deleted": True})
        return
    console.print(f"Deleted webhook {deleted.name} ({deleted.id}).", highlight=False,
                  soft_wrap=True)
