"""Import the modules a process command names (``tasks-core worker --import``, ``tasks-core
beat --import``): one that cannot be found is a one-line error naming it, not a traceback.

Only a module that is not there at all (it, or a package on its dotted path) becomes
`ConfigurationError`; a module that is found but fails while it runs (its own bad import,
a syntax error, an exception) keeps its traceback, which is what its author needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from tasks_core.errors import ConfigurationError

__all__ = ["import_user_modules"]


def import_user_modules(modules: Iterable[str], option: str = "--import") -> None:
    """Import each of `modules` (dotted names), in order.

    Raises:
        ConfigurationError: a module, or a package on its path, is not found (the message
            names it, the `option` it came from, and where modules are found).
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing and (module == missing or module.startswith(missing + ".")):
                raise ConfigurationError(
                    f"cannot import {module!r} ({option}): no module named {missing!r} "
                    "(modules are found from the working folder and PYTHONPATH)") from exc
            raise
