"""Conversions from care read models (destinations, teleconsults) to the API's bodies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from najda.api.schemas_care import (
    ConsultPublic,
    DestinationPublic,
    DestinationsPublic,
    ExcludedPublic,
)
from najda.api.views import hospital_public
from najda.domain.care.consult import Consult
from najda.domain.dispatch.hospital_status import Service
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.projections.dispatch.destinations import TravelTimes, need_of, rank_destinations
from najda.projections.dispatch.read_model_changes import BoardRow, UnitRow
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory


def destinations_public(
    unit: UnitRow,
    incident: BoardRow | None,
    service: Service | None,
    reference: ReferenceDirectory,
    plan: ResponsePlan,
    travel: TravelTimes,
    now: datetime,
    limit: int = 5,
) -> DestinationsPublic:
    """The ranking for a unit where it is now, as the API (and the crew's socket) shows it."""
    source = "query" if service is not None else "none"
    if service is None and incident is not None:
        service = need_of(incident.nature, incident.determinant, plan)
        source = "incident" if service is not None else "none"
    ranked = rank_destinations(unit.lat, unit.lon, reference, service, travel, limit)
    return DestinationsPublic(
        unit_id=unit.unit_id,
        call_sign=unit.call_sign,
        lat=unit.lat,
        lon=unit.lon,
        incident_id=unit.incident_id,
        service=ranked.service,
        service_from=source,
        destinations=[
            DestinationPublic(
                hospital_id=d.hospital.id,
                code=d.hospital.code,
                name=d.hospital.name,
                lat=d.hospital.lat,
                lon=d.hospital.lon,
                services=list(d.hospital.services),
                status=hospital_public(d.hospital, d.status).status,
                advisory=d.advisory,
                beds=d.beds,
                distance_m=d.distance_m,
                eta_s=d.eta_s,
            )
            for d in ranked.offered
        ],
        excluded=[
            ExcludedPublic(
                hospital_id=x.hospital.id, code=x.hospital.code, name=x.hospital.name, why=x.why
            )
            for x in ranked.excluded
        ],
        ranked_at=now,
    )


def consult_public(incident_id: UUID, consult: Consult) -> ConsultPublic:
    """A teleconsult as the API shows it."""
    return ConsultPublic(
        id=consult.consult_id,
        incident_id=incident_id,
        specialty=consult.specialty,
        status=consult.status,
        reason=consult.reason,
        requested_by=consult.requested_by,
        requested_at=consult.requested_at,
        unit_id=consult.unit_id,
        specialist=consult.specialist,
        started_at=consult.started_at,
        ended_at=consult.ended_at,
        recommendation=consult.recommendation,
        closed_by=consult.closed_by,
        closing_reason=consult.closing_reason,
        updated_at=consult.updated_at,
    )
