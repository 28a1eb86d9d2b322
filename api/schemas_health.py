"""The body of the health check: liveness and how far the read models have caught up."""

from __future__ import annotations

from pydantic import (
    BaseModel,
    Field,
)


class HealthPublic(BaseModel):
    """Liveness and how far the read models have caught up."""

    status: str
    store: str
    head: int
    positions: dict[str, int]
    runner_error: str | None
    failures: dict[str, str] = Field(
        default_factory=dict, description="Read models stuck on an event, with the error"
    )
