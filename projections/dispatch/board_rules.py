"""The incident board's rules over rows in memory, shared by the embedded and PostGIS boards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from uuid import UUID

from najda.projections.dispatch.read_model_changes import (
    BoardChange,
    BoardRow,
    BoardUnitStatus,
    IncidentEnded,
    IncidentOpened,
    IncidentPatched,
    IncidentUnitAdded,
)


class BoardRules:
    """Open incidents by id and which incident each unit works; stores extend the hooks."""

    def __init__(
        self, rows: Iterable[BoardRow] = (), unit_incident: dict[UUID, UUID] | None = None
    ) -> None:
        self.rows: dict[UUID, BoardRow] = {r.incident_id: r for r in rows}
        self.unit_incident: dict[UUID, UUID] = unit_incident if unit_incident is not None else {}

    def apply(self, change: BoardChange) -> None:
        """Apply one change (events the board cannot place, e.g. for unknown rows, do nothing)."""
        if isinstance(change, IncidentOpened):
            self._put(change.row)
            return
        if isinstance(change, IncidentEnded):
            ended = self.rows.pop(change.incident_id, None)
            if ended is not None:
                self._ended(ended.incident_id)
                for unit in ended.units:
                    self._unlink(unit.unit_id)
            return
        if isinstance(change, BoardUnitStatus):
            incident_id = self.unit_incident.get(change.unit_id)
            held = self.rows.get(incident_id) if incident_id else None
            if held is not None:
                units = tuple(
                    replace(u, status=change.status) if u.unit_id == change.unit_id else u
                    for u in held.units
                )
                self._put(replace(held, units=units, updated_at=change.at))
            return
        row = self.rows.get(change.incident_id)
        if row is None:
            return
        if isinstance(change, IncidentPatched):
            row = replace(row, **change.fields, updated_at=change.at)  # type: ignore[arg-type]
        elif isinstance(change, IncidentUnitAdded):
            units = (*row.units, change.unit)
            row = replace(row, units=units, dispatched=True, updated_at=change.at)
            self._link(change.unit.unit_id, row.incident_id)
        else:
            units = tuple(u for u in row.units if u.unit_id != change.unit_id)
            row = replace(row, units=units, updated_at=change.at)
            self._unlink(change.unit_id)
        self._put(row)

    # --- hooks: a store that writes back what changed overrides these -----------------------

    def _put(self, row: BoardRow) -> None:
        self.rows[row.incident_id] = row

    def _ended(self, incident_id: UUID) -> None:
        """Called after an incident left the board."""

    def _link(self, unit_id: UUID, incident_id: UUID) -> None:
        self.unit_incident[unit_id] = incident_id

    def _unlink(self, unit_id: UUID) -> None:
        self.unit_incident.pop(unit_id, None)

    def ordered(self) -> list[BoardRow]:
        """Open incidents, most urgent first, then oldest first, then by id."""
        return sorted(
            self.rows.values(),
            key=lambda r: (-r.priority.rank, r.call_received_at, str(r.incident_id)),
        )
