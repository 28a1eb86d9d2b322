"""Crew requests over the socket: acknowledge, report status, report position, destinations,
choose a destination; a `command_id` makes a replay answer the first result."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.live.positions import Report
from api.queries import destinations_for
from api.services import Services
from domain.client_command import Content, Once, require_command_id
from domain.crew_commands import crew_scope, destination_once, status_once
from domain.errors import InvalidValue
from domain.hospital_status import Service, service_of
from domain.values import UnitStatus, require_aware

#: Statuses a crew may report itself (dispatch and release come from dispatchers).
CREW_STATUSES = frozenset(UnitStatus) - {UnitStatus.DISPATCHED}


async def crew_request(
    services: Services, unit_id: UUID, actor: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Carry out one request for the crew's unit; errors name the field."""
    kind = data.get("type")
    dispatch = services.dispatch
    if kind == "ack":
        once = _once(unit_id, data, {"type": "ack"})
        first = await services.command(
            lambda: dispatch.acknowledge_assignment(unit_id, actor, once=once)
        )
        return {"acknowledged": True, "first": first}
    if kind == "status":
        status = _status(data.get("status"))
        reason = data.get("reason", "")
        if not isinstance(reason, str):
            raise InvalidValue("reason", "give text")
        meant = _incident(data.get("incident_id"))
        once = None
        if "command_id" in data:
            once = status_once(unit_id, data["command_id"], status, reason, meant)
        return await services.command(
            lambda: dispatch.update_unit_status(
                unit_id, status, actor, reason, once=once, for_incident=meant
            )
        )
    if kind == "destination":
        code = data.get("hospital")
        if not isinstance(code, str) or not code.strip():
            raise InvalidValue("hospital", "give the code of a hospital")
        once = None
        if "command_id" in data:
            once = destination_once(unit_id, data["command_id"], code)
        return await services.command(
            lambda: dispatch.choose_destination(unit_id, code, actor, once=once)
        )
    if kind == "position":
        report = Report(unit_id, _number(data, "lat"), _number(data, "lon"), _time(data.get("at")))
        moves = services.positions.check([report])
        recorded = await services.positions.ingest(moves, actor)
        return {"recorded": recorded[0]}
    if kind == "destinations":
        ranked = await destinations_for(services, unit_id, _service(data.get("service")))
        return {"destinations": ranked.model_dump(mode="json")}
    raise InvalidValue("type", "use ack, status, destination, position or destinations")


def _once(unit_id: UUID, data: dict[str, Any], content: Content) -> Once | None:
    """Run once per `command_id` (when the client sent one) for this unit's crew."""
    if "command_id" not in data:
        return None
    return Once(crew_scope(unit_id), require_command_id(data["command_id"]), content)


def _incident(value: object) -> UUID | None:
    if value is None:
        return None
    problem = InvalidValue("incident_id", "give the id of the incident the step is for")
    if not isinstance(value, str):
        raise problem
    try:
        return UUID(value)
    except ValueError:
        raise problem from None


def _service(value: object) -> Service | None:
    if value is None:
        return None
    found = service_of(value) if isinstance(value, str) else None
    if found is None:
        allowed = ", ".join(s.value for s in Service)
        raise InvalidValue("service", f"give one of {allowed}")
    return found


def _status(value: object) -> UnitStatus:
    allowed = ", ".join(sorted(s.value for s in CREW_STATUSES))
    if not isinstance(value, str):
        raise InvalidValue("status", f"give one of {allowed}")
    try:
        status = UnitStatus(value.strip().lower())
    except ValueError:
        raise InvalidValue("status", f"give one of {allowed}") from None
    if status not in CREW_STATUSES:
        raise InvalidValue("status", f"a crew reports one of {allowed}")
    return status


def _number(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue(name, "give a number")
    return float(value)


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("at", "give an ISO 8601 time with a UTC offset")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue("at", "give an ISO 8601 time with a UTC offset") from None
    return require_aware("at", at)
