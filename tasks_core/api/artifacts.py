"""`/api/artifacts` and the artifacts of one run: read only (artifacts are made by runs,
through `tasks_core.artifacts`).

- ``GET /api/artifacts``: the latest version of each keyed artifact, newest first (Prefect's
  artifact listing); ``?key=K``: every version of K, newest first.
- ``GET /api/artifacts/{id}``: one artifact (404 when there is none or it expired).
- ``GET /api/flow_runs/{id}/artifacts``, ``GET /api/task_runs/{id}/artifacts``: the run's
  artifacts, oldest first (a flow run's include those of its tasks); 404 for an unknown run.

Items are `tasks_core.artifact_records.Artifact` (shapes of ``data`` by type there).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Query

from tasks_core.api.run_routes import read_run
from tasks_core.artifact_records import KEY_MAX, Artifact, check_key
from tasks_core.errors import ArtifactNotFound
from tasks_core.process_runtime import get_runtime

__all__ = ["router", "run_artifacts"]

router = APIRouter(tags=["artifacts"])

MAX_PAGE = 1000
"""Most artifacts one listing holds."""


@router.get("/artifacts", response_model=list[Artifact], operation_id="list_artifacts",
            description="The latest version of each keyed artifact, newest first; with "
                        "`key`, every version of that key, newest first.")
def list_artifacts(
    key: str | None = Query(None, max_length=KEY_MAX,
                            description="every version of this key (lower-case letters, "
                                        "digits and dashes)"),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
) -> list[Artifact]:
    store = get_runtime().artifacts
    if key is not None:
        return store.versions(check_key(key) or "", limit)
    return store.newest(limit, keyed_only=True)


@router.get("/artifacts/{artifact_id}", response_model=Artifact, operation_id="read_artifact",
            description="One artifact by its id (404 when there is none).")
def read_artifact(artifact_id: str = Path(..., max_length=200)) -> Artifact:
    found = get_runtime().artifacts.get(artifact_id)
    if found is None:
        raise ArtifactNotFound(f"artifact {artifact_id!r} not found (it may have expired "
                               "with its run)")
    return found


def run_artifacts(kind: Literal["flow", "task"], run_id: str) -> list[Artifact]:
    """The artifacts of the run `run_id` (which must be of `kind`), oldest first.

    Raises:
        RunNotFound: no such run, or it is of the other kind.
    """
    read_run(kind, run_id)
    return get_runtime().artifacts.of_run(run_id)


@router.get("/flow_runs/{run_id}/artifacts", response_model=list[Artifact],
            operation_id="read_flow_run_artifacts", tags=["flow runs"],
            description="The flow run's artifacts and its tasks', oldest first.")
def flow_run_artifacts(run_id: str = Path(..., max_length=200)) -> list[Artifact]:
    return run_artifacts("flow", run_id)


@router.get("/task_runs/{run_id}/artifacts", response_model=list[Artifact],
            operation_id="read_task_run_artifacts", tags=["task runs"],
            description="The task run's artifacts, oldest first.")
def task_run_artifacts(run_id: str = Path(..., max_length=200)) -> list[Artifact]:
    return run_artifacts("task", run_id)
