"""job_variables and image= (tasks_core.job_variables): validation and the run environment."""

from __future__ import annotations

import os

import pytest

from tasks_core.errors import ConfigurationError
from tasks_core.job_variables import check_no_image, env_of, run_environment, with_env
from tasks_core.records import RunOptions


def test_env_is_the_one_job_variable() -> None:
    assert env_of("d", None) is None
    assert env_of("d", {"env": {}}) is None
    assert env_of("d", {"env": {"A": "1"}}) == {"A": "1"}
    with pytest.raises(ConfigurationError, match="'cpu', 'image' not supported"):
        env_of("d", {"env": {}, "image": "x", "cpu": 1})
    with pytest.raises(ConfigurationError, match="must be a dict like"):
        env_of("d", ["env"])
    with pytest.raises(ConfigurationError, match="'1A' is not an environment variable name"):
        env_of("d", {"env": {"1A": "x"}})
    with pytest.raises(ConfigurationError, match="'A' must be a str"):
        env_of("d", {"env": {"A": 1}})
    with pytest.raises(ConfigurationError, match="TASKS_CORE_\\* settings"):
        env_of("d", {"env": {"tasks_core_redis_url": "x"}})


def test_with_env_layers_run_over_deployment() -> None:
    base = with_env(RunOptions(retries=1), {"A": "1", "B": "1"})
    assert with_env(base, {"B": "2"}).env == {"A": "1", "B": "2"}
    assert with_env(base, None) is base and base.retries == 1


def test_image_build_push_refused() -> None:
    check_no_image("d", None, False, False)  # no image: nothing to refuse
    for kwargs in ({"image": "me/etl:1"}, {"build": True}, {"push": True}):
        with pytest.raises(ConfigurationError, match="no container images"):
            check_no_image("d", **kwargs)  # type: ignore[arg-type]


def test_run_environment_sets_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TC_UNIT_KEPT", "before")
    monkeypatch.delenv("TC_UNIT_NEW", raising=False)
    with run_environment({"TC_UNIT_KEPT": "during", "TC_UNIT_NEW": "x"}):
        assert os.environ["TC_UNIT_KEPT"] == "during" and os.environ["TC_UNIT_NEW"] == "x"
    assert os.environ["TC_UNIT_KEPT"] == "before" and "TC_UNIT_NEW" not in os.environ
    with pytest.raises(RuntimeError), run_environment({"TC_UNIT_NEW": "y"}):
        raise RuntimeError("the run failed")
    assert "TC_UNIT_NEW" not in os.environ
