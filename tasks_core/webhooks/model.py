"""The webhook model: what `/hooks/<slug>` accepts and how it turns a request into an event.

    Webhook(name="github-push", template='{"event": "acme.push", "resource": '
            '{"tasks-core.resource.id": "acme.repo.{{ body.repository.name }}"}}',
            methods=["POST"], auth="github")

Its secret is kept in Redis with it (`StoredWebhook`) and shown only by create and
rotate-secret. Its template is checked when it is saved: it must parse in the sandbox, and
a static one (no ``{{``/``{%``) must already be the JSON of a valid event.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tasks_core.errors import NotFoundError, ValidationError

__all__ = ["AUTH_SCHEMES", "EVENT_FIELDS", "METHODS", "TEMPLATE_MAX_CHARS", "AuthScheme",
           "Method", "StoredWebhook", "Webhook", "WebhookError", "WebhookNotFound",
           "WebhookSpec", "WebhookUpdate", "check_template", "event_fields", "new_slug"]

AuthScheme = Literal["bearer", "hmac", "github", "none"]
AUTH_SCHEMES: tuple[AuthScheme, ...] = ("bearer", "hmac", "github", "none")
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
METHODS: tuple[Method, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_METHODS: tuple[Method, ...] = ("POST", "GET")
TEMPLATE_MAX_CHARS = 64 * 1024
"""Longest template accepted (characters)."""

_SLUG = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_NAME = re.compile(r"^[^\s/][^/\x00-\x1f]{0,199}$")


class WebhookError(ValidationError):
    """A webhook that cannot be saved: a bad field, a taken name or slug."""


class WebhookNotFound(NotFoundError):
    """No webhook of that name or id."""


def new_slug() -> str:
    """A random URL-safe slug (16 random bytes, base64url: 22 characters)."""
    return secrets.token_urlsafe(16)


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookSpec(BaseModel):
    """What a webhook is made of (the body of ``POST /api/webhooks``).

    Attributes:
        name: unique; 1-200 characters, no ``/`` or control characters, not starting with
            a space.
        template: Jinja2 text rendered in the sandbox to the JSON of an event (at most
            `TEMPLATE_MAX_CHARS`); may be omitted only with ``cloudevents``.
        methods: HTTP methods accepted (default POST and GET); others get 405.
        auth: ``bearer``, ``hmac`` (Standard Webhooks), ``github`` or ``none``.
        cloudevents: a request carrying a CloudEvent is taken as-is.
        slug: the last part of its URL, ``/hooks/<slug>`` (8-128 of ``A-Za-z0-9_-``;
            default random).
        enabled: a disabled webhook answers 404.
    """

    name: str = Field(min_length=1, max_length=200)
    template: str | None = Field(default=None, max_length=TEMPLATE_MAX_CHARS)
    methods: list[Method] = Field(default_factory=lambda: list(DEFAULT_METHODS), min_length=1)
    auth: AuthScheme = "bearer"
    cloudevents: bool = False
    slug: str = Field(default_factory=new_slug)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"webhook name {value!r} must not start with a space or hold "
                             "'/' or control characters")
        return value

    @field_validator("methods", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return list(dict.fromkeys(str(m).strip().upper() for m in value))
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"slug {value!r} must be 8-128 characters of A-Z a-z 0-9 _ -")
        return value

    @model_validator(mode="after")
    def _template_checked(self) -> WebhookSpec:
        if self.template is None:
            if not self.cloudevents:
                raise ValueError("a template is needed (only a --cloudevents webhook may go "
                                 "without one)")
            return self
        check_template(self.template)
        return self


class Webhook(WebhookSpec):
    """A stored webhook as shown (never its secret)."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)


class StoredWebhook(Webhook):
    """A webhook as Redis holds it: with its secret (``whsec_<base64 of 32 bytes>``)."""

    secret: str = Field(min_length=1)

    def public(self) -> Webhook:
        """The webhook without its secret."""
        return Webhook.model_validate(self.model_dump(exclude={"secret"}))


class WebhookUpdate(BaseModel):
    """Changes to a webhook (``PATCH /api/webhooks/{name}``): the fields given are set."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    template: str | None = Field(default=None, max_length=TEMPLATE_MAX_CHARS)
    methods: list[Method] | None = Field(default=None, min_length=1)
    auth: AuthScheme | None = None
    cloudevents: bool | None = None
    slug: str | None = None
    enabled: bool | None = None

    @field_validator("methods", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return WebhookSpec._upper(value)


def check_template(source: str) -> None:
    """Check a webhook template: it parses in the sandbox; a static one (no ``{{`` or
    ``{%``) is already the JSON of a valid event.

    Raises:
        WebhookError: naming the syntax error and its line, or what the static JSON lacks.
    """
    from tasks_core.events.actions.templates import check_source
    from tasks_core.events.emit import build_event
    from tasks_core.events.schema import EventLimits

    try:
        check_source(source)
    except ValidationError as exc:
        raise WebhookError(f"template: {exc}") from None
    if "{{" in source or "{%" in source:
        return
    try:
        fields = json.loads(source)
    except (ValueError, RecursionError) as exc:
        raise WebhookError(f"template: a static template must be JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise WebhookError("template: must render a JSON object (an event)")
    try:
        build_event(**event_fields(fields), limits=EventLimits())
    except ValidationError as exc:
        raise WebhookError(f"template: {exc}") from None


EVENT_FIELDS = ("event", "resource", "related", "payload", "occurred", "id", "follows")
"""Fields a rendered template may hold."""


def event_fields(rendered: dict[str, Any]) -> dict[str, Any]:
    """The fields of a rendered template as `build_event` takes them.

    Raises:
        ValidationError: an unknown field, or ``event``/``resource`` missing.
    """
    unknown = sorted(set(rendered) - set(EVENT_FIELDS))
    if unknown:
        raise ValidationError(f"unknown event field(s) {unknown} (allowed: "
                              f"{', '.join(EVENT_FIELDS)})")
    missing = [name for name in ("event", "resource") if name not in rendered]
    if missing:
        raise ValidationError(f"the event needs {' and '.join(missing)}")
    for name, kind in (("resource", dict), ("payload", dict), ("related", list)):
        if name in rendered and not isinstance(rendered[name], kind):
            raise ValidationError(f"{name} must be a JSON {'object' if kind is dict else 'list'}"
                                  f", got {type(rendered[name]).__name__}")
    related = rendered.get("related") or []
    assert isinstance(related, list)
    if not all(isinstance(item, dict) for item in related):
        raise ValidationError("related must be a list of objects (labels)")
    return dict(rendered)
