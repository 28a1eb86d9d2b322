"""Crew commands, one home for the REST routes and the crew socket: status, acknowledgement,
destination and position; a `command_id` makes a replay answer the first result."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from najda.api.live.positions import Report
from najda.api.services import Services
from najda.domain.dispatch.crew_commands import crew_scope, destination_once, status_once
from najda.domain.persistence.client_command import Once, require_command_id
from najda.domain.values import UnitStatus


async def change_status(
    services: Services,
    unit_id: UUID,
    status: UnitStatus,
    actor: str,
    reason: str = "",
    *,
    incident_id: UUID | None = None,
    command_id: object = None,
) -> dict[str, Any]:
    """Move the unit along its lifecycle (for `incident_id` when given: a step meant for an
    incident the unit no longer works is refused)."""
    once = None
    if command_id is not None:
        once = status_once(unit_id, command_id, status, reason, incident_id)
    answer: dict[str, Any] = await services.command(
        lambda: services.dispatch.update_unit_status(
            unit_id, status, actor, reason, once=once, for_incident=incident_id
        )
    )
    return answer


async def acknowledge(
    services: Services, unit_id: UUID, actor: str, command_id: object = None
) -> bool:
    """The crew confirms it received its assignment; True the first time for it."""
    once = None
    if command_id is not None:
        once = Once(crew_scope(unit_id), require_command_id(command_id), {"type": "ack"})
    first: bool = await services.command(
        lambda: services.dispatch.acknowledge_assignment(unit_id, actor, once=once)
    )
    return first


async def choose_destination(
    services: Services, unit_id: UUID, hospital: str, actor: str, command_id: object = None
) -> dict[str, Any]:
    """Record the hospital the unit takes its patient to, on its incident."""
    once = None if command_id is None else destination_once(unit_id, command_id, hospital)
    answer: dict[str, Any] = await services.command(
        lambda: services.dispatch.choose_destination(unit_id, hospital, actor, once=once)
    )
    return answer


async def report_position(
    services: Services, unit_id: UUID, lat: float, lon: float, at: datetime | None, actor: str
) -> bool:
    """Move the unit in the locator at once; True when the report also becomes an event."""
    moves = services.positions.check([Report(unit_id, lat, lon, at)])
    recorded = await services.positions.ingest(moves, actor)
    return recorded[0]
