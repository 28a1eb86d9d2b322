"""The coverage view: zones covered within the target now, and move-ups a dispatcher accepts."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from najda.api.auth import OPERATE, ActorDep, allow
from najda.api.deps import ServicesDep, UnitIdDep
from najda.api.errors import ERRORS
from najda.api.schemas_coverage import (
    CoveragePublic,
    MoveUpPublic,
    RelocationCreate,
    RelocationPublic,
    ZoneCoverPublic,
)
from najda.domain.errors import StationNotFound
from najda.projections.policies.move_ups import PLAN

router = APIRouter(tags=["coverage"], responses=ERRORS)


@router.get("/coverage", dependencies=[allow(OPERATE, "see coverage")])
async def get_coverage(services: ServicesDep) -> CoveragePublic:
    """Per zone, the share an available ambulance reaches within the most urgent target,
    and the move-ups: with a redeploying policy (`--policy coverage`) every move its plan
    makes now, the post adding most first; else the greedy ones adding most cover."""
    recommender = services.recommender
    picture = None if recommender is None else await recommender.coverage()
    if recommender is None or picture is None:
        raise StationNotFound("(none registered)")
    return CoveragePublic(
        policy=picture.policy,
        target_min=picture.target_min,
        covered=picture.covered,
        zones=[ZoneCoverPublic(name=z.name, covered=z.covered, units=list(z.units))
               for z in picture.zones],
        move_ups=[
            MoveUpPublic(
                unit_id=m.unit_id, call_sign=m.call_sign, from_station=m.from_station,
                to_station=m.to_station, to_station_id=m.to_station_id, gain=m.gain,
                covers=list(m.covers), leaves=list(m.leaves), post=m.post, posts=m.posts,
                expected_before=m.expected_before, expected_after=m.expected_after,
                reason=m.reason,
            )
            for m in picture.move_ups
        ],
        move_ups_by="redeploy-plan" if picture.move_ups_by == PLAN else "greedy-cover",
    )


@router.post("/units/{unit}/relocate", dependencies=[allow(OPERATE, "move units up")])
async def relocate_unit(
    unit_id: UnitIdDep, body: RelocationCreate, services: ServicesDep, actor: ActorDep
) -> RelocationPublic:
    """Move an available unit up to a station (recorded as the unit's Relocated event with
    the actor and time; its crew receives it on /ws/crew)."""
    station_id = _station_id(services, body.station)
    code = await services.command(
        lambda: services.dispatch.relocate_unit(unit_id, station_id, actor)
    )
    row = await services.locator.get(unit_id)
    return RelocationPublic(
        unit_id=unit_id, call_sign=row.call_sign if row else str(unit_id), station=code
    )


def _station_id(services: ServicesDep, station: str) -> UUID:
    """A station by code or id, as the reference directory knows it."""
    for place in services.reference.stations.values():
        if place.code == station or str(place.id) == station:
            return place.id
    raise StationNotFound(station)



