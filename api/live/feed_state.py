"""What the live feed holds between events, from which every message and snapshot is made:
its unit rows (folded with the locator's rule), when each unit was last heard and recorded,
the stale flags, the crews' acknowledgements, the board, the open incidents and teleconsults;
and the JSON of a unit or an incident as consoles see it from that state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from najda.api.live.messages import unit_json
from najda.api.views import incident_public
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.values import UnitStatus
from najda.projections.care.consult_queue import ConsultBook
from najda.projections.dispatch.board_rules import BoardRules
from najda.projections.dispatch.read_model_changes import (
    BoardRow,
    UnitMoved,
    UnitRow,
    fold_unit_row,
)
from najda.projections.dispatch.recommendations import short_of_incident

#: Units in these statuses are off the air: never flagged stale.
OFF_AIR = frozenset({UnitStatus.OUT_OF_SERVICE})


@dataclass
class FeedState:
    """The feed's state at its position (saved with it: LiveFeed.SAVED_FIELDS)."""

    units: dict[UUID, UnitRow] = field(default_factory=dict)
    heard: dict[UUID, datetime] = field(default_factory=dict)
    stale: set[UUID] = field(default_factory=set)
    #: Each unit's last position recorded as an event: (lat, lon, at).
    recorded: dict[UUID, tuple[float, float, datetime]] = field(default_factory=dict)
    #: unit -> the incident its crew acknowledged
    acknowledged: dict[UUID, UUID] = field(default_factory=dict)
    board: BoardRules = field(default_factory=BoardRules)
    #: open incidents, folded from their events
    incidents: dict[UUID, Incident] = field(default_factory=dict)
    #: open teleconsults
    consults: ConsultBook = field(default_factory=ConsultBook)

    def heard_from(self, unit_id: UUID, at: datetime) -> None:
        """Note that the unit was heard at `at` (an older report changes nothing)."""
        previous = self.heard.get(unit_id)
        if previous is None or at > previous:
            self.heard[unit_id] = at

    def move(self, move: UnitMoved) -> bool:
        """Fold a position that is not an event (AVL) into the unit's row (the locator's
        rule): True when it is newer than the one held and the row changed."""
        row = self.units.get(move.unit_id)
        if row is None:
            return False
        self.heard_from(move.unit_id, move.at)
        moved = fold_unit_row(row, move)
        if moved is row:  # no newer than the position held
            return False
        self.units[move.unit_id] = moved
        return True

    def flag_stale(self, now: datetime, stale_after: timedelta) -> list[UUID]:
        """Flag the units (not off the air) silent for longer than `stale_after` at `now`,
        clearing the flag of those heard again; the units whose flag changed, sorted."""
        stale = {
            uid
            for uid, row in self.units.items()
            if row.status not in OFF_AIR and now - self.heard.get(uid, now) > stale_after
        }
        changed = sorted(stale ^ self.stale)
        self.stale = stale
        return changed

    def unit_json(self, row: UnitRow) -> dict[str, Any]:
        """The unit with its stale flag and whether its crew acknowledged its assignment."""
        uid = row.unit_id
        acknowledged = row.incident_id is not None and self.acknowledged.get(uid) == row.incident_id
        return unit_json(row, uid in self.stale, acknowledged)

    def incident_json(
        self, incident: Incident, at: datetime, plan: ResponsePlan, with_notes: bool = True
    ) -> dict[str, Any]:
        """The incident as GET /incidents/{id} answers it (the same view), as of `at`, its
        units' statuses as its board row holds them, their capabilities as the feed does."""
        rows = [self.units[u] for u in incident.active_unit_ids if u in self.units]
        short = short_of_incident(incident, plan, {r.unit_id: r.capabilities for r in rows})
        statuses = {r.unit_id: r.status for r in rows}
        board = self.board.rows.get(incident.id)  # a unit is dispatched once assigned
        statuses.update({u.unit_id: u.status for u in board.units} if board else {})
        shown = incident_public(incident, at, statuses, None, short, with_notes)
        return shown.model_dump(mode="json")

    def open_incident_json(self, row: BoardRow, plan: ResponsePlan) -> dict[str, Any]:
        """An open incident with all its notes, as of its last change (snapshots)."""
        incident = self.incidents[row.incident_id]
        return self.incident_json(incident, incident.last_at, plan)
