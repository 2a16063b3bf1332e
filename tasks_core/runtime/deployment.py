"""``deployment.<attribute>``: the deployment of the flow run executing here (Prefect's
``prefect.runtime.deployment``); empty values when the run is not a deployment's.
``parameters`` are the run's (what it was started with, defaults merged), as Prefect's
are "the parameters that were passed to this run". See `tasks_core.runtime`."""

from __future__ import annotations

from typing import Any

from tasks_core.engine.run_lookup import deployment_record
from tasks_core.runtime._lookup import current_flow_run

_EMPTY: dict[str, Any] = {"id": None, "name": None, "flow_run_id": None, "version": None}
__all__ = sorted([*_EMPTY, "parameters"])  # read through __getattr__ below


def __getattr__(attribute: str) -> Any:
    if attribute not in __all__:
        raise AttributeError(f"tasks_core.runtime.deployment has no attribute {attribute!r} "
                             f"(it has: {', '.join(__all__)})")
    run = current_flow_run()
    if run is None or not run.deployment_id:
        return {} if attribute == "parameters" else _EMPTY[attribute]
    if attribute == "parameters":
        return dict(run.parameters)
    if attribute in ("id", "flow_run_id"):
        return run.deployment_id if attribute == "id" else run.id
    found = deployment_record(run.deployment_id)
    if found is None:
        return None
    return found.name if attribute == "name" else found.version


def __dir__() -> list[str]:
    return list(__all__)
