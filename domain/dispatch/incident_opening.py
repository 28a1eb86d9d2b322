"""Opening an incident: the checks and the new Incident aggregate, shared by every way in."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from najda.domain.dispatch.command_inputs import MAX_CALL_AGE, MAX_CLOCK_SKEW
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_NAME,
    MAX_SHORT,
    IncidentSource,
    Position,
    Priority,
    optional_text,
    require_recent,
    require_text,
)


def new_incident(
    *,
    incident_id: UUID,
    now: datetime,
    location: Position,
    address: str,
    nature: str,
    priority: Priority,
    actor: str,
    determinant: str = "",
    callback: str | None = None,
    source: IncidentSource = IncidentSource.PHONE,
    call_received_at: datetime | None = None,
    location_fix: LocationFix | None = None,
) -> Incident:
    """A reported incident (not saved yet), its fields checked like any call's."""
    received = require_recent(
        "call_received_at", call_received_at or now, now, MAX_CALL_AGE, MAX_CLOCK_SKEW
    )
    return Incident(
        id=incident_id,
        call_received_at=received,
        location=location,
        address=optional_text("address", address, MAX_ADDRESS),
        nature=require_text("nature", nature, MAX_NAME),
        priority=Priority(priority),
        determinant=optional_text("determinant", determinant, MAX_SHORT),
        callback=optional_text("callback", callback, MAX_SHORT) or None,
        source=IncidentSource(source),
        actor=actor,
        at=now,
        location_fix=location_fix,
    )
