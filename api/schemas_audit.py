"""Response bodies of the audit routes: timelines and store verification."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class TimelineEntryPublic(BaseModel):
    """One event on an incident's timeline."""

    position: int = Field(description="notification position in the event log")
    at: datetime
    actor: str
    subject: str = Field(description="'incident' or the unit's call sign")
    event: str = Field(description="event name, e.g. Incident.UnitAssigned")
    stream_id: UUID = Field(description="the aggregate the event belongs to")
    version: int = Field(description="the event's version in its stream")
    text: str = Field(description="what happened, in a sentence")
    line: str = Field(description="`HH:MM:SS  sentence` (UTC)")
    request_id: str | None = Field(
        default=None, description="the request that caused it: its X-Request-ID and log lines"
    )


class TimelinePublic(BaseModel):
    """An incident's events and its units' status events while they worked it, in log order."""

    incident_id: UUID
    entries: list[TimelineEntryPublic]


class FindingPublic(BaseModel):
    """A stored event that does not match the sealed chain."""

    kind: str = Field(description="altered, removed, inserted, reordered, out-of-sequence, ...")
    position: int
    stream_id: UUID | None
    version: int | None
    detail: str
    text: str


class VerificationPublic(BaseModel):
    """The result of walking the store against its hash chain."""

    ok: bool
    rows: int
    sealed: int
    unsealed: int = Field(description="rows recorded since the last seal (not yet covered)")
    chain_head: str = Field(description="the chain value after the last sealed row")
    checkpoint_position: int | None = Field(
        description="the position of the newest signed checkpoint the chain was held to"
    )
    checkpoint_signed_at: datetime | None = None
    findings: list[FindingPublic]
