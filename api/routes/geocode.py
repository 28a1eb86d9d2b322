"""Offline geocoding over the operating area's address index: search and reverse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from najda.api.auth import REFERENCE_READ, allow
from najda.api.deps import ServicesDep
from najda.api.errors import ERRORS, invalid_value_response
from najda.domain.errors import InvalidValue
from najda.geo.address_text import MAX_QUERY_CHARS, QueryError
from najda.projections.addresses.geocoder import MAX_LIMIT, Geocoder

router = APIRouter(prefix="/geocode", tags=["geocoding"], responses=ERRORS)


class CandidatePublic(BaseModel):
    """One place a typed location may mean."""

    label: str
    lat: float
    lon: float
    precision: str = Field(description="address, interpolated, street, intersection, place or poi")
    municipality: str
    score: float = Field(description="0..1, higher is better")
    note: str = Field("", description="why it is less precise than asked, when it is")


class GeocodePublic(BaseModel):
    """Candidates, best first."""

    candidates: list[CandidatePublic]


class ReversePublic(BaseModel):
    """The nearest address within 50 m, else the nearest named street."""

    label: str
    lat: float
    lon: float
    precision: str = Field(description="address or street")
    municipality: str
    distance_m: float


def _geocoder(services: ServicesDep) -> Geocoder:
    if services.geocoder is None:
        raise HTTPException(
            503, "no operating area is loaded: import one with `najda area import FILE.osm.pbf`"
        )
    return services.geocoder


def _near(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(p) for p in text.split(","))
    except ValueError:
        raise InvalidValue("near", "must be 'lat,lon' in degrees") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidValue("near", "latitude within -90..90, longitude within -180..180")
    return lat, lon


@router.get("", dependencies=[allow(REFERENCE_READ, "geocode")], response_model=GeocodePublic)
async def geocode(
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="typed text")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
    near: Annotated[str | None, Query(description="lat,lon to prefer nearby places")] = None,
) -> GeocodePublic | JSONResponse:
    """Addresses, streets, crossings (`X / Y`, `X & Y`, `X and Y`), places and points of
    interest matching the text, best first, with their precision."""
    geocoder = _geocoder(services)
    try:
        point = _near(near)
        found = await services.query(lambda: geocoder.search(q, limit, point))
    except QueryError as exc:
        return invalid_value_response(InvalidValue("q", str(exc)), "query")
    except InvalidValue as exc:
        return invalid_value_response(exc, "query")
    return GeocodePublic(candidates=[CandidatePublic(**c.__dict__) for c in found])


@router.get(
    "/reverse", dependencies=[allow(REFERENCE_READ, "geocode")], response_model=ReversePublic
)
async def reverse(
    services: ServicesDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
) -> ReversePublic:
    """What is at a point: the nearest address within 50 m, else the nearest named street
    and its municipality, with the distance."""
    geocoder = _geocoder(services)
    found = await services.query(lambda: geocoder.reverse(lat, lon))
    if found is None:
        raise HTTPException(404, "no address nor named street in the operating area")
    return ReversePublic(**found.__dict__)
