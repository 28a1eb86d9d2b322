"""The simulator's in-memory Dispatch: the same application, events kept as pickles."""

from __future__ import annotations

import pickle
from typing import Any

from eventsourcing.persistence import Transcoder

from najda.domain.application import Dispatch
from najda.domain.audit.correlation import REQUEST_ID_KEY, current_request_id


class PickleCorrelatingTranscoder(Transcoder):
    """Event state as a pickle, with the current request id kept as JSON storage keeps it.

    Only for a store that lives and dies inside the simulating process (the library's
    in-memory recorders): nothing outside reads its bytes, and a pickle round trip costs a
    fraction of the JSON transcodings' per-value callbacks. Never for a store on disk or
    shared: pickles are neither a stable format nor safe to read from elsewhere.
    """

    def encode(self, obj: Any) -> bytes:
        request_id = current_request_id()
        if request_id is not None and isinstance(obj, dict) and "timestamp" in obj:
            obj = {**obj, REQUEST_ID_KEY: request_id}
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, data: bytes) -> Any:
        obj = pickle.loads(data)  # written by this process, into its own memory
        if isinstance(obj, dict):
            obj.pop(REQUEST_ID_KEY, None)
        return obj


class MemoryDispatch(Dispatch):
    """Dispatch on the library's in-memory store with pickled event state (simulator only)."""

    def construct_transcoder(self) -> Transcoder:
        return PickleCorrelatingTranscoder()
