"""Load a flow from an entrypoint: ``path/to/file.py:flow_fn`` or ``package.module:flow_fn``.

Relative file paths and packages are looked up in the deployment's source folder. Loaded
modules are cached per (source, entrypoint), so a warm worker loads each flow once.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks_core.engine.sources import materialize
from tasks_core.errors import ConfigurationError

if TYPE_CHECKING:
    from tasks_core.flow import Flow
    from tasks_core.process_runtime import Runtime

__all__ = ["EntrypointError", "deployment_flow", "entrypoint_of", "load_flow"]

_lock = threading.Lock()
_cache: dict[tuple[str, str], Any] = {}


class EntrypointError(ConfigurationError):
    """An entrypoint that does not load to a flow."""


def entrypoint_of(fn: Any, root: Path) -> str:
    """The entrypoint of a flow function: its module path, or its file relative to `root`."""
    module = fn.__module__
    if module != "__main__":
        return f"{module}:{fn.__name__}"
    file = Path(sys.modules["__main__"].__file__ or "").resolve()
    try:
        relative = file.relative_to(root.resolve())
    except ValueError:
        relative = file
    return f"{relative.as_posix()}:{fn.__name__}"


def load_flow(entrypoint: str, source: str | None = None, *,
              flow_type: type[Any] | None = None) -> Flow[Any, Any]:
    """The Flow an entrypoint names, loaded from `source` (a folder) when given.

    `flow_type` is the Flow class (given by the caller, so that this module does not
    import the SDK); default: `tasks_core.flow.Flow` as the loaded module knows it.

    Raises:
        EntrypointError: no such file or module, it fails to import, or the name is not a
            flow.
    """
    key = (source or "", entrypoint)
    with _lock:
        if key not in _cache:
            _cache[key] = _load(entrypoint, Path(source) if source else Path.cwd(), flow_type)
        loaded: Flow[Any, Any] = _cache[key]
    return loaded


def deployment_flow(rt: Runtime, deployment_id: str, *,
                    flow_type: type[Any] | None = None) -> Flow[Any, Any]:
    """The flow a deployment runs, loaded from its source (a git source is fetched and
    cached per commit): what a worker runs, and what recovery calls a crashed run's hooks on.

    Raises:
        DeploymentNotFound: no such deployment.
        ConfigurationError: the source cannot be fetched, or (EntrypointError) its
            entrypoint does not load to a flow.
    """
    deployment = rt.deployments.get(deployment_id)
    folder, _ = materialize(deployment.source or ".", deployment.source_ref,
                            rt.settings.data_dir)
    return load_flow(deployment.entrypoint, str(folder), flow_type=flow_type)


def _load(entrypoint: str, root: Path, flow_type: type[Any] | None) -> Any:
    path, _, attr = entrypoint.rpartition(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        if path.endswith(".py"):
            file = (root / path) if not Path(path).is_absolute() else Path(path)
            if not file.is_file():
                raise EntrypointError(f"entrypoint {entrypoint!r}: no file {file}")
            spec = importlib.util.spec_from_file_location(f"tc_flow_{abs(hash(file))}", file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(path)
    except EntrypointError:
        raise
    except Exception as exc:
        raise EntrypointError(f"entrypoint {entrypoint!r} failed to load from {root}: "
                              f"{type(exc).__name__}: {exc}") from None
    found = getattr(module, attr, None)
    expected: Any = flow_type or getattr(sys.modules.get("tasks_core.flow"), "Flow", type(None))
    if not isinstance(found, expected):
        raise EntrypointError(f"entrypoint {entrypoint!r}: {attr!r} is "
                              f"{'missing' if found is None else type(found).__name__}, "
                              "not a @flow")
    return found
