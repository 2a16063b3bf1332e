"""`rate_limit` parsed as Celery parses it (`tasks_core.rate_limits`), and routes looked up
as Celery's routers do (`tasks_core.routing.route_for`), without Redis."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tasks_core.errors import ConfigurationError
from tasks_core.rate_limits import parse_rate_limit
from tasks_core.routing import route_for


@pytest.mark.parametrize(("given", "per_second"), [
    ("10/s", 10.0), ("30/m", 0.5), ("36/h", 0.01), (5, 5.0), ("2.5", 2.5), (None, None),
    (0, None), ("0/m", None)])
def test_rates_in_celery_spelling(given: Any, per_second: float | None) -> None:
    assert parse_rate_limit("task 't'", given) == pytest.approx(per_second)


def test_a_bad_rate_names_the_task() -> None:
    with pytest.raises(ConfigurationError, match="task 'crawl': rate_limit 'fast' is not a"):
        parse_rate_limit("task 'crawl'", "fast")


def router(name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
           **kw: Any) -> Any:
    return {"queue": "big", "priority": 7} if kwargs.get("size", 0) > 10 else None


def test_routes_in_celery_forms_first_answer_wins() -> None:
    assert route_for("proj.add", (), {}, {"proj.add": "io"}) == ("io", None)
    assert route_for("proj.add", (), {}, {"proj.*": {"queue": "glob"}}) == ("glob", None)
    assert route_for("feed.x", (), {}, {re.compile(r"^feed\."): "re"}) == ("re", None)
    assert route_for("other", (), {}, {"proj.*": "io"}) == (None, None)
    routes = [router, {"*": "fallback"}]
    assert route_for("t", (), {"size": 11}, routes) == ("big", 7)
    assert route_for("t", (), {"size": 1}, routes) == ("fallback", None)
    dotted = "tests.unit.test_rate_limits.router"
    assert route_for("t", (), {"size": 99}, [dotted]) == ("big", 7)
    assert route_for("t", (), {}, {}, {"t": "second source"}) == ("second source", None)


def test_a_router_answering_nonsense_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="router returned 42"):
        route_for("t", (), {}, [lambda *a, **k: 42])
