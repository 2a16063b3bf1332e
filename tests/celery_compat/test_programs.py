"""Celery programs run twice: under plain Celery, then ported to tasks-core by their import
lines only, each with real worker (and beat) processes; both must print the same lines.

How programs are written and ported: see `tests/compat.py` and this folder's README.md.
The Celery run uses Celery's own Redis transport and result backend on database 3 of the
test Redis (flushed after each program), a `celery worker` (solo pool unless the
program's `# pool:` header says otherwise) and, when the header
asks, `celery beat`. The tasks-core run uses the test's key prefix on database 0 with a
`tasks-core worker` and a `tasks-core beat` (beat also sends countdowns and retries).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from tests import compat
from tests.helpers import ROOT

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))

_FROM_CELERY = re.compile(r"^(\s*)from celery(\.result)? import ")


def celery_to_tasks_core(line: str) -> str | None:
    """``from celery import X`` -> ``from tasks_core.celery import X``, and the same for
    ``celery.result``; Celery's app-free modules (exceptions, schedules, signals) stay."""
    match = _FROM_CELERY.match(line)
    if match is None:
        return None
    return line.replace("from celery", "from tasks_core.celery", 1)


def _celery_side(program: compat.Program, url: str, env: dict[str, str]) -> list[str]:
    folder = compat.write_program(program.source, program.name)
    env = {**env, "COMPAT_BROKER_URL": url}
    procs = []
    try:
        if "worker" in program.needs:
            log = folder / "worker.log"
            proc = compat.start(
                [sys.executable, "-m", "celery", "-A", program.name, "worker", "-P", program.pool,
                 "-c", "1", "-l", "info", "-n", f"compat-{program.name}@%h", "--without-gossip",
                 "--without-mingle", "--without-heartbeat"], folder, env, log)
            procs.append(proc)
            compat.wait_for_text(log, proc, " ready.", 60)
        if "beat" in program.needs:
            log = folder / "beat.log"
            procs.append(compat.start(
                [sys.executable, "-m", "celery", "-A", program.name, "beat", "-l", "info",
                 "-s", str(folder / "celerybeat-schedule")], folder, env, log))
        result = compat.run_program(folder, program.name, env, program.timeout)
        return compat.output_lines(result, f"{program.name} under Celery")
    finally:
        for proc in procs:
            compat.stop(proc)


def _tasks_core_side(program: compat.Program, tc_env: dict[str, Any]) -> list[str]:
    source = compat.port_imports(program.source, celery_to_tasks_core)
    folder = compat.write_program(source, program.name)
    env = {**tc_env["env"], "COMPAT_BROKER_URL": tc_env["url"],
           "PYTHONPATH": str(ROOT)}
    procs = []
    try:
        procs = compat.start_tasks_core(program, folder, env, tc_env["queue"], beat=True)
        result = compat.run_program(folder, program.name, env, program.timeout)
        return compat.output_lines(result, f"{program.name} ported to tasks-core")
    finally:
        for proc in procs:
            compat.stop(proc)


@pytest.fixture
def celery_db(redis_server: Any) -> Any:
    """Database 3 of the test Redis for plain Celery's broker and results, flushed after."""
    url = redis_server.url.rsplit("/", 1)[0] + "/3"
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_the_same_under_celery_and_tasks_core(
        path: Path, celery_db: str, tc_env: dict[str, Any]) -> None:
    program = compat.load_program(path)
    under_celery = _celery_side(program, celery_db, tc_env["env"])
    under_tasks_core = _tasks_core_side(program, tc_env)
    if program.expect is not None:
        assert under_celery == program.expect, "the program's expect block is wrong for Celery"
    assert under_tasks_core == under_celery


def test_there_are_programs() -> None:
    assert PROGRAMS, "tests/celery_compat/programs/ has no program"


def test_only_import_lines_are_ported() -> None:
    source = "from celery import Celery\nfrom celery.result import AsyncResult\n" \
             "from celery.exceptions import Retry\nx = 1  # tasks-core: x = 2\n"
    with pytest.raises(ValueError, match="import lines only"):
        compat.port_imports(source, celery_to_tasks_core)
    ported = compat.port_imports(source.rsplit("x = 1", 1)[0], celery_to_tasks_core)
    assert ported.splitlines() == ["from tasks_core.celery import Celery",
                                   "from tasks_core.celery.result import AsyncResult",
                                   "from celery.exceptions import Retry"]
