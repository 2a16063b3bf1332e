"""`tags(...)`: a context manager adding tags to every run created inside it (Prefect's
``from prefect import tags``; src/prefect/context.py).

    from tasks_core import flow, tags

    with tags("nightly", "etl"):
        my_flow()          # the flow run and the task runs it creates carry both tags

Tags add up: nested blocks add theirs to the enclosing ones', and to the run's own tags
(``@task(tags=[...])``, ``@flow(tags=[...])``). A context variable, so it follows the
flow into its task runner's threads and async tasks; a run sent to a worker carries its
tags in its record. The tags' names are validated as a run's own tags are (strings).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from tasks_core.errors import ConfigurationError

__all__ = ["current_tags", "tags", "with_current_tags"]

_current: ContextVar[frozenset[str]] = ContextVar("tasks_core_tags", default=frozenset())


@contextmanager
def tags(*new_tags: str) -> Iterator[set[str]]:
    """Add `new_tags` to the runs created inside the block; yields all tags now in effect.

    Raises:
        ConfigurationError: a tag that is not a non-empty string (named).
    """
    for tag in new_tags:
        if not isinstance(tag, str) or not tag:
            raise ConfigurationError(f"tags(...): each tag must be a non-empty str, got {tag!r}")
    token = _current.set(_current.get() | frozenset(new_tags))
    try:
        yield set(_current.get())
    finally:
        _current.reset(token)


def current_tags() -> set[str]:
    """The tags the enclosing `tags(...)` blocks add (empty outside any)."""
    return set(_current.get())


def with_current_tags(own: Iterable[str]) -> list[str]:
    """A run's tags: its own and those of the enclosing `tags(...)` blocks, sorted."""
    extra = _current.get()
    if not extra:
        return list(own)
    return sorted(set(own) | extra)
