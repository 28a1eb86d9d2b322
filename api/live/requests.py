"""Crew requests over the socket: acknowledge, report status, report position, destinations,
choose a destination; a `command_id` makes a replay answer the first result."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from najda.api import crew
from najda.api.queries import destinations_for
from najda.api.services import Services
from najda.domain.dispatch.hospital_status import Service, service_of
from najda.domain.errors import InvalidValue
from najda.domain.persistence.client_command import require_command_id
from najda.domain.values import UnitStatus, require_aware

#: Statuses a crew may report itself (dispatch and release come from dispatchers).
CREW_STATUSES = frozenset(UnitStatus) - {UnitStatus.DISPATCHED}


async def crew_request(
    services: Services, unit_id: UUID, actor: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Carry out one request for the crew's unit; errors name the field."""
    kind = data.get("type")
    if kind == "ack":
        first = await crew.acknowledge(services, unit_id, actor, _command_id(data))
        return {"acknowledged": True, "first": first}
    if kind == "status":
        status = _status(data.get("status"))
        reason = data.get("reason", "")
        if not isinstance(reason, str):
            raise InvalidValue("reason", "give text")
        meant = _incident(data.get("incident_id"))
        return await crew.change_status(
            services,
            unit_id,
            status,
            actor,
            reason,
            incident_id=meant,
            command_id=_command_id(data),
        )
    if kind == "destination":
        code = data.get("hospital")
        if not isinstance(code, str) or not code.strip():
            raise InvalidValue("hospital", "give the code of a hospital")
        once = _command_id(data)
        return await crew.choose_destination(services, unit_id, code, actor, once)
    if kind == "position":
        lat, lon, at = _number(data, "lat"), _number(data, "lon"), _time(data.get("at"))
        return {"recorded": await crew.report_position(services, unit_id, lat, lon, at, actor)}
    if kind == "destinations":
        ranked = await destinations_for(services, unit_id, _service(data.get("service")))
        return {"destinations": ranked.model_dump(mode="json")}
    raise InvalidValue("type", "use ack, status, destination, position or destinations")


def _command_id(data: dict[str, Any]) -> str | None:
    """The client's command id when it sent one (checked: a null or empty one is refused)."""
    return require_command_id(data["command_id"]) if "command_id" in data else None


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
