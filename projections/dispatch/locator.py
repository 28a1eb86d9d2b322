"""The unit locator interface: nearest available units meeting kinds and capabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

import numpy as np

from najda.domain.values import UnitKind, UnitStatus
from najda.geo.distance import SPHERE_ERROR, geodesic_many_m
from najda.geo.speed import SpeedModel
from najda.projections.base import Projection
from najda.projections.dispatch.read_model_changes import UnitMoved, UnitRow


class Candidate(NamedTuple):
    """A unit proposed for an incident, with its distance and ETA."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: tuple[str, ...]
    status: UnitStatus
    lat: float
    lon: float
    position_at: datetime
    distance_m: float
    eta_s: float


class Rankable(Protocol):
    """What ranking reads of a unit: a UnitRow, or a lighter row a store builds for a query."""

    @property
    def unit_id(self) -> UUID: ...
    @property
    def call_sign(self) -> str: ...
    @property
    def kind(self) -> UnitKind: ...
    @property
    def capabilities(self) -> tuple[str, ...]: ...
    @property
    def status(self) -> UnitStatus: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def position_at(self) -> datetime: ...
    @property
    def available(self) -> bool: ...


@dataclass(frozen=True)
class Query:
    """What to look for: a point, acceptable kinds (None = any), required capabilities.

    `within_eta_s`: units after the first whose ETA is beyond it may be left out (a
    locator ranking by road then skips their searches); None keeps the `limit` first.
    """

    lat: float
    lon: float
    kinds: frozenset[UnitKind] | None = None
    capabilities: frozenset[str] = frozenset()
    limit: int = 5
    exclude: frozenset[UUID] = frozenset()
    within_eta_s: float | None = None

    def accepts(self, row: Rankable) -> bool:
        """True when an available row matches kinds, capabilities and exclusions."""
        if not row.available or (self.kinds is not None and row.kind not in self.kinds):
            return False
        if self.capabilities and not self.capabilities.issubset(row.capabilities):
            return False
        return not (self.exclude and row.unit_id in self.exclude)


class UnitLocator(Projection, Protocol):
    """A projection of every unit's status and latest position, with a nearest query."""

    speed: SpeedModel

    async def nearest(self, query: Query) -> list[Candidate]:
        """The `limit` nearest matching available units by geodesic distance (ties by call sign)."""
        ...

    async def get(self, unit_id: UUID) -> UnitRow | None:
        """One unit's row."""
        ...

    async def all_units(self) -> list[UnitRow]:
        """Every unit, ordered by call sign."""
        ...

    async def update_position(self, unit_id: UUID, lat: float, lon: float, at: datetime) -> bool:
        """Set the latest position directly (AVL), if newer than the one held."""
        ...

    async def update_positions(
        self, moves: Sequence[UnitMoved], notify: str | None = None, origin: str = ""
    ) -> int:
        """Set many latest positions at once (each only if newer); returns how many moved.

        A shared store also announces them on the `notify` channel, marked with `origin`,
        for other processes.
        """
        ...


def rank(
    query: Query,
    rows: Sequence[Rankable],
    speed: SpeedModel,
    approx_bound_m: float | None,
) -> list[Candidate] | None:
    """Rank candidate rows by geodesic distance; None when the candidate set may be incomplete.

    `approx_bound_m` is the great-circle distance below which every matching unit is known
    to be among `rows` (None: `rows` holds every matching unit). The answer is exact when the
    `limit`-th geodesic distance is inside that bound, allowing for the sphere's error.
    """
    matching = [r for r in rows if query.accepts(r)]
    distances: list[float] = (
        np.round(
            geodesic_many_m(
                query.lat, query.lon, [r.lat for r in matching], [r.lon for r in matching]
            ),
            3,
        ).tolist()
        if matching
        else []
    )
    order = sorted(range(len(matching)), key=lambda i: (distances[i], matching[i].call_sign))
    top = order[: query.limit]
    if approx_bound_m is not None:
        if len(top) < query.limit:
            return None
        if distances[top[-1]] >= approx_bound_m * (1 - SPHERE_ERROR):
            return None
    out: list[Candidate] = []
    for i in top:
        row = matching[i]
        out.append(
            Candidate(
                unit_id=row.unit_id,
                call_sign=row.call_sign,
                kind=row.kind,
                capabilities=row.capabilities,
                status=row.status,
                lat=row.lat,
                lon=row.lon,
                position_at=row.position_at,
                distance_m=distances[i],
                eta_s=round(speed.eta_s(distances[i]), 1),
            )
        )
    return out
