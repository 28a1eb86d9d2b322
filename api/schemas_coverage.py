"""Schemas of the coverage view: zones covered within the target, move-up suggestions."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from najda.api.schemas import _In, _text
from najda.domain.values import MAX_SHORT


class ZoneCoverPublic(BaseModel):
    """One zone: the share of its demand an available ambulance reaches within the target."""

    name: str
    covered: float = Field(description="0 to 1")
    units: list[str] = Field(description="call signs of the ambulances that reach some of it")


class MoveUpPublic(BaseModel):
    """A suggested move-up: an available ambulance to another station."""

    unit_id: UUID
    call_sign: str
    from_station: str
    to_station: str
    to_station_id: UUID
    gain: float = Field(description="share of all demand it brings within the target")
    covers: list[str] = Field(description="zones it brings back within the target")


class CoveragePublic(BaseModel):
    """The floor's coverage now under the server's policy."""

    policy: str
    target_min: int
    covered: float = Field(description="share of all demand within the target now")
    zones: list[ZoneCoverPublic]
    move_ups: list[MoveUpPublic]


class RelocationCreate(_In):
    """Move an available unit up to a station (by code or id)."""

    station: Annotated[str, _text(MAX_SHORT), Field(description="the station's code or id")]


class RelocationPublic(BaseModel):
    """The move-up recorded."""

    unit_id: UUID
    call_sign: str
    station: str
