"""An incident's timeline read from the store: its events and its units' status events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.audit.correlation import request_id_of
from najda.domain.errors import IncidentNotFound
from najda.domain.values import UnitStatus
from najda.projections.audit.timeline_sentences import sentence
from najda.projections.store.event_rows import EventLog, RawEvent

#: Unit events that belong on the timeline of the incident the unit works.
UNIT_STATUS_TOPICS = frozenset(
    {
        "najda:Unit.Dispatched",
        "najda:Unit.Acknowledged",
        "najda:Unit.StatusChanged",
        "najda:Unit.Released",
    }
)


@dataclass(frozen=True)
class TimelineEntry:
    """One event on an incident's timeline, with where it is in the log and who did it."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    at: datetime
    actor: str
    subject: str  # "incident" or the unit's call sign
    text: str
    event: Any
    request_id: str | None = None  # the request that caused it (links to the log lines)

    @property
    def kind(self) -> str:
        """The event's name without the 'najda:' prefix, e.g. 'Incident.UnitAssigned'."""
        return self.topic.removeprefix("najda:")

    def line(self) -> str:
        """`10:42:13  d.ali assigned M-12 (ALS): 1.8 km, ETA 4 min` (UTC)."""
        return f"{self.at:%H:%M:%S}  {self.text}"


class Attribution:
    """Follows events in log order and says which incident each one belongs to.

    Incident events belong to their incident; a unit's status events belong to the incident
    it was dispatched to, from the dispatch until it is released or back in service.
    """

    def __init__(self) -> None:
        self.working: dict[UUID, UUID] = {}  # unit id -> incident id
        self.call_signs: dict[UUID, str] = {}

    def incident_of(self, topic: str, originator_id: UUID, event: Any) -> UUID | None:
        """The incident the event belongs to, or None (updates the unit links)."""
        if topic.startswith("najda:Incident."):
            if topic == "najda:Incident.UnitAssigned":
                self.call_signs[event.unit_id] = event.call_sign
            return originator_id
        if topic not in UNIT_STATUS_TOPICS:
            return None
        if topic == "najda:Unit.Dispatched":
            self.working[originator_id] = event.incident_id
            return UUID(str(event.incident_id))
        incident_id = self.working.get(originator_id)
        ends = topic == "najda:Unit.Released" or (
            topic == "najda:Unit.StatusChanged" and not UnitStatus(event.status).is_committed
        )
        if ends:
            self.working.pop(originator_id, None)
        return incident_id

    def entry(self, raw: RawEvent, event: Any) -> TimelineEntry:
        """The timeline entry of an event (its sentence uses the call signs seen so far)."""
        is_unit = raw.topic.startswith("najda:Unit.")
        subject = self.call_signs.get(raw.originator_id, "unit") if is_unit else "incident"
        return TimelineEntry(
            position=raw.position,
            originator_id=raw.originator_id,
            version=raw.version,
            topic=raw.topic,
            at=event.at,
            actor=event.actor,
            subject=subject,
            text=sentence(raw.topic, event, subject, self.call_signs),
            event=event,
            request_id=request_id_of(raw.state),
        )


def attribute(log: EventLog, rows: Iterable[RawEvent]) -> Iterator[tuple[UUID, TimelineEntry]]:
    """(incident id, entry) for each row that belongs to an incident, in the rows' order."""
    attribution = Attribution()
    for raw in rows:
        if not raw.topic.startswith(("najda:Incident.", "najda:Unit.")):
            continue
        if raw.topic.startswith("najda:Unit.") and raw.topic not in UNIT_STATUS_TOPICS:
            continue
        event = log.decode(raw)
        incident_id = attribution.incident_of(raw.topic, raw.originator_id, event)
        if incident_id is not None:
            yield incident_id, attribution.entry(raw, event)


def incident_timeline(log: EventLog, incident_id: UUID) -> list[TimelineEntry]:
    """Every event of the incident and its units' status events while they worked it."""
    rows = log.incident_rows(incident_id)
    if not rows or all(r.originator_id != incident_id for r in rows):
        raise IncidentNotFound(incident_id)
    return [entry for iid, entry in attribute(log, rows) if iid == incident_id]
