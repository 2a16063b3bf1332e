"""Tasks and flows that create artifacts (imported by worker processes in the tests)."""

from __future__ import annotations

from tasks_core import flow, task
from tasks_core.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)


@task
def report(version: int) -> str:
    """A keyed markdown artifact, one version per call; returns its id."""
    return str(create_markdown_artifact(f"# Report v{version}", key="daily-report",
                                        description=f"version {version}"))


@task
def progress_steps(steps: int) -> str:
    """A progress artifact moved to 100 in `steps` updates; returns its id."""
    artifact_id = create_progress_artifact(0, key="load-progress")
    for step in range(1, steps + 1):
        update_progress_artifact(artifact_id, 100 * step / steps)
    return str(artifact_id)


@flow
def artifact_flow() -> list[str]:
    """A table and a link in the flow body, and a markdown one from a task."""
    table = create_table_artifact([{"city": "Oslo", "n": 3}, {"city": "Lima", "n": 5}],
                                  key="cities")
    link = create_link_artifact("https://example.com/data.csv", link_text="the data")
    return [str(table), str(link), report(1)]
