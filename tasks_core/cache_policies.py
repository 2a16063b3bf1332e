"""Cache policies as Prefect spells them: ``@task(cache_policy=INPUTS + TASK_SOURCE)``.

    from tasks_core import task
    from tasks_core.cache_policies import INPUTS, TASK_SOURCE

    @task(cache_policy=INPUTS + TASK_SOURCE, cache_expiration=3600)
    def fetch(url: str) -> str: ...

A policy turns a call into a cache key (a hex string) or None (this call does not cache).
The key is computed when the run is created (`tasks_core.engine.caching.cache_key`) and
travels in the run's options, so the same key is looked up in process and on any worker.
Semantics follow Prefect 3's `prefect.cache_policies` (docs.prefect.io/v3/concepts/caching):

- `INPUTS`: the task's parameters (JSON, sorted keys; a value with no JSON form by its
  repr). ``INPUTS - "debug"`` leaves a parameter out.
- `TASK_SOURCE`: the task function's source code (its bytecode when there is no source).
- `FLOW_PARAMETERS`: the parameters of the flow run the task runs in (None outside one).
- `RUN_ID`: the flow run the task runs in; a task run outside a flow: its own run id.
- `DEFAULT`: ``INPUTS + TASK_SOURCE + RUN_ID`` (the same call twice in one flow run hits).
- `NONE` (also `NO_CACHE`): never cache; ``NONE + X`` is ``X``.
- Policies combine with ``+``: the key of a compound policy hashes its parts' keys; it is
  None when every part is None.
- A ``cache_key_fn(context, parameters)`` (e.g. `tasks_core.tasks.task_input_hash`) is
  `CacheKeyFnPolicy` and wins over ``cache_policy`` when both are given.

Not offered: a policy's ``configure(key_storage=, isolation_level=, lock_manager=)``
(keys and results live in Redis; concurrent duplicate runs are allowed, Prefect's
READ_COMMITTED).
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks_core.errors import ConfigurationError

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "KeyInputs",
    "NoCache",
    "RunId",
    "TaskSource",
    "cache_policy_option",
]


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


@dataclass(frozen=True)
class KeyInputs:
    """What a policy may read to make a key.

    Attributes:
        context: what a `cache_key_fn` gets (`engine.caching.CacheContext`).
        parameters: the call's bound parameters, by name.
        flow_run_id: the flow run the task runs in (None: outside a flow).
        flow_parameters: reads that flow run's parameters (only called when a policy needs
            them: it may read the run's record).
    """

    context: Any
    parameters: dict[str, Any]
    flow_run_id: str | None = None
    flow_parameters: Callable[[], dict[str, Any] | None] = lambda: None


class CachePolicy:
    """Base of the policies: `key(inputs)` is the cache key, or None for "do not cache"."""

    def key(self, inputs: KeyInputs) -> str | None:
        """The cache key (hex) of this call, or None when this call does not cache."""
        raise NotImplementedError

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        if isinstance(other, NoCache):
            return self
        return CompoundCachePolicy((*_parts(self), *_parts(other)))

    def __sub__(self, name: str) -> CachePolicy:
        raise ConfigurationError(
            f"only INPUTS leaves a parameter out ('INPUTS - {name!r}'), not {self!r}")


def _parts(policy: CachePolicy) -> tuple[CachePolicy, ...]:
    return policy.policies if isinstance(policy, CompoundCachePolicy) else (policy,)


@dataclass(frozen=True)
class Inputs(CachePolicy):
    """The call's parameters, without those named in `exclude`."""

    exclude: tuple[str, ...] = ()

    def key(self, inputs: KeyInputs) -> str | None:
        kept = {k: v for k, v in inputs.parameters.items() if k not in self.exclude}
        return _hash("inputs", _json(kept))

    def __sub__(self, name: str) -> CachePolicy:
        if not isinstance(name, str):
            raise ConfigurationError(f"INPUTS - name: name must be a str, got {name!r}")
        return Inputs((*self.exclude, name))


@dataclass(frozen=True)
class TaskSource(CachePolicy):
    """The task function's source code."""

    def key(self, inputs: KeyInputs) -> str | None:
        fn = getattr(getattr(inputs.context, "task", None), "fn", None)
        if fn is None:
            return None
        try:
            text = inspect.getsource(fn)
        except (OSError, TypeError):  # no source (an interactive session): the bytecode
            code = getattr(fn, "__code__", None)
            text = code.co_code.hex() if code is not None else repr(fn)
        return _hash("source", text)


@dataclass(frozen=True)
class FlowParameters(CachePolicy):
    """The parameters of the flow run the task runs in (None outside a flow)."""

    def key(self, inputs: KeyInputs) -> str | None:
        parameters = inputs.flow_parameters()
        return None if parameters is None else _hash("flow-parameters", _json(parameters))


@dataclass(frozen=True)
class RunId(CachePolicy):
    """The flow run the task runs in; outside a flow, the task run itself."""

    def key(self, inputs: KeyInputs) -> str | None:
        return _hash("run", inputs.flow_run_id or inputs.context.run_id)


@dataclass(frozen=True)
class NoCache(CachePolicy):
    """Never cache (Prefect's NONE / NO_CACHE)."""

    def key(self, inputs: KeyInputs) -> str | None:
        return None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return other


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    """Several policies: the hash of their keys (None when all are None)."""

    policies: tuple[CachePolicy, ...] = field(default_factory=tuple)

    def key(self, inputs: KeyInputs) -> str | None:
        keys = [k for k in (p.key(inputs) for p in self.policies) if k is not None]
        return _hash("compound", *keys) if keys else None

    def __sub__(self, name: str) -> CachePolicy:
        if not any(isinstance(p, Inputs) for p in self.policies):
            return super().__sub__(name)
        return CompoundCachePolicy(tuple(p - name if isinstance(p, Inputs) else p
                                         for p in self.policies))


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """A ``cache_key_fn(context, parameters) -> str | None`` as a policy."""

    cache_key_fn: Callable[..., str | None]

    def key(self, inputs: KeyInputs) -> str | None:
        return self.cache_key_fn(inputs.context, inputs.parameters)


INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
NONE = NoCache()
NO_CACHE = NONE
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID


def cache_policy_option(owner: str, value: object) -> CachePolicy | None:
    """A task's validated ``cache_policy``: a policy, or None when it does not cache.

    ``"inputs"`` (the older spelling) is `INPUTS`; `NONE` is None.

    Raises:
        ConfigurationError: anything else, naming the task and what it accepts.
    """
    if value is None or isinstance(value, NoCache):
        return None
    if value == "inputs":
        return INPUTS
    if isinstance(value, CachePolicy):
        return value
    raise ConfigurationError(
        f"{owner}: cache_policy must be a policy from tasks_core.cache_policies (INPUTS, "
        f"TASK_SOURCE, FLOW_PARAMETERS, RUN_ID, DEFAULT, NONE, or several joined with +) "
        f"or 'inputs', got {value!r}")
