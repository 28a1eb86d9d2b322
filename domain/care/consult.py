"""Teleconsults: a specialist joined to an incident remotely, from request to recommendation.

A consult lives on its incident (events `najda:Incident.Consult*`): it is requested on an
open incident, then accepted by a specialist (it starts) and ended with a recommendation, or
declined by a specialist or cancelled by whoever asked. Closing or cancelling the incident
cancels the requests nobody accepted; one in progress may still be ended afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from najda.domain.errors import InvalidTransition, InvalidValue, NotFound


class Specialty(StrEnum):
    """Specialties a teleconsult may be requested in."""

    CARDIOLOGY = "cardiology"
    STROKE = "stroke"
    PAEDIATRICS = "paediatrics"
    PSYCHIATRY = "psychiatry"
    TOXICOLOGY = "toxicology"
    TRAUMA = "trauma"
    OBSTETRICS = "obstetrics"
    GERIATRICS = "geriatrics"
    BURNS = "burns"
    CRITICAL_CARE = "critical_care"


#: Other spellings taken for a specialty.
SPECIALTY_ALIASES: dict[str, Specialty] = {
    "pediatrics": Specialty.PAEDIATRICS,
    "paediatric": Specialty.PAEDIATRICS,
    "pediatric": Specialty.PAEDIATRICS,
    "psychiatric": Specialty.PSYCHIATRY,
    "mental_health": Specialty.PSYCHIATRY,
    "cardiac": Specialty.CARDIOLOGY,
    "obstetric": Specialty.OBSTETRICS,
    "geriatric": Specialty.GERIATRICS,
    "icu": Specialty.CRITICAL_CARE,
}


def specialty_of(text: str) -> Specialty | None:
    """The specialty a name stands for (aliases included), or None."""
    cleaned = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Specialty(cleaned)
    except ValueError:
        return SPECIALTY_ALIASES.get(cleaned)


def require_specialty(value: object, field: str = "specialty") -> Specialty:
    """A known specialty, or InvalidValue naming the field and the choices."""
    found = specialty_of(value) if isinstance(value, str) else None
    if found is None:
        allowed = ", ".join(s.value for s in Specialty)
        raise InvalidValue(field, f"unknown specialty {value!r} (one of {allowed})")
    return found


def require_specialties(values: Iterable[object], field: str = "specialties") -> list[str]:
    """Known specialties, de-duplicated and sorted; InvalidValue names the first bad one."""
    return sorted({require_specialty(v, f"{field}[{i}]").value for i, v in enumerate(values)})


class ConsultStatus(StrEnum):
    """Where a teleconsult stands."""

    REQUESTED = "requested"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    DECLINED = "declined"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """True while nobody has ended, declined or cancelled it."""
        return self in (ConsultStatus.REQUESTED, ConsultStatus.IN_PROGRESS)


class ConsultNotFound(NotFound):
    """Raised when the incident has no teleconsult with the given id."""

    kind = "consult"


@dataclass(frozen=True)
class Consult:
    """One teleconsult on an incident (a value: each event makes a new one)."""

    consult_id: UUID
    specialty: Specialty
    reason: str
    requested_by: str
    requested_at: datetime
    unit_id: UUID | None = None  # the crew's unit that asked, when a crew asked
    status: ConsultStatus = ConsultStatus.REQUESTED
    specialist: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    recommendation: str = ""
    closed_by: str | None = None  # who ended, declined or cancelled it
    closing_reason: str = ""  # why it was declined or cancelled

    @property
    def updated_at(self) -> datetime:
        """When it last changed."""
        return self.ended_at or self.started_at or self.requested_at

    def require(self, expected: ConsultStatus, requested: ConsultStatus) -> None:
        """InvalidTransition (409) naming the current and requested status, and why."""
        if self.status is expected:
            return
        why = {
            ConsultStatus.IN_PROGRESS: f"{self.specialist} accepted it",
            ConsultStatus.ENDED: f"{self.closed_by} ended it",
            ConsultStatus.DECLINED: f"{self.closed_by} declined it",
            ConsultStatus.CANCELLED: f"{self.closed_by} cancelled it",
            ConsultStatus.REQUESTED: "no specialist has accepted it yet",
        }[self.status]
        raise InvalidTransition(
            f"{self.specialty.value} consult {self.consult_id}",
            self.status.value,
            requested.value,
            why,
        )


# --- what each event does to a consult (pure: the incident and the read models share it) ---


def requested(
    consult_id: UUID,
    specialty: str,
    reason: str,
    unit_id: UUID | None,
    actor: str,
    at: datetime,
) -> Consult:
    """A new request."""
    return Consult(consult_id, Specialty(specialty), reason, actor, at, unit_id)


def accepted(consult: Consult, actor: str, at: datetime) -> Consult:
    """A specialist joined: the consult starts."""
    return replace(consult, status=ConsultStatus.IN_PROGRESS, specialist=actor, started_at=at)


def ended(consult: Consult, recommendation: str, actor: str, at: datetime) -> Consult:
    """The consult ended with its recommendation."""
    return replace(
        consult,
        status=ConsultStatus.ENDED,
        ended_at=at,
        recommendation=recommendation,
        closed_by=actor,
    )


def withdrawn(
    consult: Consult, status: ConsultStatus, reason: str, actor: str, at: datetime
) -> Consult:
    """The request was declined or cancelled before anyone accepted it."""
    return replace(consult, status=status, ended_at=at, closed_by=actor, closing_reason=reason)
