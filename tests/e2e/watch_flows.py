"""Flows that take a while, for `deployment run --watch` (loaded by workers by entrypoint)."""

from __future__ import annotations

import time

from tasks_core.flow import flow


@flow
def slow(seconds: float, fail: bool = False) -> str:
    time.sleep(seconds)
    if fail:
        raise RuntimeError(f"failed after {seconds:g}s, as asked")
    return f"slept {seconds:g}s"
