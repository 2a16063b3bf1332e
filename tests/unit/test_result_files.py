"""Results outside Redis (engine.result_files): spilled files and not-persisted markers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks_core.engine.result_files import stored_json
from tasks_core.engine.results import NOT_PERSISTED, decode_result
from tasks_core.errors import ConfigurationError, ResultError
from tasks_core.filesystems import LocalFileSystem
from tasks_core.result_options import caching_with_results, storage_option


def test_small_results_stay_inline_large_ones_go_to_a_file(tmp_path: Path) -> None:
    assert stored_json("task 't'", [1, 2], 100, str(tmp_path), "r1") == "[1,2]"
    big = list(range(100))
    marker = stored_json("task 't'", big, 100, str(tmp_path / "sub"), "r2")
    assert len(marker) < 200 and (tmp_path / "sub" / "r2.json").exists()
    assert decode_result(marker) == big
    (tmp_path / "sub" / "r2.json").unlink()
    with pytest.raises(ResultError, match="cannot be read"):
        decode_result(marker)
    with pytest.raises(ResultError, match="has no JSON form"):
        stored_json("task 't'", object(), 100, str(tmp_path), "r3")


def test_not_persisted_marker_and_lookalikes() -> None:
    with pytest.raises(ResultError, match="not persisted"):
        decode_result(NOT_PERSISTED)
    plain = {"__tasks_core_result__": "x", "a": 1, "b": 2, "c": 3}
    assert decode_result(json.dumps(plain)) == plain  # more keys than a marker: a value


def test_storage_and_persist_options(tmp_path: Path) -> None:
    assert storage_option("t", LocalFileSystem(basepath=tmp_path)) == str(tmp_path)
    assert storage_option("t", str(tmp_path)) == str(tmp_path)
    with pytest.raises(ConfigurationError, match="cloud buckets are not offered"):
        storage_option("t", "s3://bucket")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigurationError, match="is not a folder"):
        storage_option("t", tmp_path / "file")
    assert caching_with_results("t", True, None, None) is not None  # DEFAULT
    assert caching_with_results("t", None, None, None) is None
    with pytest.raises(ConfigurationError, match="persist_result=False cannot cache"):
        caching_with_results("t", False, None, lambda c, p: "k")
