"""Mapping: keyword iterables map like positional ones, unmapped() passes a value whole, a
non-iterable is passed whole, .map() returns a future list with .result(); a length
mismatch is refused; prefect.futures.wait returns (done, not_done) and as_completed
yields every future. Prefect: docs.prefect.io/v3/how-to-guides/workflows/
run-work-concurrently, /v3/api-ref/python/prefect-futures."""
from prefect import flow, task, unmapped
from prefect.futures import as_completed, wait


@task
def add(x, y):
    return x + y


@task
def total(values, extra):
    return sum(values) + extra


@flow
def mapping():
    print(add.map(x=[1, 2, 3], y=[10, 20, 30]).result())
    print(add.map([1, 2, 3], unmapped(100)).result())
    print(add.map([1, 2], 5).result())
    print(total.map(unmapped([1, 2, 3]), [0, 10]).result())
    futures = add.map([1, 2, 3], [1, 1, 1])
    done, not_done = wait(futures)
    print(len(done), len(not_done))
    print(sorted(f.result() for f in as_completed(futures)))
    try:
        add.map([1, 2, 3], [1, 2])
    except Exception:
        print("length mismatch refused")


if __name__ == "__main__":
    mapping()
# expect:
# [11, 22, 33]
# [101, 102, 103]
# [6, 7]
# [6, 16]
# 3 0
# [2, 3, 4]
# length mismatch refused
