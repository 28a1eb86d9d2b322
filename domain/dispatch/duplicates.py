"""Duplicate calls: an open incident near a new report in place and time is offered as a
possible duplicate; the dispatcher links the call to it or dismisses it (both are events)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from najda.domain.dispatch.command_inputs import Distance
from najda.domain.errors import IncidentHasActiveUnits, InvalidValue
from najda.domain.persistence.atomic_store import DispatchStore, retried
from najda.domain.values import Position

#: An open incident this close to a new report, reported this close in time, may be the same.
DUPLICATE_RADIUS_M = 300.0
DUPLICATE_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True)
class OpenCall:
    """What duplicate detection reads of an open incident."""

    incident_id: UUID
    location: Position
    call_received_at: datetime


def possible_duplicates(
    call: OpenCall,
    open_calls: Iterable[OpenCall],
    dismissed: Iterable[UUID] = (),
    *,
    distance: Distance,
    radius_m: float = DUPLICATE_RADIUS_M,
    window: timedelta = DUPLICATE_WINDOW,
) -> list[tuple[OpenCall, float]]:
    """The other open calls within `radius_m` and `window` of `call`, not dismissed, nearest
    first, with their distance in metres (measured by `distance`: the application's, see
    `DispatchStore.distance`)."""
    ruled_out = set(dismissed)
    found = []
    for other in open_calls:
        if other.incident_id == call.incident_id or other.incident_id in ruled_out:
            continue
        if abs(other.call_received_at - call.call_received_at) > window:
            continue
        here, there = call.location, other.location
        distance_m = distance(here.lat, here.lon, there.lat, there.lon)
        if distance_m <= radius_m:
            found.append((other, distance_m))
    return sorted(found, key=lambda pair: (pair[1], str(pair[0].incident_id)))


class DuplicateCommands(DispatchStore):
    """Link a call to the incident it duplicates, or dismiss a possible duplicate."""

    @retried
    def link_duplicate(self, incident_id: UUID, original_id: UUID, actor: str) -> None:
        """The call `incident_id` is the same emergency as `original_id`: it is linked and
        cancelled, and the original gets a note of the call, in one save."""
        if incident_id == original_id:
            raise InvalidValue("original", "an incident cannot duplicate itself")
        call = self._incident(incident_id)
        original = self._incident(original_id)
        original.require_open()
        active = [call.assignments[u].call_sign for u in call.active_unit_ids]
        if active:
            raise IncidentHasActiveUnits(call.id, active)
        at = self._now()
        call.link_duplicate(original.id, actor, at)
        call.cancel(f"duplicate of incident {original.id}", actor, at)
        callback = f", callback {call.callback}" if call.callback else ""
        where = call.address or f"{call.location.lat:.5f}, {call.location.lon:.5f}"
        original.add_note(f"duplicate call linked: {call.nature} at {where}{callback}", actor, at)
        self._store(call, original)

    @retried
    def dismiss_duplicate(self, incident_id: UUID, candidate_id: UUID, actor: str) -> None:
        """`candidate_id` is not the same emergency as the call `incident_id`."""
        call = self._incident(incident_id)
        self._incident(candidate_id)  # it must exist
        if candidate_id not in call.dismissed_duplicates:
            call.dismiss_duplicate(candidate_id, actor, self._now())
            self._store(call)
