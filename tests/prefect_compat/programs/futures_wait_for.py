"""Futures and ordering: a future passed to a direct call or to .submit() is resolved
first; wait_for=[...] orders runs on submit and on direct calls; allow_failure(f) lets a
downstream run start after f failed; a downstream of a failed upstream does not complete;
quote(x) passes x without resolving the futures inside it. Prefect:
docs.prefect.io/v3/how-to-guides/workflows/run-work-concurrently, src/prefect/utilities/
annotations.py (allow_failure, quote)."""
from prefect import allow_failure, flow, quote, task


@task
def add(x, y):
    return x + y


@task
def boom():
    raise ValueError("upstream broke")


@task
def after():
    return "ran anyway"


@task
def looks_like_future(items):
    return hasattr(items[0], "result")


@flow
def pipeline():
    three = add.submit(1, 2)
    print(add(three, 10))
    print(add.submit(three, 100).result())
    print(add([three][0], 1))
    bad = boom.submit()
    print(after.submit(wait_for=[allow_failure(bad)]).result())
    print(after(wait_for=[three]))
    blocked = after.submit(wait_for=[bad])
    blocked.wait()
    print(blocked.state.is_completed())
    print(looks_like_future(quote([three])))
    return "done"


if __name__ == "__main__":
    print(pipeline())
# expect:
# 13
# 103
# 4
# ran anyway
# ran anyway
# False
# True
# done
