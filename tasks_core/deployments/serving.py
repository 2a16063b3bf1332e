"""`serve(...)`: deploy, then run a worker and a beat for the deployments here."""

from __future__ import annotations

import threading

from tasks_core.deployment_models import Deployment
from tasks_core.deployments.define import deploy
from tasks_core.errors import ConfigurationError

__all__ = ["serve"]


def serve(*deployments: Deployment, stop: threading.Event | None = None) -> None:
    """Register deployments, then run a worker for their pools and a beat (for schedules)
    as subprocesses of this process until interrupted (or `stop` is set).

    Raises ConfigurationError when one of them exits on its own (the other is stopped).
    """
    from tasks_core.supervisor import (
        ChildSpec,
        cli_command,
        describe_exit,
        run_stack,
        stop_on_signals,
    )

    deploy(*deployments)
    pools = sorted({d.work_pool_name for d in deployments})
    specs = [ChildSpec("worker", cli_command("worker", *(a for p in pools for a in ("--pool", p)))),
             ChildSpec("beat", cli_command("beat"))]
    names = ", ".join(d.full_name for d in deployments)
    print(f"Serving {names} on work pool(s) {', '.join(pools)}; Ctrl-C stops.")
    force = threading.Event()
    if stop is not None:  # stopped by the caller (any thread)
        _, died = run_stack(specs, stop=stop, force=force)
    else:
        stop = threading.Event()
        with stop_on_signals(stop, force):
            _, died = run_stack(specs, stop=stop, force=force)
    if died is not None:
        raise ConfigurationError(f"serve: {died.name} exited unexpectedly with "
                                 f"{describe_exit(died.proc.returncode)}; see its output above")
