"""Request and response bodies for reference data: stations and hospitals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
)

from najda.api.schemas import (
    Capability,
    Lat,
    Lon,
    _In,
    _text,
)
from najda.domain.dispatch.hospital_status import EdStatus
from najda.domain.values import (
    MAX_NAME,
    MAX_SHORT,
)


class StationCreate(_In):
    """A station to register."""

    code: Annotated[str, _text(MAX_SHORT)]
    name: Annotated[str, _text(MAX_NAME)]
    lat: Lat
    lon: Lon


class StationPublic(BaseModel):
    """A station."""

    id: UUID
    code: str
    name: str
    lat: float
    lon: float
    registered_at: datetime


class HospitalCreate(StationCreate):
    """A receiving hospital to register."""

    services: Annotated[list[Capability], Field(max_length=40)] = []  # noqa: RUF012 (pydantic)


class HospitalStatusPublic(BaseModel):
    """A hospital's last reported status (normal, no bed counts, until one is reported)."""

    ed_status: EdStatus = Field(description="emergency department: normal, advisory or closed")
    beds: dict[str, int] = Field(description="available beds by type, as last reported")
    reason: str
    updated_by: str | None
    updated_at: datetime | None


class HospitalPublic(StationPublic):
    """A receiving hospital."""

    services: list[str]
    status: HospitalStatusPublic
