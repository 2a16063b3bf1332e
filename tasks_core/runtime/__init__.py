"""Facts about the run executing here, as Prefect's ``prefect.runtime`` gives them.

    from tasks_core.runtime import flow_run, task_run, deployment

    @flow
    def etl(day: str) -> None:
        print(flow_run.id, flow_run.name, flow_run.parameters)   # {'day': ...}
        print(deployment.name)                                  # None when not deployed

Three modules whose attributes are read when asked for (a module ``__getattr__``, as
Prefect's are; docs.prefect.io/v3/concepts/runtime-context):

- `flow_run`: ``id``, ``name``, ``flow_name``, ``parameters``, ``tags``,
  ``scheduled_start_time``, ``deployment_id``, ``parent_flow_run_id``, ``run_count``;
  inside a task run, the flow run that task belongs to.
- `task_run`: ``id``, ``name``, ``task_name``, ``parameters``, ``tags``, ``run_count``.
- `deployment`: ``id``, ``name``, ``flow_run_id``, ``parameters`` (the run's parameters),
  ``version``.

They hold on every path (a direct call, a flow's task runner, a worker's run, a
deployment's flow run): the run in this context (`engine.context.current_run`) is looked up
once (`engine.run_lookup`). Outside a run each gives Prefect's documented empty value: None,
``{}`` for parameters, ``[]`` for tags, 0 for run_count, and the current time (UTC) for
``flow_run.scheduled_start_time``. An unknown attribute raises AttributeError naming it.

What differs on purpose: a run's ``name`` is its ``task_run_name`` / ``flow_run_name``
when the task or flow (or run_deployment) gave one, else its task or flow name (no
generated names like ``crimson-owl``); Prefect's ``PREFECT__RUNTIME__...`` environment
overrides are not read.
"""

from tasks_core.runtime import deployment, flow_run, task_run

__all__ = ["deployment", "flow_run", "task_run"]
