"""Use cases of remote care and destinations: hospital status updates and teleconsults."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from najda.domain.care.consult import Specialty, require_specialty
from najda.domain.dispatch.hospital_status import EdStatus, StatusChange
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.stations_hospitals import Hospital
from najda.domain.errors import HospitalNotFound
from najda.domain.persistence.atomic_store import DispatchStore, retried
from najda.domain.values import MAX_NOTE, MAX_REMARK, require_text


class HospitalStatusCommands(DispatchStore):
    """Hospitals report their emergency department status, beds and services as events."""

    @retried
    def update_hospital_status(
        self,
        hospital_id: UUID,
        actor: str,
        *,
        ed_status: EdStatus | str | None = None,
        beds: Mapping[str, int] | None = None,
        services: Sequence[str] | None = None,
        reason: str = "",
    ) -> None:
        """Change any of the ED status, bed counts (by type, others kept) and services."""
        change = StatusChange(
            ed_status=ed_status,
            beds=beds,
            services=None if services is None else tuple(services),
            reason=reason,
        ).checked()
        hospital = self._load(Hospital, hospital_id, HospitalNotFound)
        hospital.update_status(change, actor, self._now())
        self._store(hospital)


class ConsultCommands(DispatchStore):
    """Teleconsults on an incident: request, accept, end, decline, cancel (one event each)."""

    @retried
    def request_consult(
        self,
        incident_id: UUID,
        specialty: Specialty | str,
        reason: str,
        actor: str,
        *,
        unit_id: UUID | None = None,
    ) -> UUID:
        """Ask for a specialist on an open incident (`unit_id`: the crew's unit that asks,
        which must be working the incident); returns the consult's id."""
        chosen = require_specialty(specialty)
        why = require_text("reason", reason, MAX_REMARK)
        consult_id = self.new_id()
        incident = self._incident(incident_id)
        incident.request_consult(consult_id, chosen, why, unit_id, actor, self._now())
        self._store(incident)
        return consult_id

    def accept_consult(self, incident_id: UUID, consult_id: UUID, specialist: str) -> None:
        """A specialist joins the incident by teleconsult (409 if taken or withdrawn)."""
        self._on_incident(incident_id, lambda i, at: i.accept_consult(consult_id, specialist, at))

    def end_consult(
        self, incident_id: UUID, consult_id: UUID, recommendation: str, actor: str
    ) -> None:
        """End a consult in progress with its recommendation."""
        note = require_text("recommendation", recommendation, MAX_NOTE)
        self._on_incident(incident_id, lambda i, at: i.end_consult(consult_id, note, actor, at))

    def decline_consult(self, incident_id: UUID, consult_id: UUID, reason: str, actor: str) -> None:
        """A specialist declines a request nobody has accepted."""
        why = require_text("reason", reason, MAX_REMARK)
        self._on_incident(incident_id, lambda i, at: i.decline_consult(consult_id, why, actor, at))

    def cancel_consult(self, incident_id: UUID, consult_id: UUID, reason: str, actor: str) -> None:
        """Withdraw a request nobody has accepted."""
        why = require_text("reason", reason, MAX_REMARK)
        self._on_incident(incident_id, lambda i, at: i.cancel_consult(consult_id, why, actor, at))

    @retried
    def _on_incident(self, incident_id: UUID, change: Callable[[Incident, datetime], None]) -> None:
        incident = self._incident(incident_id)
        change(incident, self._now())
        self._store(incident)
