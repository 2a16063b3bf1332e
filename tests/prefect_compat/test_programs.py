"""Prefect programs ported to tasks-core by their import lines only, run as real processes
(with a real worker and beat when the header asks), must print their ``# expect:`` block:
the outcome Prefect documents for that code.

How programs are written and ported: see `tests/compat.py` and this folder's README.md.
Prefect itself is not installed here, so the expected lines are written from Prefect's
documentation (docs.prefect.io, v3), cited in each program's docstring.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests import compat
from tests.helpers import ROOT

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))

_FROM = re.compile(r"^(\s*)from prefect(?P<sub>(\.\w+)*) import ")
_IMPORT = re.compile(r"^(\s*)import prefect\s*$")


def prefect_to_tasks_core(line: str) -> str | None:
    """``from prefect[.x] import Y`` -> ``from tasks_core[.x] import Y``;
    ``import prefect`` -> ``import tasks_core as prefect``."""
    if _FROM.match(line):
        return line.replace("from prefect", "from tasks_core", 1)
    if _IMPORT.match(line):
        return line.replace("import prefect", "import tasks_core as prefect", 1)
    return None


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_what_prefect_documents(path: Path, tc_env: dict[str, Any]) -> None:
    program = compat.load_program(path)
    assert program.expect is not None, f"{path.name} has no '# expect:' block"
    source = compat.port_imports(program.source, prefect_to_tasks_core)
    folder = compat.write_program(source, program.name)
    env = {**tc_env["env"], "PYTHONPATH": str(ROOT)}
    procs = []
    try:
        procs = compat.start_tasks_core(program, folder, env, tc_env["queue"], beat=False)
        result = compat.run_program(folder, program.name, env, program.timeout)
        assert compat.output_lines(result, program.name) == program.expect
    finally:
        for proc in procs:
            compat.stop(proc)


def test_there_are_programs() -> None:
    assert PROGRAMS, "tests/prefect_compat/programs/ has no program"


def test_only_import_lines_are_ported() -> None:
    source = ("from prefect import flow, task\nfrom prefect.runtime import flow_run\n"
              "import prefect\nfrom prefect.states import Completed\nprint('prefect')\n")
    assert compat.port_imports(source, prefect_to_tasks_core).splitlines() == [
        "from tasks_core import flow, task", "from tasks_core.runtime import flow_run",
        "import tasks_core as prefect", "from tasks_core.states import Completed",
        "print('prefect')"]
