"""Unit locator that ranks by road travel time: wraps another locator and re-ranks its units."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import numpy as np

from najda.geo.distance import geodesic_many_m
from najda.geo.roads import RoadNetwork
from najda.geo.speed import SpeedModel
from najda.projections.base import Tracked
from najda.projections.dispatch.locator import Candidate, Query, UnitLocator
from najda.projections.dispatch.read_model_changes import UnitMoved, UnitRow


class RoadLocator:
    """The wrapped locator's units, ranked by road ETA over a loaded network (ties by call sign).

    Events, positions and rows are the wrapped locator's; only `nearest` differs. Units
    parked where the network holds a tree (stations pinned on it) cost one array lookup
    each; any other unit is reached through one reverse Dijkstra from the incident (cut
    short at a bound through the nodes pinned both ways, when the network has such hubs).
    """

    def __init__(self, inner: UnitLocator, network: RoadNetwork, mode: int) -> None:
        if mode not in network.modes:
            raise ValueError(f"the road network has no travel mode {mode}")
        self.inner = inner
        self.network = network
        self.mode = mode
        self.name = inner.name
        self.speed: SpeedModel = inner.speed

    async def position(self) -> int:
        return await self.inner.position()

    async def apply(self, batch: Sequence[Tracked]) -> None:
        await self.inner.apply(batch)

    async def reset(self) -> None:
        await self.inner.reset()

    async def get(self, unit_id: UUID) -> UnitRow | None:
        return await self.inner.get(unit_id)

    async def all_units(self) -> list[UnitRow]:
        return await self.inner.all_units()

    async def update_position(self, unit_id: UUID, lat: float, lon: float, at: datetime) -> bool:
        return await self.inner.update_position(unit_id, lat, lon, at)

    async def update_positions(
        self, moves: Sequence[UnitMoved], notify: str | None = None, origin: str = ""
    ) -> int:
        """Many AVL positions at once: the wrapped locator's batch update where it has one."""
        batch = getattr(self.inner, "update_positions", None)
        if batch is not None:
            return int(await batch(moves, notify, origin))
        moved = 0
        for m in moves:
            moved += await self.inner.update_position(m.unit_id, m.lat, m.lon, m.at)
        return moved

    async def nearest(self, query: Query) -> list[Candidate]:
        """The `limit` matching available units with the shortest road ETA."""
        rows = [r for r in await self.inner.all_units() if query.accepts(r)]
        if not rows:
            return []
        within = query.within_eta_s
        if within is None:
            etas = self.etas_to(query.lat, query.lon, rows, keep=query.limit)
        else:
            etas = self.etas_to(query.lat, query.lon, rows, keep=1, within_s=within)
        order = sorted(range(len(rows)), key=lambda i: (etas[i], rows[i].call_sign))
        top = order[: query.limit]
        if within is not None:  # the first, then only those within
            top = top[:1] + [i for i in top[1:] if etas[i] <= within]
        chosen = [rows[i] for i in top]
        distances = np.round(
            geodesic_many_m(query.lat, query.lon, [r.lat for r in chosen], [r.lon for r in chosen]),
            3,
        ).tolist()
        return [
            Candidate(
                unit_id=r.unit_id,
                call_sign=r.call_sign,
                kind=r.kind,
                capabilities=r.capabilities,
                status=r.status,
                lat=r.lat,
                lon=r.lon,
                position_at=r.position_at,
                distance_m=distance,
                eta_s=round(float(etas[i]), 1),
            )
            for i, r, distance in zip(top, chosen, distances, strict=True)
        ]

    def etas_to(
        self,
        lat: float,
        lon: float,
        rows: Sequence[UnitRow],
        keep: int | None = None,
        within_s: float | None = None,
    ) -> np.ndarray:
        """Road seconds from each unit's position to (lat, lon), as `nearest` ranks them;
        with `keep` (and `within_s`), exact for the `keep` quickest (and those within),
        inf for units that cannot be (RoadNetwork.etas_to)."""
        target = self.network.snap(lat, lon)
        sources = self.network.snap_points([(r.lat, r.lon) for r in rows])
        return self.network.etas_to(target, sources, self.mode, keep, within_s)


def travel_of(
    locator: UnitLocator, lat: float, lon: float, row: UnitRow
) -> tuple[float, float | None]:
    """A unit's distance_m and eta_s to (lat, lon) exactly as the locator ranks it: road ETA
    when it ranks by road (None when the roads cannot reach), else the straight line through
    its speed model; distance to the millimetre, ETA to the tenth of a second, as `Candidate`."""
    distance_m = round(float(geodesic_many_m(lat, lon, [row.lat], [row.lon])[0]), 3)
    if isinstance(locator, RoadLocator):
        eta_s = float(locator.etas_to(lat, lon, [row])[0])
        return distance_m, round(eta_s, 1) if math.isfinite(eta_s) else None
    return distance_m, round(locator.speed.eta_s(distance_m), 1)


__all__ = ["RoadLocator", "travel_of"]
