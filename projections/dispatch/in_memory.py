"""In-memory read models: unit locator (sphere k-d tree) and incident board."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import numpy as np
from scipy.spatial import cKDTree

from najda.domain.values import UnitKind
from najda.geo.distance import chord_to_m, unit_vectors
from najda.geo.speed import SpeedModel
from najda.projections.base import Tracked
from najda.projections.dispatch.board_rules import BoardRules
from najda.projections.dispatch.locator import Candidate, Query, rank
from najda.projections.dispatch.read_model_changes import (
    BoardRow,
    UnitMoved,
    UnitRow,
    UnitStatusSet,
    UnitUpserted,
    board_change,
    fold_unit_row,
    locator_change,
)

#: Up to this many units, `nearest` ranks every matching unit by geodesic distance: a k-d
#: tree rebuilt after each move (a simulation moves units between almost every query)
#: costs more than measuring them all.
SMALL_FLEET = 32


class _KindIndex:
    """A k-d tree over the available units of one kind (rebuilt lazily when dirty)."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []
        self.tree: cKDTree | None = None
        self.dirty = True

    def rebuild(self, rows: Sequence[UnitRow]) -> None:
        self.ids = [r.unit_id for r in rows]
        if rows:
            xyz = unit_vectors(np.array([r.lat for r in rows]), np.array([r.lon for r in rows]))
            self.tree = cKDTree(xyz)
        else:
            self.tree = None
        self.dirty = False


class EmbeddedLocator:
    """Unit locator held in memory; rebuilt from the log by catch-up at start."""

    name = "unit_locator"
    #: What a saved state holds (projections/store/saved_read_models.py); the k-d trees are rebuilt.
    SAVED_FIELDS = ("_rows", "_position")

    def __init__(self, speed: SpeedModel | None = None) -> None:
        self.speed = speed or SpeedModel()
        self._rows: dict[UUID, UnitRow] = {}
        self._position = 0
        self._indexes: dict[UnitKind, _KindIndex] = {k: _KindIndex() for k in UnitKind}

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self._rows.clear()
        self._position = 0
        self.after_restore()

    def after_restore(self) -> None:
        """The rows changed wholesale: every kind's index is rebuilt when next queried."""
        for index in self._indexes.values():
            index.dirty = True

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            change = locator_change(item)
            if change is not None:
                self._apply(change)
            self._position = item.position

    def _apply(self, change: UnitUpserted | UnitStatusSet | UnitMoved) -> None:
        if isinstance(change, UnitUpserted):
            self._rows[change.row.unit_id] = change.row
            self._indexes[change.row.kind].dirty = True
            return
        row = self._rows.get(change.unit_id)
        if row is None:
            return
        folded = fold_unit_row(row, change)
        if folded is row:
            return
        row = folded
        self._rows[row.unit_id] = row
        self._indexes[row.kind].dirty = True

    async def update_position(self, unit_id: UUID, lat: float, lon: float, at: datetime) -> bool:
        row = self._rows.get(unit_id)
        if row is None or at <= row.position_at:
            return False
        self._apply(UnitMoved(unit_id, lat, lon, at))
        return True

    async def update_positions(
        self, moves: Sequence[UnitMoved], notify: str | None = None, origin: str = ""
    ) -> int:
        moved = 0
        for move in moves:
            row = self._rows.get(move.unit_id)
            if row is not None and move.at > row.position_at:
                self._apply(move)
                moved += 1
        return moved

    async def get(self, unit_id: UUID) -> UnitRow | None:
        return self._rows.get(unit_id)

    async def all_units(self) -> list[UnitRow]:
        return sorted(self._rows.values(), key=lambda r: r.call_sign)

    def _index(self, kind: UnitKind) -> _KindIndex:
        index = self._indexes[kind]
        if index.dirty:
            index.rebuild([r for r in self._rows.values() if r.kind is kind and r.available])
        return index

    async def nearest(self, query: Query) -> list[Candidate]:
        kinds = sorted(query.kinds if query.kinds is not None else UnitKind, key=str)
        if len(self._rows) <= SMALL_FLEET:
            # every matching unit ranked: the same answer as through the trees (which only
            # leave out units farther than the ones they fetch), without rebuilding them
            wanted = set(kinds)
            every = [r for r in self._rows.values() if r.available and r.kind in wanted]
            ranked = rank(query, every, self.speed, None)
            return [] if ranked is None else ranked
        point = _unit_vector(query.lat, query.lon)
        fetch = query.limit + 3 + len(query.exclude)
        while True:
            rows: list[UnitRow] = []
            bound: float | None = None
            for kind in kinds:
                index = self._index(kind)
                if index.tree is None:
                    continue
                k = min(fetch, len(index.ids))
                dist, idx = index.tree.query(point, k=k)
                if k == 1:
                    dist, idx = np.array([dist]), np.array([idx])
                rows.extend(self._rows[index.ids[i]] for i in idx.tolist())
                if k < len(index.ids):
                    kth = float(chord_to_m(float(dist[-1])))
                    bound = kth if bound is None else min(bound, kth)
            ranked = rank(query, rows, self.speed, bound)
            if ranked is not None:
                return ranked
            fetch *= 4


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


class EmbeddedBoard:
    """Incident board held in memory: open incidents with priority, status and units."""

    name = "incident_board"
    SAVED_FIELDS = ("_state", "_position")  # what a saved state holds

    def __init__(self) -> None:
        self._state = BoardRules()
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self._state = BoardRules()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            change = board_change(item)
            if change is not None:
                self._state.apply(change)
            self._position = item.position

    async def open_incidents(self) -> list[BoardRow]:
        """Open incidents, most urgent first, then oldest first."""
        return self._state.ordered()

    async def get(self, incident_id: UUID) -> BoardRow | None:
        """One open incident's row."""
        return self._state.rows.get(incident_id)


__all__ = ["EmbeddedBoard", "EmbeddedLocator"]
