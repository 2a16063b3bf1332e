"""A flow calling tasks in process, and return_state=True giving the final State.
Prefect: docs.prefect.io/v3/develop/write-flows, /v3/develop/manage-states."""
from prefect import flow, task


@task
def add(x, y):
    return x + y


@flow
def total(n):
    return sum(add(i, i) for i in range(n))


if __name__ == "__main__":
    print(total(3))
    state = total(2, return_state=True)
    print(state.is_completed())
    print(state.result())
# expect:
# 6
# True
# 2
