"""Artifacts in Redis: each one's JSON, the index of all, of each key and of each run.

Keys (`tasks_core.store.keys`): ``p:artifact:<id>`` (JSON, with the run TTL, set again on
update), ``p:artifacts`` (every id by creation time), ``p:artifacts:key:<key>`` (a key's
versions) and ``p:artifacts:run:<run id>`` (a run's artifacts); each index gets the run TTL
again on every write, so artifacts go when their runs do (``settings.run_ttl_seconds``).

Invariants: an artifact is written with its index entries in one MULTI/EXEC; an index entry
whose record expired is dropped by the listing that meets it, never shown.
"""

from __future__ import annotations

import re
from typing import Any

import redis

from tasks_core.artifact_records import Artifact
from tasks_core.store.base import KeyedStore
from tasks_core.store.keys import Keys

__all__ = ["ArtifactStore"]

_ID_PREFIX = re.compile(r"[0-9a-f-]{1,36}")


class ArtifactStore(KeyedStore):
    """Create, update, read and list artifacts.

    Args:
        client: the ledger's Redis client.
        keys: the key builder of the stack's prefix.
        ttl_seconds: how long an artifact and its index entries live after their last write
            (``settings.run_ttl_seconds``, > 0).
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, ttl_seconds: int) -> None:
        super().__init__(client, keys)
        self.ttl_seconds = ttl_seconds

    def _indexes(self, artifact: Artifact) -> list[str]:
        found = [self.keys.artifacts]
        if artifact.key:
            found.append(self.keys.artifact_versions(artifact.key))
        found += [self.keys.run_artifacts(r) for r in {artifact.flow_run_id, artifact.run_id}
                  if r]
        return found

    def save(self, artifact: Artifact) -> None:
        """Write `artifact` (new or changed) and its index entries, atomically."""
        score = artifact.created.timestamp()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.artifact(artifact.id), artifact.model_dump_json(),
                     ex=self.ttl_seconds)
            for index in self._indexes(artifact):
                pipe.zadd(index, {artifact.id: score})
                if index != self.keys.artifacts:
                    pipe.expire(index, self.ttl_seconds)
            pipe.execute()

    def get(self, artifact_id: str) -> Artifact | None:
        """The artifact `artifact_id`, or None (never created, or expired)."""
        raw: Any = self.client.get(self.keys.artifact(artifact_id))
        return Artifact.model_validate_json(raw) if raw is not None else None

    def _read(self, index: str, ids: list[str]) -> list[Artifact]:
        """The records of `ids` in order; ids whose record expired leave `index`."""
        if not ids:
            return []
        raws: Any = self.client.mget([self.keys.artifact(i) for i in ids])
        gone = [i for i, raw in zip(ids, raws, strict=True) if raw is None]
        if gone:
            self.client.zrem(index, *gone)
        return [Artifact.model_validate_json(raw) for raw in raws if raw is not None]

    def _newest(self, index: str, limit: int) -> list[Artifact]:
        ids: Any = self.client.zrevrange(index, 0, max(limit, 1) - 1)
        return self._read(index, [str(i) for i in ids])

    def versions(self, key: str, limit: int = 100) -> list[Artifact]:
        """The versions of the artifact `key`, newest first (the latest wins)."""
        return self._newest(self.keys.artifact_versions(key), limit)

    def latest(self, key: str) -> Artifact | None:
        """The newest version of the artifact `key`, or None."""
        found = self.versions(key, 1)
        return found[0] if found else None

    def of_run(self, run_id: str, limit: int = 200) -> list[Artifact]:
        """The artifacts run `run_id` created (a flow run's include its tasks'), oldest
        first."""
        index = self.keys.run_artifacts(run_id)
        ids: Any = self.client.zrange(index, 0, max(limit, 1) - 1)
        return self._read(index, [str(i) for i in ids])

    def newest(self, limit: int = 100, *, keyed_only: bool = False, scan: int = 5000,
               ) -> list[Artifact]:
        """The newest artifacts, newest first; with `keyed_only`, only the latest version of
        each key (Prefect's artifact listing). At most `scan` ids are read."""
        ids: Any = self.client.zrevrange(self.keys.artifacts, 0, max(scan, 1) - 1)
        found: list[Artifact] = []
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            for artifact in self._read(self.keys.artifacts,
                                       [str(i) for i in ids[start:start + 500]]):
                if keyed_only and (artifact.key is None or artifact.key in seen):
                    continue
                seen.add(artifact.key or "")
                found.append(artifact)
                if len(found) >= limit:
                    return found
        return found

    def ids_starting(self, prefix: str, limit: int = 10) -> list[str]:
        """Up to `limit` artifact ids that start with `prefix` (hex digits and dashes only,
        else none): a ZSCAN of the index of every artifact."""
        if not _ID_PREFIX.fullmatch(prefix):
            return []
        found: list[str] = []
        for member, _ in self.client.zscan_iter(self.keys.artifacts, match=f"{prefix}*",
                                                 count=1000):
            found.append(str(member))
            if len(found) >= limit:
                break
        return found
