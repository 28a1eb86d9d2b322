"""The simulator's in-memory Dispatch keeps private copies of event state that read back as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from najda.domain.application import Dispatch
from najda.domain.audit.correlation import REQUEST_ID_KEY, request_context
from najda.domain.values import Position, UnitKind, UnitStatus
from najda.simulations.memory_store import (
    MemoryDispatch,
    MemoryRecorder,
    PrivateCopyMapper,
    SnapshotCorrelatingTranscoder,
)
from najda.simulations.run import MEMORY_ENV
from tests.fakes import new_app, new_dispatch

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
HOME = Position(40.75, -73.99)


def test_the_request_id_is_kept_in_the_state_and_dropped_on_reading() -> None:
    transcoder = SnapshotCorrelatingTranscoder()
    with request_context("req-7"):
        data: object = transcoder.encode({"timestamp": AT, "x": (1, 2)})
    assert isinstance(data, dict) and data[REQUEST_ID_KEY] == "req-7"
    assert transcoder.decode(transcoder.encode({"timestamp": AT, "x": (1, 2)})) == {
        "timestamp": AT,
        "x": (1, 2),
    }
    assert transcoder.decode(transcoder.encode([1, "a"])) == [1, "a"]


def test_stored_state_shares_no_mutable_value_with_the_event_or_its_readers() -> None:
    transcoder = SnapshotCorrelatingTranscoder()
    services = ["emergency"]
    state = {"timestamp": AT, "services": services, "unit": UnitKind.ALS}
    stored = transcoder.encode(state)
    services.append("burns")  # the event's list changes after saving
    first = transcoder.decode(stored)
    first["services"].append("stroke")  # a reader's list changes after reading
    assert transcoder.decode(stored) == {
        "timestamp": AT,
        "services": ["emergency"],
        "unit": UnitKind.ALS,
    }
    assert first["unit"] is UnitKind.ALS  # immutable values are shared, not copied


def test_events_read_back_equal_those_of_the_json_store() -> None:
    def events(app: Dispatch) -> list[dict[str, object]]:
        unit = app.register_unit(
            "A-1", UnitKind.ALS, "sim", capabilities=["cardiac"], home=Position(40.75, -73.99)
        )
        app.update_unit_status(unit, UnitStatus.OUT_OF_SERVICE, "sim")
        got = [vars(e) for e in app.repository.event_store.get(unit)]
        app.close()
        return got

    copied = events(new_app(MemoryDispatch, MEMORY_ENV, clock=lambda: AT))
    json = events(new_dispatch(MEMORY_ENV, clock=lambda: AT))
    assert len(copied) == 2
    skip = ("originator_id", "timestamp")  # a fresh id and the library's own clock
    assert [{k: v for k, v in e.items() if k not in skip} for e in copied] == [
        {k: v for k, v in e.items() if k not in skip} for e in json
    ]
    assert isinstance(
        new_app(MemoryDispatch, MEMORY_ENV).mapper.transcoder, SnapshotCorrelatingTranscoder
    )


def _stored(ident: UUID, version: int) -> StoredEvent:
    return StoredEvent(ident, version, "najda:Test", cast(bytes, {"n": version}))


def test_the_memory_recorder_refuses_a_version_stored_already_and_stores_nothing() -> None:
    recorder, ident = MemoryRecorder(), uuid4()
    assert recorder.insert_events([_stored(ident, 1), _stored(ident, 2)]) == [1, 2]
    with pytest.raises(IntegrityError):
        recorder.insert_events([_stored(ident, 3), _stored(ident, 2)])
    with pytest.raises(IntegrityError):
        recorder.insert_events([_stored(ident, 3), _stored(ident, 3)])
    assert recorder.max_notification_id() == 2
    assert recorder.insert_events([_stored(ident, 3)]) == [3]


def test_the_memory_recorder_selects_events_as_the_library_recorder_does() -> None:
    ours, theirs = MemoryRecorder(), POPOApplicationRecorder()
    a, b = uuid4(), uuid4()
    for recorder in (ours, theirs):
        for version in range(1, 6):
            recorder.insert_events([_stored(a, version), _stored(b, version)])

    def fields(events: Sequence[StoredEvent]) -> list[tuple[object, ...]]:
        return [(e.originator_id, e.originator_version, e.topic, e.state) for e in events]

    for ident in (a, str(a), b, uuid4()):
        for options in (
            {},
            {"gt": 2},
            {"lte": 3},
            {"gt": 1, "lte": 4, "desc": True},
            {"desc": True, "limit": 2},
            {"gt": 5},
        ):
            got = ours.select_events(ident, **options)  # type: ignore[arg-type]
            assert fields(got) == fields(theirs.select_events(ident, **options))  # type: ignore[arg-type]


def test_the_memory_recorder_selects_notifications_as_the_library_recorder_does() -> None:
    ours, theirs = MemoryRecorder(), POPOApplicationRecorder()
    a, b = uuid4(), uuid4()
    for recorder in (ours, theirs):
        for version in range(1, 6):
            recorder.insert_events([_stored(a, version)])
            recorder.insert_events([replace(_stored(b, version), topic="najda:Other")])
    for start in (None, 0, 1, 4, 10, 11):
        for options in (
            {},
            {"inclusive_of_start": False},
            {"stop": 6},
            {"topics": ["najda:Test"]},
            {"topics": ("najda:Other",), "stop": 8, "inclusive_of_start": False},
        ):
            for limit in (1, 3, 100):
                got = ours.select_notifications(start, limit, **options)  # type: ignore[arg-type]
                assert got == theirs.select_notifications(start, limit, **options)  # type: ignore[arg-type]


def test_the_mapper_reads_back_private_copies_of_the_events_it_stored() -> None:
    app = new_app(MemoryDispatch, MEMORY_ENV, clock=lambda: AT)
    assert isinstance(app.mapper, PrivateCopyMapper)
    unit = app.register_unit(
        "A-1", UnitKind.ALS, "sim", capabilities=["cardiac"], home=Position(40.75, -73.99)
    )
    created = next(iter(app.repository.event_store.get(unit)))
    created.capabilities.append("burns")  # a reader changes its copy
    again = next(iter(app.repository.event_store.get(unit)))
    assert again.capabilities == ["cardiac"]
    assert (again.originator_id, again.originator_version) == (unit, 1)
    assert type(again) is type(created) and again is not created
    app.close()


def test_a_save_records_every_aggregate_in_order_and_wakes_listeners_with_the_newest() -> None:
    app = new_app(MemoryDispatch, MEMORY_ENV, clock=lambda: AT)
    woken: list[int] = []
    app.add_listener(woken.append)
    first = app.get_unit(app.register_unit("A-1", UnitKind.ALS, "sim", home=HOME))
    second = app.get_unit(app.register_unit("A-2", UnitKind.BLS, "sim", home=HOME))
    first.change_status(UnitStatus.OUT_OF_SERVICE, "sim", AT, "")
    second.change_status(UnitStatus.OUT_OF_SERVICE, "sim", AT, "")
    second.change_status(UnitStatus.AVAILABLE, "sim", AT, "")
    recordings = app.save(first, second)
    assert [r.notification.id for r in recordings] == [3, 4, 5]
    assert [
        (r.domain_event.originator_id, r.domain_event.originator_version) for r in recordings
    ] == [(first.id, 2), (second.id, 2), (second.id, 3)]
    assert woken == [1, 2, 5] and app.take_saved_position() == 5
    assert not first.pending_events and not second.pending_events
    assert app.get_unit(second.id).version == 3
    fresh, stale = app.get_unit(first.id), app.get_unit(first.id)
    for unit in (fresh, stale):
        unit.change_status(UnitStatus.AVAILABLE, "sim", AT, "")
    app.save(fresh)
    with pytest.raises(IntegrityError):  # the same version again: refused, nothing stored
        app.save(stale)
    assert app.recorder.max_notification_id() == 6 and woken[-1] == 6
