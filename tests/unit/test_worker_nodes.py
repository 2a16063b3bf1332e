"""Worker options, node names and pool names (pure), and what `celery -A` finds."""

from __future__ import annotations

import itertools

import pytest
from celery import Celery
from celery.app.utils import find_app

from tasks_core.cli.workers import check_worker_options, parse_autoscale, split_queues
from tasks_core.deployment_models import WorkPool
from tasks_core.errors import ValidationError
from tasks_core.nodes import candidate_names, is_stale, node_name, token_owner
from tasks_core.pool_names import check_pool_name, check_queue_name, pool_name_error
from tasks_core.store.keys import Keys
from workers.main import CeleryOptions, worker_argv


def test_node_keys() -> None:
    keys = Keys("p")
    assert keys.node_lease("etl@h") == "p:node:etl@h"
    assert keys.nodes == "p:nodes" and keys.nodes_info == "p:nodes:info"


def test_candidate_names_number_after_the_first() -> None:
    names = list(itertools.islice(candidate_names(["etl", "ml"], "h"), 3))
    assert names == ["etl+ml@h", "etl+ml-2@h", "etl+ml-3@h"]


def test_node_name_reads_hostname_as_celery_does() -> None:
    assert node_name("w1@box") == "w1@box"
    assert node_name("box") == "celery@box"  # a bare host, as Celery's --hostname
    assert "%h" not in node_name("w1@%h")


def test_stale_leases_are_this_hosts_dead_processes_or_this_pid() -> None:
    dead, alive = (lambda pid: False), (lambda pid: True)
    assert token_owner("h:12:ab") == ("h", 12) and token_owner("nonsense") is None
    assert is_stale("h:12:ab", host="h", pid=99, alive=dead)
    assert not is_stale("h:12:ab", host="h", pid=99, alive=alive)
    assert is_stale("h:99:ab", host="h", pid=99, alive=alive)  # a restart kept the pid
    assert not is_stale("other:12:ab", host="h", pid=99, alive=dead)  # expires on its own
    assert not is_stale("garbage", host="h", pid=99, alive=dead)


@pytest.mark.parametrize(("name", "problem"), [
    ("", "is empty"),
    ("a b", "has ' '"),
    ("a/b:c", "has '/' and ':'"),
    ("-x", "starts with '-'"),
    ("x" * 101, "is 101 characters long (at most 100)"),
    ("é", "has 'é'"),
])
def test_pool_names_say_what_is_wrong(name: str, problem: str) -> None:
    error = pool_name_error(name)
    assert error is not None and problem in error and "ASCII letters" in error
    with pytest.raises(ValidationError, match="work pool name"):
        check_pool_name(name)
    with pytest.raises(ValueError, match="work pool name"):
        WorkPool(name=name)  # the record checks names the same way


def test_good_pool_and_queue_names() -> None:
    for name in ("default", "etl-2", "A.b_c", "9lives"):
        assert pool_name_error(name) is None and WorkPool(name=name).name == name
    assert check_queue_name("etl:fast") == "etl:fast"
    with pytest.raises(ValidationError, match="work queue name 'f s' has ' '"):
        check_queue_name("etl:f s")


def test_autoscale_is_max_min() -> None:
    assert parse_autoscale("10,2") == (10, 2)
    assert parse_autoscale("4") == (4, 0)
    for bad in ("", "a,b", "1,2,3", "2,5", "0", "3,-1"):
        with pytest.raises(ValidationError, match="invalid --autoscale"):
            parse_autoscale(bad)


def test_queues_split_and_checked() -> None:
    assert split_queues(["a,b", "c", "a", " "]) == ["a", "b", "c"]
    with pytest.raises(ValidationError, match="queue 'a b' has ' '"):
        split_queues(["ok,a b"])


def test_prefork_only_options_and_pool_impl() -> None:
    assert check_worker_options(["etl"], pool_impl="solo", prefork_only=[]) == ["etl"]
    with pytest.raises(ValidationError, match="--autoscale act on prefork"):
        check_worker_options(["etl"], pool_impl="threads", prefork_only=["--autoscale"])
    with pytest.raises(ValidationError, match="invalid --pool-impl 'gevent'"):
        check_worker_options(["etl"], pool_impl="gevent", prefork_only=[])
    with pytest.raises(ValidationError, match="work pool 'a b' has ' '"):
        check_worker_options(["a b"], pool_impl="prefork", prefork_only=[])


def test_worker_argv_passes_options_to_celery() -> None:
    options = CeleryOptions(concurrency=2, max_tasks_per_child=5, max_memory_per_child=200_000,
                            autoscale=(8, 2), prefetch_multiplier=1)
    argv = worker_argv(["etl", "extra"], "etl@h", options, pool="prefork", loglevel="INFO")
    assert argv == ["worker", "--queues", "etl,extra", "--pool", "prefork", "--loglevel",
                    "INFO", "--hostname", "etl@h", "--concurrency", "2",
                    "--max-tasks-per-child", "5", "--max-memory-per-child", "200000",
                    "--autoscale", "8,2", "--prefetch-multiplier", "1"]
    assert worker_argv(["q"], "q@h", CeleryOptions(), pool="solo", loglevel="INFO")[-2:] == [
        "--hostname", "q@h"]


def test_celery_find_app_resolves_tasks_core() -> None:
    import tasks_core
    from tasks_core.process_runtime import get_runtime

    found = find_app("tasks_core")
    assert isinstance(found, Celery) and found is get_runtime().app
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tasks_core.nope  # noqa: B018  # other names are still missing
