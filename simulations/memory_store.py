"""The simulator's in-memory Dispatch: the same application, events kept as private copies."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.utils import get_topic

from najda.domain.application import Dispatch
from najda.domain.audit.correlation import REQUEST_ID_KEY, current_request_id
from najda.domain.values import Position

#: Value types that cannot change once made: kept by reference, never copied (enum types
#: join when first met).
_IMMUTABLE: set[type] = {
    str, int, float, bool, bytes, type(None), datetime, date, time, timedelta, Decimal, UUID,
    Position,
}
#: Types found to be immutable (or not) by their first use, so each is tested once.
_KNOWN: dict[type, bool] = dict.fromkeys(_IMMUTABLE, True)


def _copied(value: Any) -> Any:
    """The value itself when its type is immutable (an enum, or one of `_IMMUTABLE`), else a
    deep copy."""
    kind = type(value)
    known = _KNOWN.get(kind)
    if known is None:
        known = _KNOWN[kind] = issubclass(kind, Enum)
        if known:
            _IMMUTABLE.add(kind)
    return value if known else copy.deepcopy(value)


def _own_copy(state: dict[str, Any]) -> dict[str, Any]:
    """A new dict sharing only the immutable values with `state` (lists, dicts and any
    other value are deep-copied), so neither side can change what the other holds."""
    if _IMMUTABLE.issuperset(map(type, state.values())):
        return dict(state)  # the common case, without a Python-level step per value
    known = _KNOWN
    return {k: v if known.get(type(v)) else _copied(v) for k, v in state.items()}


class SnapshotCorrelatingTranscoder(Transcoder):
    """Event state kept as a private copy of its dict, with the current request id kept as
    JSON storage keeps it.

    Only for a store that lives and dies inside the simulating process (the library's
    in-memory recorders): nothing outside reads its "bytes", which are the copied dict
    itself, so a save and a read cost one shallow copy (mutable values are deep-copied each
    way, so an aggregate rebuilt from the log never shares a list with the stored event).
    Never for a store on disk or shared: the audit readers that parse raw JSON state do not
    apply to it.
    """

    def encode(self, obj: Any) -> bytes:
        if not isinstance(obj, dict):
            return cast(bytes, copy.deepcopy(obj))
        state = _own_copy(obj)
        request_id = current_request_id()
        if request_id is not None and "timestamp" in state:
            state[REQUEST_ID_KEY] = request_id
        return cast(bytes, state)

    def decode(self, data: bytes) -> Any:
        stored: Any = data  # the copy `encode` made, never bytes
        if not isinstance(stored, dict):
            return copy.deepcopy(stored)
        state = _own_copy(stored)
        state.pop(REQUEST_ID_KEY, None)
        return state


#: Each event class's topic and each topic's class, for events at class version 1 (the
#: mapper leaves any other to the library's, which upcasts).
_TOPIC_OF: dict[type, str] = {}
_CLASS_OF: dict[str, type] = {}


class PrivateCopyMapper(Mapper[UUID]):
    """The library's Mapper for `SnapshotCorrelatingTranscoder` state, in one step.

    The same stored state (a private copy of the event's attributes less its originator
    id and version, with the request id) and the same decoded events (the class from the
    topic, a private copy of the state, the originator id and version), but without the
    library's general path around it (a copy before the transcoder's copy, no compressor or
    cipher to ask about, the topic resolved once per class).
    """

    def __init__(self) -> None:
        super().__init__(SnapshotCorrelatingTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        topic = _TOPIC_OF.get(cls)
        if topic is None:
            if getattr(cls, "class_version", 1) != 1:
                return super().to_stored_event(domain_event)
            topic = _TOPIC_OF[cls] = get_topic(cls)
            _CLASS_OF[topic] = cls
        state = _own_copy(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        request_id = current_request_id()
        if request_id is not None and "timestamp" in state:
            state[REQUEST_ID_KEY] = request_id
        stored = object.__new__(StoredEvent)  # its frozen __init__, one attribute at a time
        stored.__dict__.update(originator_id=originator_id, originator_version=originator_version,
                               topic=topic, state=state)
        return stored

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = _CLASS_OF.get(stored_event.topic)
        stored: Any = stored_event.state
        if cls is None or not isinstance(stored, dict):
            return super().to_domain_event(stored_event)
        state = _own_copy(stored)
        state.pop(REQUEST_ID_KEY, None)
        originator_id = stored_event.originator_id
        if not isinstance(originator_id, UUID):
            originator_id = find_id_convertor(cls, type(originator_id))(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        domain_event: Any = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event


class MemoryRecorder(POPOApplicationRecorder):
    """The library's in-memory application recorder, its aggregate index keyed by the
    originator id itself (not its string) and an insert checked and written in one pass.

    The same rules: an event whose originator version is stored already, or two of one
    insert with the same, make the insert raise IntegrityError and store nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._versions: dict[Any, dict[int, int]] = {}

    def _insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        return [n.id for n in self._insert(stored_events)]

    def insert_notifications(self, stored_events: Sequence[StoredEvent]) -> list[Notification]:
        """Insert events as `insert_events` does; the notifications they are stored as."""
        notifications = self._insert(stored_events)
        self._notify_listeners()
        return notifications

    def _insert(self, stored_events: Sequence[StoredEvent]) -> list[Notification]:
        # each event is held as its notification, which reads hand out as they are
        with self._database_lock:
            # each aggregate's versions looked up once (an id new here gets an empty index)
            helds = [self._versions.setdefault(s.originator_id, {}) for s in stored_events]
            for s, held in zip(stored_events, helds, strict=True):
                if s.originator_version in held:
                    raise IntegrityError(f"Stored event already recorded: {s}")
            if len(stored_events) > 1 and len(
                {(s.originator_id, s.originator_version) for s in stored_events}
            ) < len(stored_events):
                raise IntegrityError(f"Stored events are not unique: {stored_events}")
            table = self._stored_events
            notifications: list[Notification] = []
            for s, held in zip(stored_events, helds, strict=True):
                position = len(table) + 1
                n = object.__new__(Notification)  # as StoredEvent in `to_stored_event`
                n.__dict__.update(s.__dict__, id=position)
                table.append(n)
                held[s.originator_version] = position - 1
                notifications.append(n)
            return notifications

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        with self._database_lock:
            table = cast(list[Notification], self._stored_events)
            first = 1 if start is None else start + (0 if inclusive_of_start else 1)
            begin = max(first, 1) - 1
            end = len(table) if stop is None else min(stop, len(table))
            if not topics:
                return table[begin : min(end, begin + limit)]
            wanted = set(topics)
            rows: list[Notification] = []
            for i in range(begin, end):
                if table[i].topic in wanted:
                    rows.append(table[i])
                    if len(rows) == limit:
                        break
            return rows

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        with self._database_lock:
            held = self._versions.get(originator_id)
            if held is None and isinstance(originator_id, str):
                held = self._versions.get(UUID(originator_id))
            if not held:
                return []
            table = self._stored_events
            results: list[StoredEvent] = []
            for version in reversed(held) if desc else held:
                if (gt is None or version > gt) and (lte is None or version <= lte):
                    results.append(table[held[version]])
                    if len(results) == limit:
                        break
            return results


class MemoryDispatch(Dispatch):
    """Dispatch on the library's in-memory store with event state kept as private copies
    (simulator only)."""

    def construct_transcoder(self) -> Transcoder:
        return SnapshotCorrelatingTranscoder()

    def construct_mapper(self) -> Mapper[UUID]:
        return PrivateCopyMapper()

    def construct_recorder(self) -> ApplicationRecorder:
        return MemoryRecorder()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """DispatchStore.save in one pass when nothing but the log is kept (no snapshots, no
        library aggregate cache): the aggregates' events collected, stored and announced
        as there, without the library's processing record around them."""
        recorder = self.recorder
        if (kwargs or self.snapshots is not None or self.repository.cache is not None
                or not isinstance(recorder, MemoryRecorder)
                or not all(isinstance(obj, BaseAggregate) for obj in objs)):
            return super().save(*objs, **kwargs)
        events = [event for obj in objs for event in obj.collect_events()]
        to_stored = self.mapper.to_stored_event
        notifications = recorder.insert_notifications([to_stored(e) for e in events])
        recordings = [Recording(e, n) for e, n in zip(events, notifications, strict=True)]
        self._notify(recordings)
        self.notify(events)  # the library's deprecated hook, called as its save does
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Application._record, each event's recording made of the notification it is
        stored as (the library's event store makes one more of its own)."""
        recorder = self.recorder
        if (processing_event.tracking is not None or processing_event.saved_kwargs
                or not isinstance(recorder, MemoryRecorder)):
            return super()._record(processing_event)
        events = processing_event.events
        to_stored = self.mapper.to_stored_event
        notifications = recorder.insert_notifications([to_stored(e) for e in events])
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing_event.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        return [Recording(e, n) for e, n in zip(events, notifications, strict=True)]
