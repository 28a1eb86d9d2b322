"""How a call's location was found, as the API takes and shows it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from najda.domain.values import MAX_ADDRESS

Precision = Literal[
    "address", "interpolated", "street", "intersection", "place", "poi", "coordinates", "map"
]


class LocationFixIn(BaseModel):
    """The text the call-taker typed, the candidate chosen and its precision (the point is
    the incident's lat/lon)."""

    model_config = ConfigDict(extra="forbid")

    typed: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ADDRESS)] = ""
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ADDRESS)] = ""
    precision: Precision = Field(description="the geocoder's precision, or coordinates / map")


class LocationFixPublic(BaseModel):
    """How the incident's location was found."""

    typed: str
    label: str
    precision: str
    lat: float
    lon: float
