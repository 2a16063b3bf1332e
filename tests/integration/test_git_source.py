"""A deployment from a git repository (a local bare repo over file://), cached per commit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tasks_core import StateName, run_deployment
from tasks_core.flow import Flow

FLOW_CODE = '''
from tasks_core import flow

@flow
def greet(name: str = "world") -> str:
    return "{greeting}, " + name
'''


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _commit(work: Path, greeting: str) -> None:
    (work / "flows").mkdir(exist_ok=True)
    (work / "flows" / "hello.py").write_text(FLOW_CODE.format(greeting=greeting))
    _git("add", "-A", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", greeting, cwd=work)
    _git("push", "-q", "origin", "HEAD:main", cwd=work)


def test_deploy_from_a_git_repository(tc_env: dict[str, Any], start_worker: Any,
                                      tmp_path: Path, monkeypatch: Any) -> None:
    bare, work = tmp_path / "repo.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True,
                   capture_output=True)
    _commit(work, "hello")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TASKS_CORE_DATA_DIR", str(data_dir))
    tc_env["env"]["TASKS_CORE_DATA_DIR"] = str(data_dir)
    from tasks_core.process_runtime import reset_runtime
    from tasks_core.settings import reset_settings

    reset_settings()
    reset_runtime()
    source = f"file://{bare}"
    flow = Flow.from_source(source, "flows/hello.py:greet", ref="main")
    flow.deploy("git", work_pool_name=tc_env["queue"])
    start_worker(concurrency=1, pool=tc_env["queue"])
    run = run_deployment("greet/git", parameters={"name": "tasks-core"}, timeout=30)
    assert run.state == StateName.COMPLETED and run.result() == "hello, tasks-core"
    _commit(work, "bonjour")  # a new commit: the next run uses its code
    run = run_deployment("greet/git", parameters={"name": "tasks-core"}, timeout=30)
    assert run.result() == "bonjour, tasks-core"
    commits = [p for p in (data_dir / "sources").glob("*/*") if p.is_dir()
               and not p.name.endswith(".git")]
    assert len(commits) >= 2  # one folder per commit, kept for reuse
