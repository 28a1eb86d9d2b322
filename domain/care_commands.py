"""Use cases of remote care and destinations: hospital status updates and teleconsults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from domain.errors import HospitalNotFound
from domain.hospital_status import EdStatus, StatusChange
from domain.reference import Hospital
from domain.store import DispatchStore


class HospitalStatusCommands(DispatchStore):
    """Hospitals report their emergency department status, beds and services as events."""

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

        def command() -> None:
            hospital = self._load(Hospital, hospital_id, HospitalNotFound)
            hospital.update_status(change, actor, self._now())
            self._store(hospital)

        self._retry(command)
