"""Value objects and enumerations of the dispatch domain."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from najda.domain.errors import InvalidValue


class Priority(StrEnum):
    """MPDS-style determinant level, from Ω (lowest acuity) to E (immediately life-threatening)."""

    OMEGA = "Ω"
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"

    @property
    def rank(self) -> int:
        """Higher is more urgent: Ω=0 … E=5."""
        return _PRIORITY_ORDER.index(self)

    @classmethod
    def parse(cls, text: str) -> Priority:
        """Accept the level letter, 'Ω', or the word 'OMEGA' (any case)."""
        cleaned = text.strip()
        if cleaned.upper() in ("OMEGA", "Ω", "O"):
            return cls.OMEGA
        try:
            return cls(cleaned.upper())
        except ValueError:
            allowed = ", ".join(p.value for p in cls)
            raise InvalidValue(
                "priority", f"unknown priority {text!r} (one of {allowed})"
            ) from None


_PRIORITY_ORDER = [Priority.OMEGA, Priority.A, Priority.B, Priority.C, Priority.D, Priority.E]


class IncidentSource(StrEnum):
    """How the incident reached the dispatch centre."""

    PHONE = "phone"
    MONITORING = "monitoring"
    TELECONSULT = "teleconsult"
    OTHER = "other"


class IncidentStatus(StrEnum):
    """Life of an incident as a whole."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """Pending and dispatched incidents are open; closed and cancelled are not."""
        return self in (IncidentStatus.PENDING, IncidentStatus.DISPATCHED)


class UnitKind(StrEnum):
    """Kinds of response team; extend here when a new kind is fielded."""

    ALS = "als"
    BLS = "bls"
    CRISIS = "crisis"
    RESPONDER = "responder"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        """Human label used in sentences and consoles."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    UnitKind.ALS: "ALS ambulance",
    UnitKind.BLS: "BLS ambulance",
    UnitKind.CRISIS: "mental-health crisis team",
    UnitKind.RESPONDER: "rapid responder",
    UnitKind.SUPERVISOR: "EMS supervisor",
}


class UnitStatus(StrEnum):
    """Operational status of a unit."""

    AVAILABLE = "available"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TRANSPORTING = "transporting"
    AT_HOSPITAL = "at_hospital"
    OUT_OF_SERVICE = "out_of_service"

    @property
    def is_committed(self) -> bool:
        """True while the unit works an incident (dispatched … at hospital)."""
        return self not in (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE)


@dataclass(frozen=True, slots=True)
class Position:
    """A WGS84 point; latitude and longitude in decimal degrees."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        check_position(self.lat, self.lon)


def check_position(lat: float, lon: float, prefix: str = "") -> None:
    """Raise InvalidValue naming the field when a coordinate is outside WGS84 bounds."""
    if not isinstance(lat, (int, float)) or not math.isfinite(lat) or not -90.0 <= lat <= 90.0:
        raise InvalidValue(f"{prefix}lat", f"latitude must be within ±90, got {lat!r}")
    if not isinstance(lon, (int, float)) or not math.isfinite(lon) or not -180.0 <= lon <= 180.0:
        raise InvalidValue(f"{prefix}lon", f"longitude must be within ±180, got {lon!r}")


#: Longest texts commands accept, in characters; the API's schemas take the same limits.
MAX_SHORT = 40  # codes, capabilities, determinants, callback and phone numbers
MAX_CALL_SIGN = 20
MAX_DEVICE = 100  # a monitoring device's name
MAX_NAME = 200  # names of places and people, an incident's nature
MAX_IDENTIFIER = 255  # a patient's identifier in its system
MAX_ADDRESS = 300
MAX_REASON = 500  # reasons, dispositions
MAX_REMARK = 1000  # teleconsult reasons, notes for crews
MAX_NOTE = 4000  # incident notes, specialists' recommendations

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def optional_text(field: str, value: str | None, max_length: int = MAX_REASON) -> str:
    """Return the stripped text ('' when absent); refuse control characters and overlong text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(field, "must be text")
    cleaned = value.strip()
    if _CONTROL.search(cleaned):
        raise InvalidValue(field, "must not contain control characters or lone surrogates")
    if len(cleaned) > max_length:
        raise InvalidValue(field, f"must be at most {max_length} characters")
    return cleaned


def require_text(field: str, value: str, max_length: int = MAX_REASON) -> str:
    """Return the stripped text, or raise InvalidValue when it is empty, too long or unprintable."""
    cleaned = optional_text(field, value, max_length)
    if not cleaned:
        raise InvalidValue(field, "must not be empty")
    return cleaned


def require_aware(field: str, at: datetime) -> datetime:
    """Return the time in UTC when it is timezone-aware, else raise InvalidValue."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(field, "must be a timezone-aware time")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(field, "is out of range") from None


def require_recent(
    field: str, at: datetime, now: datetime, max_age: timedelta, max_ahead: timedelta
) -> datetime:
    """Return the time in UTC when it lies within [now - max_age, now + max_ahead]."""
    at = require_aware(field, at)
    if at > now + max_ahead:
        raise InvalidValue(field, "is in the future")
    if at < now - max_age:
        raise InvalidValue(field, f"is more than {_describe(max_age)} in the past")
    return at


def _describe(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{span.total_seconds():g} seconds"


_CALL_SIGN = re.compile(r"[A-Z0-9][A-Z0-9 -]{0,19}")


def require_call_sign(value: str) -> str:
    """Upper-case call sign of letters A-Z, digits, spaces and hyphens (1-20 characters)."""
    cleaned = require_text("call_sign", value, MAX_CALL_SIGN).upper()
    if not _CALL_SIGN.fullmatch(cleaned):
        raise InvalidValue("call_sign", "use letters A-Z, digits, spaces and hyphens only")
    return cleaned
