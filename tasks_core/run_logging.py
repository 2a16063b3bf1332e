"""Run logs: `get_run_logger()` and `log_prints`, stored with the run they belong to.

    from tasks_core import flow, get_run_logger

    @flow(log_prints=True)
    def etl() -> None:
        get_run_logger().info("extracting")   # a log entry of this flow run
        print("3 rows")                      # also one (INFO), and still on stdout

Entries go to the run's log list (`Keys.logs`) through the batched reporter, in order with
the run's state writes; `RunStore.logs(run_id)` reads them back. A run logger is a normal
Python logger too ("tasks_core.flow_runs" / "tasks_core.task_runs", INFO unless configured):
its records also reach the handlers of the logging configuration.

Which run an entry belongs to comes from the `current_run` context variable, so it is right
in thread-pool task runners (threads copy the flow's context), in async tasks and on workers.
Print capture wraps `builtins.print` once per process; the wrapper captures only where the
run executing in the calling context has `log_prints`, and prints as before everywhere else.
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import sys
import threading
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from tasks_core.engine.context import RunFrame, current_run
from tasks_core.errors import TasksCoreError
from tasks_core.process_runtime import get_runtime

__all__ = [
    "FLOW_RUN_LOGGER",
    "TASK_RUN_LOGGER",
    "MissingContextError",
    "MissingRunContext",
    "RunLogHandler",
    "RunLoggerAdapter",
    "get_run_logger",
    "install_print_capture",
]

FLOW_RUN_LOGGER = "tasks_core.flow_runs"
TASK_RUN_LOGGER = "tasks_core.task_runs"
MAX_MESSAGE_CHARS = 20_000
"""Longer messages are cut (with a marker) so that one entry cannot bloat a run's logs."""


class MissingContextError(TasksCoreError, RuntimeError):
    """A run-only API was called where no flow or task is running (Prefect's name for it,
    ``prefect.exceptions.MissingContextError``)."""


MissingRunContext = MissingContextError
"""The earlier name, kept."""


def _entry_json(run_id: str, level: str, logger: str, message: str, created: float) -> str:
    if len(message) > MAX_MESSAGE_CHARS:
        cut = len(message) - MAX_MESSAGE_CHARS
        message = f"{message[:MAX_MESSAGE_CHARS]}... [{cut} characters cut]"
    return json.dumps(
        {"timestamp": datetime.fromtimestamp(created, UTC).isoformat(), "level": level,
         "logger": logger, "message": message, "run_id": run_id},
        separators=(",", ":"),
    )


def _logger_name(frame: RunFrame) -> str:
    return FLOW_RUN_LOGGER if frame.kind == "flow" else TASK_RUN_LOGGER


# -- get_run_logger ---------------------------------------------------------------------


class RunLogHandler(logging.Handler):
    """Sends records of the run loggers to their run's log list, through the reporter.

    The run is the record's ``run_id`` attribute (set by `get_run_logger()`'s adapter), else
    the run executing in the emitting context; records of neither are ignored.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))  # tracebacks are appended

    def emit(self, record: logging.LogRecord) -> None:
        run_id = getattr(record, "run_id", None)
        if not run_id:
            frame = current_run.get()
            run_id = frame.run_id if frame is not None else None
        if not run_id:
            return
        try:
            entry = _entry_json(str(run_id), record.levelname, record.name, self.format(record),
                                record.created)
            get_runtime().reporter.log(str(run_id), entry)
        except Exception:
            self.handleError(record)


class RunLoggerAdapter(logging.LoggerAdapter[logging.Logger]):
    """A run logger: every record carries ``run_id``, ``run_kind`` and ``flow_run_id``.

    Extra fields given at a call are kept; the run's own fields win over them.
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(kwargs.get("extra") or {}), **(self.extra or {})}
        return msg, kwargs


_lock = threading.Lock()
_handler = RunLogHandler()


def _install_handler() -> None:
    """Attach the run handler to both run loggers once; INFO unless a level is configured."""
    for name in (FLOW_RUN_LOGGER, TASK_RUN_LOGGER):
        logger = logging.getLogger(name)
        if _handler not in logger.handlers:
            with _lock:
                if _handler not in logger.handlers:
                    logger.addHandler(_handler)
                    if logger.level == logging.NOTSET:
                        logger.setLevel(logging.INFO)


def get_run_logger(**extra: Any) -> RunLoggerAdapter:
    """A logger whose records become log entries of the flow or task run executing here.

    Records also go to normal Python logging (logger ``tasks_core.flow_runs`` or
    ``tasks_core.task_runs``). `extra` fields are added to every record.

    Raises:
        MissingContextError: no flow or task is running in this context.
    """
    frame = current_run.get()
    if frame is None:
        raise MissingContextError(
            "get_run_logger() needs a running flow or task: call it inside a @flow or @task "
            "function (elsewhere, use logging.getLogger(__name__))")
    _install_handler()
    return RunLoggerAdapter(logging.getLogger(_logger_name(frame)), {
        **extra, "run_id": frame.run_id, "run_kind": frame.kind,
        "flow_run_id": frame.flow_run_id or ""})


# -- log_prints -------------------------------------------------------------------------

_original_print: Any = None


def _capturing_print(*args: Any, **kwargs: Any) -> None:
    """print(), plus an INFO entry of the current run when it has `log_prints`."""
    _original_print(*args, **kwargs)
    frame = current_run.get()
    file = kwargs.get("file")
    # to stdout only: on a worker, Celery redirects stdout and stderr to one object, so a
    # print to that object may be a traceback that logging writes to stderr
    to_stdout = file is None or (file is sys.stdout and file is not sys.stderr)
    if frame is None or not frame.log_prints or not to_stdout:
        return
    text = io.StringIO()
    _original_print(*args, **{k: v for k, v in kwargs.items() if k in ("sep", "end")},
                    file=text)
    message = text.getvalue().removesuffix("\n")
    entry = _entry_json(frame.run_id, "INFO", _logger_name(frame), message, time.time())
    get_runtime().reporter.log(frame.run_id, entry)


_capturing_print.tasks_core_capture = True  # type: ignore[attr-defined]


def install_print_capture() -> None:
    """Wrap `builtins.print` for `log_prints` (once per process; later calls do nothing)."""
    global _original_print
    if getattr(builtins.print, "tasks_core_capture", False):
        return
    with _lock:
        if not getattr(builtins.print, "tasks_core_capture", False):
            _original_print = builtins.print
            builtins.print = _capturing_print
