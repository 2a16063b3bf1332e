"""Deployments in Redis: one JSON document each, found by `flow/name`, id, or a unique start
of an id (like git's short hashes)."""

from __future__ import annotations

import difflib

from tasks_core.deployment_models import Deployment
from tasks_core.errors import DeploymentNotFound, ValidationError
from tasks_core.store.base import KeyedStore

__all__ = ["DeploymentStore"]


class DeploymentStore(KeyedStore):
    """Create, read, list and delete deployment records."""

    def save(self, deployment: Deployment) -> Deployment:
        """Create or update by `flow/name` (an update keeps the id)."""
        existing = self.client.hget(self.keys.deployment_names, deployment.full_name)
        if existing:
            deployment = deployment.model_copy(update={"id": str(existing)})
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.deployment(deployment.id), deployment.model_dump_json())
            pipe.hset(self.keys.deployment_names, deployment.full_name, deployment.id)
            pipe.execute()
        return deployment

    def find(self, full_name: str) -> Deployment | None:
        """The deployment named `flow/name`, or None (no close-match search)."""
        deployment_id = self.client.hget(self.keys.deployment_names, full_name)
        text = self.client.get(self.keys.deployment(str(deployment_id))) if deployment_id else None
        return Deployment.model_validate_json(text) if text else None

    def get(self, name_or_id: str) -> Deployment:
        """By `flow-name/deployment-name`, id, or a unique start of an id.

        Raises:
            DeploymentNotFound: none of these; the message lists close names.
            ValidationError: several deployment ids start with `name_or_id` (listed).
        """
        deployment_id = self.client.hget(self.keys.deployment_names, name_or_id) or name_or_id
        text = self.client.get(self.keys.deployment(str(deployment_id)))
        if text is None and name_or_id and "/" not in name_or_id:
            text = self._by_id_prefix(name_or_id)
        if text is None:
            names = [str(n) for n in self.client.hkeys(self.keys.deployment_names)]
            close = difflib.get_close_matches(name_or_id, names, n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise DeploymentNotFound(f"deployment {name_or_id!r} not found{hint}")
        return Deployment.model_validate_json(text)

    def _by_id_prefix(self, prefix: str) -> str | None:
        """The JSON of the one deployment whose id starts with `prefix`, or None."""
        ids = sorted(str(i) for i in self.client.hvals(self.keys.deployment_names)
                     if str(i).startswith(prefix))
        if len(ids) > 1:
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            raise ValidationError(f"deployment id {prefix!r} is ambiguous: {len(ids)} "
                                  f"deployments start with it ({shown}); give more of it")
        if not ids:
            return None
        text = self.client.get(self.keys.deployment(ids[0]))
        return str(text) if text is not None else None

    def get_many(self, ids: list[str]) -> dict[str, Deployment]:
        """The deployments of these ids that exist, in one round trip."""
        if not ids:
            return {}
        texts = self.client.mget([self.keys.deployment(i) for i in ids])
        return {i: Deployment.model_validate_json(t)
                for i, t in zip(ids, texts, strict=True) if t is not None}

    def list(self) -> list[Deployment]:
        """Every deployment, by name."""
        ids = [str(i) for i in self.client.hvals(self.keys.deployment_names)]
        if not ids:
            return []
        texts = self.client.mget([self.keys.deployment(i) for i in ids])
        found = [Deployment.model_validate_json(t) for t in texts if t is not None]
        return sorted(found, key=lambda d: d.full_name)

    def delete(self, name_or_id: str) -> Deployment:
        """Remove a deployment; DeploymentNotFound when there is none."""
        deployment = self.get(name_or_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.keys.deployment(deployment.id))
            pipe.hdel(self.keys.deployment_names, deployment.full_name)
            pipe.zrem(self.keys.schedules, deployment.id)
            pipe.execute()
        return deployment
