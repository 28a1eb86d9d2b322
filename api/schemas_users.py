"""Request and response bodies for users: add, list, tokens and clinical access."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
)

from najda.api.schemas import (
    UnitRef,
    _In,
    _lower_token,
    _text,
)
from najda.domain.access.user import MAX_USER_NAME, Role
from najda.domain.care.consult import Specialty, specialty_of

RoleIn = Annotated[Role, BeforeValidator(_lower_token)]


def _specialty(value: object) -> object:
    """A specialty or one of its aliases (pediatrics, psychiatric, cardiac, icu, ...)."""
    if isinstance(value, str):
        found = specialty_of(value)
        return found.value if found is not None else value
    return value


SpecialtyIn = Annotated[
    Specialty,
    BeforeValidator(_specialty),
    Field(description="a teleconsult specialty (cardiology, stroke, paediatrics, ...)"),
]


class UserCreate(_In):
    """A user to add: a name, a role and, for a crew, its unit (id or call sign); for a
    specialist, its specialties."""

    name: Annotated[str, _text(MAX_USER_NAME)]
    role: RoleIn
    unit: UnitRef | None = None
    specialties: Annotated[list[SpecialtyIn], Field(max_length=len(Specialty))] = []  # noqa: RUF012


class UserPublic(BaseModel):
    """A user (tokens are never shown again)."""

    name: str
    role: Role
    unit_id: UUID | None
    specialties: list[str] = []
    clinical: bool = Field(
        default=False, description="an auditor granted clinical access: patient data unredacted"
    )


class ClinicalAccess(BaseModel):
    """Grant an auditor clinical access (patient data unredacted), or withdraw it."""

    granted: bool


class UserToken(UserPublic):
    """A user with the token just made for it (shown once) and when it stops working."""

    token: str
    expires_at: datetime | None = None
