"""States as objects: future.state and return_state=True give a State with .name, .type,
.message, .is_completed() / .is_failed(), .result(raise_on_failure=); a flow body returning
Failed(message=...) ends Failed with that message, Completed(data=x) ends Completed with x.
Prefect: docs.prefect.io/v3/concepts/states ("Return custom states", "Final state
determination"), /v3/api-ref/python/prefect-states."""
from prefect import flow, task
from prefect.states import Completed, Failed, StateType


@task
def add(x, y):
    return x + y


@task
def boom():
    raise ValueError("task broke")


@flow
def check(n):
    if n < 0:
        return Failed(message="n must be >= 0")
    return Completed(data=add(n, 1))


@flow
def futures_states():
    ok = add.submit(1, 2)
    ok.wait()
    print(ok.state.is_completed(), ok.state.name, ok.state.type == StateType.COMPLETED)
    print(ok.state.result())
    bad = boom.submit()
    bad.wait()
    print(bad.state.is_failed(), bad.state.name, bad.state.is_completed())
    print(type(bad.state.result(raise_on_failure=False)).__name__)
    return "done"


if __name__ == "__main__":
    failed = check(-1, return_state=True)
    print(failed.is_failed(), failed.name, failed.type == StateType.FAILED)
    print(failed.message)
    completed = check(2, return_state=True)
    print(completed.is_completed(), completed.name, completed.result())
    print(futures_states())
# expect:
# True Failed True
# n must be >= 0
# True Completed 3
# True Completed True
# 3
# True Failed False
# ValueError
# done
