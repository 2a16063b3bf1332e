"""`/api/health`: is the server up, and can it reach Redis (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from tasks_core.process_runtime import get_runtime

__all__ = ["Health", "router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """The server answers; ``redis`` says whether Redis answered PING."""

    status: str
    redis: bool


@router.get("/health", response_model=Health)
def health() -> Health:
    """200 with ``redis: true`` when Redis answers; a 503 when it does not."""
    get_runtime().server.ping()  # StoreUnavailable / ConnectionError -> 503
    return Health(status="ok", redis=True)
