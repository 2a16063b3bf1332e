"""Artifacts of a flow and its task: markdown, table, link and progress, keyed versions
(the latest wins), ids as UUIDs, and a key Prefect's rule refuses.
Prefect: docs.prefect.io/v3/develop/artifacts, /v3/api-ref/python/prefect-artifacts
(keys: lowercase letters, numbers and dashes; each function returns the artifact's UUID)."""
from uuid import UUID

from prefect import flow, task
from prefect.artifacts import (
    Artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)


@task
def load_data():
    progress_id = create_progress_artifact(progress=0.0, key="load-progress")
    update_progress_artifact(artifact_id=progress_id, progress=100.0)
    return progress_id


@flow
def weekly_report(week):
    create_markdown_artifact(markdown=f"# Sales, week {week}\n\nUp **4%**.",
                             key="sales-report", description="the weekly numbers")
    create_table_artifact(table=[{"city": "Oslo", "sales": 3}, {"city": "Lima", "sales": 5}],
                          key="sales-by-city")
    create_link_artifact(link="https://example.com/sales.csv", link_text="raw data")
    return load_data()


if __name__ == "__main__":
    first = weekly_report(1)
    print(isinstance(first, UUID))
    weekly_report(2)
    latest = Artifact.get("sales-report")
    print(latest.type)
    print(latest.description)
    print(latest.data.splitlines()[0])
    print(Artifact.get("sales-by-city").type)
    print(Artifact.get("no-such-artifact"))
    try:
        create_markdown_artifact(markdown="x", key="Sales_Report")
    except ValueError:
        print("bad key refused")
# expect:
# True
# markdown
# the weekly numbers
# # Sales, week 2
# table
# None
# bad key refused
