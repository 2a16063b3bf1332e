"""Artifacts: outputs of a run for people to read, as Prefect 3's `prefect.artifacts`.

    from tasks_core.artifacts import create_markdown_artifact

    @flow
    def report():
        create_markdown_artifact("# Sales\\n\\nUp **4%**", key="sales-report")

Each function attaches the artifact to the run executing it (a task run, and its flow run;
a flow body: the flow run), or, called outside any run, keeps it unattached, as Prefect does.
A ``key`` (lower-case letters, digits and dashes, Prefect's rule) makes it a version of a
keyed artifact: `tasks-core artifact ls` shows the latest version of each key,
`tasks-core artifact inspect KEY` its history. Every function returns the artifact's id (a
`uuid.UUID`, which may also be awaited, so ``await create_markdown_artifact(...)`` in an
async flow ports too). Artifacts live in Redis as long as runs do
(``settings.run_ttl_seconds``); their data is at most ``settings.artifact_max_bytes`` of JSON.
The run pages of the dashboard render them (markdown without raw HTML, tables, links,
progress bars); ``/api/artifacts`` serves them.

Errors: `ValidationError` for a bad key, table shape, progress value, data that is not JSON
or is over the limit (nothing is stored); `ArtifactNotFound` from `update_progress_artifact`
for an unknown id.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

from tasks_core.artifact_records import Artifact as ArtifactRecord
from tasks_core.artifact_records import (
    ArtifactType,
    check_key,
    check_progress,
    check_table,
    data_json,
)
from tasks_core.engine.context import current_run
from tasks_core.errors import ArtifactNotFound, ValidationError
from tasks_core.store.artifacts import ArtifactStore

__all__ = ["Artifact", "artifact_store", "create_link_artifact", "create_markdown_artifact",
           "create_progress_artifact", "create_table_artifact", "update_progress_artifact"]


class ArtifactId(uuid.UUID):
    """An artifact's id: a `uuid.UUID` that awaiting gives back unchanged (Prefect's
    functions are awaited in async code and called plainly in sync code)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, ArtifactId]:
        return self
        yield  # a generator: awaiting it returns at once


class Artifact(ArtifactRecord):
    """An artifact as read back (`tasks_core.artifact_records.Artifact`'s fields), with
    Prefect's `Artifact.get(key)`."""

    @classmethod
    def get(cls, key: str) -> Artifact | None:
        """The latest version of the artifact `key`, or None (Prefect's `Artifact.get`).

        Raises:
            ValidationError: `key` is not a valid artifact key.
        """
        found = artifact_store().latest(check_key(key) or "")
        return None if found is None else cls.model_validate(found.model_dump())


def artifact_store() -> ArtifactStore:
    """The artifact store of this process's stack (its Redis, prefix and run TTL)."""
    from tasks_core.process_runtime import get_runtime

    return get_runtime().artifacts


def _max_bytes() -> int:
    from tasks_core.process_runtime import get_runtime

    return get_runtime().settings.artifact_max_bytes


def _create(type_: ArtifactType, data: Any, key: str | None, description: str | None,
            ) -> ArtifactId:
    if description is not None and not isinstance(description, str):
        raise ValidationError("artifact description must be text (markdown) or None")
    check_key(key)
    data_json(data, _max_bytes())
    frame = current_run.get()
    task_run_id = frame.run_id if frame is not None and frame.kind == "task" else None
    flow_run_id = None
    if frame is not None:
        flow_run_id = frame.run_id if frame.kind == "flow" else frame.flow_run_id
    artifact = ArtifactRecord(key=key, type=type_, description=description, data=data,
                        flow_run_id=flow_run_id, task_run_id=task_run_id)
    artifact_store().save(artifact)
    return ArtifactId(artifact.id)


def create_markdown_artifact(markdown: str, key: str | None = None,
                             description: str | None = None) -> ArtifactId:
    """Store a markdown artifact on the current run.

    Args:
        markdown: the text (CommonMark; raw HTML in it is shown as text, never run).
        key: lower-case letters, digits and dashes; None: seen on its run only.
        description: markdown about it.

    Returns:
        The artifact's id.

    Raises:
        ValidationError: `markdown` is not text, a bad key, or over the size limit.
    """
    if not isinstance(markdown, str):
        raise ValidationError(f"markdown must be text, not {type(markdown).__name__}")
    return _create("markdown", markdown, key, description)


def create_table_artifact(table: dict[str, list[Any]] | list[dict[str, Any]] | list[list[Any]],
                          key: str | None = None, description: str | None = None,
                          ) -> ArtifactId:
    """Store a table artifact on the current run.

    Args:
        table: a dict of columns, a list of row dicts, or a list of row lists (cells
            JSON values; NaN becomes null, as Prefect does).
        key: lower-case letters, digits and dashes; None: seen on its run only.
        description: markdown about it.

    Returns:
        The artifact's id.

    Raises:
        ValidationError: another shape, cells that are not JSON, a bad key, over the limit.
    """
    return _create("table", check_table(table), key, description)


def create_link_artifact(link: str, link_text: str | None = None, key: str | None = None,
                         description: str | None = None) -> ArtifactId:
    """Store a link artifact on the current run.

    Args:
        link: the URL (any scheme is stored; the dashboard makes only http and https ones
            clickable).
        link_text: the text shown for it (default: the URL).
        key: lower-case letters, digits and dashes; None: seen on its run only.
        description: markdown about it.

    Returns:
        The artifact's id.

    Raises:
        ValidationError: `link` is not non-empty text, a bad key, or over the size limit.
    """
    if not isinstance(link, str) or not link.strip():
        raise ValidationError("artifact link must be a non-empty URL")
    if link_text is not None and not isinstance(link_text, str):
        raise ValidationError("artifact link_text must be text or None")
    return _create("link", {"link": link, "link_text": link_text}, key, description)


def create_progress_artifact(progress: float, key: str | None = None,
                             description: str | None = None) -> ArtifactId:
    """Store a progress artifact (a percentage) on the current run.

    Args:
        progress: from 0 to 100 (percent); change it with `update_progress_artifact`.
        key: lower-case letters, digits and dashes; None: seen on its run only.
        description: markdown about it.

    Returns:
        The artifact's id.

    Raises:
        ValidationError: `progress` outside 0..100 or not a number, or a bad key.
    """
    return _create("progress", check_progress(progress), key, description)


def update_progress_artifact(artifact_id: uuid.UUID | str, progress: float,
                             description: str | None = None) -> ArtifactId:
    """Set a progress artifact's percentage (and description), in place, as Prefect does.

    Args:
        artifact_id: what `create_progress_artifact` returned.
        progress: from 0 to 100 (percent).
        description: a new description; None keeps the old one.

    Returns:
        The artifact's id.

    Raises:
        ArtifactNotFound: no artifact has that id (or it expired).
        ValidationError: it is not a progress artifact, or `progress` is outside 0..100.
    """
    value = check_progress(progress)
    store = artifact_store()
    artifact = store.get(str(artifact_id))
    if artifact is None:
        raise ArtifactNotFound(f"artifact {str(artifact_id)!r} not found (it may have "
                               "expired with its run)")
    if artifact.type != "progress":
        raise ValidationError(f"artifact {artifact.id} is a {artifact.type} artifact; only "
                              "progress artifacts can be updated")
    changes: dict[str, Any] = {"data": value, "updated": datetime.now(UTC)}
    if description is not None:
        changes["description"] = description
    store.save(artifact.model_copy(update=changes))
    return ArtifactId(artifact.id)
