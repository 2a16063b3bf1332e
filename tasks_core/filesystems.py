"""Prefect's ``prefect.filesystems.LocalFileSystem``, for ``result_storage=``.

    from tasks_core.filesystems import LocalFileSystem

    @task(result_storage=LocalFileSystem(basepath="/shared/results"))
    def big() -> list[int]: ...

Run results live in Redis; a result over the size limit (TASKS_CORE_RESULT_MAX_BYTES) is
written instead as a JSON file under `basepath` (see `tasks_core.result_options`). Every
process that reads such a result (a worker, the caller of ``.result()``) must see the same
folder: one machine, or a shared mount. Cloud buckets (S3, GCS, Azure) are not offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalFileSystem"]


@dataclass(frozen=True)
class LocalFileSystem:
    """A local folder for results over the size limit.

    Attributes:
        basepath: the folder (made absolute when a task or flow takes it; created on the
            first write).
    """

    basepath: str | Path

    def folder(self) -> str:
        """The absolute folder path."""
        return str(Path(self.basepath).expanduser().resolve())
