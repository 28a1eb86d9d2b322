"""The hash chain over the event log: each stored row's digest, linked to the one before."""

from __future__ import annotations

import hashlib
from uuid import UUID

#: The link before the first sealed row.
GENESIS = "0" * 64


def row_digest(originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """SHA-256 of one stored event: its stream, version, topic and state bytes.

    The position is left out so that an event moved elsewhere in the log is recognised;
    the chain binds each digest to its position.
    """
    h = hashlib.sha256()
    h.update(f"{originator_id}\n{version}\n{topic}\n".encode())
    h.update(state)
    return h.hexdigest()


def link(previous: str, position: int, digest: str) -> str:
    """The chain value after a row: SHA-256 of the previous value, the position and digest."""
    data = bytes.fromhex(previous) + position.to_bytes(8, "big") + bytes.fromhex(digest)
    return hashlib.sha256(data).hexdigest()
