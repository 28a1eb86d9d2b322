"""Crew requests over the socket: acknowledge, report status, report position, destinations."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.live.positions import Report
from api.routes.destinations import destinations_for
from api.services import Services
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
        first = await services.command(lambda: dispatch.acknowledge_assignment(unit_id, actor))
        return {"acknowledged": True, "first": first}
    if kind == "status":
        status = _status(data.get("status"))
        reason = data.get("reason", "")
        if not isinstance(reason, str):
            raise InvalidValue("reason", "give text")
        await services.command(lambda: dispatch.update_unit_status(unit_id, status, actor, reason))
        return {"status": status.value}
    if kind == "position":
        report = Report(unit_id, _number(data, "lat"), _number(data, "lon"), _time(data.get("at")))
        moves = services.positions.check([report])
        recorded = await services.positions.ingest(moves, actor)
        return {"recorded": recorded[0]}
    if kind == "destinations":
        ranked = await destinations_for(services, unit_id, _service(data.get("service")))
        return {"destinations": ranked.model_dump(mode="json")}
    raise InvalidValue("type", "use ack, status, position or destinations")


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
