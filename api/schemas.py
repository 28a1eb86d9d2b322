"""Field types and the request base shared by the HTTP API's bodies (separate from the
domain's events); the bodies live in api/schemas_<resource>.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from najda.domain.errors import InvalidValue
from najda.domain.values import (
    MAX_SHORT,
    Priority,
    UnitKind,
    UnitStatus,
)

# --- field types ------------------------------------------------------------------------

Lat = Annotated[
    float,
    Field(strict=True, ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude, degrees"),
]
Lon = Annotated[
    float,
    Field(
        strict=True, ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude, degrees"
    ),
]


def _text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


def _optional_text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, max_length=max_length)


def _priority(value: object) -> object:
    if isinstance(value, str):
        try:
            return Priority.parse(value)
        except InvalidValue as exc:
            raise PydanticCustomError("enum", exc.message) from None
    return value


def _iso_text(value: object) -> object:
    """Times are ISO 8601 text with an offset; numbers (Unix times) are refused."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise PydanticCustomError("iso_time", "give an ISO 8601 time with a UTC offset")
    if not isinstance(value, (str, datetime)):
        raise PydanticCustomError("iso_time", "give an ISO 8601 time with a UTC offset")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def _lower_token(value: object) -> object:
    if isinstance(value, str):
        return value.strip().lower().replace("-", "_").replace(" ", "_")
    return value


PriorityIn = Annotated[
    Priority,
    BeforeValidator(_priority),
    Field(description="E (most urgent), D, C, B, A or Ω (also 'OMEGA')"),
]
KindIn = Annotated[UnitKind, BeforeValidator(_lower_token)]
StatusIn = Annotated[UnitStatus, BeforeValidator(_lower_token)]
Capability = Annotated[str, _text(MAX_SHORT)]
UnitRef = Annotated[str, _text(36), Field(description="a unit id or call sign")]


#: C0/C1 control characters other than tab, newline and carriage return (NUL included:
#: PostgreSQL text cannot hold it, so one would stall a PostGIS read model for good).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _In(BaseModel):
    """Request bodies reject unknown fields and control characters in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        for text in value if isinstance(value, list) else (value,):
            if isinstance(text, str) and _CONTROL.search(text):
                raise PydanticCustomError(
                    "string_control_characters", "must not contain control characters"
                )
        return value
