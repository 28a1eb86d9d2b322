"""Schemas of the coverage view: zones covered within the target, move-up suggestions."""

from __future__ import annotations

from typing import Annotated, Literal
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
    """A suggested move-up: an available ambulance to another station, and why."""

    unit_id: UUID
    call_sign: str
    from_station: str
    to_station: str
    to_station_id: UUID
    gain: float = Field(
        description="share of all demand this move alone brings within the target (< 0: loses)"
    )
    covers: list[str] = Field(description="zones it brings back within the target")
    leaves: list[str] = Field(description="zones it leaves with no ambulance within the target")
    post: int | None = Field(
        description="the redeploy plan's post it fills (1: the one adding most expected cover);"
        " null for a greedy suggestion"
    )
    posts: int | None = Field(description="how many posts the plan holds (one a free ambulance)")
    expected_before: float | None = Field(
        description="the policy's expected cover now (share of demand); null for greedy"
    )
    expected_after: float | None = Field(description="... once this move alone is made")
    reason: str = Field(description="one line saying why, as the console shows it")


class CoveragePublic(BaseModel):
    """The floor's coverage now under the server's policy."""

    policy: str
    target_min: int
    covered: float = Field(description="share of all demand within the target now")
    zones: list[ZoneCoverPublic]
    move_ups: list[MoveUpPublic]
    move_ups_by: Literal["redeploy-plan", "greedy-cover"] = Field(
        description="where the move-ups come from: every move the policy's redeploy plan makes"
        " now (as the simulator makes them), or the greedy live rule (each next move the one"
        " adding most covered share; policies without a redeploy plan)"
    )


class RelocationCreate(_In):
    """Move an available unit up to a station (by code or id)."""

    station: Annotated[str, _text(MAX_SHORT), Field(description="the station's code or id")]


class RelocationPublic(BaseModel):
    """The move-up recorded."""

    unit_id: UUID
    call_sign: str
    station: str
