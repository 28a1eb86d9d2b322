"""Who read a patient's data (administrators only): the patient-data read log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from najda.api.auth import MANAGE, allow
from najda.api.deps import PatientIdDep, ServicesDep
from najda.api.errors import ERRORS
from najda.projections.audit.patient_reads import patient_reads

router = APIRouter(tags=["monitoring"], responses=ERRORS)


class PatientReadPublic(BaseModel):
    """One read of the patient's data."""

    at: datetime
    user: str
    role: str
    action: str = Field(description="what was read, e.g. 'GET /patients/{patient}/readings'")
    incident_id: UUID | None = Field(
        description="the monitoring incident read, when the read was of one raised for them"
    )


class PatientReadsPublic(BaseModel):
    """The reads of a patient's data, oldest first."""

    patient_id: UUID
    reads: list[PatientReadPublic]


@router.get("/patients/{patient}/reads", dependencies=[allow(MANAGE, "list patient reads")])
async def list_patient_reads(
    patient_id: PatientIdDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="the newest this many")] = 1000,
) -> PatientReadsPublic:
    """Who read the patient's data (and the incidents raised for them), when, and what."""
    reads = await services.query(
        lambda: patient_reads(services.dispatch, services.reads.read_log, patient_id, limit)
    )
    return PatientReadsPublic(
        patient_id=patient_id,
        reads=[
            PatientReadPublic(
                at=r.at, user=r.user, role=r.role, action=r.action, incident_id=r.incident_id
            )
            for r in reads
        ],
    )
