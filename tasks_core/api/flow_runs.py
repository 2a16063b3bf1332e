"""`/api/flow_runs`: list (filters, paging), read, logs, cancel, set state
(the routes are `tasks_core.api.run_routes.make_router`'s, shared with `task_runs`)."""

from __future__ import annotations

from tasks_core.api.run_routes import make_router

__all__ = ["router"]

router = make_router("flow")
