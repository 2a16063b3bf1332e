"""A webhook request -> the event it makes (pure: no Redis, no clock but what is passed).

Template context (`template_context`)::

    body      the parsed body: JSON (application/json, */*+json, or any body that parses
              when no Content-Type is given), form fields (application/x-www-form-urlencoded;
              a repeated field is a list), else the text (UTF-8, bad bytes replaced)
    raw_body  the body as text
    headers   the headers, names in lower case (Authorization left out: it is the secret)
    query     the query string's fields (a repeated field is a list)
    method    GET, POST, ...
    url       the URL requested

The template renders (sandbox, `tasks_core.events.actions.templates.render_source`) to the
JSON of an event: ``event``, ``resource`` (with ``tasks-core.resource.id`` or Prefect's
``prefect.resource.id``), optionally ``related``, ``payload``, ``occurred``, ``id``,
``follows``. ``related`` gains the webhook: ``{"tasks-core.resource.id":
"tasks-core.webhook.<id>", "tasks-core.resource.role": "webhook",
"tasks-core.resource.name": "<name>"}``.

CloudEvents (`cloudevent_fields`), for a webhook made with ``cloudevents``: a structured
request (``Content-Type: application/cloudevents+json``, the body an event) or a binary one
(``ce-specversion``, ``ce-id``, ``ce-source``, ``ce-type`` headers; the body is the data)
maps to::

    id        uuid5(URL namespace, "<source> <id>"): a redelivered CloudEvent is stored once
    event     type
    occurred  time (now when absent)
    resource  {"tasks-core.resource.id": source, "cloudevents.subject": subject (if any)}
    payload   {"data": data (parsed as the body is; data_base64 kept as it is),
               "cloudevent": {every other attribute: specversion, id, source, type, time,
                              subject, datacontenttype, dataschema, extensions}}
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from tasks_core.errors import EventError, ValidationError
from tasks_core.events.emit import build_event
from tasks_core.events.schema import RESOURCE_ID, RESOURCE_NAME, RESOURCE_ROLE, Event, EventLimits
from tasks_core.webhooks.model import StoredWebhook, Webhook, event_fields

RESERVED_PREFIX = "tasks-core."
"""Event names in tasks-core's own namespace (Prefect's ``prefect.`` is stored as this)."""

__all__ = ["CE_JSON", "HookRequest", "cloudevent_fields", "is_cloudevent", "make_event",
           "parse_body", "template_context", "webhook_resource"]

CE_JSON = "application/cloudevents+json"
_CE_REQUIRED = ("id", "source", "type")
_HIDDEN_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


@dataclass(frozen=True)
class HookRequest:
    """One request to ``/hooks/<slug>``: headers with lower-case names, the raw body."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters ("" when none was sent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


def _reason(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def parse_body(content_type: str, body: bytes) -> Any:
    """The body as the template's ``body`` (see the module docstring).

    Raises:
        EventError: a JSON content type whose body is not JSON (the parser's message).
    """
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/json" or content_type.endswith("+json"):
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise EventError(f"the body is not valid JSON ({content_type}): "
                             f"{_reason(exc)}") from None
    if content_type == "application/x-www-form-urlencoded":
        return _fields(parse_qsl(text, keep_blank_values=True))
    if not content_type and body.strip():
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return text
    return text


def template_context(request: HookRequest) -> dict[str, Any]:
    """The names a webhook template can use (see the module docstring).

    Raises:
        EventError: as `parse_body`.
    """
    return {
        "body": parse_body(request.content_type, request.body),
        "raw_body": request.body.decode("utf-8", errors="replace"),
        "headers": {k: v for k, v in request.headers.items() if k not in _HIDDEN_HEADERS},
        "query": _fields(request.query),
        "method": request.method,
        "url": request.url,
    }


def webhook_resource(webhook: Webhook) -> dict[str, str]:
    """The related resource naming the webhook an event came through."""
    return {RESOURCE_ID: f"tasks-core.webhook.{webhook.id}", RESOURCE_ROLE: "webhook",
            RESOURCE_NAME: webhook.name}


def is_cloudevent(request: HookRequest) -> bool:
    """Whether the request carries a CloudEvent (structured or binary mode)."""
    return request.content_type == CE_JSON or "ce-specversion" in request.headers


def _from_template(template: str, request: HookRequest) -> dict[str, Any]:
    from tasks_core.events.actions.templates import render_source

    text = render_source(template, template_context(request))
    try:
        rendered = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise EventError(f"the template rendered invalid JSON: {_reason(exc)}") from None
    if not isinstance(rendered, dict):
        raise EventError(f"the template rendered JSON {type(rendered).__name__}, not an "
                         "object (an event)")
    return event_fields(rendered)


def _attributes(request: HookRequest) -> dict[str, Any]:
    if request.content_type == CE_JSON:
        try:
            attributes = json.loads(request.body)
        except (ValueError, RecursionError) as exc:
            raise EventError(f"the CloudEvent is not valid JSON: {_reason(exc)}") from None
        if not isinstance(attributes, dict):
            raise EventError("a structured CloudEvent must be a JSON object")
        return attributes
    attributes = {name[3:]: value for name, value in request.headers.items()
                  if name.startswith("ce-")}
    if request.body:
        ctype = request.headers.get("content-type", "")
        attributes["datacontenttype"] = ctype or None
        attributes["data"] = parse_body(request.content_type, request.body)
    return attributes


def cloudevent_fields(request: HookRequest) -> dict[str, Any]:
    """The event fields of a CloudEvent request (mapping in the module docstring).

    Raises:
        EventError: not JSON, a required attribute (specversion, id, source, type) missing
            or not a string, a specversion other than 1.x.
    """
    attributes = _attributes(request)
    missing = [name for name in ("specversion", *_CE_REQUIRED)
               if not isinstance(attributes.get(name), str) or not attributes[name]]
    if missing:
        raise EventError(f"not a CloudEvent: attribute(s) {', '.join(missing)} missing or "
                         "not strings")
    if not str(attributes["specversion"]).startswith("1."):
        raise EventError(f"CloudEvents specversion {attributes['specversion']!r} is not "
                         "supported (1.0 is)")
    data = attributes.pop("data", None)
    resource = {RESOURCE_ID: attributes["source"]}
    if isinstance(attributes.get("subject"), str):
        resource["cloudevents.subject"] = attributes["subject"]
    fields: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{attributes['source']} {attributes['id']}")),
        "event": attributes["type"], "resource": resource,
        "payload": {"data": data, "cloudevent": attributes},
    }
    if attributes.get("time") is not None:
        fields["occurred"] = attributes["time"]
    return fields


def make_event(webhook: StoredWebhook | Webhook, request: HookRequest,
               limits: EventLimits) -> Event:
    """The event a request makes through `webhook`: a CloudEvent taken as-is when the
    webhook takes them and the request is one, else its template rendered.

    Raises:
        ValidationError: the reason it makes no valid event (a 400): bad JSON, a template
            error, a field missing or malformed, a limit exceeded.
    """
    if webhook.cloudevents and is_cloudevent(request):
        fields = cloudevent_fields(request)
    elif webhook.template is not None:
        fields = _from_template(webhook.template, request)
    else:
        raise EventError("not a CloudEvent: send Content-Type: application/cloudevents+json "
                         "or ce-specversion, ce-id, ce-source and ce-type headers")
    fields["related"] = [*fields.get("related", []), webhook_resource(webhook)]
    try:
        event = build_event(**fields, limits=limits)
    except ValidationError:
        raise
    except (TypeError, ValueError) as exc:  # a value of a type the event cannot hold
        raise EventError(f"invalid event: {exc}") from None
    _check_not_forged(event)
    return event


def _check_not_forged(event: Event) -> None:
    """A request may not speak for tasks-core or for another webhook: an event name in
    tasks-core's own namespace (``tasks-core.`` / ``prefect.``: run states, deployments,
    automations ...) or a related resource naming a webhook (only the webhook the request
    came through is named, by tasks-core) is refused.

    Raises:
        EventError: which of the two, naming the value.
    """
    if event.event.startswith(RESERVED_PREFIX):
        raise EventError(f"event name {event.event!r} is in tasks-core's own namespace "
                         f"({RESERVED_PREFIX}*); a webhook cannot emit it")
    for related in event.related[:-1]:  # the last one is the webhook's own, added above
        rid = related.get(RESOURCE_ID, "")
        if rid.startswith("tasks-core.webhook.") or related.get(RESOURCE_ROLE) == "webhook":
            raise EventError(f"related resource {rid!r} names a webhook (role webhook); "
                             "only tasks-core names the webhook an event came through")
