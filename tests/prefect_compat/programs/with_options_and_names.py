"""task.with_options / flow.with_options give copies with options changed, the original
unchanged; task_run_name and flow_run_name as templates over the parameters or callables.
Prefect: src/prefect/tasks.py (Task.with_options, task_run_name), src/prefect/flows.py
(Flow.with_options), docs.prefect.io/v3/how-to-guides/workflows/custom-metadata."""
from prefect import flow, task
from prefect.runtime import flow_run, task_run

attempts = []


@task(task_run_name="flaky-{label}")
def flaky(label):
    attempts.append(label)
    if attempts.count(label) == 1:
        raise RuntimeError("first attempt fails")
    return task_run.name


def week_name():
    return "weekly-report"


@task(task_run_name=week_name)
def named():
    return task_run.name


@flow(flow_run_name="report-{region}")
def report(region: str):
    return flow_run.name


if __name__ == "__main__":
    retrying = flaky.with_options(retries=1)
    print(retrying("a"))
    try:
        flaky("b")
    except RuntimeError as exc:
        print("original:", exc)
    print(named())
    print(report("eu"))
    renamed = report.with_options(name="renamed-report", flow_run_name="r-{region}")
    print(renamed("us"))
    print(report.name, renamed.name)
# expect:
# flaky-a
# original: first attempt fails
# weekly-report
# report-eu
# r-us
# report renamed-report
