"""The simulator's in-memory Dispatch: the same application, events kept as private copies."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Transcoder

from najda.domain.application import Dispatch
from najda.domain.audit.correlation import REQUEST_ID_KEY, current_request_id
from najda.domain.values import Position

#: Value types that cannot change once made: kept by reference, never copied.
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
    return value if known else copy.deepcopy(value)


def _own_copy(state: dict[str, Any]) -> dict[str, Any]:
    """A new dict sharing only the immutable values with `state` (lists, dicts and any
    other value are deep-copied), so neither side can change what the other holds."""
    known = _KNOWN  # the common case inline: a few dozen thousand values a simulated day
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


class MemoryDispatch(Dispatch):
    """Dispatch on the library's in-memory store with event state kept as private copies
    (simulator only)."""

    def construct_transcoder(self) -> Transcoder:
        return SnapshotCorrelatingTranscoder()
