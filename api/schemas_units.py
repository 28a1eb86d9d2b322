"""Request and response bodies for units: register, status, positions, acknowledgements,
and the unit with its incident."""

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
    IsoTime,
    KindIn,
    Lat,
    Lon,
    StatusIn,
    UnitRef,
    _In,
    _optional_text,
    _text,
)
from najda.api.schemas_incidents import IncidentPublic
from najda.domain.persistence.client_command import MAX_COMMAND_ID
from najda.domain.values import (
    MAX_CALL_SIGN,
    MAX_REASON,
    MAX_SHORT,
    UnitKind,
    UnitStatus,
)


class UnitCreate(_In):
    """A unit to put on the roster, based at a station or at a home position."""

    call_sign: Annotated[str, _text(MAX_CALL_SIGN)]
    kind: KindIn
    capabilities: Annotated[list[Capability], Field(max_length=20)] = []  # noqa: RUF012
    station: Annotated[str, _text(MAX_SHORT)] | None = Field(
        default=None, description="station id or code"
    )
    lat: Lat | None = None
    lon: Lon | None = None


class UnitStatusChange(_In):
    """A status reported by a crew or dispatcher."""

    status: StatusIn
    reason: Annotated[str, _optional_text(MAX_REASON)] = ""
    command_id: Annotated[str | None, Field(min_length=1, max_length=MAX_COMMAND_ID)] = Field(
        default=None,
        description="the client's id for this press: a replay with the same content answers "
        "the first result, with other content 409 (nothing done)",
    )
    incident_id: UUID | None = Field(
        default=None, description="the incident the step is for: 409 if the unit works another"
    )


class PositionReport(_In):
    """A vehicle position (AVL)."""

    lat: Lat
    lon: Lon
    at: IsoTime | None = Field(default=None, description="when measured (default: now)")


class UnitPublic(BaseModel):
    """A unit with its status and latest position."""

    id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: list[str]
    station_id: UUID | None
    status: UnitStatus
    incident_id: UUID | None
    lat: float
    lon: float
    position_at: datetime
    status_at: datetime


class UnitPosition(PositionReport):
    """One unit's position in a batch."""

    unit: UnitRef


class PositionBatch(_In):
    """Positions of many units (an AVL gateway), up to 1000 per request."""

    positions: Annotated[list[UnitPosition], Field(min_length=1, max_length=1000)]


class PositionsAccepted(BaseModel):
    """How many positions were taken, and how many are being recorded as events."""

    accepted: int
    to_record: int


class Acknowledged(BaseModel):
    """The unit after its crew acknowledged; `first` when this was the first time."""

    first: bool
    unit: UnitPublic


class PositionAccepted(BaseModel):
    """The unit after a position report; `recorded` when it became an event."""

    recorded: bool
    unit: UnitPublic


# --- reference data ---------------------------------------------------------------------


class AssignmentView(BaseModel):
    """A unit and the incident it works now (None when it has none)."""

    unit: UnitPublic
    incident: IncidentPublic | None
