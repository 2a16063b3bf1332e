"""Artifacts on the dashboard's run pages in a real browser: markdown rendered with its raw
HTML shown as text, a table as an HTML table, links (http/https only) and a progress bar,
on the flow run's page and on the task run's page."""

from __future__ import annotations

from typing import Any

import pytest

from tasks_core import flow, task
from tasks_core.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from tasks_core.process_runtime import get_runtime

pytestmark = pytest.mark.usefixtures("tc_env")

MARKDOWN = """# Sales report

Up **4%** this week. <script>window.pwned = 1</script> <img src=x onerror="window.pwned=2">

[bad](javascript:window.pwned=3)
"""


@task
def load() -> str:
    artifact_id = create_progress_artifact(0, key="load-progress", description="*loading*")
    update_progress_artifact(artifact_id, 62.5)
    return str(artifact_id)


@flow
def reporting() -> str:
    create_markdown_artifact(MARKDOWN, key="sales-report")
    create_table_artifact([{"city": "Oslo", "n": 3}, {"city": "<b>Lima</b>", "n": 5}],
                          key="cities")
    create_link_artifact("https://example.com/data.csv", link_text="the data")
    create_link_artifact("javascript:window.pwned=4", link_text="not a link")
    return load()


def test_flow_and_task_run_pages_show_artifacts_safely(start_server: Any,
                                                       browser_page: Any) -> None:
    server = start_server()
    progress_id = reporting()
    progress = get_runtime().artifacts.get(progress_id)
    assert progress is not None and progress.flow_run_id and progress.task_run_id
    get_runtime().reporter.flush()
    page = browser_page
    page.goto(f"{server.url}/flow-runs/{progress.flow_run_id}")
    section = page.locator("#artifacts")
    assert section.locator("article.artifact").count() == 5

    markdown = section.locator(".artifact-markdown")
    assert markdown.locator("h1").inner_text() == "Sales report"
    assert markdown.locator("strong").inner_text() == "4%"
    assert "<script>window.pwned = 1</script>" in markdown.inner_text()  # shown as text
    assert markdown.locator("script, img").count() == 0
    assert markdown.locator("a[href^='javascript']").count() == 0

    table = section.locator("table.artifact-table")
    assert table.locator("th").all_inner_texts() == ["city", "n"]
    assert table.locator("tbody tr").nth(1).locator("td").all_inner_texts() == [
        "<b>Lima</b>", "5"]

    links = section.locator("a.artifact-link")
    assert links.count() == 1
    assert links.get_attribute("href") == "https://example.com/data.csv"
    assert links.inner_text() == "the data"
    assert "not a link" in section.locator(".artifact-link-text").inner_text()

    bar = section.locator(".artifact-progress")
    assert bar.get_attribute("aria-valuenow") == "62.5"
    assert section.locator(".artifact-progress-bar").evaluate(
        "el => el.style.width") == "62.5%"
    assert section.locator(".artifact-progress").locator("xpath=..").locator(
        ".artifact-description em").inner_text() == "loading"
    assert page.evaluate("window.pwned") is None

    page.goto(f"{server.url}/task-runs/{progress.task_run_id}")
    own = page.locator("#artifacts article.artifact")
    assert own.count() == 1 and own.get_attribute("data-artifact-id") == progress_id
    assert own.locator(".artifact-progress-value").inner_text() == "62.5%"
