"""The demo's tasks (imported by the demo's worker with --import tasks_core.demo.tasks)."""

from __future__ import annotations

from tasks_core import task
from tasks_core.process_runtime import get_runtime


@task
def add(x: int, y: int) -> int:
    """Add two numbers."""
    return x + y


@task(retries=3, retry_delay_seconds=[0.2, 0.5, 1.0])
def flaky_fetch(key: str, fail_times: int) -> str:
    """Fail the first `fail_times` attempts (a counter in Redis), then succeed."""
    attempt = get_runtime().demo_counters.increment(key)
    if attempt <= fail_times:
        raise ConnectionError(f"upstream unavailable (attempt {attempt})")
    return f"fetched {key} on attempt {attempt}"


@task
def divide(x: float, y: float) -> float:
    """Divide; fails for y == 0."""
    return x / y


@task
def total_price(quantity: int, unit_price: float) -> float:
    """A task that calls another task: the inner run records its parent."""
    subtotal = multiply(quantity, unit_price)
    return add(int(subtotal), 5)  # shipping


@task
def multiply(x: float, y: float) -> float:
    """Multiply two numbers."""
    return x * y


@task
def square(x: int) -> int:
    """Square a number."""
    return x * x


# -- flows ---------------------------------------------------------------------------------

from tasks_core import flow  # noqa: E402


@task
def extract(source: str) -> list[int]:
    """Pretend to read rows from a source."""
    return [len(source), len(source) * 2, len(source) * 3]


@task
def transform(rows: list[int]) -> list[int]:
    """Double every row."""
    return [row * 2 for row in rows]


@flow(log_prints=True)
def etl(source: str = "orders") -> int:
    """A flow of tasks: extract, transform (submitted to the thread pool), load."""
    rows = extract(source)
    doubled = transform.submit(rows)
    total: int = sum(doubled.result())
    print(f"loaded {total} from {source}")
    return total


@flow(log_prints=True)
def nightly(sources: list[str]) -> dict[str, int]:
    """A flow of nested flows: one etl flow run per source."""
    return {source: etl(source) for source in sources}


# -- deployments ---------------------------------------------------------------------------


@flow(log_prints=True)
def orchestrate(sources: list[str]) -> dict[str, int]:
    """A flow of deployments: runs etl/reports (on the `reports` pool) once per source."""
    from tasks_core import run_deployment

    totals = {}
    for source in sources:
        run = run_deployment("etl/reports", parameters={"source": source}, timeout=60)
        totals[source] = run.result()
        print(f"etl/reports({source}) ran on {run.worker}: {run.state.value}")
    return totals
