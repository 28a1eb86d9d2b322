"""The simulator's in-memory Dispatch keeps private copies of event state that read back as JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from najda.domain.application import Dispatch
from najda.domain.audit.correlation import REQUEST_ID_KEY, request_context
from najda.domain.values import Position, UnitKind, UnitStatus
from najda.simulations.memory_store import MemoryDispatch, SnapshotCorrelatingTranscoder
from najda.simulations.run import MEMORY_ENV

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_the_request_id_is_kept_in_the_state_and_dropped_on_reading() -> None:
    transcoder = SnapshotCorrelatingTranscoder()
    with request_context("req-7"):
        data: object = transcoder.encode({"timestamp": AT, "x": (1, 2)})
    assert isinstance(data, dict) and data[REQUEST_ID_KEY] == "req-7"
    assert transcoder.decode(transcoder.encode({"timestamp": AT, "x": (1, 2)})) == {
        "timestamp": AT, "x": (1, 2)
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
    assert transcoder.decode(stored) == {"timestamp": AT, "services": ["emergency"],
                                         "unit": UnitKind.ALS}
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

    copied = events(MemoryDispatch(MEMORY_ENV, clock=lambda: AT))
    json = events(Dispatch(MEMORY_ENV, clock=lambda: AT))
    assert len(copied) == 2
    skip = ("originator_id", "timestamp")  # a fresh id and the library's own clock
    assert [{k: v for k, v in e.items() if k not in skip} for e in copied] == [
        {k: v for k, v in e.items() if k not in skip} for e in json
    ]
    assert isinstance(MemoryDispatch(MEMORY_ENV).mapper.transcoder, SnapshotCorrelatingTranscoder)
