"""Hospital status: emergency department state, available beds by type, services offered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from najda.domain.errors import InvalidValue
from najda.domain.values import MAX_REASON, optional_text

#: Most beds of one type a hospital may report (a typo guard, not a real limit).
MAX_BEDS = 10_000


class EdStatus(StrEnum):
    """Whether the emergency department takes ambulances."""

    NORMAL = "normal"
    ADVISORY = "advisory"  # open, but asks crews to go elsewhere when they can
    CLOSED = "closed"  # takes no ambulances (diversion)


class BedType(StrEnum):
    """Kinds of bed a hospital reports as available."""

    GENERAL = "general"
    ICU = "icu"
    PSYCHIATRIC = "psychiatric"
    PAEDIATRIC = "paediatric"
    MATERNITY = "maternity"
    BURNS = "burns"


class Service(StrEnum):
    """Services a receiving hospital offers (what a patient may need on arrival)."""

    EMERGENCY = "emergency"
    STROKE = "stroke"
    STEMI = "stemi"
    CARDIOLOGY = "cardiology"
    TRAUMA = "trauma"
    PAEDIATRICS = "paediatrics"
    PSYCHIATRY = "psychiatry"
    MATERNITY = "maternity"
    BURNS = "burns"


#: Other spellings taken for a service.
SERVICE_ALIASES: dict[str, Service] = {
    "pediatrics": Service.PAEDIATRICS,
    "pediatric": Service.PAEDIATRICS,
    "paediatric": Service.PAEDIATRICS,
    "psychiatric": Service.PSYCHIATRY,
    "mental-health": Service.PSYCHIATRY,
    "mental health": Service.PSYCHIATRY,
    "pci": Service.STEMI,
    "obstetrics": Service.MATERNITY,
    "ed": Service.EMERGENCY,
}


def service_of(text: str) -> Service | None:
    """The service a name stands for (aliases included), or None when unknown."""
    cleaned = text.strip().lower()
    try:
        return Service(cleaned)
    except ValueError:
        return SERVICE_ALIASES.get(cleaned)


def require_services(field_name: str, names: Iterable[str]) -> list[str]:
    """Known services, de-duplicated and sorted; InvalidValue names the first unknown one."""
    out: set[Service] = set()
    for i, name in enumerate(names):
        service = service_of(name) if isinstance(name, str) else None
        if service is None:
            allowed = ", ".join(s.value for s in Service)
            raise InvalidValue(f"{field_name}[{i}]", f"unknown service {name!r} (one of {allowed})")
        out.add(service)
    return sorted(s.value for s in out)


def offered_services(names: Iterable[str]) -> frozenset[str]:
    """The services a hospital's list stands for: known ones by their canonical name, others
    (registered before the vocabulary existed) as written."""
    return frozenset(
        s.value if (s := service_of(name)) is not None else name.strip().lower() for name in names
    )


def require_beds(beds: Mapping[str, int]) -> dict[str, int]:
    """Bed counts by known type, each 0..MAX_BEDS; InvalidValue names `beds.<type>`."""
    out: dict[str, int] = {}
    for key, count in beds.items():
        try:
            bed_type = BedType(str(key).strip().lower())
        except ValueError:
            allowed = ", ".join(b.value for b in BedType)
            raise InvalidValue(f"beds.{key}", f"unknown bed type (one of {allowed})") from None
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_BEDS:
            raise InvalidValue(f"beds.{key}", f"give a whole number from 0 to {MAX_BEDS}")
        out[bed_type.value] = count
    return out


@dataclass(frozen=True)
class HospitalStatus:
    """A hospital's status as last reported (normal with no bed counts until then)."""

    ed_status: EdStatus = EdStatus.NORMAL
    beds: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""
    updated_by: str | None = None
    updated_at: datetime | None = None

    def beds_of(self, bed_type: BedType) -> int | None:
        """Available beds of a type, or None when never reported."""
        return self.beds.get(bed_type.value)


@dataclass(frozen=True)
class StatusChange:
    """A requested change: any of ED status, bed counts (merged by type), services."""

    ed_status: EdStatus | str | None = None
    beds: Mapping[str, int] | None = None
    services: tuple[str, ...] | None = None
    reason: str = ""

    def checked(self) -> StatusChange:
        """The change with every field validated; InvalidValue names the field."""
        if self.ed_status is None and self.beds is None and self.services is None:
            raise InvalidValue("ed_status", "give at least one of ed_status, beds, services")
        ed_status = None
        if self.ed_status is not None:
            try:
                ed_status = EdStatus(str(self.ed_status).strip().lower())
            except ValueError:
                allowed = ", ".join(s.value for s in EdStatus)
                raise InvalidValue("ed_status", f"one of {allowed}") from None
        reason = optional_text("reason", self.reason, MAX_REASON)
        if ed_status in (EdStatus.ADVISORY, EdStatus.CLOSED) and not reason:
            raise InvalidValue("reason", f"say why the emergency department is {ed_status}")
        return StatusChange(
            ed_status=ed_status,
            beds=None if self.beds is None else require_beds(self.beds),
            services=None
            if self.services is None
            else tuple(require_services("services", self.services)),
            reason=reason,
        )
