"""A large, valid event history written straight into a store, for the audit benchmarks.

Aggregates are driven in memory through their own command methods (so every event is one the
application could have recorded, with consecutive versions), then their events are encoded
by the application's mapper and appended to its PostgreSQL table with COPY in large batches
(on SQLite, through the recorder in large transactions).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from najda.domain.application import Dispatch
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.unit import Unit, unit_id_for
from najda.domain.values import IncidentSource, Position, Priority, UnitKind, UnitStatus

T0 = datetime(2024, 3, 1, tzinfo=UTC)
CENTRE = Position(36.75, 3.06)
KINDS = (UnitKind.ALS, UnitKind.BLS, UnitKind.BLS, UnitKind.RESPONDER, UnitKind.CRISIS)
PRIORITIES = (Priority.E, Priority.D, Priority.D, Priority.C, Priority.B, Priority.A)
#: Incidents still open when the history ends (they stay on the board).
OPEN_AT_END = 200


@dataclass
class History:
    """What was written: the incident ids and the number of events."""

    incidents: list[UUID]
    events: int


def _copy(app: Dispatch, stored: list[Any]) -> None:
    """Append stored events with COPY (positions follow the rows' order, as inserts give);
    on SQLite through the recorder in one transaction (witnessed, as the server writes)."""
    recorder: Any = app.recorder
    if not hasattr(recorder.datastore, "schema"):  # SQLite: no COPY
        recorder.insert_events(stored)
        return
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    columns = "originator_id, originator_version, topic, state"
    with (
        recorder.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for s in stored:
            copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))


def _point(rng: random.Random) -> Position:
    return Position(CENTRE.lat + rng.uniform(-0.18, 0.18), CENTRE.lon + rng.uniform(-0.22, 0.22))


def write_history(
    app: Dispatch,
    target_events: int,
    *,
    units: int = 300,
    seed: int = 5,
    batch: int = 20_000,
    call_signs: str = "U",
    progress: Callable[[int], None] | None = None,
) -> History:
    """Write about `target_events` events: units, then incidents worked from call to close."""
    rng = random.Random(seed)
    pending: list[Any] = []
    written = 0
    to_stored = app.mapper.to_stored_event

    def flush(force: bool = False) -> None:
        nonlocal written
        if pending and (force or len(pending) >= batch):
            _copy(app, [to_stored(e) for e in pending])
            written += len(pending)
            if progress is not None:
                progress(len(pending))
            pending.clear()

    def keep(*aggregates: Incident | Unit) -> None:
        for aggregate in aggregates:
            pending.extend(aggregate.collect_events())
        flush()

    fleet: list[Unit] = []
    at = T0
    for i in range(units):
        call_sign = f"{call_signs}-{i:04d}"
        unit = Unit(
            id=unit_id_for(call_sign), call_sign=call_sign, kind=KINDS[i % len(KINDS)],
            capabilities=[], station_id=None, home=_point(rng), actor="admin", at=at,
        )  # fmt: skip
        fleet.append(unit)
        keep(unit)
    incidents: list[UUID] = []
    free = list(fleet)
    tick = timedelta(seconds=7)
    while written + len(pending) < target_events:
        at += tick
        where = _point(rng)
        incident = Incident(
            id=UUID(int=rng.getrandbits(128), version=4), call_received_at=at - tick,
            location=where, address=f"{rng.randint(1, 200)} Street {rng.randint(1, 90)}",
            nature="chest pain", priority=rng.choice(PRIORITIES), determinant="",
            callback=None, source=IncidentSource.PHONE, actor="calltaker", at=at,
            location_fix=None,
        )  # fmt: skip
        if not free:
            break
        incidents.append(incident.id)
        rng.shuffle(free)
        unit = free.pop()
        at += tick
        unit.dispatch(incident.id, "d.ali", at)
        incident.assign_unit(unit.id, unit.call_sign, unit.kind, 1500.0, 200.0, "d.ali", at)
        if rng.random() < 0.2:
            incident.add_note("caller reports the patient is breathing", "d.ali", at)
        keep(incident, unit)
        closing = written + len(pending) < target_events - OPEN_AT_END * 12
        for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
            at += tick
            unit.change_status(status, "crew", at)
            for _ in range(2):  # AVL samples worth recording on the way
                at += tick
                unit.report_position(_point(rng), "avl", at)
            keep(unit)
        if not closing:
            continue
        for status in (UnitStatus.TRANSPORTING, UnitStatus.AT_HOSPITAL, UnitStatus.AVAILABLE):
            at += tick
            unit.change_status(status, "crew", at)
        incident.clear_unit(unit.id, unit.call_sign, "crew", at)
        at += tick
        incident.close("treated and transported", "d.ali", at)
        keep(unit, incident)
        free.append(unit)
    flush(force=True)
    return History(incidents, written)
