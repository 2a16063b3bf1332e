"""Prefect's spellings, accepted on input and stored in tasks-core's.

Code written for Prefect ports by its import line: label keys ``prefect.resource.id``,
``prefect.resource.role``, ``prefect.resource.name`` (any ``prefect.<label>``), event names
such as ``prefect.flow-run.Completed`` and resource ids such as ``prefect.flow.<name>``
are rewritten to ``tasks-core.`` ones. Only the leading ``prefect.`` is rewritten; a user
namespace (``acme.prefect.x``) is left alone. Globs keep working (``prefect.flow-run.*``
becomes ``tasks-core.flow-run.*``), so triggers and filters reuse these functions.

    normalize_name("prefect.flow-run.Completed")   -> "tasks-core.flow-run.Completed"
    normalize_label_key("prefect.resource.id")     -> "tasks-core.resource.id"
    normalize_resource({"prefect.resource.id": "prefect.flow.etl"})
        -> {"tasks-core.resource.id": "tasks-core.flow.etl"}
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["NATIVE", "PREFECT", "normalize_id", "normalize_label_key", "normalize_name",
           "normalize_related", "normalize_resource"]

PREFECT = "prefect."
"""Prefect's namespace prefix (event names, label keys, resource ids)."""
NATIVE = "tasks-core."
"""tasks-core's namespace prefix, which replaces it."""

_ID_KEYS = frozenset({f"{NATIVE}resource.id"})
"""Label keys whose values are resource ids (their ``prefect.`` prefix is rewritten too)."""


def _native(text: str) -> str:
    return NATIVE + text[len(PREFECT):] if text.startswith(PREFECT) else text


def normalize_name(name: str) -> str:
    """An event name (or an event-name glob) in tasks-core's spelling."""
    return _native(name)


def normalize_label_key(key: str) -> str:
    """A label key in tasks-core's spelling (``prefect.resource.id`` -> ``tasks-core...``)."""
    return _native(key)


def normalize_id(resource_id: str) -> str:
    """A resource id (or id glob) in tasks-core's spelling (``prefect.flow.x`` ->
    ``tasks-core.flow.x``)."""
    return _native(resource_id)


def normalize_resource(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels of one resource with keys, and the resource id's value, in tasks-core's
    spelling; other values are kept as given. A native key given along with its Prefect
    spelling wins."""
    out: dict[str, str] = {}
    for key, value in labels.items():
        native = normalize_label_key(key)
        if native in out and key != native:
            continue  # the native spelling, given too, wins
        out[native] = normalize_id(value) if native in _ID_KEYS and isinstance(value, str) \
            else value
    return out


def normalize_related(related: list[Mapping[str, str]]) -> list[dict[str, str]]:
    """Related resources, each through `normalize_resource`."""
    return [normalize_resource(labels) for labels in related]
