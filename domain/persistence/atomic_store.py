"""The event-store side of the Dispatch application: atomic saves, loads, retries, reads."""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoder

from najda.domain.access.user import User
from najda.domain.audit.correlation import CorrelatingTranscoder
from najda.domain.care.patient import Patient
from najda.domain.dispatch.command_inputs import (
    Clock,
    Distance,
    IdFactory,
    PositionPolicy,
    require_distance,
    utc_now,
)
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.stations_hospitals import Hospital, Station
from najda.domain.dispatch.unit import Unit, unit_id_for
from najda.domain.errors import (
    AlreadyExists,
    ConcurrentChange,
    Conflict,
    HospitalNotFound,
    IncidentNotFound,
    StationNotFound,
    UnitNotFound,
)
from najda.domain.persistence.aggregate_cache import CommandCache
from najda.domain.persistence.transcodings import register_domain_transcodings
from najda.domain.values import require_aware

A = TypeVar("A", Incident, Unit, Station, Hospital, User, Patient)
T = TypeVar("T")
P = ParamSpec("P")
S = TypeVar("S", bound="DispatchStore")


def retried(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """Make a self-validating command method run whole again on fresh state when it lost a
    race or was refused on cached state (see `DispatchStore._retry`); called from inside
    another retried command, it runs once, as part of that command."""

    def command(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._retry(lambda: method(self, *args, **kwargs))

    functools.update_wrapper(command, method)
    return command


class DispatchStore(Application[UUID]):
    """The event store side of Dispatch: saving, loading, caching, wake-ups and reads.

    What the rules need from outside is injected by whoever puts the application together:
    the `clock`, the `new_id` factory and the `distance` function (required: the domain
    keeps no formula; pass `najda.geo.distance.great_circle_m`). The `position_policy`
    defaults to `PositionPolicy(distance)`."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        distance: Distance,
        clock: Clock = utc_now,
        new_id: IdFactory = uuid.uuid4,
        position_policy: PositionPolicy | None = None,
        command_cache_size: int = 10_000,
    ) -> None:
        self.distance = require_distance(distance)
        super().__init__(env)
        self._cache = CommandCache(command_cache_size)
        self._local = threading.local()
        self.clock = clock
        self.new_id = new_id
        self.position_policy = position_policy or PositionPolicy(distance)
        self._listeners: list[Callable[[int], None]] = []
        self._listeners_lock = threading.Lock()

    # --- infrastructure hooks -----------------------------------------------------------

    def construct_transcoder(self) -> Transcoder:
        """JSON transcoding that keeps the request id with each event (domain/correlation)."""
        transcoder = CorrelatingTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call `listener(max_notification_id)` after each save (a wake-up hint only)."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[int], None]) -> None:
        """Stop calling a listener added before."""
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if not recordings:
            return
        top = max(r.notification.id for r in recordings)
        self._local.saved = max(top, getattr(self._local, "saved", 0))
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(top)

    def take_saved_position(self) -> int:
        """The newest position this thread saved since the last call (0: nothing saved)."""
        saved = int(getattr(self._local, "saved", 0))
        self._local.saved = 0
        return saved

    def _now(self) -> datetime:
        return require_aware("clock", self.clock())

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Application.save; for plain aggregates without its runtime Protocol checks.

        The library's `collect_events` tests each object against two runtime-checkable
        Protocols, slow on Python 3.11 (a tenth of a simulation's time); for aggregates
        the outcome is known, so this collects them directly and records as `save` does.
        """
        if kwargs or not all(isinstance(obj, BaseAggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        return recordings

    def _store(self, *aggregates: Any, creating: str | None = None) -> int:
        """Save aggregates atomically; map the store's conflict to a domain error."""
        pending = [e for a in aggregates for e in a.pending_events]
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            if self._saved_already(pending):
                # The store's driver retried a commit whose answer was lost (a dropped
                # connection): the first attempt went through, so this save did too.
                self._cache.put(*aggregates)
                head = int(self.recorder.max_notification_id() or 0)
                self._local.saved = head  # wait for it like for any save
                return head
            self._cache.evict(*(a.id for a in aggregates))
            if creating is not None:
                raise AlreadyExists(f"{creating} already exists") from None
            raise ConcurrentChange(
                "another command changed the same record first; reload and retry"
            ) from None
        self._cache.put(*aggregates)
        return max((r.notification.id for r in recordings), default=0)

    def _saved_already(self, pending: list[Any]) -> bool:
        """True when every one of these events is stored, byte for byte."""
        if not pending:
            return False
        for event in pending:
            mine = self.mapper.to_stored_event(event)
            stored = self.recorder.select_events(
                mine.originator_id,
                gt=mine.originator_version - 1,
                lte=mine.originator_version,
            )
            if len(stored) != 1 or (stored[0].topic, stored[0].state) != (mine.topic, mine.state):
                return False
        return True

    def _retry(self, command: Callable[[], T], attempts: int = 3) -> T:
        """Run a self-validating command; re-run it on fresh state when it lost a race,
        or when it was refused on state served from the command cache (which may be stale
        if another process changed the aggregate)."""
        if getattr(self._local, "retrying", False):
            return command()  # part of an enclosing command, which retries as a whole
        self._local.retrying = True
        try:
            return self._attempts(command, attempts)
        finally:
            self._local.retrying = False

    def _attempts(self, command: Callable[[], T], attempts: int) -> T:
        fresh = False
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self._local.served = []
            self._local.fresh = fresh
            try:
                return command()
            except ConcurrentChange:
                if last:
                    raise
            except Conflict:
                served: list[UUID] = self._local.served
                if last or not served:
                    raise
                self._cache.evict(*served)
                fresh = True
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, cls: type[A], ident: UUID, missing: type[Exception]) -> A:
        """Read an aggregate fresh from the store."""
        try:
            aggregate: object = self.repository.get(ident)
        except AggregateNotFoundError:
            raise missing(ident) from None
        if not isinstance(aggregate, cls):
            raise missing(ident)
        return aggregate

    def _load(self, cls: type[A], ident: UUID, missing: type[Exception]) -> A:
        """Load an aggregate for a command: checked out of the command cache, else read.

        The command saves it (which checks it back in) or drops it; `_keep` returns one the
        command decided not to change.
        """
        if not getattr(self._local, "fresh", False):
            cached = self._cache.take(ident)
            if isinstance(cached, cls):
                if hasattr(self._local, "served"):
                    self._local.served.append(ident)
                return cached
        return self._get(cls, ident, missing)

    def _keep(self, *aggregates: Any) -> None:
        """Check untouched aggregates back into the command cache."""
        self._cache.put(*[a for a in aggregates if not a.pending_events])

    def _incident(self, incident_id: UUID) -> Incident:
        return self._load(Incident, incident_id, IncidentNotFound)

    def _unit(self, unit_id: UUID) -> Unit:
        return self._load(Unit, unit_id, UnitNotFound)

    def _station(self, station_id: UUID) -> Station:
        """A station for a command to read, checked back into the command cache at once: a
        station has no event after its registration, so a cached one is never stale."""
        station = self._load(Station, station_id, StationNotFound)
        self._keep(station)
        return station

    # --- queries ----------------------------------------------------------------------

    def get_incident(self, incident_id: UUID, version: int | None = None) -> Incident:
        """The incident as it is now (or at a given version)."""
        if version is None:
            return self._get(Incident, incident_id, IncidentNotFound)
        try:
            aggregate: object = self.repository.get(incident_id, version=version)
        except AggregateNotFoundError:
            raise IncidentNotFound(incident_id) from None
        if not isinstance(aggregate, Incident):
            raise IncidentNotFound(incident_id)
        return aggregate

    def get_unit(self, unit_id: UUID) -> Unit:
        """The unit as it is now."""
        return self._get(Unit, unit_id, UnitNotFound)

    def find_unit(self, call_sign: str) -> Unit:
        """The unit with this call sign."""
        try:
            return self.get_unit(unit_id_for(call_sign))
        except UnitNotFound:
            raise UnitNotFound(call_sign) from None

    def get_station(self, station_id: UUID) -> Station:
        """A station by id."""
        return self._get(Station, station_id, StationNotFound)

    def get_hospital(self, hospital_id: UUID) -> Hospital:
        """A hospital by id."""
        return self._get(Hospital, hospital_id, HospitalNotFound)
