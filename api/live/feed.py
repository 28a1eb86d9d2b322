"""The live feed: every change as a compact message with its position, a resume buffer,
and fan-out to subscribers. It is a projection fed by the runner after the read models.

LiveFeed coordinates; each job has its module: the state it holds (feed_state.py), unit
messages (unit_messages.py), incident messages (incident_messages.py), snapshots
(snapshots.py), care and places (care.py), monitoring (monitoring.py), AVL and stale flags
(avl.py), the report's recommendation (at_report.py), resume (resume.py), fan-out (fanout.py).

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
    consult_message,
    hospital_status_message,
    place_message,
    specialist_snapshot,
)
from najda.api.live.fanout import FanOut
from najda.api.live.feed_state import FeedState
from najda.api.live.incident_messages import incident_message
from najda.api.live.messages import iso, report_json
from najda.api.live.monitoring import MonitoringFeed
from najda.api.live.resume import ResumeBuffer
from najda.api.live.snapshots import console_snapshot, crew_snapshot, monitoring_snapshot
from najda.api.live.subscribers import Interest, Message, Subscriber
from najda.api.live.unit_messages import unit_message
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.values import Priority
from najda.projections.base import Tracked
from najda.projections.care.consult_queue import CONSULT_TOPICS
from najda.projections.dispatch.destinations import travel_for
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.read_model_changes import UnitMoved, UnitRow
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.policies.recommender import PolicyRecommender


class LiveFeed:
    """Turns events into messages (one per event), keeps the last ones for resume, fans out."""

    name = "live_feed"
    #: What a saved state holds (projections/store/saved_read_models.py): the state every message is
    #: made from and the resume buffer; not the subscribers, settings or other read models.
    SAVED_FIELDS = ("_position", "_state", "_resume", "_monitoring")

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
        self._state = FeedState()
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
        reports: dict[int, dict[str, Any]] = {}
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
                reports[item.position] = report_json(rec)
        for item in fresh:
            made = self._apply_one(item, reports.get(item.position))
            self._position = item.position
            for message in made if isinstance(made, tuple) else (made,):
                if message is not None:
                    self._publish(message)

    def _apply_one(
        self, item: Tracked, report: dict[str, Any] | None
    ) -> Message | tuple[Message, ...] | None:
        topic = item.topic
        build = item.position > self._build_after
        base = {"pos": item.position, "event": topic.removeprefix("najda:")}
        e = item.event
        base["actor"] = getattr(e, "actor", None)
        base["at"] = iso(e.at) if hasattr(e, "at") else None
        state = self._state
        if topic.startswith("najda:Unit."):
            return unit_message(state, item, base, build, self.reference, self.plan, self.travel)
        if topic in CONSULT_TOPICS:
            incident_message(state, item, base, build, None, self.plan)  # it holds its consults
            row = state.board.rows.get(item.originator_id)
            return consult_message(item, base, state.consults, row, build)
        if topic.startswith("najda:Incident."):
            return incident_message(state, item, base, build, report, self.plan)
        if topic == "najda:Hospital.StatusUpdated" and build:
            message = hospital_status_message(item, base, self.reference)
            # Crews on a job re-rank the destinations they are shown.
            working = frozenset(u for u, row in state.units.items() if row.incident_id is not None)
            return None if message is None else replace(message, unit_ids=working)
        if topic.startswith("najda:Patient."):  # remote monitoring (api/live/monitoring.py)
            return self._monitoring.message(item, base, build)
        if topic in ("najda:Station.Registered", "najda:Hospital.Registered") and build:
            return place_message(item, base, self.reference)
        return None  # users and anything else never reach consoles

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
            return crew_snapshot(self._position, self._state, self.plan, interest.unit_id)
        if interest.specialties is not None:
            return specialist_snapshot(self._position, self._state.consults, interest.specialties)
        if interest.monitoring:
            return monitoring_snapshot(self._position, self._monitoring, interest.bbox)
        return console_snapshot(
            self._position, self._state, self._monitoring, self.reference, self.plan, interest.bbox
        )

    # --- what the AVL path and the stale watch need --------------------------------------

    def unit(self, unit_id: UUID) -> UnitRow | None:
        """The unit as the feed holds it (latest position included)."""
        return self._state.units.get(unit_id)

    def last_recorded(self, unit_id: UUID) -> tuple[float, float, datetime] | None:
        """The unit's last position recorded as an event: (lat, lon, at)."""
        return self._state.recorded.get(unit_id)

    def positions_moved(self, moves: Sequence[UnitMoved]) -> None:
        """Publish positions that are not events (AVL between recorded samples)."""
        consoles = self._clients.consoles()
        shown: list[dict[str, Any]] = []
        points: list[tuple[float, float]] = []
        for move in moves:
            if self._state.move(move) and consoles:
                shown.append(position_json(move.unit_id, move.lat, move.lon, move.at))
                points.append((move.lat, move.lon))
        push_positions(consoles, self._position, shown, points)

    def check_stale(self, now: datetime) -> list[UUID]:
        """Flag units silent for longer than `stale_after` (and clear the flag of those heard
        again); tells consoles about each change. Returns the units whose flag changed."""
        state = self._state
        changed = state.flag_stale(now, self.stale_after)
        stale = state.stale
        if changed:
            text = stale_message(self._position, state.units, state.heard, changed, stale)
            self._clients.push(
                text, lambda interest: interest.is_console or interest.unit_id in stale
            )
        return changed
