"""The tags context manager adds tags to the runs created inside it, on top of a task's own
tags. Prefect: src/prefect/context.py (tags), docs.prefect.io/v3/concepts/tasks."""
from prefect import flow, tags, task
from prefect.runtime import flow_run, task_run


@task(tags=["own"])
def leaf():
    return sorted(task_run.tags)


@flow
def tree():
    with tags("inner"):
        inside = leaf()
    return sorted(flow_run.tags), inside


if __name__ == "__main__":
    with tags("a", "b"):
        flow_tags, leaf_tags = tree()
    print(flow_tags)
    print(leaf_tags)
# expect:
# ['a', 'b']
# ['a', 'b', 'inner', 'own']
