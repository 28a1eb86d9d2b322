"""Destinations for a crew: hospitals with the needed service, ranked by travel time.

The rule: a hospital is offered when it offers the needed service (any emergency department
when none is named), its emergency department is not closed, and, for a psychiatric need,
it has not reported zero psychiatric beds (a count never reported does not exclude it).
Hospitals on advisory are offered but ranked after every hospital in normal status, so an
equivalent normal hospital always comes first; within each group the shortest travel time
(road ETA when a road network is loaded, else the straight-line speed model) comes first,
ties by code. A hospital the road network cannot reach is left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from najda.domain.dispatch.hospital_status import (
    BedType,
    EdStatus,
    HospitalStatus,
    Service,
    offered_services,
)
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.geo.distance import geodesic_many_m
from najda.geo.roads import RoadNetwork
from najda.geo.speed import SpeedModel
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.stations_hospitals import Place, ReferenceDirectory

#: The bed type that tells whether a hospital can take a patient with this need.
BEDS_FOR: dict[Service, BedType] = {
    Service.PSYCHIATRY: BedType.PSYCHIATRIC,
    Service.PAEDIATRICS: BedType.PAEDIATRIC,
    Service.MATERNITY: BedType.MATERNITY,
    Service.BURNS: BedType.BURNS,
}
#: Needs that a hospital reporting no beds of their type cannot take.
BEDS_REQUIRED = frozenset({Service.PSYCHIATRY})

#: Chief complaints that name a need, tried in this order (the first that matches wins).
NATURE_NEEDS: tuple[tuple[Service, re.Pattern[str]], ...] = tuple(
    (service, re.compile(pattern, re.IGNORECASE))
    for service, pattern in (
        (Service.STROKE, r"stroke|\bcva\b|\btia\b|facial droop|slurred speech|hemipleg"),
        (Service.STEMI, r"stemi|chest pain|heart attack|myocard|\bacs\b|coronary"),
        (
            Service.TRAUMA,
            r"trauma|collision|crash|\brta\b|\bmvc\b|gunshot|\bgsw\b|stab|fall from height"
            r"|multiple injuries|run over|pedestrian struck",
        ),
        (Service.BURNS, r"burn"),
        (Service.MATERNITY, r"pregnan|\blabou?r\b|obstetric|childbirth|miscarriage"),
        (Service.PAEDIATRICS, r"child|infant|\bbaby|newborn|neonat|pa?ediatric|toddler"),
    )
)


def need_of(nature: str, determinant: str, plan: ResponsePlan) -> Service | None:
    """The service an incident's patient obviously needs, from its nature; None if unclear."""
    for service, pattern in NATURE_NEEDS:
        if pattern.search(nature):
            return service
    if plan.is_behavioural(nature, determinant):
        return Service.PSYCHIATRY
    return None


class TravelTimes(Protocol):
    """Seconds from one point to each of several."""

    def from_point(
        self, lat: float, lon: float, targets: Sequence[tuple[float, float]]
    ) -> list[float]:
        """Travel seconds to each target (inf when unreachable)."""
        ...


@dataclass(frozen=True)
class StraightLine:
    """Geodesic distance through the speed model that recommendations use."""

    speed: SpeedModel

    def from_point(
        self, lat: float, lon: float, targets: Sequence[tuple[float, float]]
    ) -> list[float]:
        distances = geodesic_many_m(lat, lon, [t[0] for t in targets], [t[1] for t in targets])
        return [self.speed.eta_s(float(d)) for d in distances]


@dataclass(frozen=True)
class ByRoad:
    """Shortest paths over a loaded road network, off-road legs at the mode's speed."""

    network: RoadNetwork
    mode: int

    def from_point(
        self, lat: float, lon: float, targets: Sequence[tuple[float, float]]
    ) -> list[float]:
        source = self.network.snap(lat, lon)
        tree = self.network.tree_from(source.node, self.mode)
        start = float(self.network.off_road_s(source.off_road_m, self.mode))
        out = []
        for target_lat, target_lon in targets:
            target = self.network.snap(target_lat, target_lon)
            leg = float(self.network.off_road_s(target.off_road_m, self.mode))
            out.append(start + float(tree[target.node]) + leg)
        return out


def travel_for(locator: UnitLocator) -> TravelTimes:
    """Road travel times when the locator ranks by road (a network is loaded), else
    straight-line ones."""
    network = getattr(locator, "network", None)
    mode = getattr(locator, "mode", None)
    if isinstance(network, RoadNetwork) and isinstance(mode, int):
        return ByRoad(network, mode)
    return StraightLine(locator.speed)


@dataclass(frozen=True)
class Destination:
    """A hospital offered to a crew, with its status and the travel to it."""

    hospital: Place
    status: HospitalStatus
    distance_m: float
    eta_s: float
    beds: int | None  # available beds of the type the need calls for (None: not reported)

    @property
    def advisory(self) -> bool:
        """True when the emergency department asks crews to go elsewhere if they can."""
        return self.status.ed_status is EdStatus.ADVISORY


@dataclass(frozen=True)
class Excluded:
    """A hospital left out, and why."""

    hospital: Place
    why: str


@dataclass(frozen=True)
class Destinations:
    """The ranked destinations for a need, and the hospitals left out."""

    service: Service | None
    offered: list[Destination]
    excluded: list[Excluded]


def _why_not(place: Place, status: HospitalStatus, need: Service | None) -> str | None:
    services = offered_services(place.services)
    wanted = (need or Service.EMERGENCY).value
    if wanted not in services:
        return f"no {wanted} service"
    if status.ed_status is EdStatus.CLOSED:
        return "emergency department closed" + (f": {status.reason}" if status.reason else "")
    if need in BEDS_REQUIRED and status.beds_of(BEDS_FOR[need]) == 0:
        return f"no {BEDS_FOR[need].value} beds"
    return None


def rank_destinations(
    lat: float,
    lon: float,
    reference: ReferenceDirectory,
    need: Service | None,
    travel: TravelTimes,
    limit: int = 5,
) -> Destinations:
    """Hospitals for a patient with `need` picked up at (lat, lon), best first (see the
    module's rule); at most `limit` offered."""
    candidates: list[tuple[Place, HospitalStatus]] = []
    excluded: list[Excluded] = []
    for place in reference.list_hospitals():
        status = reference.hospital_status(place.id)
        why = _why_not(place, status, need)
        if why is None:
            candidates.append((place, status))
        else:
            excluded.append(Excluded(place, why))
    etas = travel.from_point(lat, lon, [(p.lat, p.lon) for p, _ in candidates])
    distances = geodesic_many_m(
        lat, lon, [p.lat for p, _ in candidates], [p.lon for p, _ in candidates]
    )
    offered: list[Destination] = []
    bed_type = BEDS_FOR.get(need) if need is not None else None
    for (place, status), eta_s, distance_m in zip(candidates, etas, distances, strict=True):
        if not math.isfinite(eta_s):
            excluded.append(Excluded(place, "not reachable by road"))
            continue
        beds = None if bed_type is None else status.beds_of(bed_type)
        offered.append(
            Destination(place, status, round(float(distance_m), 1), round(eta_s, 1), beds)
        )
    offered.sort(key=lambda d: (d.advisory, d.eta_s, d.hospital.code))
    return Destinations(need, offered[:limit], sorted(excluded, key=lambda x: x.hospital.code))
