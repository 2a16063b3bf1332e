"""Variables (`tasks_core.variables.Variable`) on the real test Redis: set, get, unset as
Prefect documents them, shared with another process, refused bad input; and
``/api/variables`` over real HTTP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import httpx
import pytest

from tasks_core.errors import ValidationError
from tasks_core.variables import Variable, VariableExists

pytestmark = pytest.mark.usefixtures("tc_env")


def test_set_get_overwrite_unset() -> None:
    stored = Variable.set("answer", {"x": [1, 2], "ok": True}, tags=["cfg"])
    assert stored.name == "answer" and stored.tags == ["cfg"]
    assert Variable.get("answer") == {"x": [1, 2], "ok": True}
    with pytest.raises(VariableExists, match="'answer' already exists; use overwrite=True"):
        Variable.set("answer", 1)
    assert isinstance(VariableExists("x"), ValueError)  # Prefect raises a ValueError
    again = Variable.set("answer", 43, overwrite=True)
    assert Variable.get("answer") == 43
    assert again.created == stored.created and again.updated is not None
    assert again.updated >= stored.updated  # type: ignore[operator]
    assert Variable.unset("answer") is True
    assert Variable.unset("answer") is False
    assert Variable.get("answer") is None
    assert Variable.get("answer", default="n/a") == "n/a"


def test_falsy_values_are_values_not_defaults() -> None:
    for name, value in (("zero", 0), ("empty", ""), ("no", False), ("none", None)):
        Variable.set(name, value)
        assert Variable.get(name, default="default") == value


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("Upper", 1, "variable name 'Upper' is not valid"),
    ("with space", 1, "lowercase letters, digits"),
    ("", 1, "variable name '' is not valid"),
    ("x" * 256, 1, "1 to 255"),
    ("ok", {1, 2}, "variable value must be JSON"),
    ("ok", float("nan"), "variable value must be JSON"),
    ("ok", "y" * 5000, "over the limit of 5000"),
])
def test_bad_names_and_values_are_refused_naming_what_is_wrong(name: str, value: Any,
                                                               fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Variable.set(name, value)
    assert Variable.get(name) is None  # nothing stored


def test_the_longest_name_and_value_are_taken() -> None:
    Variable.set("n" * 255, "v" * 4998)  # 4998 characters + 2 quotes = 5000
    assert Variable.get("n" * 255) == "v" * 4998


def test_async_spellings() -> None:
    async def main() -> tuple[Any, Any, bool]:
        await Variable.aset("async_var", [1, 2])
        value = await Variable.aget("async_var")
        missing = await Variable.aget("nope", default=7)
        return value, missing, await Variable.aunset("async_var")

    assert asyncio.run(main()) == ([1, 2], 7, True)


def test_in_async_code_the_plain_spellings_are_awaitable_as_prefects() -> None:
    async def main() -> tuple[Any, Any, Any, Any]:
        stored = await Variable.set("dispatch", {"a": 1})
        value = await Variable.get("dispatch")
        blocking = Variable.get("dispatch", _sync=True)  # forced: no coroutine
        return stored.name, value, blocking, await Variable.unset("dispatch")

    assert asyncio.run(main()) == ("dispatch", {"a": 1}, {"a": 1}, True)
    assert Variable.get("dispatch") is None  # outside an event loop: a plain call


def test_a_sync_task_called_by_an_async_flow_gets_plain_calls() -> None:
    from tasks_core import flow, task

    @task
    def read_it() -> Any:
        return Variable.get("in_flow")  # sync code, even on the flow's event loop thread

    @flow
    async def reads() -> Any:
        await Variable.set("in_flow", [1])
        return read_it()

    assert asyncio.run(reads()) == [1]


def test_another_process_sees_the_same_variables(tc_env: dict[str, Any]) -> None:
    Variable.set("shared", {"from": "here"})
    code = ("from tasks_core.variables import Variable\n"
            "print(Variable.get('shared'))\n"
            "Variable.set('back', 'from there')\n")
    done = subprocess.run([sys.executable, "-c", code], env=tc_env["env"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'from': 'here'}"
    assert Variable.get("back") == "from there"


def test_only_one_of_two_racing_creates_wins() -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(i: int) -> bool:
        try:
            Variable.set("race", i)
        except VariableExists:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(create, range(8)))
    assert wins.count(True) == 1
    assert Variable.get("race") == wins.index(True)


def test_the_api_routes(start_server: Any) -> None:
    server = start_server()
    api = f"{server.url}/api/variables"
    put = httpx.put(f"{api}/region", json={"value": {"name": "eu"}, "tags": ["geo"]})
    assert put.status_code == 200, put.text
    assert put.json()["value"] == {"name": "eu"}
    assert Variable.get("region") == {"name": "eu"}  # the same store as the SDK
    assert httpx.put(f"{api}/region", json={"value": 2}).json()["value"] == 2  # replaces
    assert [v["name"] for v in httpx.get(api).json()] == ["region"]
    assert httpx.get(f"{api}/region").json()["tags"] == []
    bad = httpx.put(f"{api}/Bad", json={"value": 1})
    assert bad.status_code == 422 and "variable name 'Bad' is not valid" in bad.text
    assert httpx.put(f"{api}/big", json={"value": "z" * 6000}).status_code == 422
    assert httpx.delete(f"{api}/region").status_code == 204
    assert httpx.get(f"{api}/region").status_code == 404
    assert httpx.delete(f"{api}/region").status_code == 404
