"""HL7 FHIR R4 vital signs in: one Observation, or a Bundle of them; and GET /fhir/metadata.

Bodies are `application/fhir+json` or `application/json` (415 otherwise). Every error is an
OperationOutcome whose issues carry `expression` FHIRPaths. A single Observation and a
`transaction` or `collection` Bundle are all or nothing, answered with Najda's summary; a
`batch` judges each entry alone and is answered with a batch-response Bundle.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from najda.api.auth import DEVICE, OBSERVATIONS, PrincipalDep, allow
from najda.api.deps import ServicesDep
from najda.api.fhir import FhirRefused, bundle_entries, observation_entry
from najda.api.fhir_capability import capability_statement
from najda.api.fhir_intake import record, record_batch, record_implausible, summary
from najda.api.fhir_outcome import FHIR_JSON, refusal_response
from najda.api.schemas_monitoring import ObservationsRecorded
from najda.api.services import Services
from najda.domain.care.monitoring_use_cases import Sender
from najda.domain.errors import Conflict, InvalidValue

router = APIRouter(prefix="/fhir", tags=["monitoring"])
POST = allow(OBSERVATIONS, "post observations")
MEDIA_TYPES = ("application/fhir+json", "application/json")
_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "object"}} for t in MEDIA_TYPES},
    }
}
_RESOURCE = {
    "type": "object",
    "properties": {"resourceType": {"type": "string"}},
    "required": ["resourceType"],
}


def _fhir(description: str) -> dict[str, Any]:
    """An answer documented as a FHIR resource (application/fhir+json)."""
    return {"description": description, "content": {FHIR_JSON: {"schema": _RESOURCE}}}


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _fhir("not JSON (OperationOutcome)"),
    401: _fhir("no token, or an unknown or revoked one (OperationOutcome)"),
    403: _fhir("the token's role may not post observations (OperationOutcome)"),
    409: _fhir("the patient is discharged (OperationOutcome)"),
    415: _fhir("not application/fhir+json or application/json (OperationOutcome)"),
    422: _fhir("refused: every problem at its FHIRPath (OperationOutcome)"),
}
_BATCH: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    200: _fhir("Najda's summary (application/json), or a batch-response Bundle for a batch"),
}


class _BadBody(Exception):
    """The body cannot be read as a FHIR JSON resource (answered 400 or 415)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@router.get("/metadata", response_class=JSONResponse, responses={200: _fhir("CapabilityStatement")})
async def metadata(request: Request) -> JSONResponse:
    """The CapabilityStatement: what this FHIR intake supports (no token needed)."""
    return JSONResponse(capability_statement(request.app.version), media_type=FHIR_JSON)


@router.post(
    "/Observation",
    dependencies=[POST],
    openapi_extra=_BODY,
    responses=_ERRORS,
    response_model=ObservationsRecorded,
)
async def post_observation(
    request: Request, services: ServicesDep, user: PrincipalDep
) -> JSONResponse:
    """Record one vital-signs Observation (heart rate, SpO2, blood-pressure panel,
    respiratory rate or glucose) of an enrolled patient: its alerts, and an incident at the
    patient's home for a critical reading. An Observation of another vital is ignored. A
    physiologically implausible value is refused and recorded against the device and the
    patient; nothing else is recorded on a refusal."""
    sender = _sender(services, user.name, user.role is DEVICE)
    try:
        document = await _document(request)
    except _BadBody as bad:
        return refusal_response(bad.status, [("body", bad.message)], "Observation")
    entry = await run_in_threadpool(
        observation_entry, document, structure=services.settings.fhir_structure
    )
    if entry.refused:
        await record_implausible(services, entry.implausible, user.name, sender)
        return refusal_response(422, entry.problems, "Observation")
    return await _recorded(services, [entry], user.name, sender, "Observation")


@router.post(
    "",
    dependencies=[POST],
    openapi_extra=_BODY,
    responses=_BATCH,
    response_model=ObservationsRecorded,
)
async def post_bundle(request: Request, services: ServicesDep, user: PrincipalDep) -> JSONResponse:
    """Record a Bundle of vital-signs Observations, of one or several patients: a
    `transaction` (or `collection`) all or nothing, naming every bad entry; a `batch` entry
    by entry, answered with a batch-response Bundle (a status and an OperationOutcome per
    entry). Entries of vitals Najda does not monitor are ignored, not refused."""
    sender = _sender(services, user.name, user.role is DEVICE)
    try:
        document = await _document(request)
        bundle = await run_in_threadpool(
            bundle_entries, document, structure=services.settings.fhir_structure
        )
    except _BadBody as bad:
        return refusal_response(bad.status, [("body", bad.message)], "Bundle")
    except FhirRefused as refused:
        return refusal_response(422, refused.problems, "Bundle")
    if bundle.type == "batch":
        answer = await record_batch(services, bundle, user.name, sender)
        return JSONResponse(answer, media_type=FHIR_JSON)
    refusal = bundle.refusal()
    if refusal is not None:
        await record_implausible(services, refusal.implausible, user.name, sender)
        return refusal_response(422, refusal.problems, "Bundle")
    return await _recorded(services, bundle.entries, user.name, sender, "Bundle")


def _sender(services: Services, name: str, is_device: bool) -> Sender:
    return Sender(name, is_device, services.settings.patient_system)


async def _recorded(
    services: Services, entries: list[Any], actor: str, sender: Sender, root: str
) -> JSONResponse:
    """Record all the entries' readings at once; the summary, or the domain's refusal."""
    readings = [r for e in entries for r in e.readings]
    try:
        public = await record(services, readings, actor, sender) if readings else []
    except InvalidValue as exc:
        return refusal_response(422, [(exc.field, exc.message)], root)
    except Conflict as exc:
        return refusal_response(409, [("body", str(exc))], root, code="conflict")
    return JSONResponse(summary(public, entries).model_dump(mode="json"))


async def _document(request: Request) -> dict[str, Any]:
    """The body as a JSON object, checked for its media type; _BadBody otherwise."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        shown = media or "none"
        raise _BadBody(415, f"send application/fhir+json or application/json, got {shown}")
    body = await request.body()
    try:
        document = await run_in_threadpool(json.loads, body)
    except (ValueError, RecursionError):
        raise _BadBody(400, "the body is not valid JSON (or nested too deeply)") from None
    if not isinstance(document, dict):
        raise _BadBody(400, "expected a JSON object (a FHIR resource)")
    return document
