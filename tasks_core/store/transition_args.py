"""The parts of a transition's script call (transition.lua) that depend only on the
settings and the target state, built once per store (`RunStore._transition_call` builds two
per run on a worker)."""

from __future__ import annotations

from dataclasses import dataclass

from tasks_core.retention import run_ttl
from tasks_core.settings import Settings
from tasks_core.states import StateName, allowed_sources, is_terminal, state_type
from tasks_core.store.keys import Keys

__all__ = ["SOURCES", "Target", "TransitionArgs"]

SOURCES = {name: "," + ",".join(sorted(allowed_sources(name))) + "," for name in StateName}
"""Per target state, the states it may be entered from, comma-wrapped (transition.lua's
ARGV[3])."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a transition's script call says of its target state (`TransitionArgs.target`)."""

    name: StateName
    value: str
    type_value: str
    sources: str
    terminal: bool
    ttl: int
    """Seconds the record is kept in this state (`run_ttl` when terminal)."""


class TransitionArgs:
    """The parts of a transition's script call that depend only on the settings and the
    target state, built once per store."""

    def __init__(self, keys: Keys, settings: Settings) -> None:
        self.settings = settings
        self.run_prefix = keys.run("")
        self.result_prefix = keys.result("")
        self.events = keys.events
        self.due = keys.due
        self.due_wake = keys.due_wake
        self.durations = keys.metrics_durations
        self.event_retention = settings.event_retention
        self.result_ttl = settings.result_ttl_seconds
        self._index_prefixes = {kind: keys.state_index_prefix(kind) for kind in ("task", "flow")}
        self.keys = keys
        self.targets: dict[str, Target] = {}

    def target(self, state: str) -> Target:
        """The `Target` of a state name (ValueError for an unknown one)."""
        name = StateName(state)
        terminal = is_terminal(name)
        made = Target(name, name.value, state_type(name).value, SOURCES[name], terminal,
                      run_ttl(self.settings, name) if terminal
                      else self.settings.run_ttl_seconds)
        self.targets[name.value] = made
        return made

    def index_prefix(self, kind: str) -> str:
        prefix = self._index_prefixes.get(kind)
        return prefix if prefix is not None else self.keys.state_index_prefix(kind)
