"""`tasks-core flow-run resume ID [--input JSON]` end to end: a flow paused in this process
(in a thread: it blocks), resumed by the CLI (a subprocess) on the test Redis."""

from __future__ import annotations

from tests.helpers import refused, run_cli
from tests.integration import pause_flows as p
from tests.integration.test_pause_resume import _in_thread, _paused_run


def test_resume_with_input_and_bad_input(cli_env: dict[str, str]) -> None:
    p.started.clear()
    result = _in_thread(p.approval_flow, 4)
    run_id = _paused_run()
    refused(run_cli(cli_env, "flow-run", "resume", run_id[:8], "--input", '{"approved": 3}'),
            "input refused", "stays Paused", "approved")
    refused(run_cli(cli_env, "flow-run", "resume", run_id, "--input", "{nope"),
            "--input is not JSON")
    refused(run_cli(cli_env, "flow-run", "resume", run_id, "--input", "[1]"),
            "--input must be a JSON object")
    assert not result.done()
    done = run_cli(cli_env, "flow-run", "resume", run_id[:8], "--input",
                   '{"approved": true, "note": "from the CLI"}')
    assert done.returncode == 0, done.stderr
    assert f"Resumed flow run {run_id}." in done.stdout
    assert result.result(timeout=15) == {"prepared": 8, "approved": True,
                                         "note": "from the CLI"}
    refused(run_cli(cli_env, "flow-run", "resume", run_id), "is Completed, not paused")
