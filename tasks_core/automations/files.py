"""Automations from files (`tasks-core automation create --file F.yaml|.json`).

A file holds one automation (a mapping of `Automation`'s fields, without ``id``,
``created``, ``updated`` or ``owner_deployment_id``) or a list of them; ``.yaml`` / ``.yml``
are read as YAML, ``.json`` as JSON. Example::

    name: notify on failures
    trigger:
      expect: [prefect.flow-run.Failed]     # Prefect's spellings work too
      match_related: {tasks-core.resource.id: "tasks-core.flow.etl"}
    actions:
      - type: do-nothing
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tasks_core.automations.crud import Automation
from tasks_core.automations.model import AutomationError
from tasks_core.errors import ConfigurationError

__all__ = ["SUFFIXES", "load_automations"]

SUFFIXES = (".yaml", ".yml", ".json")

_SET_BY_STORE = ("id", "created", "updated", "owner_deployment_id")


def _read(path: Path) -> Any:
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigurationError(f"automation file {path}: give a .yaml, .yml or .json file")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read automation file {path}: "
                                 f"{exc.strerror or exc}") from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        detail = " ".join(str(exc).split())
        raise ConfigurationError(f"automation file {path} is not valid {kind}: {detail}") \
            from None


def load_automations(path: Path) -> list[Automation]:
    """The automations of the file, each checked (nothing is stored).

    Raises:
        ConfigurationError: the file cannot be read, is not YAML/JSON, or not a mapping or a
            list of mappings.
        AutomationError: an automation is refused; the message names it (position, name)
            and the field.
    """
    data = _read(path)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ConfigurationError(f"automation file {path} must hold an automation (a "
                                 "mapping with name, trigger and actions) or a list of them")
    found = []
    for position, item in enumerate(items, start=1):
        if given := [k for k in _SET_BY_STORE if k in item]:
            raise AutomationError(f"automation file {path}, entry {position}: "
                                  f"{', '.join(given)} cannot be given (set when stored)")
        try:
            found.append(Automation.model_validate(item))
        except AutomationError as exc:
            where = f"entry {position}: " if len(items) > 1 else ""
            raise AutomationError(f"automation file {path}: {where}{exc}") from None
    return found
