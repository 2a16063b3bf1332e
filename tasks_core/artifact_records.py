"""Artifacts as records: what one is, and the checks its parts pass before it is stored.

An artifact is an output of a run meant for people (Prefect 3's artifacts): a markdown
report, a table, a link, or a progress figure. Pure: no I/O. The SDK functions are in
`tasks_core.artifacts`, the store in `tasks_core.store.artifacts`.

Data by type (``Artifact.data``):

| type | data |
| --- | --- |
| ``markdown`` | the markdown text (str) |
| ``table`` | as given: a dict of columns (``{"a": [1, 2]}``), a list of row dicts, or |
|           | a list of row lists; NaN floats become null, as Prefect does |
| ``link`` | ``{"link": url, "link_text": str or null}`` |
| ``progress`` | a float from 0 to 100 (percent) |
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from tasks_core.errors import ValidationError

__all__ = ["ARTIFACT_TYPES", "Artifact", "ArtifactType", "check_key", "check_progress",
           "check_table", "data_json", "is_artifact_id", "table_rows"]

ArtifactType = Literal["markdown", "table", "link", "progress"]
ARTIFACT_TYPES: tuple[str, ...] = ("markdown", "table", "link", "progress")

_KEY = re.compile(r"[a-z0-9-]+")
KEY_MAX = 200
"""Longest artifact key, in characters."""
DESCRIPTION_MAX = 10_000
"""Longest description, in characters."""


class Artifact(BaseModel):
    """One artifact (one version of a keyed artifact).

    Attributes:
        id: its id (a UUID's text, as Prefect's artifact ids).
        key: lower-case letters, digits and dashes; versions share it; None: not keyed (it is
            seen on its run only, as in Prefect).
        type: ``markdown``, ``table``, ``link`` or ``progress``.
        description: markdown text about it, or None.
        data: the content (shapes in the module docstring).
        flow_run_id: the flow run it belongs to (None: created outside a flow run).
        task_run_id: the task run that created it (None: a flow body or no run).
        created: when it was created (UTC); updated: when its data last changed.
    """

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    key: str | None = None
    type: ArtifactType
    description: str | None = None
    data: Any = None
    flow_run_id: str | None = None
    task_run_id: str | None = None
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def run_id(self) -> str | None:
        """The run it is attached to: its task run, else its flow run."""
        return self.task_run_id or self.flow_run_id


def check_key(key: str | None) -> str | None:
    """`key` when it is a valid artifact key (Prefect's rule: lower-case letters, digits and
    dashes), or None.

    Raises:
        ValidationError: any other character, or longer than `KEY_MAX`.
    """
    if key is None:
        return None
    if not isinstance(key, str) or not _KEY.fullmatch(key) or len(key) > KEY_MAX:
        raise ValidationError(
            f"artifact key {key!r} is invalid: use only lower-case letters, digits and dashes "
            f"(at most {KEY_MAX} characters), e.g. 'daily-report'")
    return key


def is_artifact_id(text: str) -> bool:
    """Whether `text` reads as an artifact id (a UUID), not a key."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def check_progress(progress: float) -> float:
    """`progress` as a float when it is a percentage from 0 to 100.

    Raises:
        ValidationError: not a number, NaN, or outside 0..100.
    """
    if isinstance(progress, bool) or not isinstance(progress, int | float) \
            or math.isnan(progress) or not 0 <= progress <= 100:
        raise ValidationError(f"artifact progress {progress!r} is invalid: give a number "
                              "from 0 to 100 (percent)")
    return float(progress)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def check_table(table: Any) -> Any:
    """`table` with NaN cells made null, when it has one of the three shapes Prefect takes.

    Raises:
        ValidationError: any other shape (the message names the three).
    """
    if isinstance(table, dict) and all(isinstance(c, list) for c in table.values()):
        return {str(k): [_clean(v) for v in col] for k, col in table.items()}
    if isinstance(table, list) and all(isinstance(r, dict) for r in table):
        return [{str(k): _clean(v) for k, v in row.items()} for row in table]
    if isinstance(table, list) and all(isinstance(r, list | tuple) for r in table):
        return [[_clean(v) for v in row] for row in table]
    raise ValidationError("artifact table is invalid: give a dict of columns "
                          "({'name': [...], ...}), a list of row dicts, or a list of row lists")


def data_json(data: Any, max_bytes: int) -> str:
    """`data` as JSON text, at most `max_bytes` bytes.

    Raises:
        ValidationError: not JSON-encodable (names the type), or larger than `max_bytes`
            (``settings.artifact_max_bytes``).
    """
    try:
        text = json.dumps(data, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"artifact data is not JSON: {exc}") from None
    size = len(text.encode())
    if size > max_bytes:
        raise ValidationError(f"artifact data is {size:,} bytes of JSON, over the limit of "
                              f"{max_bytes:,} (settings.artifact_max_bytes); store large data "
                              "elsewhere and link to it")
    return text


def table_rows(table: Any) -> tuple[list[str] | None, list[list[Any]]]:
    """A table artifact's data as (headers or None, rows), for display.

    A dict of columns gives its keys as headers (short columns padded with None); row dicts
    give every key met, in order; row lists give no headers.
    """
    if isinstance(table, dict):
        headers = [str(k) for k in table]
        columns = list(table.values())
        height = max((len(c) for c in columns), default=0)
        return headers, [[c[i] if i < len(c) else None for c in columns] for i in range(height)]
    if isinstance(table, list) and table and all(isinstance(r, dict) for r in table):
        names: dict[str, None] = {}
        for row in table:
            names.update(dict.fromkeys(str(k) for k in row))
        return list(names), [[row.get(name) for name in names] for row in table]
    if isinstance(table, list):
        return None, [list(r) if isinstance(r, list | tuple) else [r] for r in table]
    return None, []
