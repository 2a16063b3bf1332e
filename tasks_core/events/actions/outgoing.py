"""The actions that send something out of tasks-core: `SendNotification` (Apprise) and
`CallWebhook` (HTTP). Pure data, no network: `notify` and `webhook` carry them out. Their
JSON shapes are documented in `models`, with the others'."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from tasks_core.events.actions.base import ActionBase

__all__ = ["HTTP_METHODS", "CallWebhook", "SendNotification"]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _no_blocks(data: Any) -> Any:
    """Prefect's block-based notification and webhook actions, refused with the fix."""
    if isinstance(data, dict) and "block_document_id" in data:
        raise ValueError("block_document_id: blocks are Prefect's; tasks-core has none: "
                         "give the target itself (SendNotification(to='<Apprise URL>'), "
                         "CallWebhook(url='https://...'))")
    return data


class SendNotification(ActionBase):
    """Send a notification with Apprise.

    Args:
        to: an Apprise URL or a list of them (``json://host:port/``, ``mailto://...``,
            ``slack://...``); empty, or ``log://``: the engine's log.
        subject: a template, the notification's title.
        body: a template, its text.
    """

    type: Literal["send-notification"] = "send-notification"
    templated: ClassVar[tuple[str, ...]] = ("subject", "body")
    to: list[str] = Field(default_factory=list)
    subject: str = "tasks-core automated notification"
    body: str

    @model_validator(mode="before")
    @classmethod
    def _blocks(cls, data: Any) -> Any:
        return _no_blocks(data)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if "://" not in url or url.startswith("://"):
                raise ValueError(f"{url!r} is not an Apprise URL (e.g. 'json://host:port/', "
                                 f"'mailto://user:pass@example.com', 'log://')")
        return value

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return "to " + ", ".join(u.split("://", 1)[0] + "://..." for u in self.to) \
            if self.to else "to the log"


class CallWebhook(ActionBase):
    """Call an HTTP(S) URL.

    Args:
        url: ``http://`` or ``https://``.
        method: GET, POST, PUT, PATCH or DELETE.
        headers: header values are templates.
        payload: a template string (sent as it renders) or JSON data whose strings are
            templates (sent as JSON); None: no body.
        timeout: seconds, > 0.
    """

    type: Literal["call-webhook"] = "call-webhook"
    templated: ClassVar[tuple[str, ...]] = ("headers", "payload")
    url: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    payload: str | dict[str, Any] | list[Any] | None = None
    timeout: float = Field(default=10.0, gt=0, le=300)

    @model_validator(mode="before")
    @classmethod
    def _blocks(cls, data: Any) -> Any:
        return _no_blocks(data)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> Any:
        if not isinstance(value, str) or value.upper() not in HTTP_METHODS:
            raise ValueError(f"must be one of {', '.join(HTTP_METHODS)}, got {value!r}")
        return value.upper()

    def target_text(self) -> str:
        """See `ActionBase.target_text`."""
        return f"{self.method} {self.url}"
