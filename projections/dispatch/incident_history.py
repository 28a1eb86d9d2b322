"""Incident history for search: every incident (open and ended) folded from its own events,
read straight from the event log (both stores, one code path)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from najda.domain.values import IncidentStatus, Priority
from najda.projections.dispatch.read_model_changes import BoardRow, reported_row
from najda.projections.store.event_rows import EventLog

#: The incident events that change what a search reads.
TOPICS = (
    "najda:Incident.Reported",
    "najda:Incident.PriorityChanged",
    "najda:Incident.LocationCorrected",
    "najda:Incident.UnitAssigned",
    "najda:Incident.Closed",
    "najda:Incident.Cancelled",
)


class HistoryState(StrEnum):
    """Which incidents a search covers."""

    OPEN = "open"
    CLOSED = "closed"  # closed or cancelled
    ALL = "all"


@dataclass(frozen=True)
class HistoryRow:
    """One incident as a history search sees it: its board fields (no live units), its
    status and end, and every unit ever assigned."""

    board: BoardRow
    status: IncidentStatus
    ended_at: datetime | None = None
    disposition: str | None = None
    units: tuple[tuple[UUID, str], ...] = field(default_factory=tuple)

    @property
    def incident_id(self) -> UUID:
        """The incident's id."""
        return self.board.incident_id

    @property
    def call_signs(self) -> list[str]:
        """Every unit ever assigned, by call sign, in assignment order (no repeats)."""
        return list(dict.fromkeys(sign for _, sign in self.units))


@dataclass(frozen=True)
class HistoryQuery:
    """A history search: state, words, call time range, a unit (id or call sign)."""

    state: HistoryState = HistoryState.ALL
    q: str = ""
    since: datetime | None = None
    until: datetime | None = None
    unit_id: UUID | None = None
    call_sign: str = ""

    def matches(self, row: HistoryRow) -> bool:
        """True when the row answers the search."""
        if self.state is HistoryState.OPEN and not row.status.is_open:
            return False
        if self.state is HistoryState.CLOSED and row.status.is_open:
            return False
        received = row.board.call_received_at
        if self.since is not None and received < self.since:
            return False
        if self.until is not None and received > self.until:
            return False
        if self.unit_id is not None or self.call_sign:
            sign = self.call_sign.upper()
            if not any(u == self.unit_id or s.upper() == sign for u, s in row.units):
                return False
        words = self.q.lower().split()
        b = row.board
        text = " ".join(
            (str(b.incident_id), b.nature, b.address, b.determinant, row.disposition or "")
        ).lower()
        return all(w in text for w in words)


def incident_history(log: EventLog) -> list[HistoryRow]:
    """Every incident, newest call first (folded from the whole log)."""
    return HistoryIndex().refresh(log)


class HistoryIndex:
    """The history kept in memory and brought up to date from the log on each read: only the
    incident rows after its own position are read and folded (thread-safe)."""

    name = "incident_history"
    #: What a saved state holds (projections/store/saved_read_models.py), taken under `lock`.
    SAVED_FIELDS = ("_rows", "_position")

    def __init__(self) -> None:
        self._rows: dict[UUID, HistoryRow] = {}
        self._position = 0
        self._ordered: list[HistoryRow] = []
        self._lock = threading.Lock()

    @property
    def lock(self) -> threading.Lock:
        """Held while the rows change (a save takes the state under it)."""
        return self._lock

    async def position(self) -> int:
        """The last incident row folded (every row before it is too)."""
        return self._position

    def after_restore(self) -> None:
        """The rows came back from a save: the order is made again at the next refresh."""
        self._ordered = []

    def refresh(self, log: EventLog) -> list[HistoryRow]:
        """Fold the rows recorded since the last read; every incident, newest call first."""
        marks = ", ".join("?" for _ in TOPICS)
        where = f"{log.position_column} > ? AND topic IN ({marks})"
        with self._lock:
            with log.transaction() as runner:
                raws = log.rows(runner, where, [self._position, *TOPICS])
            for raw in raws:
                e = log.decode(raw)
                iid = raw.originator_id
                if raw.topic == TOPICS[0]:
                    self._rows[iid] = HistoryRow(reported_row(iid, e), IncidentStatus.PENDING)
                elif iid in self._rows:
                    self._rows[iid] = _apply(self._rows[iid], raw.topic, e)
                self._position = max(self._position, raw.position)
            if raws or not self._ordered:
                self._ordered = sorted(
                    self._rows.values(),
                    key=lambda r: (r.board.call_received_at, r.incident_id),
                    reverse=True,
                )
            return list(self._ordered)


def _apply(row: HistoryRow, topic: str, e: Any) -> HistoryRow:
    """The row after one of its incident's later events (typed by topic)."""
    if topic == TOPICS[1]:
        return _board(row, priority=Priority(e.priority), determinant=e.determinant, at=e.at)
    if topic == TOPICS[2]:
        loc = e.location
        return _board(row, lat=loc.lat, lon=loc.lon, address=e.address, at=e.at)
    if topic == TOPICS[3]:
        units = (*row.units, (e.unit_id, e.call_sign))
        return replace(row, status=IncidentStatus.DISPATCHED, units=units)
    status = IncidentStatus.CLOSED if topic == TOPICS[4] else IncidentStatus.CANCELLED
    why = getattr(e, "disposition", None) or getattr(e, "reason", None)
    return replace(_board(row, at=e.at), status=status, ended_at=e.at, disposition=why)


def _board(row: HistoryRow, at: datetime, **changes: Any) -> HistoryRow:
    return replace(row, board=replace(row.board, **changes, updated_at=at))


def search(rows: Iterable[HistoryRow], query: HistoryQuery) -> list[HistoryRow]:
    """The rows answering the query, in the order given."""
    return [r for r in rows if query.matches(r)]
