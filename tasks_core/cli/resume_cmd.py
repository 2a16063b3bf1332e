"""`tasks-core flow-run resume ID [--input JSON]`: resume a paused or suspended flow run
(`tasks_core.pausing.resume_flow_run`, Prefect's `resume_flow_run`).

The input is a JSON object checked against the input model the pause waits for; a bad one
is one red line naming the fields (the run stays Paused). Registered on the `flow-run`
group by `tasks_core.cli.main`.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
import typer
from rich.text import Text

from tasks_core.cli.output import console, expected_errors, fail

__all__ = ["parse_input", "resume"]


def parse_input(text: str | None) -> dict[str, Any] | None:
    """`--input` as a JSON object (None when not given); a clear `fail` otherwise."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        fail(f"--input is not JSON ({exc}); give an object, e.g. '{{\"approved\": true}}'")
    if not isinstance(value, dict):
        fail("--input must be a JSON object of the input's fields, e.g. "
             "'{\"approved\": true}'")
    return value


def resume(
    run_id: str = typer.Argument(..., metavar="ID", help="the paused flow run's id, or a "
                                 "unique start of it"),
    input_json: str | None = typer.Option(None, "--input", help="the input the pause waits "
                                          "for, a JSON object checked against its model"),
) -> None:
    """Resume a paused or suspended flow run, with the input it waits for."""
    from tasks_core.cli.ids import resolve_run
    from tasks_core.pausing import describe_input_error, resume_flow_run
    from tasks_core.process_runtime import get_runtime

    run_input = parse_input(input_json)
    with expected_errors():
        rt = get_runtime()
        full_id = resolve_run(rt.store, rt.indexes, run_id, "flow")
        try:
            resume_flow_run(full_id, run_input=run_input)
        except pydantic.ValidationError as exc:
            fail(f"input refused, flow run {full_id} stays Paused: {describe_input_error(exc)}")
    console.print(Text.assemble("Resumed flow run ", (full_id, "bold cyan"), "."))
