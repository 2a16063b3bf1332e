"""Errors raised on purpose become JSON replies: ``{"detail": "<one line>"}``.

| raised | status |
|---|---|
| `NotFoundError` (run, deployment, work pool, automation, webhook ...) | 404 |
| `ValidationError`, pydantic's, FastAPI's request validation | 422 |
| `InvalidTransition` | 409 |
| `StoreUnavailable`, redis-py's connection and timeout errors | 503 (Retry-After: 1) |

A 422 is one line naming each field and what is wrong with it; the input is never echoed
(it may not even be encodable: a lone surrogate, an infinite float). Anything else is a
bug: 500 with a generic detail, logged with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pydantic
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tasks_core.errors import InvalidTransition, NotFoundError, ValidationError
from tasks_core.store.connection import STORE_LOST

__all__ = ["install_error_handlers", "problem"]

log = logging.getLogger("tasks_core.api")


def problem(status_code: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error reply: ``{"detail": detail}``."""
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map tasks-core's errors to statuses (table in the module docstring)."""

    @app.exception_handler(NotFoundError)
    def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return problem(status.HTTP_404_NOT_FOUND, str(exc))

    @app.exception_handler(ValidationError)
    def _invalid(_: Request, exc: ValidationError) -> JSONResponse:
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))

    @app.exception_handler(pydantic.ValidationError)
    def _invalid_model(_: Request, exc: pydantic.ValidationError) -> JSONResponse:
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, describe_validation(exc))

    @app.exception_handler(RequestValidationError)
    def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, describe_errors(exc.errors()))

    @app.exception_handler(InvalidTransition)
    def _conflict(_: Request, exc: InvalidTransition) -> JSONResponse:
        return problem(status.HTTP_409_CONFLICT, str(exc))

    def _unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis unavailable: %s", exc)
        return problem(status.HTTP_503_SERVICE_UNAVAILABLE,
                       "the store (Redis) is unavailable; nothing was written, try again",
                       headers={"Retry-After": "1"})

    for lost in STORE_LOST:  # StoreUnavailable, redis-py's connection and timeout errors
        app.add_exception_handler(lost, _unavailable)

    @app.exception_handler(Exception)
    def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(status.HTTP_500_INTERNAL_SERVER_ERROR,
                       f"internal error ({type(exc).__name__}); see the server's log")


def describe_validation(exc: pydantic.ValidationError) -> str:
    """pydantic's errors as one line: ``field.path: message; ...``."""
    return describe_errors(exc.errors())


def describe_errors(errors: Sequence[Any]) -> str:
    """Validation errors as one line, ``where.field: message; ...`` (at most 10; never the
    input, which may not even be encodable: a lone surrogate, an infinite float)."""
    shown = [f"{'.'.join(str(part) for part in error.get('loc', ())) or 'value'}: "
             f"{str(error.get('msg', 'invalid')).removeprefix('Value error, ')}"
             for error in list(errors)[:10]]
    more = len(errors) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
