"""Counterfactual replay: the calls recorded in an event store, as they happened, re-run
under other policies, beside the store's own response times."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse
from uuid import UUID

import numpy as np
from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError

from najda.domain.application import Dispatch
from najda.domain.values import Priority, UnitKind
from najda.geo.distance import great_circle_m
from najda.projections.reports.nemsis_intervals import UnitResponse
from najda.projections.reports.response_times import collect
from najda.projections.store.environment import (
    asyncpg_dsn,
    is_postgres_url,
    postgres_env,
    sqlite_env,
)
from najda.projections.store.event_rows import EventLog
from najda.simulations.report import PolicyReport, PriorityStats
from najda.simulations.report import _stats as stats_of  # the same figures as every policy's
from najda.simulations.scenario import Call, FurtherUnit, Scenario
from najda.simulations.store_queue import Availability, availability

#: The embedded store's file in a data directory (as `najda serve --data-dir` keeps it).
STORE_FILE = "najda.sqlite"
#: The unit kinds the simulator sends (UnitResponse.kind values).
AMBULANCE_KINDS = frozenset(k.value for k in (UnitKind.ALS, UnitKind.BLS))
#: The name of the column holding the store's own figures.
AS_HAPPENED = "as happened"


class StoreReplayError(ValueError):
    """The store cannot be replayed on this scenario (missing, no calls, a priority it lacks)."""


@dataclass(frozen=True)
class RecordedCall:
    """One call of the store: the call to replay, and its response time as it happened."""

    incident_id: UUID
    call: Call
    response_s: float


@dataclass(frozen=True)
class History:
    """The calls of a store in a time window (those a unit reached), from `start`."""

    start: datetime
    end: datetime
    calls: list[RecordedCall]
    skipped: int  # incidents in the window no unit reached (cancelled before arrival)
    queued: int = 0  # calls that waited for a free ambulance (their wait is re-decided)
    other_kinds: int = 0  # calls that also had units of other kinds on scene (not re-run)


def open_store(store: str | Path) -> Dispatch:
    """The Dispatch application on a recorded store: a PostgreSQL URL (as `najda serve
    --database-url` takes it), a SQLite file, or a server's data directory (its embedded
    store); StoreReplayError naming --from-store when it cannot be opened."""
    text = str(store)
    if is_postgres_url(text):
        try:
            # Read only: a database without Najda's tables is refused, never set up.
            env = {**postgres_env(text, pool_size=2), "CREATE_TABLE": "n"}
            _probe(text)
            return Dispatch(env, distance=great_circle_m)
        except ValueError as exc:
            raise StoreReplayError(f"--from-store: {exc}") from None
        except (OperationalError, InterfaceError) as exc:
            raise StoreReplayError(
                f"--from-store: cannot open the PostgreSQL store {redacted(text)}: {exc}"
            ) from None
    path = Path(store)
    if path.is_dir():  # a server's data directory: its embedded store
        path = path / STORE_FILE
    if not path.is_file():
        raise StoreReplayError(
            f"--from-store: {path} is not a SQLite event store (nor a postgresql:// URL)"
        )
    return Dispatch(sqlite_env(path), distance=great_circle_m)


def _probe(url: str) -> None:
    """One connection to the store, so that a server or database that is not there is named
    at once (the connection pool would retry for its whole timeout and say only that)."""
    import psycopg

    try:
        with psycopg.connect(asyncpg_dsn(url), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise OperationalError(reason or type(exc).__name__) from None


def redacted(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlparse(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunparse(parts._replace(netloc=netloc))


def read_history(
    store: str | Path,
    scenario: Scenario,
    start: datetime | None = None,
    end: datetime | None = None,
) -> History:
    """The calls recorded in an event store (SQLite or PostgreSQL, `open_store`) called in
    [start, end), with their times,
    places, priorities (as the scenario's classes of the same Najda priority), call
    processing (call received to first unit notified; for a call that waited with no
    ambulance free, the typical processing of the others, so the policy decides its
    wait again), on-scene and hospital durations as they happened, from the store's own
    NEMSIS unit responses (the first unit on scene)."""
    classes: dict[Priority, str] = {}
    for name in scenario.priority_order():
        classes.setdefault(scenario.priorities[name].priority, name)
    dispatch = open_store(store)
    try:
        log = EventLog(dispatch)
        responses, _zones = collect(log, start, end)
        free = availability(dispatch)
        assigned = assignment_order(log)
    except ProgrammingError as exc:  # PostgreSQL without Najda's tables
        shown = redacted(str(store))
        raise StoreReplayError(f"--from-store: {shown} is not a Najda event store: {exc}") from None
    finally:
        dispatch.close()
    by_incident: dict[UUID, list[UnitResponse]] = defaultdict(list)
    for r in responses:
        by_incident[r.incident_id].append(r)
    notified = {i: min(r.unit_notified for r in rs) for i, rs in by_incident.items()}
    firsts = [next((r for r in rs if r.first_on_scene), None) for rs in by_incident.values()]
    reached = sorted(
        (r for r in firsts if r is not None and r.on_scene is not None),
        key=lambda r: (r.call_received, str(r.incident_id)),
    )
    if not reached:
        shown = redacted(str(store))
        raise StoreReplayError(f"--from-store: {shown} holds no call reached in that window")
    origin = start or reached[0].call_received
    ready, queued = _ready_times(reached, notified, free)
    calls: list[RecordedCall] = []
    other_kinds = 0
    for r in reached:
        if r.priority not in classes:
            known = ", ".join(str(p) for p in classes)
            raise StoreReplayError(
                f"--from-store: incident {r.incident_id} has priority {r.priority}; "
                f"the scenario's classes are {known}"
            )
        response_s = r.interval_s("response")  # the store's own: call to first on scene
        if response_s is None:  # pragma: no cover - reached calls have both ends
            continue
        ranked = sorted(  # by notification, then assignment (several at one instant)
            by_incident[r.incident_id],
            key=lambda o: (o.unit_notified, assigned.get((o.incident_id, o.unit_id), 0)),
        )
        call = _demand(r, ranked, origin, classes, ready[r.incident_id], free)
        if any(
            o.on_scene is not None and o.kind not in AMBULANCE_KINDS
            for o in by_incident[r.incident_id]
        ):
            other_kinds += 1
        calls.append(RecordedCall(r.incident_id, call, response_s))
    last = end or max(r.call_received for r in reached)
    return History(origin, last, calls, len(by_incident) - len(reached), queued, other_kinds)


def assignment_order(log: EventLog, batch: int = 5_000) -> dict[tuple[UUID, UUID], int]:
    """The log position of each (incident, unit) assignment (the last, if assigned twice)."""
    order: dict[tuple[UUID, UUID], int] = {}
    after = 0
    while rows := log.scan(after, batch):
        for raw in rows:
            if raw.topic == "najda:Incident.UnitAssigned":
                order[(raw.originator_id, log.decode(raw).unit_id)] = raw.position
        after = rows[-1].position
    return order


def _demand(
    r: UnitResponse,
    responses: list[UnitResponse],
    origin: datetime,
    classes: dict[Priority, str],
    ready: datetime,
    free: Availability,
) -> Call:
    """The call with the ambulances that reached it (`responses` in the order they were
    sent): the first one sent serves it as it did (on scene, transport, handover; the first
    on scene, `r`, when no ambulance did); each further one stays on scene as long and is
    asked for as long after the first as it was sent, unless no ambulance was free just
    before it was sent (it waited): then midway through that wait, so that, queued as its
    call, it takes the ambulance that frees as it did."""
    ambulances = [o for o in responses if o.on_scene is not None and o.kind in AMBULANCE_KINDS]
    first = ambulances[0] if ambulances else r
    call = _call(first, origin, classes, ready)
    further = tuple(
        FurtherUnit(
            _s(_asked(first.unit_notified, o.unit_notified, free), first.unit_notified),
            _on_scene_s(o),
        )
        for o in ambulances[1:]
    )
    return replace(call, backups=further) if further else call


def _ready_times(
    reached: list[UnitResponse], notified: dict[UUID, datetime], free: Availability
) -> tuple[dict[UUID, datetime], int]:
    """When each call was ready for a unit: its first unit's notification, unless no
    ambulance was free from its entry until then (it waited in a queue): then its call
    processing is taken as the median of the calls that did not wait (never later than
    it was notified). Also how many calls waited."""
    waited = {
        r.incident_id
        for r in reached
        if not free.free_during(r.dispatch_notified, notified[r.incident_id])
    }
    processing = [
        (notified[r.incident_id] - r.call_received).total_seconds()
        for r in reached
        if r.incident_id not in waited
    ]
    typical = timedelta(seconds=float(np.median(processing))) if processing else None
    ready: dict[UUID, datetime] = {}
    for r in reached:
        at = notified[r.incident_id]
        if r.incident_id in waited and typical is not None:
            at = min(at, max(r.dispatch_notified, r.call_received + typical))
        ready[r.incident_id] = at
    return ready, len(waited)


def _asked(first: datetime, sent: datetime, free: Availability) -> datetime:
    """When a further ambulance sent at `sent` was asked for (see `_demand`)."""
    waiting = free.waiting_since(first, sent)
    return sent if waiting is None else waiting + (sent - waiting) / 2


def _call(
    r: UnitResponse, origin: datetime, classes: dict[Priority, str], notified: datetime
) -> Call:
    """The call as it happened: dispatchable once its first unit was notified (the call
    processing as recorded), on scene until the unit left or was free again."""
    on_scene = r.on_scene
    if on_scene is None:  # pragma: no cover - only reached calls are replayed
        raise StoreReplayError(f"incident {r.incident_id}: no unit reached it")
    transport = r.left_scene is not None and r.at_destination is not None
    handover_s = 0.0
    if transport and r.at_destination is not None and r.back_in_service is not None:
        handover_s = _s(r.back_in_service, r.at_destination)
    return Call(
        at_s=_s(r.call_received, origin),
        lat=r.lat,
        lon=r.lon,
        priority=classes[r.priority],
        dispatch_delay_s=_s(notified, r.call_received),
        on_scene_s=_on_scene_s(r),
        transport=transport,
        handover_s=handover_s,
    )


def _on_scene_s(r: UnitResponse) -> float:
    """How long the unit stayed: until it left the scene, else was free again."""
    if r.on_scene is None:  # pragma: no cover - only units on scene are asked
        return 0.0
    left = r.left_scene or r.back_in_service or r.cancelled or r.on_scene
    return _s(left, r.on_scene)


def _s(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds())


def as_happened(history: History, scenario: Scenario) -> PolicyReport:
    """The store's own figures in the simulator's report form (utilisation not known)."""
    stats: list[PriorityStats] = []
    responses: dict[str, np.ndarray] = {}
    every: list[float] = []
    within_all: list[bool] = []
    for name in scenario.priority_order():
        times = np.array(
            [c.response_s for c in history.calls if c.call.priority == name], dtype=float
        )
        target = scenario.priorities[name].target_s
        responses[name] = times
        every.extend(times.tolist())
        within_all.extend((times <= target).tolist())
        if times.size:
            stats.append(stats_of(name, times, float(np.mean(times <= target))))
    within = float(np.mean(within_all)) if within_all else math.nan
    return PolicyReport(
        policy=AS_HAPPENED,
        seed=0,
        days=(history.end - history.start).total_seconds() / 86_400,
        calls=len(history.calls),
        by_priority=stats,
        overall=stats_of("all", np.array(every), within),
        utilisation=math.nan,
        response_s=responses,
        by_unit={},
        by_station={},
        by_hospital={},
    )


def replay_calls(history: History) -> Sequence[Call]:
    """The calls to re-run, in time order."""
    return [c.call for c in history.calls]
