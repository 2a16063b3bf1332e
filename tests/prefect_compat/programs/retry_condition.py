"""retry_condition_fn decides whether a failed task run is retried: False makes the failure
final at once, True retries it (up to `retries`).
Prefect: docs.prefect.io/v3/develop/write-tasks#custom-retry-behavior."""
from prefect import flow, task

calls = {"lookup": 0, "fetch": 0}


def retry_handler(task, task_run, state) -> bool:
    """Retry anything but a KeyError."""
    try:
        state.result()
    except KeyError:
        return False
    except Exception:
        return True
    return True


@task(retries=2, retry_condition_fn=retry_handler)
def lookup():
    calls["lookup"] += 1
    raise KeyError("missing")


@task(retries=2, retry_condition_fn=retry_handler)
def fetch():
    calls["fetch"] += 1
    if calls["fetch"] < 3:
        raise ConnectionError("flaky")
    return "fetched"


@flow
def main_flow():
    try:
        lookup()
    except KeyError:
        print("KeyError")
    print(calls["lookup"])
    print(fetch())
    print(calls["fetch"])


if __name__ == "__main__":
    main_flow()
# expect:
# KeyError
# 1
# fetched
# 3
