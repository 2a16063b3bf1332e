"""``persist_result=`` and ``result_storage=`` on tasks and flows (Prefect's result options,
docs.prefect.io/v3/advanced/results), validated when the decorator runs.

- ``persist_result=None`` (the default): results are kept in Redis as always; no caching
  unless a cache option is given.
- ``persist_result=True``: as Prefect documents, caching turns on with the DEFAULT cache
  policy (inputs + task source + flow run) when the task gives no cache option of its own.
- ``persist_result=False``: no result value is stored. In process the call still returns
  the value; a `.result()` read from the run (another process, a worker's run) raises
  ResultError saying the result was not persisted. A cache option with it is refused
  (caching needs the stored result).
- ``result_storage=``: a folder path or `tasks_core.filesystems.LocalFileSystem`. A result
  whose JSON is over TASKS_CORE_RESULT_MAX_BYTES is written as a file there and Redis keeps
  a reference, instead of the run failing (a worker's run) or the value going unrecorded
  (in process). Anything else (a cloud bucket block, a storage slug) is refused.

Both travel in the run's options (`RunOptions.persist_result`, `.result_storage`), so a
worker applies them to a run it did not create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks_core.cache_policies import DEFAULT, CachePolicy
from tasks_core.errors import ConfigurationError
from tasks_core.filesystems import LocalFileSystem

__all__ = ["ResultStorage", "caching_with_results", "persist_option", "storage_option"]

ResultStorage = str | Path | LocalFileSystem


def persist_option(owner: str, value: object) -> bool | None:
    """A validated ``persist_result`` (True, False or None)."""
    if value is not None and not isinstance(value, bool):
        raise ConfigurationError(f"{owner}: persist_result must be True, False or None, "
                                 f"got {value!r}")
    return value


def storage_option(owner: str, value: object) -> str | None:
    """A validated ``result_storage``: the absolute folder it names, or None.

    Raises:
        ConfigurationError: not a path or LocalFileSystem, or a path that exists and is not
            a folder.
    """
    if value is None:
        return None
    if isinstance(value, LocalFileSystem):
        folder = value.folder()
    elif isinstance(value, str | Path) and str(value) and "://" not in str(value):
        folder = str(Path(value).expanduser().resolve())
    else:
        raise ConfigurationError(
            f"{owner}: result_storage must be a local folder path or "
            f"LocalFileSystem(basepath=...), got {value!r} (results live in Redis; only "
            "results over the size limit go to a local or shared folder; cloud buckets are "
            "not offered)")
    if Path(folder).exists() and not Path(folder).is_dir():
        raise ConfigurationError(f"{owner}: result_storage {folder!r} is not a folder")
    return folder


def caching_with_results(owner: str, persist_result: bool | None,
                         policy: CachePolicy | None, key_fn: Any) -> CachePolicy | None:
    """The cache policy a task runs with, given its ``persist_result``: DEFAULT when it asks
    for persisted results and has no cache option; refused with ``persist_result=False``."""
    if persist_result is False and (policy is not None or key_fn is not None):
        raise ConfigurationError(
            f"{owner}: persist_result=False cannot cache (a cache hit returns the stored "
            "result); drop the cache option or persist_result=False")
    if persist_result is True and policy is None and key_fn is None:
        return DEFAULT
    return policy
