"""Open teleconsults (requested or in progress), fed from the notification log: the queue a
specialist works from. Consults that ended, were declined or cancelled leave it; an
incident's whole history is read from the incident itself."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from uuid import UUID

from najda.domain.care import consult as consults
from najda.domain.care.consult import Consult, ConsultStatus
from najda.projections.base import Tracked

#: The incident events that change a teleconsult.
CONSULT_TOPICS = frozenset(
    f"najda:Incident.Consult{name}"
    for name in ("Requested", "Accepted", "Ended", "Declined", "Cancelled")
)


@dataclass(frozen=True)
class OpenConsult:
    """A teleconsult and the incident it is on."""

    incident_id: UUID
    consult: Consult


def consult_after(item: Tracked, current: Consult | None) -> Consult | None:
    """The consult as the event leaves it (None: not a consult event, or one unseen)."""
    e = item.event
    kind = item.topic.removeprefix("najda:Incident.Consult")
    if kind == "Requested":
        return consults.requested(e.consult_id, e.specialty, e.reason, e.unit_id, e.actor, e.at)
    if current is None or item.topic not in CONSULT_TOPICS:
        return None
    if kind == "Accepted":
        return consults.accepted(current, e.actor, e.at)
    if kind == "Ended":
        return consults.ended(current, e.recommendation, e.actor, e.at)
    status = ConsultStatus.DECLINED if kind == "Declined" else ConsultStatus.CANCELLED
    return consults.withdrawn(current, status, e.reason, e.actor, e.at)


class ConsultBook:
    """Open consults by id, changed one event at a time (the live feed keeps one too)."""

    def __init__(self) -> None:
        self.open: dict[UUID, OpenConsult] = {}

    def take(self, item: Tracked) -> OpenConsult | None:
        """Apply one event; the consult as it now stands (also when it just closed)."""
        if item.topic not in CONSULT_TOPICS:
            return None
        consult_id = item.event.consult_id
        held = self.open.get(consult_id)
        after = consult_after(item, None if held is None else held.consult)
        if after is None:
            return None
        found = OpenConsult(item.originator_id, after)
        if after.status.is_open:
            self.open[consult_id] = found
        else:
            self.open.pop(consult_id, None)
        return found

    def listed(
        self,
        specialties: Collection[str] | None = None,
        statuses: Collection[ConsultStatus] | None = None,
        incident_id: UUID | None = None,
    ) -> list[OpenConsult]:
        """Open consults matching the filters, oldest request first."""
        return sorted(
            (
                o
                for o in self.open.values()
                if (specialties is None or o.consult.specialty in specialties)
                and (statuses is None or o.consult.status in statuses)
                and (incident_id is None or o.incident_id == incident_id)
            ),
            key=lambda o: (o.consult.requested_at, str(o.consult.consult_id)),
        )


class ConsultDirectory(ConsultBook):
    """The open consults as a projection (in memory on both stores; rebuilt at start)."""

    name = "consult_directory"
    SAVED_FIELDS = ("open", "_position")  # what a saved state holds

    def __init__(self) -> None:
        super().__init__()
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self.open.clear()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            self.take(item)
            self._position = item.position
