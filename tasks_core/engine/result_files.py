"""Results that Redis does not hold: written to `result_storage`, or not persisted.

A run's stored result is JSON text in Redis. Two small JSON markers stand in for it:

- ``{"__tasks_core_result__": "file", "path": ..., "bytes": N}``: a result over
  TASKS_CORE_RESULT_MAX_BYTES of a run with ``result_storage`` (`result_options`), written
  whole to ``<folder>/<run id>.json`` (to a temporary name, then renamed: a reader never
  sees half a file);
- ``{"__tasks_core_result__": "not-persisted"}``: a run with ``persist_result=False``.

`results.decode_result` follows a marker (`results.follow`): it reads the file, or raises
ResultError saying the result was not persisted. Files are not expired with the run's Redis keys:
the folder is the user's to clean.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tasks_core.engine.codec import to_json
from tasks_core.engine.results import MARKER, NOT_PERSISTED, encode_result
from tasks_core.errors import ResultError

__all__ = ["NOT_PERSISTED", "stored_json"]


def stored_json(owner: str, value: Any, max_bytes: int, folder: str, run_id: str) -> str:
    """The JSON to store for `value`: itself within `max_bytes`, else a marker of the file
    it was written to under `folder`.

    Raises:
        ResultError: the value has no JSON form (as `encode_result` says), or the file
            could not be written (the path and the OS error).
    """
    try:
        text = to_json(value)
    except ValueError:
        return encode_result(owner, value, max_bytes)  # raises its usual, clear error
    size = len(text.encode("utf-8"))
    if size <= max_bytes:
        return text
    path = Path(folder) / f"{run_id}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise ResultError(f"result of {owner}: {size} bytes could not be written to "
                          f"result_storage {str(path)!r} ({exc})") from None
    return json.dumps({MARKER: "file", "path": str(path), "bytes": size})
