"""Variables in Redis: one hash, variable name -> the JSON of its record.

    p:variables                HASH    name -> JSON {"name", "value", "tags", "created",
                                       "updated"}

A create is HSETNX (two processes creating one name: exactly one wins), an overwrite HSET,
a delete HDEL: each one atomic command, so no Lua is needed. This store holds JSON text;
the model and its checks are `tasks_core.variables`'.
"""

from __future__ import annotations

from typing import Any

from tasks_core.store.base import KeyedStore

__all__ = ["VariableStore"]


class VariableStore(KeyedStore):
    """Create, overwrite, read, list and delete variable records (JSON text)."""

    def create(self, name: str, text: str) -> bool:
        """Write `text` under `name` unless the name is taken; False when it was."""
        return bool(self.client.hsetnx(self.keys.variables, name, text))

    def put(self, name: str, text: str) -> None:
        """Write `text` under `name`, replacing what was there."""
        self.client.hset(self.keys.variables, name, text)

    def get(self, name: str) -> str | None:
        """The JSON of the variable `name`, or None."""
        raw: Any = self.client.hget(self.keys.variables, name)
        return None if raw is None else str(raw)

    def delete(self, name: str) -> bool:
        """Remove the variable `name`; False when there was none."""
        return bool(self.client.hdel(self.keys.variables, name))

    def all(self) -> dict[str, str]:
        """Every variable name -> its JSON."""
        raw: Any = self.client.hgetall(self.keys.variables)
        return {str(k): str(v) for k, v in raw.items()}
