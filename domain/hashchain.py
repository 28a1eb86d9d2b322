"""The hash chain over the event log: each stored row's digest, linked to the one before."""

from __future__ import annotations

import hashlib
from uuid import UUID

#: The link before the first sealed row.
GENESIS = "0" * 64


def row_digest(position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> str:
    """SHA-256 of one stored row: its position, stream, version, topic and state bytes."""
    h = hashlib.sha256()
    h.update(f"{position}\n{originator_id}\n{version}\n{topic}\n".encode())
    h.update(state)
    return h.hexdigest()


def link(previous: str, digest: str) -> str:
    """The chain value after a row: SHA-256 of the previous chain value and the row's digest."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()
