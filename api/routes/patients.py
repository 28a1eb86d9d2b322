"""Remote monitoring: enrol patients, their bounds, readings and alerts, and the board."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from najda.api.auth import MONITOR_READ, MONITOR_WRITE, allow
from najda.api.deps import ActorDep, BoardDep, PatientIdDep, PrincipalDep, ServicesDep
from najda.api.errors import ERRORS
from najda.api.read_audit import record_reads
from najda.api.schemas_monitoring import (
    AlertAcknowledge,
    BoardPublic,
    DevicesChange,
    PatientCreate,
    PatientDischarge,
    PatientPublic,
    ReadingPublic,
    ThresholdsChange,
    VitalIn,
)
from najda.api.services import Services
from najda.api.views_monitoring import alert_public, classified, patient_public
from najda.domain.care.patient import PatientNotFound
from najda.domain.values import Position
from najda.projections.care.monitoring_board import PatientRow
from najda.projections.dispatch.board import IncidentBoard

READ = allow(MONITOR_READ, "read monitored patients")
WRITE = allow(MONITOR_WRITE, "change monitored patients")
router = APIRouter(tags=["monitoring"], responses=ERRORS)


def _row(services: Services, patient_id: UUID) -> PatientRow:
    row = services.monitoring.board.patients.get(patient_id)
    if row is None:
        raise PatientNotFound(patient_id)
    return row


async def _view(services: Services, board: IncidentBoard, patient_id: UUID) -> PatientPublic:
    return await patient_public(_row(services, patient_id), services.monitoring.board, board)


@router.post("/patients", status_code=status.HTTP_201_CREATED, dependencies=[WRITE])
async def enrol_patient(
    body: PatientCreate,
    services: ServicesDep,
    board: BoardDep,
    actor: ActorDep,
    response: Response,
) -> PatientPublic:
    """Enrol a patient at home; bounds default by condition, `thresholds` override them."""
    changes = body.thresholds.changes() if body.thresholds is not None else {}
    patient_id = await services.command(
        lambda: services.dispatch.enrol_patient(
            identifier=body.identifier,
            name=body.name,
            home=Position(body.lat, body.lon),
            address=body.address,
            actor=actor,
            phone=body.phone,
            conditions=[c.value for c in body.conditions],
            thresholds=changes,
            notes=body.notes,
            identifier_system=body.identifier_system or services.settings.patient_system,
            devices=body.devices,
        )
    )
    response.headers["Location"] = f"/patients/{patient_id}"
    return await _view(services, board, patient_id)


@router.get("/patients", dependencies=[READ])
async def list_patients(
    services: ServicesDep,
    board: BoardDep,
    user: PrincipalDep,
    discharged: Annotated[bool, Query(description="list discharged patients too")] = False,
) -> list[PatientPublic]:
    """Monitored patients by name, with their latest readings and open alerts (each read
    recorded, for each patient listed)."""
    monitoring = services.monitoring.board
    shown = [
        await patient_public(row, monitoring, board)
        for row in monitoring.listed_patients(include_discharged=discharged)
    ]
    await record_reads(services, user, "GET /patients", patients=[p.id for p in shown])
    return shown


@router.get("/patients/{patient}", dependencies=[READ])
async def get_patient(
    patient_id: PatientIdDep, services: ServicesDep, board: BoardDep, user: PrincipalDep
) -> PatientPublic:
    """One patient: bounds, latest reading per vital, open alerts, incidents raised."""
    shown = await _view(services, board, patient_id)
    await record_reads(services, user, "GET /patients/{patient}", patients=[patient_id])
    return shown


@router.get("/patients/{patient}/readings", dependencies=[READ])
async def patient_readings(
    patient_id: PatientIdDep,
    services: ServicesDep,
    user: PrincipalDep,
    vital: Annotated[VitalIn | None, Query(description="one vital only")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReadingPublic]:
    """The patient's recorded readings, most recently recorded first, read from the store."""
    row = _row(services, patient_id)
    readings = await services.query(
        lambda: services.dispatch.patient_readings(patient_id, vital, limit)
    )
    action = "GET /patients/{patient}/readings"
    await record_reads(services, user, action, patients=[patient_id])
    return [classified(row, r) for r in readings]


@router.post("/patients/{patient}/thresholds", dependencies=[WRITE])
async def change_thresholds(
    patient_id: PatientIdDep,
    body: ThresholdsChange,
    services: ServicesDep,
    board: BoardDep,
    actor: ActorDep,
) -> PatientPublic:
    """Change some bounds (null stops watching one), or `reset` to the conditions' defaults."""
    await services.command(
        lambda: services.dispatch.change_thresholds(
            patient_id, body.thresholds.changes(), body.reason, actor, reset=body.reset
        )
    )
    return await _view(services, board, patient_id)


@router.put("/patients/{patient}/devices", dependencies=[WRITE])
async def change_devices(
    patient_id: PatientIdDep,
    body: DevicesChange,
    services: ServicesDep,
    board: BoardDep,
    actor: ActorDep,
) -> PatientPublic:
    """Set the device users (gateways) that may post the patient's vitals."""
    await services.command(
        lambda: services.dispatch.change_devices(patient_id, body.devices, actor)
    )
    return await _view(services, board, patient_id)


@router.post("/patients/{patient}/discharge", dependencies=[WRITE])
async def discharge_patient(
    patient_id: PatientIdDep,
    body: PatientDischarge,
    services: ServicesDep,
    board: BoardDep,
    actor: ActorDep,
) -> PatientPublic:
    """End monitoring: the patient's open alerts leave the board, new readings are refused."""
    await services.command(
        lambda: services.dispatch.discharge_patient(patient_id, body.reason, actor)
    )
    return await _view(services, board, patient_id)


@router.post("/patients/{patient}/alerts/{alert_id}/acknowledge", dependencies=[WRITE])
async def acknowledge_alert(
    patient_id: PatientIdDep,
    alert_id: UUID,
    body: AlertAcknowledge,
    services: ServicesDep,
    board: BoardDep,
    actor: ActorDep,
) -> PatientPublic:
    """A nurse has seen an open alert; it stays on the board until the readings clear it."""
    await services.command(
        lambda: services.dispatch.acknowledge_alert(patient_id, alert_id, body.note, actor)
    )
    return await _view(services, board, patient_id)


@router.get("/monitoring/board", dependencies=[READ])
async def monitoring_board(
    services: ServicesDep, board: BoardDep, user: PrincipalDep
) -> BoardPublic:
    """Open alerts (critical, unacknowledged and oldest first) and every monitored patient
    (a read recorded for each patient shown)."""
    monitoring = services.monitoring.board
    alerts = [
        await alert_public(alert, monitoring.patients[alert.patient_id], board)
        for alert in monitoring.open_alerts()
    ]
    patients = [
        await patient_public(row, monitoring, board) for row in monitoring.listed_patients()
    ]
    shown = {p.id for p in patients} | {a.patient_id for a in alerts}
    await record_reads(services, user, "GET /monitoring/board", patients=sorted(shown, key=str))
    problems = [
        p for row in monitoring.device_problems() for p in patients if p.id == row.patient_id
    ]
    return BoardPublic(alerts=alerts, patients=patients, device_problems=problems)
