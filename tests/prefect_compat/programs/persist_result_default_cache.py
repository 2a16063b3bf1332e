"""persist_result=True turns caching on with the DEFAULT policy (inputs, task source and
the flow run): the same call twice in one flow run runs once; a new flow run runs again.
Prefect: docs.prefect.io/v3/how-to-guides/workflows/cache-workflow-steps, /v3/advanced/results."""
from prefect import flow, task

calls = []


@task(persist_result=True)
def double(x):
    calls.append(x)
    return 2 * x


@flow
def twice():
    return double(5) + double(5)


if __name__ == "__main__":
    print(twice())
    print(len(calls))
    print(twice())
    print(len(calls))
# expect:
# 20
# 1
# 20
# 2
