"""The request a command runs for: its id is kept with the events the command records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from eventsourcing.persistence import JSONTranscoder

#: The key under which a stored event's state carries the id of the request that caused it.
REQUEST_ID_KEY = "_request_id"

_request_id: ContextVar[str | None] = ContextVar("najda_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served in this context (None outside any request)."""
    return _request_id.get()


def set_request_id(request_id: str | None) -> Any:
    """Make `request_id` current; returns the token that `reset_request_id` takes."""
    return _request_id.set(request_id)


def reset_request_id(token: Any) -> None:
    """Restore the request id that was current before `set_request_id`."""
    _request_id.reset(token)


@contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Run a block on behalf of one request (the CLI, the simulator and tests use this)."""
    token = set_request_id(request_id)
    try:
        yield
    finally:
        reset_request_id(token)


class CorrelatingTranscoder(JSONTranscoder):
    """JSON transcoding that records the current request id with each event's state.

    The id is metadata, not part of the event: decoding removes it, so aggregates replay
    exactly as before and events stored without it (or outside a request) read the same.
    Read it from the raw stored state (`request_id_of`) for timelines and audits.
    """

    def encode(self, obj: Any) -> bytes:
        request_id = _request_id.get()
        if request_id is not None and isinstance(obj, dict) and "timestamp" in obj:
            obj = {**obj, REQUEST_ID_KEY: request_id}  # an event's state
        return super().encode(obj)

    def decode(self, data: bytes) -> Any:
        obj = super().decode(data)
        if isinstance(obj, dict):
            obj.pop(REQUEST_ID_KEY, None)
        return obj


def request_id_of(state: bytes) -> str | None:
    """The request id recorded in a stored event's raw state (None when there is none)."""
    if REQUEST_ID_KEY.encode() not in state:
        return None
    value = json.loads(state).get(REQUEST_ID_KEY)
    return value if isinstance(value, str) else None
