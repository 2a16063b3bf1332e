"""Redis is reached only through `tasks_core/store/` (ARCHITECTURE.md, "One engine, one store").

Every module of tasks_core/, workers/ and beat/ outside the store is parsed, and fails this
test when it touches the Redis client (an attribute named `client`, `pipeline`,
`register_script`, `eval`, `evalsha` or `pubsub`), imports redis, or holds inline Lua (a
string with `redis.call(`). Inside the store, every Lua script lives in its own `.lua` file
with a header naming its KEYS and ARGV and what it returns.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("tasks_core", "workers", "beat")
STORE = "tasks_core/store/"

ALLOWED = {
    "tasks_core/process_runtime.py": "builds the Redis client and hands it to the stores",
    "tasks_core/errors.py": "StoreUnavailable subclasses redis.ConnectionError",
}

# Files the lead is rewriting on main (the run engine) while the store boundary is drawn on
# this branch; their Redis calls move into the store after the merge. Empty this list then:
# from that point on the boundary holds everywhere. An entry ending in "/" is a folder.
LEAD_OWNED: tuple[str, ...] = ()  # nothing is left: every module goes through the store

CLIENT_ATTRIBUTES = {"client", "pipeline", "register_script", "eval", "evalsha", "pubsub"}
LUA_MARKERS = ("redis.call(", "redis.pcall(")


def _modules() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for package in PACKAGES
                  for path in (ROOT / package).rglob("*.py"))


def _lead_owned(path: str) -> bool:
    return any(path == entry or (entry.endswith("/") and path.startswith(entry))
               for entry in LEAD_OWNED)


def _outside_store() -> list[str]:
    return [p for p in _modules() if not p.startswith(STORE) and p not in ALLOWED
            and not _lead_owned(p)]


def _inline_lua(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and any(marker in node.value for marker in LUA_MARKERS)]


def redis_uses(source: str) -> list[str]:
    """Every way `source` reaches Redis itself: ``line: what``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in CLIENT_ATTRIBUTES:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name == "redis" or a.name.startswith("redis.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "redis" or node.module.startswith("redis.")):
            found.append(f"{node.lineno}: from {node.module} import ...")
    found += [f"{line}: inline Lua" for line in _inline_lua(tree)]
    return found


@pytest.mark.parametrize("path", _outside_store())
def test_no_redis_outside_the_store(path: str) -> None:
    uses = redis_uses((ROOT / path).read_text())
    assert not uses, (f"{path} reaches Redis itself ({'; '.join(uses)}): add a method to a "
                      "store class in tasks_core/store/ (runtime: rt.<store>) and call it")


@pytest.mark.parametrize("path", [p for p in _modules() if p.startswith(STORE)])
def test_store_scripts_live_in_lua_files(path: str) -> None:
    lines = _inline_lua(ast.parse((ROOT / path).read_text()))
    assert not lines, (f"{path} holds inline Lua (line {lines}): put the script in its own "
                       ".lua file with a KEYS/ARGV header and load it with load_lua()")


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / STORE).glob("*.lua")))
def test_every_lua_file_opens_with_its_keys_and_arguments(script: str) -> None:
    text = (ROOT / STORE / script).read_text()
    header = [line for line in text.splitlines() if line.startswith("--")]
    assert text.startswith(f"-- {script}:"), f"{script} must open with '-- {script}: ...'"
    assert any("KEYS[" in line for line in header), f"{script}: header names no KEYS"
    assert any("Returns" in line for line in header), f"{script}: header says no return"


def test_the_sdk_does_not_import_the_cli() -> None:
    offenders = []
    for path in _modules():
        if path.startswith(("tasks_core/cli/", "tasks_core/demo/")):
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path}:{node.lineno}" for name in names
                          if name == "tasks_core.cli" or name.startswith("tasks_core.cli.")]
    assert not offenders, f"the SDK imports the CLI: {offenders}"


def test_the_check_catches_what_it_should() -> None:
    source = '''
import redis
from redis.exceptions import ResponseError
rt.client.get("k")
with store.client.pipeline() as pipe: pass
rt.client.eval(SCRIPT, 1, "k")
LUA = "return redis.call('GET', KEYS[1])"
'''
    found = sorted(use.split(": ", 1)[1] for use in redis_uses(source))
    assert found == sorted(["import redis", "from redis.exceptions import ...", ".client",
                            ".client", ".pipeline", ".client", ".eval", "inline Lua"])
    clean = "from tasks_core.store.connection import StoreError\nrt.due.read(1.0, 10)\n"
    assert redis_uses(clean) == []
