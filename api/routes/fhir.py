"""HL7 FHIR R4 vital signs in: one Observation, or a Bundle of them, all or nothing.

Both take `application/fhir+json` or `application/json`. The answer is Najda's summary
(readings recorded, alerts raised, the incident opened), not a FHIR response Bundle.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError

from api.auth import OBSERVATIONS, allow
from api.deps import ActorDep, ServicesDep
from api.errors import CONFLICT, field_path
from api.fhir import FhirRefused, read_bundle, read_observation
from api.routes.incidents import auto_dispatch, incident_view
from api.schemas_monitoring import ObservationsRecorded
from api.services import Services
from api.views_monitoring import outcome_public
from domain.patients import PatientReading

router = APIRouter(
    prefix="/fhir",
    tags=["monitoring"],
    dependencies=[allow(OBSERVATIONS, "post observations")],
    responses=CONFLICT,
)

Document = Annotated[
    dict[str, Any], Body(description="a FHIR R4 resource (application/fhir+json or JSON)")
]


@router.post("/Observation")
async def post_observation(
    document: Document, services: ServicesDep, actor: ActorDep
) -> ObservationsRecorded:
    """Record one vital-signs Observation (heart rate, SpO2, blood-pressure panel,
    respiratory rate or glucose) of an enrolled patient: its alerts, and an incident at the
    patient's home for a critical reading. A refusal names the FHIR path of the problem;
    nothing is recorded then. 409 when the patient is discharged."""
    return await _record(services, _refusals(read_observation, document), actor)


@router.post("")
async def post_bundle(
    document: Document, services: ServicesDep, actor: ActorDep
) -> ObservationsRecorded:
    """Record a Bundle (collection, transaction or batch) of vital-signs Observations, of
    one or several patients, all or nothing: one bad entry and none is recorded (every
    bad entry is named)."""
    return await _record(services, _refusals(read_bundle, document), actor)


def _refusals(read: Any, document: dict[str, Any]) -> list[PatientReading]:
    """The readings, or a 422 listing every problem at its FHIR path."""
    try:
        readings: list[PatientReading] = read(document)
    except FhirRefused as refused:
        raise RequestValidationError(
            [
                {"loc": ("body", *field_path(where)), "msg": message, "type": "value_error"}
                for where, message in refused.problems
            ]
        ) from None
    return readings


async def _record(
    services: Services, readings: list[PatientReading], actor: str
) -> ObservationsRecorded:
    outcomes = await services.command(lambda: services.dispatch.record_readings(readings, actor))
    for outcome in outcomes:  # NAJDA_AUTO_DISPATCH holds for monitoring incidents too
        request = outcome.incident
        if request is not None and request.priority in services.settings.auto_dispatch:
            view = await incident_view(services, request.incident_id, recommend=True)
            if view.recommendation is not None:
                await auto_dispatch(services, view, actor)
    public = [outcome_public(o) for o in outcomes]
    return ObservationsRecorded(
        recorded=sum(p.recorded for p in public),
        duplicates=sum(p.duplicates for p in public),
        late=sum(p.late for p in public),
        patients=public,
    )
