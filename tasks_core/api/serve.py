"""Serve the API with uvicorn (`tasks-core server`, and the server of `tasks-core up`)."""

from __future__ import annotations

import logging

from tasks_core.api.auth import check_binding
from tasks_core.settings import Settings

__all__ = ["serve"]

log = logging.getLogger("tasks_core.api")


def serve(host: str, port: int, settings: Settings, *, log_level: str = "info") -> None:
    """Serve the API on `host`:`port` until SIGINT/SIGTERM (uvicorn's graceful shutdown;
    buffered events are flushed at exit).

    Raises:
        ConfigurationError: a non-loopback `host` without an API key (`check_binding`), or
            Redis cannot be reached (checked before listening).
    """
    import uvicorn

    from tasks_core.api.app import create_app
    from tasks_core.process_runtime import get_runtime

    check_binding(host, settings)
    get_runtime().server.ping()  # one clear error now, not a 503 on every request
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower(),
                access_log=False, server_header=False)
