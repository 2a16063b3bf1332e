"""Cache policies by Prefect's import paths: INPUTS + TASK_SOURCE caches by inputs,
`INPUTS - "debug"` ignores a parameter, NONE never caches, task_input_hash as a
cache_key_fn, exponential_backoff from prefect.tasks.
Prefect: docs.prefect.io/v3/concepts/caching, /v3/how-to-guides/workflows/cache-workflow-steps,
/v3/how-to-guides/workflows/retries."""
from prefect import flow, task
from prefect.cache_policies import INPUTS, NONE, TASK_SOURCE
from prefect.tasks import exponential_backoff, task_input_hash

calls = []


@task(cache_policy=INPUTS + TASK_SOURCE)
def square(x):
    calls.append("square")
    return x * x


@task(cache_policy=INPUTS - "debug")
def fetch(url, debug=False):
    calls.append("fetch")
    return url.upper()


@task(cache_policy=NONE)
def never(x):
    calls.append("never")
    return x


@task(cache_key_fn=task_input_hash)
def hashed(x):
    calls.append("hashed")
    return x + 1


@task(retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=0.1))
def shaky():
    calls.append("shaky")
    if calls.count("shaky") < 3:
        raise ValueError("not yet")
    return "ok"


@flow
def main():
    print(square(3), square(3), square(4))
    print(fetch("a", debug=True), fetch("a", debug=False))
    print(never(1), never(1))
    print(hashed(1), hashed(1))
    print(shaky())


if __name__ == "__main__":
    main()
    for name in ("square", "fetch", "never", "hashed", "shaky"):
        print(name, calls.count(name))
# expect:
# 9 9 16
# A A
# 1 1
# 2 2
# ok
# square 2
# fetch 1
# never 2
# hashed 1
# shaky 3
