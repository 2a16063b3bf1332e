"""``job_variables={"env": {...}}`` on ``flow.deploy(...)`` and ``run_deployment(...)``,
and ``image=`` refused (Prefect's deployment infrastructure options,
docs.prefect.io/v3/how-to-guides/deployments/customize-job-variables).

A process worker's job variables in Prefect set the run's environment; here the one job
variable is ``env``: a dict of environment variable names to str values, set in the
process that executes the deployment's flow run, for the run's duration (all its
attempts), then restored (`run_environment`). The variables travel in the run's options
(`RunOptions.env`): the deployment's, with a `run_deployment(job_variables=...)`'s over
them. Tasks the flow calls in process see them (same process); task runs sent to other
workers (``.delay()``, a Celery task runner) do not.

Because ``os.environ`` is per process, a worker running several flow runs in one process
at once (a thread pool) would share them: the default worker pool runs one run per process.
The values are stored in the deployment and run records in Redis: do not put secrets here.

Refused, each with one message: a job variable other than ``env``; names that are not
environment variable names or that start with ``TASKS_CORE_`` (settings are read when a
process starts, so setting them mid-run would mislead); non-str values; ``image=`` (and
``build=True`` / ``push=True``): tasks-core builds and runs no container images; run the
worker in the image instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tasks_core.errors import ConfigurationError
from tasks_core.records import RunOptions

__all__ = ["check_no_image", "env_of", "run_environment", "with_env"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_VARIABLES = 100
MAX_VALUE_CHARS = 10_000


def env_of(owner: str, job_variables: object) -> dict[str, str] | None:
    """The environment variables in `job_variables` (None: none given).

    Raises:
        ConfigurationError: not a dict; a key other than ``env``; a bad name or value
            (named); too many variables.
    """
    if job_variables is None:
        return None
    if not isinstance(job_variables, Mapping):
        raise ConfigurationError(f"{owner}: job_variables must be a dict like "
                                 f"{{'env': {{'NAME': 'value'}}}}, got {job_variables!r}")
    other = sorted(str(k) for k in job_variables if k != "env")
    if other:
        raise ConfigurationError(
            f"{owner}: job_variables {', '.join(map(repr, other))} not supported; the only "
            "job variable is 'env' (environment variables of the run)")
    env = job_variables.get("env") or {}
    if not isinstance(env, Mapping) or len(env) > MAX_VARIABLES:
        raise ConfigurationError(f"{owner}: job_variables['env'] must be a dict of at most "
                                 f"{MAX_VARIABLES} names to str values")
    for name, value in env.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(f"{owner}: job_variables env name {name!r} is not an "
                                     "environment variable name")
        if name.upper().startswith("TASKS_CORE_"):
            raise ConfigurationError(
                f"{owner}: job_variables env {name!r}: TASKS_CORE_* settings are read when a "
                "worker starts; set them in the worker's environment instead")
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise ConfigurationError(f"{owner}: job_variables env {name!r} must be a str of "
                                     f"at most {MAX_VALUE_CHARS} characters, got {value!r}")
    return dict(env) or None


def with_env(options: RunOptions, env: dict[str, str] | None) -> RunOptions:
    """`options` with `env` added over the variables it carries."""
    if not env:
        return options
    return options.model_copy(update={"env": {**(options.env or {}), **env}})


def check_no_image(owner: str, image: Any = None, build: Any = None, push: Any = None) -> None:
    """Refuse container options: tasks-core builds and runs no images.

    Raises:
        ConfigurationError: `image` given, or `build` / `push` True.
    """
    if image is not None or build is True or push is True:
        raise ConfigurationError(
            f"{owner}: image=, build= and push= are not supported: tasks-core builds and runs "
            "no container images (no Docker work pools); run `tasks-core worker` inside your "
            "image and deploy without image=")


@contextmanager
def run_environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """Set `env` in ``os.environ`` for the block, then restore what was there."""
    if not env:
        yield
        return
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
