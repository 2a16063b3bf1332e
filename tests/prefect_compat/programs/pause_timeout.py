"""pause_flow_run with no resume within its timeout fails the flow run; pausing and
suspending where Prefect refuses to (in a task, a flow run without a deployment).
Prefect: docs.prefect.io/v3/advanced/interactive (pause_flow_run(timeout=...): "if the flow
run is not resumed within the timeout, it fails"), /v3/api-ref/python/prefect-flow_runs
(pause in a task and suspend without a deployment raise RuntimeError)."""
from prefect import flow, task
from prefect.flow_runs import pause_flow_run, suspend_flow_run


@flow
def waits_for_approval():
    pause_flow_run(timeout=1)
    return "approved"


@task
def pauses_in_a_task():
    pause_flow_run(timeout=5)


@flow
def task_pauses():
    pauses_in_a_task()


@flow
def suspends_without_deployment():
    suspend_flow_run(timeout=5)


if __name__ == "__main__":
    state = waits_for_approval(return_state=True)
    print(state.is_failed())
    for refused in (task_pauses, suspends_without_deployment):
        try:
            refused()
        except RuntimeError:
            print("RuntimeError")
    try:
        pause_flow_run(timeout=5)
    except RuntimeError:
        print("RuntimeError outside a flow")
# expect:
# True
# RuntimeError
# RuntimeError
# RuntimeError outside a flow
