"""Artifacts on a run page: each one made ready for `templates/run_artifacts.html`.

Safety: markdown (an artifact's text and every description) is rendered by markdown-it-py
with raw HTML off (its ``js-default`` preset: CommonMark plus tables, ``html=False``), so
HTML in it shows as text, and markdown-it's link check drops ``javascript:``, ``vbscript:``,
``file:`` and ``data:`` URLs. A link artifact is a link only for http and https URLs (else
its text is shown, not clickable); table cells are text, autoescaped by the template.
Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

from tasks_core.artifact_records import Artifact, table_rows

__all__ = ["ArtifactView", "artifact_views", "render_markdown", "safe_link"]

_MARKDOWN = MarkdownIt("js-default")
"""CommonMark with tables; raw HTML is not rendered (``html`` is off in this preset)."""


def render_markdown(text: str) -> Markup:
    """`text` as HTML, raw HTML in it escaped (see the module docstring)."""
    return Markup(_MARKDOWN.render(text))  # safe: markdown-it escapes text, html is off


def safe_link(url: str) -> str | None:
    """`url` when it is an http or https URL with a host, else None (shown as text)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class ArtifactView:
    """One artifact as the template shows it.

    Attributes:
        artifact: the record.
        description: its description rendered (None: none).
        markdown: a markdown artifact's HTML.
        headers, rows: a table artifact's headers (None: none) and cells as text.
        href, text: a link artifact's URL (None: not http/https, shown as text) and text.
        percent: a progress artifact's value, 0..100.
    """

    artifact: Artifact
    description: Markup | None = None
    markdown: Markup | None = None
    headers: list[str] | None = None
    rows: list[list[str]] = field(default_factory=list)
    href: str | None = None
    text: str = ""
    percent: float = 0.0


def _view(artifact: Artifact) -> ArtifactView:
    description = render_markdown(artifact.description) if artifact.description else None
    if artifact.type == "markdown":
        return ArtifactView(artifact, description, markdown=render_markdown(str(artifact.data)))
    if artifact.type == "table":
        headers, rows = table_rows(artifact.data)
        return ArtifactView(artifact, description, headers=headers,
                            rows=[[_cell(v) for v in row] for row in rows])
    if artifact.type == "link":
        data = artifact.data if isinstance(artifact.data, dict) else {}
        url = str(data.get("link") or "")
        return ArtifactView(artifact, description, href=safe_link(url),
                            text=str(data.get("link_text") or url))
    percent = float(artifact.data) if isinstance(artifact.data, int | float) else 0.0
    return ArtifactView(artifact, description, percent=max(0.0, min(100.0, percent)))


def artifact_views(artifacts: list[Artifact]) -> list[ArtifactView]:
    """The run's artifacts, in the order given, ready for the template."""
    return [_view(a) for a in artifacts]
