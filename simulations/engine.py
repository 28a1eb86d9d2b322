"""Discrete-event simulator: calls and crews driven through the real Dispatch application."""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, UnitKind, UnitStatus
from najda.geo.distance import geodesic_m
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Candidate, Query, UnitLocator
from najda.projections.dispatch.read_model_changes import LOCATOR_TOPICS, UnitMoved
from najda.projections.dispatch.road_locator import RoadLocator
from najda.projections.policies.dispatch import ClosestIdle, Coverage, Policy, SimView
from najda.projections.policies.view import SimUnit as PolicyUnit
from najda.simulations.scenario import Call, Scenario
from najda.simulations.travel import Point, Travel, remembered, travel_for

ACTOR = "simulator"
START = datetime(2026, 1, 5, tzinfo=UTC)
AMBULANCES = frozenset({UnitKind.ALS, UnitKind.BLS})
#: Notifications read per step when the locator catches up with the log.
CATCH_UP_BATCH = 500
#: How soon a policy that held a call with units idle is asked again.
RETRY_S = 60.0


class SimClock:
    """The simulated clock the application reads: a start instant plus simulated seconds."""

    def __init__(self, start: datetime = START) -> None:
        self.start = start
        self.now_s = 0.0
        self._read: tuple[datetime, float, datetime] = (start, 0.0, start)

    def __call__(self) -> datetime:
        """The instant now (the one made at this simulated second is handed out again: a step
        reads the clock in every command it runs)."""
        start, now_s, at = self._read
        if now_s != self.now_s or start is not self.start:
            at = self.start + timedelta(seconds=self.now_s)
            self._read = (self.start, self.now_s, at)
        return at


#: Ids whose bytes are drawn at once: one `rng.bytes` call costs about as much for 4 KiB
#: as for 16 bytes, and the generator's stream is the same either way.
IDS_PER_DRAW = 256


def seeded_ids(rng: np.random.Generator) -> Callable[[], UUID]:
    """Version-4 style UUIDs drawn from a seeded generator (same seed, same ids).

    The generator is read ahead, `IDS_PER_DRAW` ids at a time: it must serve the ids only.
    """
    pending: list[bytes] = []

    def new_id() -> UUID:
        if not pending:
            drawn = rng.bytes(16 * IDS_PER_DRAW)
            pending.extend(drawn[i : i + 16] for i in range(16 * (IDS_PER_DRAW - 1), -1, -16))
        return UUID(bytes=pending.pop(), version=4)

    return new_id


@dataclass
class SimUnit:
    """The simulator's side of a unit: where it is heading and how long it has been busy."""

    index: int
    unit_id: UUID
    call_sign: str
    station: int
    origin: Point
    left_at_s: float | None = None
    busy: bool = False
    trip: int = 0
    busy_since_s: float = 0.0
    busy_s: float = 0.0


@dataclass
class CallRecord:
    """What happened to one call (times in simulated seconds from the start)."""

    number: int
    call: Call
    incident_id: UUID
    unit: int | None = None
    dispatched_s: float | None = None
    arrived_s: float | None = None
    closed_s: float | None = None
    eta_s: float | None = None
    hospital: int | None = None
    backups: list[int] = field(default_factory=list)  # further units sent (roster indices)
    working: int = 0  # units on the call now: the incident closes when the last is free
    #: Times a unit sent to this call was diverted to a more urgent one (JEMSS redispatch).
    redispatched: int = 0

    @property
    def response_s(self) -> float | None:
        """Call to first unit on scene."""
        return None if self.arrived_s is None else self.arrived_s - self.call.at_s


@dataclass(frozen=True)
class Drive:
    """A unit's drive to a call, kept while redispatch may divert it."""

    record: CallRecord
    origin: Point
    start_s: float
    mode: int

    def at(self, now_s: float, travel: Travel) -> Point:
        """Where the unit is: along its route from where it set out (by road over a network,
        as JEMSS follows an ambulance's route; a straight line without one)."""
        call = self.record.call
        return travel.driving_at(self.origin, (call.lat, call.lon), self.mode, now_s - self.start_s)


@dataclass
class Backup:
    """A further unit a call needs: queued as the call was (its priority, its time) once it
    is asked for, never held; on scene for its own recorded time, then free without
    transport."""

    record: CallRecord
    on_scene_s: float
    unit: int | None = None

    @property
    def call(self) -> Call:
        """The call it serves (for the queue's order and the policy)."""
        return self.record.call


@dataclass
class RunResult:
    """Records of every call and unit of one run."""

    policy: str
    seed: int
    duration_s: float
    calls: list[CallRecord]
    units: list[SimUnit]
    events: int
    extra: dict[str, Any] = field(default_factory=dict)


class Simulator(SimView):
    """Runs a scenario under a policy; every step is a command on the Dispatch application."""

    def __init__(
        self,
        scenario: Scenario,
        policy: Policy,
        app: Dispatch,
        clock: SimClock,
        *,
        seed: int,
        travel: Travel | None = None,
    ) -> None:
        self.scenario = scenario
        self.policy = policy
        self.app = app
        self.clock = clock
        self.seed = seed
        self.travel = travel or travel_for(scenario)
        self.straight = EmbeddedLocator()
        self.locators: dict[int, UnitLocator] = {}
        for mode in sorted(scenario.modes()):
            if policy.ranking == "straight":
                self.locators[mode] = self.straight
            elif scenario.network is None:
                raise ValueError(f"policy {policy.name} needs a road network; scenario has none")
            else:
                self.locators[mode] = RoadLocator(self.straight, scenario.network, mode)
        self.source = NotificationSource(app, topics=LOCATOR_TOPICS)  # all the locator reads
        self.units: list[SimUnit] = []
        self.records: list[CallRecord] = []
        self.queue: list[CallRecord | Backup] = []
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._retry_pending = False
        self.relocated = 0  # move-ups: each recorded as the unit's Relocated event
        self.station_ids: list[UUID] = []
        self.redispatches = 0
        #: Units on their way to a call (not yet on scene), by roster index.
        self._en_route: dict[int, Drive] = {}
        # Where units on their way back are, and the return drives to every station from a
        # place: the redeploying policy asks them at every plan (bounded: emptied when full).
        self._returning: dict[tuple[Point, int, float], Point] = {}
        self._stations_s: dict[Point, list[float]] = {}

    # --- set-up -------------------------------------------------------------------------

    def register(self) -> None:
        """Register the scenario's stations, hospitals and units."""
        station_ids = [
            self.app.register_station(s.code, s.name, Position(s.lat, s.lon), ACTOR)
            for s in self.scenario.stations
        ]
        self.station_ids = station_ids
        for h in self.scenario.hospitals:
            self.app.register_hospital(h.code, h.name, Position(h.lat, h.lon), ["emergency"], ACTOR)
        for i, spec in enumerate(self.scenario.units):
            site = self.scenario.stations[spec.station]
            unit_id = self.app.register_unit(
                spec.call_sign, spec.kind, ACTOR, station_id=station_ids[spec.station]
            )
            home = (site.lat, site.lon)
            self.units.append(SimUnit(i, unit_id, spec.call_sign, spec.station, home))

    # --- the event loop -----------------------------------------------------------------

    async def _catch_up(self) -> None:
        """Feed the locator everything recorded since its position, from the notification
        log, in this thread: the simulation is one sequence of steps, so a worker thread
        (as the live server's runner uses) would only add a hand-over per step."""
        while True:
            batch = self.source.read(await self.straight.position(), CATCH_UP_BATCH)
            if not batch:
                return
            await self.straight.apply(batch)

    def _at(self, t: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, payload))

    async def run(
        self, duration_s: float, progress: Callable[[float], None] | None = None
    ) -> RunResult:
        """Simulate calls arriving in [0, duration_s), then serve them all to the end."""
        if not self.units:
            self.register()
        rng = np.random.default_rng(self.seed)
        calls = self.scenario.calls.calls(duration_s, rng)
        if self.scenario.network is not None:
            # every call's place snapped in one k-d tree query now rather than one query per
            # call as it is ranked and driven to (the same snaps, remembered by the network)
            self.scenario.network.snap_points([(call.lat, call.lon) for call in calls])
        for n, call in enumerate(calls):
            self._at(call.at_s, "call", (n, call))
        await self._catch_up()
        handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            "call": self._call,
            "dispatch": self._dispatch_due,
            "scene": self._on_scene,
            "scene_done": self._scene_done,
            "hospital": self._at_hospital,
            "handover": self._handover,
            "station": self._at_station,
            "retry": self._retry,
            "backup_due": self._backup_due,
            "backup_scene": self._backup_on_scene,
            "backup_done": self._backup_done,
        }
        steps = 0
        while self._heap:
            t, _, kind, payload = heapq.heappop(self._heap)
            self.clock.now_s = t
            await handlers[kind](payload)
            steps += 1
            if progress is not None and steps % 200 == 0:
                progress(min(t, duration_s))
        if progress is not None:
            progress(duration_s)
        return RunResult(
            self.policy.name,
            self.seed,
            duration_s,
            self.records,
            self.units,
            steps,
            extra={"relocations": self.relocated, "redispatches": self.redispatches},
        )

    # --- steps --------------------------------------------------------------------------

    async def _call(self, payload: tuple[int, Call]) -> None:
        n, call = payload
        pclass = self.scenario.priorities[call.priority]
        incident_id = self.app.report_incident(
            location=Position(call.lat, call.lon),
            address=f"{call.lat:.5f}, {call.lon:.5f}",
            nature=f"{call.priority} call",
            priority=pclass.priority,
            actor=ACTOR,
            determinant=f"SIM-{n}",
        )
        record = CallRecord(n, call, incident_id)
        self.records.append(record)
        self._at(call.at_s + call.dispatch_delay_s, "dispatch", record)

    async def _dispatch_due(self, record: CallRecord) -> None:
        self.queue.append(record)
        await self._dispatch_queued()

    async def _dispatch_queued(self) -> None:
        order = self.scenario.priorities
        while self.queue:
            self.queue.sort(key=lambda r: (-order[r.call.priority].priority.rank, r.call.at_s))
            record = self.queue[0]
            primary = isinstance(record, CallRecord)  # only a call's first unit may divert one
            if all(u.busy for u in self.units) and not (primary and self._divertible(record.call)):
                return
            held = primary and self.policy.holds(record.call, self)
            candidates = [] if held else await self.candidates(record.call, divert=primary)
            chosen = None if held else self.policy.choose(record.call, candidates, self)
            if chosen is None:
                if (held or candidates) and not self._retry_pending:
                    self._retry_pending = True  # held with units idle: look again soon
                    self._at(self.clock.now_s + RETRY_S, "retry", None)
                return
            self.queue.pop(0)
            if isinstance(record, Backup):
                self._send_backup(record, chosen)
            else:
                first_send = record.redispatched == 0  # a diverted call's backups are queued
                self._send(record, chosen)
                for further in record.call.backups if first_send else ():
                    backup = Backup(record, further.on_scene_s)
                    if further.after_s > 0:
                        self._at(self.clock.now_s + further.after_s, "backup_due", backup)
                    else:
                        self.queue.append(backup)
            for unit, station in self.policy.relocations(self):
                self._relocate(self.units[unit.index], station)

    async def _retry(self, _payload: None) -> None:
        self._retry_pending = False
        await self._dispatch_queued()

    async def candidates(self, call: Call, divert: bool = True) -> list[Candidate]:
        """Idle ambulances ranked by the policy's locator, after moving units report in (and,
        with `divert`, the en-route units JEMSS redispatch lets this call take)."""
        now = self.clock()
        moves = [
            UnitMoved(unit.unit_id, *self.position(unit), now)
            for unit in self.units
            if not unit.busy and unit.left_at_s is not None
        ]
        if moves:  # one AVL batch: one save for all of them, as a feed delivers them
            self.app.report_positions(
                [(m.unit_id, Position(m.lat, m.lon), m.at) for m in moves], ACTOR
            )
            await self.straight.update_positions(moves)
        await self._catch_up()
        # only what the policy weighs: a closest-unit policy sends the first; a coverage
        # policy looks past the first only at units arriving in time
        wanted = 1 if isinstance(self.policy, ClosestIdle) else len(self.units)
        within = None
        if isinstance(self.policy, Coverage):
            within = self.policy.eta_horizon_s(call, self)
        query = Query(call.lat, call.lon, kinds=AMBULANCES, limit=wanted, within_eta_s=within)
        mode = self.scenario.mode_for(call.priority, self.clock.now_s)
        ranked = await self.locators[mode].nearest(query)
        diverted = self._divertible(call) if divert else []
        if not diverted:
            return ranked
        for index in diverted:
            unit = self.units[index]
            lat, lon = self._en_route[index].at(self.clock.now_s, self.travel)
            ranked.append(Candidate(
                unit.unit_id, unit.call_sign, self.scenario.units[index].kind, (),
                UnitStatus.EN_ROUTE, lat, lon, now, geodesic_m(lat, lon, call.lat, call.lon),
                self.travel.time_s((lat, lon), (call.lat, call.lon), mode),
            ))
        return sorted(ranked, key=lambda c: (c.eta_s, c.call_sign))

    def _divertible(self, call: Call) -> list[int]:
        """Units en route that this call may take (JEMSS redispatch), in roster order."""
        allowed = self.scenario.divertible_from(call.priority)
        if not allowed:
            return []
        return [i for i, d in sorted(self._en_route.items()) if d.record.call.priority in allowed]

    def position(self, unit: SimUnit) -> Point:
        """Where an idle unit is now (parked, or on its way back to its station)."""
        if unit.left_at_s is None:
            return unit.origin
        origin, station, elapsed_s = unit.origin, unit.station, self.clock.now_s - unit.left_at_s
        return remembered(  # asked by every plan of the redeploying policy at the same instant
            self._returning, (origin, station, elapsed_s), 100_000,
            lambda: self.travel.returning_at(origin, station, self.scenario.return_mode, elapsed_s),
        )

    def _send(self, record: CallRecord, chosen: Candidate) -> None:
        unit, here, drive_s = self._dispatch_unit(record, chosen)
        now = self.clock.now_s
        record.unit, record.dispatched_s, record.eta_s = unit.index, now, chosen.eta_s
        if self.scenario.redispatch:
            mode = self.scenario.mode_for(record.call.priority, now)  # as the drive's
            self._en_route[unit.index] = Drive(record, here, now, mode)
        self._at(now + drive_s, "scene", (record, record.redispatched))

    def _send_backup(self, backup: Backup, chosen: Candidate) -> None:
        unit, _, drive_s = self._dispatch_unit(backup.record, chosen)
        backup.unit = unit.index
        backup.record.backups.append(unit.index)
        self._at(self.clock.now_s + drive_s, "backup_scene", backup)

    def _dispatch_unit(
        self, record: CallRecord, chosen: Candidate
    ) -> tuple[SimUnit, Point, float]:
        """Assign the chosen unit to the call's incident and start it: where from, how long."""
        unit = next(u for u in self.units if u.unit_id == chosen.unit_id)
        choice = UnitChoice(chosen.unit_id, chosen.distance_m, chosen.eta_s)
        now = self.clock.now_s
        if unit.busy:  # en route elsewhere: diverted, its call waits for another unit
            here = self._en_route[unit.index].at(now, self.travel)
            self._redispatch(unit, choice, record)
        else:
            here = self.position(unit)
            self.app.assign_units(record.incident_id, [choice], ACTOR)
            unit.busy, unit.busy_since_s = True, now
        self.app.update_unit_status(unit.unit_id, UnitStatus.EN_ROUTE, ACTOR)
        unit.left_at_s = None
        unit.trip += 1
        record.working += 1
        mode = self.scenario.mode_for(record.call.priority, now)
        return unit, here, self.travel.time_s(here, (record.call.lat, record.call.lon), mode)

    def _redispatch(self, unit: SimUnit, choice: UnitChoice, record: CallRecord) -> None:
        """Divert a unit en route to `record`'s call (one re-assign command, one save); the
        call it leaves goes back to the queue and is dispatched again."""
        left = self._en_route.pop(unit.index).record
        self.app.reassign_unit(choice, record.incident_id, from_incident_id=left.incident_id,
                               actor=ACTOR, reason="redispatched to a more urgent call")
        left.unit, left.dispatched_s, left.eta_s = None, None, None
        left.working -= 1
        left.redispatched += 1
        self.redispatches += 1
        self.queue.append(left)

    def _relocate(self, unit: SimUnit, station: int) -> None:
        """Move an idle unit to another station (it stays available on the way)."""
        here = self.position(unit)
        now = self.clock.now_s
        unit.origin, unit.left_at_s, unit.station = here, now, station
        unit.trip += 1
        self._move_up(unit, station)
        back_s = self.travel.to_station_s(here, station, self.scenario.return_mode)
        self._at(now + back_s, "station", (unit.index, unit.trip))

    def _move_up(self, unit: SimUnit, station: int) -> None:
        """The move-up as a dispatcher gives it: the unit's Relocated event (its crew is told
        through the live feed, as when a dispatcher accepts a suggestion)."""
        self.app.relocate_unit(unit.unit_id, self.station_ids[station], ACTOR)
        self.relocated += 1

    async def _on_scene(self, payload: tuple[CallRecord, int]) -> None:
        record, diverted = payload
        if record.redispatched != diverted:
            return  # the unit was diverted on the way
        unit = self.units[_unit(record)]
        self._en_route.pop(unit.index, None)
        self.app.update_unit_status(unit.unit_id, UnitStatus.ON_SCENE, ACTOR)
        await self._report_at(unit, (record.call.lat, record.call.lon))
        _arrived(record, self.clock.now_s)
        self._at(self.clock.now_s + record.call.on_scene_s, "scene_done", record)

    async def _backup_due(self, backup: Backup) -> None:
        """A further unit is asked for now, unless the call is already served."""
        if backup.record.closed_s is None:
            self.queue.append(backup)
            await self._dispatch_queued()

    async def _backup_on_scene(self, backup: Backup) -> None:
        unit = self.units[_unit(backup)]
        record = backup.record
        self.app.update_unit_status(unit.unit_id, UnitStatus.ON_SCENE, ACTOR)
        await self._report_at(unit, (record.call.lat, record.call.lon))
        _arrived(record, self.clock.now_s)
        self._at(self.clock.now_s + backup.on_scene_s, "backup_done", backup)

    async def _backup_done(self, backup: Backup) -> None:
        record = backup.record
        await self._free(record, self.units[_unit(backup)], (record.call.lat, record.call.lon))

    async def _scene_done(self, record: CallRecord) -> None:
        unit = self.units[_unit(record)]
        scene = (record.call.lat, record.call.lon)
        if not record.call.transport:
            await self._free(record, unit, scene)
            return
        mode = self.scenario.return_mode
        if record.call.hospital is not None:  # the call names its hospital (JEMSS calls.csv)
            best = record.call.hospital
            site = self.scenario.hospitals[best]
            drive_s = self.travel.time_s(scene, (site.lat, site.lon), mode)
        else:
            times = [self.travel.time_s(scene, (h.lat, h.lon), mode)
                     for h in self.scenario.hospitals]
            best = int(np.argmin(times))
            drive_s = times[best]
        record.hospital = best
        self.app.update_unit_status(unit.unit_id, UnitStatus.TRANSPORTING, ACTOR)
        self._at(self.clock.now_s + drive_s, "hospital", (record, best))

    async def _at_hospital(self, payload: tuple[CallRecord, int]) -> None:
        record, hospital = payload
        unit = self.units[_unit(record)]
        site = self.scenario.hospitals[hospital]
        self.app.update_unit_status(unit.unit_id, UnitStatus.AT_HOSPITAL, ACTOR)
        await self._report_at(unit, (site.lat, site.lon))
        self._at(self.clock.now_s + record.call.handover_s, "handover", (record, hospital))

    async def _handover(self, payload: tuple[CallRecord, int]) -> None:
        record, hospital = payload
        site = self.scenario.hospitals[hospital]
        await self._free(record, self.units[_unit(record)], (site.lat, site.lon))

    async def _free(self, record: CallRecord, unit: SimUnit, here: Point) -> None:
        self.app.update_unit_status(unit.unit_id, UnitStatus.AVAILABLE, ACTOR)
        record.working -= 1
        now = self.clock.now_s
        if record.working == 0:  # the last of its units: the call is served
            self.app.close_incident(record.incident_id, "simulated call served", ACTOR)
            record.closed_s = now
            # Further units it still waited for are no longer needed.
            self.queue = [
                q for q in self.queue if not (isinstance(q, Backup) and q.record is record)
            ]
        unit.busy = False
        unit.busy_s += now - unit.busy_since_s
        unit.origin, unit.left_at_s = here, now
        unit.station = self.policy.station_for(unit, self)
        if unit.station != self.scenario.units[unit.index].station:  # not home: a move-up
            self._move_up(unit, unit.station)
        unit.trip += 1
        back_s = self.travel.to_station_s(here, unit.station, self.scenario.return_mode)
        self._at(now + back_s, "station", (unit.index, unit.trip))
        await self._dispatch_queued()
        if not unit.busy:  # still free: the others may move up around it
            for moved, station in self.policy.relocations(self, freed=unit):
                self._relocate(self.units[moved.index], station)

    async def _at_station(self, payload: tuple[int, int]) -> None:
        index, trip = payload
        unit = self.units[index]
        if unit.busy or unit.trip != trip:
            return
        site = self.scenario.stations[unit.station]
        unit.origin, unit.left_at_s = (site.lat, site.lon), None
        await self._report_at(unit, unit.origin)

    async def _report_at(self, unit: SimUnit, where: Point) -> None:
        """A position report: to the application (an event when it matters) and, as AVL
        does, straight to the locator."""
        self.app.report_position(unit.unit_id, Position(*where), ACTOR)
        await self.straight.update_position(unit.unit_id, where[0], where[1], self.clock())

    # --- what policies may read ---------------------------------------------------------

    @property
    def now_s(self) -> float:
        """Simulated seconds since the start."""
        return self.clock.now_s

    def idle_units(self) -> list[SimUnit]:
        """Units not working a call, in roster order."""
        return [u for u in self.units if not u.busy]

    def all_units(self) -> list[SimUnit]:
        """Every unit, in roster order."""
        return list(self.units)

    def seconds_to_stations(self, unit: PolicyUnit) -> Sequence[float]:
        """Its return drives to every station, remembered per place (a parked unit's are asked
        at every plan of the redeploying policy)."""
        here = self.position(self.units[unit.index])
        mode = self.scenario.return_mode
        return remembered(
            self._stations_s, here, 10_000, lambda: self.travel.to_stations_s(here, mode)
        )

    def seconds_to_station(self, unit: PolicyUnit, station: int) -> float:
        """How long an idle unit takes from where it is now to a station (return mode)."""
        return self.seconds_to_stations(unit)[station]


def _unit(record: CallRecord | Backup) -> int:
    if record.unit is None:
        raise RuntimeError(f"call {record.call} has no unit")  # pragma: no cover
    return record.unit


def _arrived(record: CallRecord, now_s: float) -> None:
    """A unit reached the call: its response ends at the first arrival."""
    if record.arrived_s is None or now_s < record.arrived_s:
        record.arrived_s = now_s
