"""Tasks the integration tests send to real workers."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import date, datetime, timedelta
from typing import Any

from celery.signals import task_failure, task_postrun, task_retry, task_success

from tasks_core import get_run_logger, task
from tasks_core.process_runtime import get_runtime


def _counter(name: str) -> int:
    rt = get_runtime()
    return int(rt.client.incr(f"{rt.settings.key_prefix}:test-counter:{name}"))


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def noop() -> None:
    return None


@task(retries=2, retry_delay_seconds=0.05)
def flaky(name: str, succeed_on: int) -> int:
    count = _counter(name)
    if count < succeed_on:
        raise ValueError(f"attempt {count} failed on purpose")
    return count


@task(retries=1, retry_delay_seconds=2)
def slow_retry(name: str) -> int:
    """Fails its first attempt; the retry comes two seconds later."""
    count = _counter(name)
    if count < 2:
        raise ValueError(f"attempt {count} failed on purpose")
    return count


@task
def divide(x: int, y: int) -> float:
    return x / y


@task(timeout_seconds=0.5)
def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


@task
def nap(seconds: float) -> str:
    """Sleeps, touching nothing (no timeout, no Redis write of its own)."""
    time.sleep(seconds)
    return "rested"


@task
def record_pid_and_sleep(key: str, seconds: float) -> str:
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(seconds)
    return "done"


@task(retries=1)
def record_pid_and_sleep_retry(key: str, seconds: float) -> str:
    rt = get_runtime()
    if rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid(), nx=True):
        time.sleep(seconds)  # the first attempt sleeps (and is killed); the retry returns
    return "survived"


@task(retries=1)
def fail_then_record_pid_and_sleep(key: str, seconds: float) -> str:
    """The first attempt fails; the retry (a Retrying run) records its pid and sleeps."""
    if _counter(key) < 2:
        raise ValueError("the first attempt fails on purpose")
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(seconds)
    return "done"


@task
def not_json() -> object:
    return object()


@task
def huge(n: int) -> str:
    return "x" * n


@task
def count_calls(name: str) -> int:
    return _counter(name)


@task
def outer(x: int) -> int:
    return add(x, 1) * 10


@task
async def async_double(x: int) -> int:
    return x * 2


@task(log_prints=True)
def chatty(n: int) -> int:
    """Logs through the run logger and prints n lines (captured: log_prints)."""
    logger = get_run_logger()
    logger.info("starting %d", n)
    for i in range(n):
        print(f"line {i}")
    logger.warning("done")
    return n


@task(cache_policy="inputs")
def cached_square(name: str, x: int) -> int:
    _counter(name)
    return x * x


@task(cache_key_fn=lambda context, parameters: f"by-name:{parameters['name']}",
      cache_expiration=1)
def cached_by_name(name: str, x: int) -> int:
    _counter(name)
    return x


# -- one engine: the same faults on every path (tests/integration/test_one_engine.py) -----


class Unprintable(Exception):
    """An exception whose text cannot be read: str() raises."""

    def __str__(self) -> str:
        raise RuntimeError("str() of Unprintable fails on purpose")


@task
def raise_unprintable() -> None:
    raise Unprintable()


@task
async def raise_unprintable_async() -> None:
    raise Unprintable()


@task
def raise_unencodable() -> None:
    raise ValueError("bad byte \udc80 in the message")


@task(cache_policy="inputs", cache_expiration=30)
def cached_count(name: str) -> int:
    return _counter(name)


@task
def shout(message: str) -> str:
    """Prints; its own log_prints is unset, so it inherits the enclosing flow's."""
    print(message)
    return message


@task(timeout_seconds=1)
async def block_async(seconds: float) -> str:
    time.sleep(seconds)  # blocks the event loop: asyncio.timeout cannot interrupt it
    return "woke"


@task
def year(day: datetime) -> int:
    """Gets a datetime whichever way it is called (in process, or from JSON on a worker)."""
    assert isinstance(day, datetime), type(day)
    return day.year


@task
def tomorrow(day: date) -> date:
    return day + timedelta(days=1)


@task
def finish_and_count(name: str) -> str:
    """Counts bodies that ran to their end (the last thing it does)."""
    _counter(f"finished:{name}")
    return name


def _state_at_postrun(task_id: str | None = None, args: Any = None, **_: object) -> None:
    """Celery's task_postrun fires after the task returns and before a late ack: record the
    state of its runs as it is in Redis at that moment (tests: the outcome is written
    first). A `.map()` chunk's message carries its run ids as its first argument."""
    if not task_id or "." in task_id:
        return
    run_ids = args[0] if args and isinstance(args[0], list) else [task_id]
    rt = get_runtime()
    prefix = rt.settings.key_prefix
    for run_id in run_ids:
        state = rt.client.hget(f"{prefix}:run:{run_id}", "state")
        rt.client.hset(f"{prefix}:test-postrun", run_id, str(state))


task_postrun.connect(_state_at_postrun, weak=False)


@task
def echo(value: object) -> object:
    """Returns its argument itself (in process: the very object)."""
    return value


@task
def countdown_generator(n: int) -> Any:
    """Returns a generator (in process: the caller must get it unconsumed)."""
    return (i for i in range(n, 0, -1))


@task
def huge_int(digits: int) -> int:
    return 10 ** digits


def _record_signal(kind: str) -> Any:
    """A receiver of Celery signal `kind` that records, per Celery task id, the exception
    (or result) it was sent with: `<prefix>:test-signals` HASH "<task id>:<kind>" -> text."""
    def receiver(sender: Any = None, **fields: Any) -> None:
        request = fields.get("request")
        task_id = fields.get("task_id") or getattr(request, "id", None)
        if task_id is None and sender is not None:
            task_id = getattr(sender.request, "id", None)
        detail = fields.get("exception") or getattr(fields.get("reason"), "exc", None)
        if detail is None:
            detail = fields.get("result")
        rt = get_runtime()
        rt.client.hset(f"{rt.settings.key_prefix}:test-signals", f"{task_id}:{kind}",
                       repr(detail)[:200])
    return receiver


for _kind, _signal in (("failure", task_failure), ("retry", task_retry),
                       ("success", task_success)):
    _signal.connect(_record_signal(_kind), weak=False)




# -- state change hooks (tests/integration/test_hooks.py) ----------------------------------

HOOKS_KEY = "test-hooks"


def record_hook(option: str) -> Any:
    """A hook that appends what it was called with (JSON) to the test's hook list in
    Redis, whichever process calls it (read back with `hook_calls`)."""
    def hook(definition: Any, run: Any, state: Any) -> None:
        rt = get_runtime()
        rt.client.rpush(f"{rt.settings.key_prefix}:{HOOKS_KEY}", json.dumps({
            "option": option, "definition": definition.name, "id": run.id, "kind": run.kind,
            "name": run.name, "state": str(state.name), "attempt": run.attempt,
            "parameters": run.parameters, "tags": run.tags, "message": state.message,
            "parent_flow_run_id": run.parent_flow_run_id,
            "deployment_id": run.deployment_id, "same_state": run.state is state,
            "value": repr(state.data), "exception": repr(state.exception),
            "recorded": rt.client.hget(f"{rt.settings.key_prefix}:run:{run.id}", "state"),
            "pid": os.getpid()}))

    hook.__qualname__ = f"record_hook.{option}"
    return hook


def hook_calls(name: str | None = None) -> list[dict[str, Any]]:
    """Every recorded hook call (of runs named `name`), in order."""
    rt = get_runtime()
    calls = [json.loads(item) for item in
             rt.client.lrange(f"{rt.settings.key_prefix}:{HOOKS_KEY}", 0, -1)]
    return [c for c in calls if name is None or c["name"] == name]


def failing_hook(definition: Any, run: Any, state: Any) -> None:
    raise RuntimeError(f"hook failed on purpose for {run.id}")


FINAL = ("on_completion", "on_failure", "on_crashed", "on_cancellation")
TASK_HOOKS: dict[str, Any] = {option: [record_hook(option)] for option in FINAL}


@task(**TASK_HOOKS, tags=["hooked"])
def hooked_divide(x: int, y: int) -> float:
    return x / y


@task(**TASK_HOOKS)
async def hooked_async_divide(x: int, y: int) -> float:
    return x / y


@task(retries=2, retry_delay_seconds=0.05, **TASK_HOOKS)
def hooked_flaky(name: str, succeed_on: int) -> int:
    count = _counter(name)
    if count < succeed_on:
        raise ValueError(f"attempt {count} failed on purpose")
    return count


@task(cache_policy="inputs", **TASK_HOOKS)
def hooked_cached(name: str) -> str:
    return name


@task(on_completion=[failing_hook, record_hook("on_completion")],
      on_failure=[failing_hook, record_hook("on_failure")])
def hook_raises(fail: bool) -> str:
    if fail:
        raise ValueError("body failed on purpose")
    return "ok"


@task(**TASK_HOOKS)
def hooked_pid_and_sleep(key: str, seconds: float) -> str:
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:pid:{key}", os.getpid())
    time.sleep(seconds)
    return "done"


@task(**TASK_HOOKS)
def hooked_interrupted() -> None:
    raise KeyboardInterrupt


@task
def decorated_hooks(x: int) -> int:
    return 10 // x


decorated_hooks.on_completion(record_hook("on_completion"))
decorated_hooks.on_failure(record_hook("on_failure"))


@task(on_cancellation=[record_hook("on_cancellation")])
async def await_long(key: str, seconds: float) -> str:
    """Marks that it started, then awaits one long `asyncio.sleep` (its loop blocks in
    select all that time); counts that it finished."""
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:started:{key}", os.getpid())
    await asyncio.sleep(seconds)
    _counter(f"finished:{key}")
    return key


@task(retries=3, on_cancellation=[record_hook("on_cancellation")])
def spin(key: str, seconds: float) -> str:
    """Marks that it started (its pid), then waits in short sleeps, so a cancel request
    stops it between two; counts that it finished. Retries, to show a cancel is not."""
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:started:{key}", os.getpid())
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.02)
    _counter(f"finished:{key}")
    return key


@task
def block(key: str, seconds: float) -> str:
    """Marks that it started, then blocks in one long C call (only a kill stops it)."""
    rt = get_runtime()
    rt.client.set(f"{rt.settings.key_prefix}:started:{key}", os.getpid())
    time.sleep(seconds)
    _counter(f"finished:{key}")
    return key
