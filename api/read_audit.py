"""Recording every read of patient data (who, what, when) from the routes that show it."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from najda.api.redaction import redacts
from najda.api.services import Services
from najda.domain.values import IncidentSource
from najda.projections.access.user_directory import Principal
from najda.projections.audit.patient_reads import PatientRead


async def record_reads(
    services: Services,
    user: Principal,
    action: str,
    *,
    patients: Iterable[UUID] = (),
    incidents: Iterable[UUID] = (),
) -> None:
    """Record that `user` read these patients' data, or these monitoring incidents (the
    answer waits until the record is committed)."""
    at = services.now()
    who, role = user.name, user.role.value
    reads = [PatientRead(at, who, role, action, patient_id=p) for p in patients]
    reads += [PatientRead(at, who, role, action, incident_id=i) for i in incidents]
    await services.reads.record(reads)


async def record_incident_read(
    services: Services, user: Principal, action: str, incident_id: UUID, source: object
) -> None:
    """Record the read of an incident when it showed a patient's data (a monitoring
    incident seen unredacted)."""
    if str(source) == IncidentSource.MONITORING.value and not redacts(user):
        await record_reads(services, user, action, incidents=[incident_id])


async def record_feed_read(services: Services, user: Principal, action: str) -> None:
    """Record a live feed opening as a read of every patient monitored then (its snapshot
    and messages carry their data)."""
    shown = [row.patient_id for row in services.monitoring.board.listed_patients()]
    await record_reads(services, user, action, patients=shown)
