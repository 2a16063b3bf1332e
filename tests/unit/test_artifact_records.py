"""Artifact checks and display helpers (pure: no Redis)."""

from __future__ import annotations

import math

import pytest

from tasks_core.artifact_records import (
    Artifact,
    check_key,
    check_progress,
    check_table,
    data_json,
    is_artifact_id,
    table_rows,
)
from tasks_core.dashboard.artifacts import artifact_views, render_markdown, safe_link
from tasks_core.errors import ValidationError


@pytest.mark.parametrize("key", ["report", "daily-report-2", "a", "x" * 200])
def test_valid_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["Report", "daily_report", "a.b", "", "x" * 201, "é"])
def test_invalid_keys_are_refused_naming_the_rule(key: str) -> None:
    with pytest.raises(ValidationError, match="lower-case letters, digits and dashes"):
        check_key(key)


@pytest.mark.parametrize("value", [-0.1, 100.5, math.nan, "50", True, None])
def test_progress_outside_0_to_100_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="from 0 to 100"):
        check_progress(value)  # type: ignore[arg-type]


def test_tables_of_three_shapes_and_nan_as_null() -> None:
    assert check_table({"a": [1, math.nan]}) == {"a": [1, None]}
    assert table_rows({"a": [1, 2], "b": [3]}) == (["a", "b"], [[1, 3], [2, None]])
    assert table_rows([{"a": 1}, {"b": 2}]) == (["a", "b"], [[1, None], [None, 2]])
    assert table_rows([[1, 2], [3, 4]]) == (None, [[1, 2], [3, 4]])
    with pytest.raises(ValidationError, match="dict of columns"):
        check_table([{"a": 1}, [1]])


def test_data_over_the_limit_or_not_json_is_refused() -> None:
    assert data_json("abc", 5) == '"abc"'
    with pytest.raises(ValidationError, match="over the limit of 4"):
        data_json("abc", 4)
    with pytest.raises(ValidationError, match="not JSON"):
        data_json({1, 2}, 100)


def test_ids_are_told_from_keys() -> None:
    assert is_artifact_id("0b6f8f3e-4a2b-4c1d-9e8f-123456789abc")
    assert not is_artifact_id("daily-report") and not is_artifact_id("0b6f8f3e")


def test_markdown_renders_without_raw_html_or_script_links() -> None:
    html = str(render_markdown("**hi** <script>x()</script> [a](javascript:x()) "
                               "[b](https://e.com)"))
    assert "<strong>hi</strong>" in html and "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://e.com"' in html and 'href="javascript' not in html


@pytest.mark.parametrize(("url", "kept"), [
    ("https://example.com/x", True), ("http://e.com", True), ("javascript:alert(1)", False),
    ("data:text/html,x", False), ("s3://bucket/key", False), ("https://", False)])
def test_only_http_and_https_links_are_clickable(url: str, kept: bool) -> None:
    assert (safe_link(url) is not None) is kept


def test_views_of_each_type() -> None:
    views = artifact_views([
        Artifact(type="progress", data=150), Artifact(type="link", data={"link": "ftp://x"}),
        Artifact(type="table", data=[[1, None, {"a": 1}]], description="*d*")])
    assert views[0].percent == 100.0
    assert views[1].href is None and views[1].text == "ftp://x"
    assert views[2].rows == [["1", "", '{"a": 1}']] and "<em>d</em>" in str(views[2].description)
