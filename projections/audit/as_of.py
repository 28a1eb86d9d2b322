"""An incident exactly as it was at a past instant (a time or a log position)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from najda.domain.dispatch.incident import Incident
from najda.domain.errors import IncidentNotFound, InvalidValue
from najda.domain.persistence.atomic_store import DispatchStore
from najda.domain.values import UnitStatus, require_aware
from najda.projections.audit.timeline import TimelineEntry, incident_timeline
from najda.projections.store.event_rows import EventLog

AsOf = int | datetime


def parse_as_of(text: str) -> AsOf:
    """A log position (a whole number) or an ISO 8601 time with its UTC offset."""
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    try:
        at = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(
            "as_of", "give a log position or an ISO 8601 time such as 2024-03-01T08:00:00Z"
        ) from None
    return require_aware("as_of", at)


def happened_by(entry: TimelineEntry, as_of: AsOf) -> bool:
    """True when the entry was recorded at or before the instant."""
    if isinstance(as_of, int):
        return entry.position <= as_of
    return entry.at <= as_of


@dataclass(frozen=True)
class PastIncident:
    """The incident at the instant, its units' statuses then, and the instant's time; the
    capabilities of the units active on it then (what its `short` is worked out from)."""

    incident: Incident
    unit_statuses: dict[UUID, UnitStatus]
    at: datetime
    position: int
    capabilities: dict[UUID, tuple[str, ...]] = field(default_factory=dict)


def incident_as_of(app: DispatchStore, incident_id: UUID, as_of: AsOf) -> PastIncident:
    """Rebuild the incident from its events up to the instant (404 before it existed)."""
    entries = [e for e in incident_timeline(EventLog(app), incident_id) if happened_by(e, as_of)]
    own = [e for e in entries if e.originator_id == incident_id]
    if not own:
        raise IncidentNotFound(f"{incident_id} as of {as_of}")
    incident = app.get_incident(incident_id, version=own[-1].version)
    statuses: dict[UUID, UnitStatus] = {}
    for e in entries:
        if e.topic == "najda:Unit.Dispatched":
            statuses[e.originator_id] = UnitStatus.DISPATCHED
        elif e.topic == "najda:Unit.StatusChanged":
            statuses[e.originator_id] = UnitStatus(e.event.status)
        elif e.topic == "najda:Unit.Released":
            statuses[e.originator_id] = UnitStatus.AVAILABLE
    at = as_of if isinstance(as_of, datetime) else entries[-1].at
    # A unit's capabilities are given once, when it registers: its current ones are its past ones.
    capabilities = {u: app.get_unit(u).capabilities for u in incident.active_unit_ids}
    return PastIncident(incident, statuses, at, entries[-1].position, capabilities)
