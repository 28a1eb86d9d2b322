"""The live feed: every change as a compact message with its position, a resume buffer,
and fan-out to subscribers. It is a projection fed by the runner after the read models.

One unit projection, two instances: the feed keeps its own unit rows (each message is built
from the state at its event's position, which the locator may have passed), but folds them
with the locator's rule, `fold_unit_row` in projections/dispatch/read_model_changes.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from najda.api.live.at_report import AtReport, Call
from najda.api.live.avl import position_json, push_positions, stale_message
from najda.api.live.care import (
    consult_json,
    consult_message,
    destinations_json,
    hospital_json,
    hospital_status_message,
    specialist_snapshot,
)
from najda.api.live.fanout import FanOut
from najda.api.live.messages import (
    encode,
    iso,
    place_json,
    recommendation_json,
    unit_json,
)
from najda.api.live.monitoring import MonitoringFeed
from najda.api.live.resume import ResumeBuffer
from najda.api.live.subscribers import Interest, Message, Subscriber
from najda.api.schemas_incidents import NotePublic
from najda.api.views import incident_public
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.values import Priority, UnitStatus
from najda.projections.base import Tracked
from najda.projections.care.consult_queue import CONSULT_TOPICS, ConsultBook
from najda.projections.dispatch.board_rules import BoardRules
from najda.projections.dispatch.destinations import travel_for
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.read_model_changes import (
    BoardRow,
    UnitMoved,
    UnitRow,
    UnitStatusSet,
    UnitUpserted,
    board_change,
    fold_unit_row,
    locator_change,
)
from najda.projections.dispatch.recommendations import short_of_incident
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.policies.recommender import PolicyRecommender

#: Units in these statuses are off the air: never flagged stale.
OFF_AIR = frozenset({UnitStatus.OUT_OF_SERVICE})


class LiveFeed:
    """Turns events into messages (one per event), keeps the last ones for resume, fans out."""

    name = "live_feed"
    #: What a saved state holds (projections/store/saved_read_models.py): the state every message is
    #: made from and the resume buffer; not the subscribers, settings or other read models.
    SAVED_FIELDS = (
        "_position",
        "_units",
        "_heard",
        "_stale",
        "_recorded",
        "_acknowledged",
        "_board",
        "_incidents",
        "_consults",
        "_resume",
        "_monitoring",
    )

    def __init__(
        self,
        locator: UnitLocator,
        plan: ResponsePlan,
        reference: ReferenceDirectory,
        *,
        buffer_size: int = 20_000,
        buffer_bytes: int = 32 * 1024 * 1024,
        build_after: int = 0,
        stale_after: timedelta = timedelta(seconds=180),
        recommender: PolicyRecommender | None = None,
    ) -> None:
        self.locator = locator
        self.recommender = recommender
        self.at_report = AtReport(locator, plan, recommender)
        self.travel = travel_for(locator)
        self.plan = plan
        self.reference = reference
        self.stale_after = stale_after
        self._buffer_size = buffer_size
        self._buffer_bytes_limit = buffer_bytes
        self._build_after = build_after
        self._resume = ResumeBuffer(buffer_size, buffer_bytes, build_after)
        self._clients = FanOut()
        self._monitoring = MonitoringFeed()
        self._clear()

    def _clear(self) -> None:
        self._position = 0
        self._units: dict[UUID, UnitRow] = {}
        self._heard: dict[UUID, datetime] = {}
        self._stale: set[UUID] = set()
        self._recorded: dict[UUID, tuple[float, float, datetime]] = {}
        self._acknowledged: dict[UUID, UUID] = {}  # unit -> the incident its crew acknowledged
        self._board = BoardRules()
        self._incidents: dict[UUID, Incident] = {}  # open incidents, folded from their events
        self._consults = ConsultBook()  # open teleconsults
        self._resume.clear(self._build_after)
        self._monitoring.clear()
        self.at_report.clear()

    def after_restore(self) -> None:
        """Keep the restored messages a fresh replay would have built (those after
        `build_after`), so that resumes are answered as after a replay; when they stop short
        of the messages still to be built, none (older positions resume from a snapshot)."""
        self._resume.restored(
            self._position, self._build_after, self._buffer_size, self._buffer_bytes_limit
        )

    # --- projection -----------------------------------------------------------------------

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self._build_after = 0
        self._clear()

    async def apply(self, batch: Sequence[Tracked]) -> None:
        """Build every message first (recommendations need the locator), then publish all
        at once, so a subscriber registering between two awaits sees a consistent cut."""
        fresh = [item for item in batch if item.position > self._position]
        recommendations: dict[int, list[dict[str, Any]]] = {}
        for item in fresh:
            if item.topic == "najda:Incident.Reported" and item.position > self._build_after:
                e = item.event
                call = Call(
                    e.location.lat,
                    e.location.lon,
                    Priority(e.priority),
                    e.nature,
                    e.determinant,
                    e.call_received_at,
                )
                rec = await self.at_report.rank(item.originator_id, call)
                recommendations[item.position] = recommendation_json(rec)
        for item in fresh:
            made = self._apply_one(item, recommendations.get(item.position))
            self._position = item.position
            for message in made if isinstance(made, tuple) else (made,):
                if message is not None:
                    self._publish(message)

    def _apply_one(
        self, item: Tracked, rec: list[dict[str, Any]] | None
    ) -> Message | tuple[Message, ...] | None:
        topic = item.topic
        build = item.position > self._build_after
        base = {"pos": item.position, "event": topic.removeprefix("najda:")}
        e = item.event
        base["actor"] = getattr(e, "actor", None)
        base["at"] = iso(e.at) if hasattr(e, "at") else None
        if topic.startswith("najda:Unit."):
            return self._unit_event(item, base, build)
        if topic in CONSULT_TOPICS:
            self._incident_event(item, base, build, None)  # the incident holds its consults
            row = self._board.rows.get(item.originator_id)
            return consult_message(item, base, self._consults, row, build)
        if topic.startswith("najda:Incident."):
            return self._incident_event(item, base, build, rec)
        if topic == "najda:Hospital.StatusUpdated" and build:
            message = hospital_status_message(item, base, self.reference)
            # Crews on a job re-rank the destinations they are shown.
            working = frozenset(u for u, row in self._units.items() if row.incident_id is not None)
            return None if message is None else replace(message, unit_ids=working)
        if topic.startswith("najda:Patient."):  # remote monitoring (api/live/monitoring.py)
            return self._monitoring.message(item, base, build)
        if topic in ("najda:Station.Registered", "najda:Hospital.Registered") and build:
            kind = "station" if topic.startswith("najda:Station") else "hospital"
            places = self.reference.stations if kind == "station" else self.reference.hospitals
            place = places.get(item.originator_id)
            if place is None:
                return None
            base["type"] = kind
            base[kind] = place_json(place)
            if kind == "hospital":
                base[kind] = hospital_json(place, self.reference.hospital_status(place.id))
            return Message(item.position, encode(base), ((place.lat, place.lon),))
        return None  # users and anything else never reach consoles

    def _unit_event(self, item: Tracked, base: dict[str, Any], build: bool) -> Message | None:
        uid = item.originator_id
        before = self._units.get(uid)
        change = locator_change(item)
        if isinstance(change, UnitUpserted):
            row: UnitRow | None = change.row
            self._recorded[uid] = (change.row.lat, change.row.lon, change.row.position_at)
        elif change is not None and before is not None:
            if isinstance(change, UnitMoved):
                self._recorded[uid] = (change.lat, change.lon, change.at)
            row = fold_unit_row(before, change)  # the locator's rule (one unit projection)
        else:
            row = before
        if row is None:
            return None
        self._units[uid] = row
        if item.topic == "najda:Unit.Acknowledged":
            self._acknowledged[uid] = item.event.incident_id
        self._heard_from(uid, item.event.at)
        board_change_ = board_change(item)  # a unit's status shows on its incident too
        if board_change_ is not None:
            self._board.apply(board_change_)
        if not build:
            return None
        base["type"] = "unit"
        base["unit"] = self._unit_json(row)
        if item.topic == "najda:Unit.Relocated":  # a move-up: the crew is told where to go
            place = self.reference.stations.get(item.event.station_id)
            base["relocation"] = {
                "station_id": str(item.event.station_id),
                "station": item.event.station_code,
                "name": place.name if place else item.event.station_code,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
            }
        if isinstance(change, UnitStatusSet) and change.status is UnitStatus.TRANSPORTING:
            # The crew is offered its destinations as it leaves the scene.
            incident = None if row.incident_id is None else self._board.rows.get(row.incident_id)
            base["destinations"] = destinations_json(
                row, incident, self.reference, self.plan, self.travel, change.at
            )
        points = [(row.lat, row.lon)]
        if before is not None:
            points.append((before.lat, before.lon))
        return Message(item.position, encode(base), tuple(points), frozenset({uid}))

    def _incident_event(
        self,
        item: Tracked,
        base: dict[str, Any],
        build: bool,
        rec: list[dict[str, Any]] | None,
    ) -> Message | None:
        iid = item.originator_id
        held = self._incidents.get(iid)
        if held is None and item.topic != "najda:Incident.Reported":
            return None  # ended before the feed's start: consoles never see it again
        before = None if held is None else (held.location, set(held.active_unit_ids))
        incident: Incident = item.event.mutate(held)
        self._incidents[iid] = incident
        change = board_change(item)
        if change is not None:
            self._board.apply(change)
        if not incident.is_open:
            del self._incidents[iid]
        if not build or item.topic in CONSULT_TOPICS:
            return None
        base["type"] = "incident"
        # Deltas: a note message carries the new note; only an assignment carries them all
        # (the crew that joins needs what was said before), so nothing grows with each note.
        assigned = item.topic == "najda:Incident.UnitAssigned"
        shown = self._incident_json(incident, item.event.at, with_notes=assigned)
        if not assigned:
            del shown["notes"]
        base["incident"] = shown
        if item.topic == "najda:Incident.NoteAdded":
            last = incident.notes[-1]
            base["note"] = NotePublic(text=last.text, actor=last.actor, at=last.at).model_dump(
                mode="json"
            )
        if rec is not None:
            base["recommendation"] = rec
        units = set(incident.active_unit_ids)
        if before is not None:
            units.update(before[1])
        if item.topic in ("najda:Incident.UnitReleased", "najda:Incident.UnitCleared"):
            units.add(item.event.unit_id)
        if not incident.is_open:  # its crews learn how it ended (their release events follow)
            units.update(u for u, unit in self._units.items() if unit.incident_id == iid)
        here = incident.location
        points = [(here.lat, here.lon)]
        if before is not None and before[0] != here:
            points.append((before[0].lat, before[0].lon))
        return Message(item.position, encode(base), tuple(points), frozenset(units))

    def _incident_json(
        self, incident: Incident, at: datetime, with_notes: bool = True
    ) -> dict[str, Any]:
        """The incident as GET /incidents/{id} answers it (the same view), as of `at`, its
        units' statuses as its board row holds them, their capabilities as the feed does."""
        rows = [self._units[u] for u in incident.active_unit_ids if u in self._units]
        short = short_of_incident(incident, self.plan, {r.unit_id: r.capabilities for r in rows})
        statuses = {r.unit_id: r.status for r in rows}
        board = self._board.rows.get(incident.id)  # a unit is dispatched once assigned
        statuses.update({u.unit_id: u.status for u in board.units} if board else {})
        shown = incident_public(incident, at, statuses, None, short, with_notes)
        return shown.model_dump(mode="json")

    def _open_incident_json(self, row: BoardRow) -> dict[str, Any]:
        """An open incident with all its notes, as of its last change (snapshots)."""
        incident = self._incidents[row.incident_id]
        return self._incident_json(incident, incident.last_at)

    def _unit_json(self, row: UnitRow) -> dict[str, Any]:
        uid = row.unit_id
        acknowledged = (
            row.incident_id is not None and self._acknowledged.get(uid) == row.incident_id
        )
        return unit_json(row, uid in self._stale, acknowledged)

    def _heard_from(self, unit_id: UUID, at: datetime) -> None:
        previous = self._heard.get(unit_id)
        if previous is None or at > previous:
            self._heard[unit_id] = at

    # --- publishing and resume -----------------------------------------------------------

    def _publish(self, message: Message) -> None:
        self._resume.append(message)
        self._clients.offer(message)

    def subscribe(
        self, interest: Interest, since: int | None, limit: int
    ) -> tuple[Subscriber, list[str] | None]:
        """Register a client. Returns it and the missed messages after `since`, in order;
        None instead when `since` is absent or older than the buffer (send a snapshot).
        Registration and the backlog are one cut: nothing is missed or repeated."""
        return self._clients.subscribe(interest, since, limit, self._position, self._resume)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a client (counted as dropped when it fell too far behind)."""
        self._clients.unsubscribe(subscriber)

    @property
    def dropped_clients(self) -> int:
        """Clients dropped for falling too far behind, since start."""
        return self._clients.dropped_clients

    def clients_by_kind(self) -> dict[str, int]:
        """Connected clients of this process by kind (console, crew, specialist, monitoring)."""
        return self._clients.by_kind()

    def snapshot(self, interest: Interest) -> str:
        """The full state at the feed's position, as the client's interest sees it."""
        if interest.unit_id is not None:
            return self._crew_snapshot(interest.unit_id)
        if interest.specialties is not None:
            return specialist_snapshot(self._position, self._consults, interest.specialties)
        box = interest.bbox
        alerts = self._monitoring.open_alerts(box)
        if interest.monitoring:
            patients = self._monitoring.patients(box)
            body = {"type": "snapshot", "pos": self._position, "patients": patients}
            return encode({**body, "alerts": alerts})
        units = [
            self._unit_json(row)
            for uid, row in self._units.items()
            if box is None or box.contains(row.lat, row.lon)
        ]
        incidents = [
            self._open_incident_json(row)
            for row in self._board.ordered()
            if box is None or box.contains(row.lat, row.lon)
        ]
        stations = [place_json(p) for p in self.reference.list_stations()]
        hospitals = [
            hospital_json(p, self.reference.hospital_status(p.id))
            for p in self.reference.list_hospitals()
        ]
        return encode(
            {
                "type": "snapshot",
                "pos": self._position,
                "units": sorted(units, key=lambda u: u["call_sign"]),
                "incidents": incidents,
                "stations": stations,
                "hospitals": hospitals,
                "consults": [consult_json(c) for c in self._consults.listed()],
                "alerts": alerts,
                "device_problems": self._monitoring.device_problems(box),
            }
        )

    def _crew_snapshot(self, unit_id: UUID) -> str:
        row = self._units.get(unit_id)
        incident = None
        if row is not None and row.incident_id is not None:
            board_row = self._board.rows.get(row.incident_id)
            if board_row is not None:
                incident = self._open_incident_json(board_row)
        consults = []
        if row is not None and row.incident_id is not None:
            consults = [consult_json(c) for c in self._consults.listed(incident_id=row.incident_id)]
        return encode(
            {
                "type": "snapshot",
                "pos": self._position,
                "unit": None if row is None else self._unit_json(row),
                "incident": incident,
                "consults": consults,
            }
        )

    # --- what the AVL path and the stale watch need --------------------------------------

    def unit(self, unit_id: UUID) -> UnitRow | None:
        """The unit as the feed holds it (latest position included)."""
        return self._units.get(unit_id)

    def last_recorded(self, unit_id: UUID) -> tuple[float, float, datetime] | None:
        """The unit's last position recorded as an event: (lat, lon, at)."""
        return self._recorded.get(unit_id)

    def positions_moved(self, moves: Sequence[UnitMoved]) -> None:
        """Publish positions that are not events (AVL between recorded samples)."""
        consoles = self._clients.consoles()
        shown: list[dict[str, Any]] = []
        points: list[tuple[float, float]] = []
        for move in moves:
            row = self._units.get(move.unit_id)
            if row is None:
                continue
            self._heard_from(move.unit_id, move.at)
            moved = fold_unit_row(row, move)
            if moved is row:  # no newer than the position held
                continue
            self._units[move.unit_id] = moved
            if consoles:
                shown.append(position_json(move.unit_id, move.lat, move.lon, move.at))
                points.append((move.lat, move.lon))
        push_positions(consoles, self._position, shown, points)

    def check_stale(self, now: datetime) -> list[UUID]:
        """Flag units silent for longer than `stale_after` (and clear the flag of those heard
        again); tells consoles about each change. Returns the units whose flag changed."""
        stale = {
            uid
            for uid, row in self._units.items()
            if row.status not in OFF_AIR and now - self._heard.get(uid, now) > self.stale_after
        }
        changed = sorted(stale ^ self._stale)
        self._stale = stale
        if changed:
            text = stale_message(self._position, self._units, self._heard, changed, stale)
            self._clients.push(
                text, lambda interest: interest.is_console or interest.unit_id in stale
            )
        return changed
