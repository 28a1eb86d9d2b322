"""A teleconsult as a FHIR R4 Encounter (class VR, virtual): for export, not a FHIR server.

Najda holds no FHIR resources of its own, so the incident, the request and the specialist
are referred to by identifier (RFC 3986 `urn:uuid:` values and the user name), not by
literal reference. R4's Encounter has no `note` element: the recommendation (or why the
request was declined or cancelled) is an Annotation in an extension, and in the narrative.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.care.consult import Consult, ConsultStatus, Specialty
from najda.domain.dispatch.incident import Incident

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
URI = "urn:ietf:rfc:3986"
#: Our own code system for the specialty a consult was asked in, and for user names.
SPECIALTY_SYSTEM = "urn:najda:specialty"
USER_SYSTEM = "urn:najda:user"
#: The extension holding the consult's outcome (an Annotation).
OUTCOME_EXTENSION = "urn:najda:fhir:StructureDefinition:consult-outcome"
XHTML = "http://www.w3.org/1999/xhtml"

#: Encounter.status for each consult status (FHIR R4 encounter-status).
ENCOUNTER_STATUS = {
    ConsultStatus.REQUESTED: "planned",
    ConsultStatus.IN_PROGRESS: "in-progress",
    ConsultStatus.ENDED: "finished",
    ConsultStatus.DECLINED: "cancelled",
    ConsultStatus.CANCELLED: "cancelled",
}

#: SNOMED CT practice setting (HL7 c80-practice-codes) nearest to each specialty.
PRACTICE_SETTING: dict[Specialty, tuple[str, str]] = {
    Specialty.CARDIOLOGY: ("394579002", "Cardiology"),
    Specialty.STROKE: ("394591006", "Neurology"),
    Specialty.PAEDIATRICS: ("394537008", "Pediatric specialty"),
    Specialty.PSYCHIATRY: ("394587001", "Psychiatry"),
    Specialty.TOXICOLOGY: ("409967009", "Toxicology"),
    Specialty.TRAUMA: ("394801008", "Trauma and orthopedics"),
    Specialty.OBSTETRICS: ("408470005", "Obstetrics"),
    Specialty.GERIATRICS: ("394811001", "Geriatric medicine"),
    Specialty.BURNS: ("408462000", "Burns care"),
    Specialty.CRITICAL_CARE: ("408478003", "Critical care medicine"),
}


def fhir_time(at: datetime) -> str:
    """A FHIR dateTime/instant (UTC, seconds)."""
    return at.isoformat(timespec="seconds")


def _uuid_identifier(ident: UUID) -> dict[str, str]:
    return {"system": URI, "value": f"urn:uuid:{ident}"}


def _period(start: datetime | None, end: datetime | None) -> dict[str, str]:
    period = {}
    if start is not None:
        period["start"] = fhir_time(start)
    if end is not None:
        period["end"] = fhir_time(end)
    return period


def _history(consult: Consult) -> list[dict[str, Any]]:
    """planned from the request to the start (or the end), then in-progress to the end."""
    planned_until = consult.started_at or consult.ended_at
    history: list[dict[str, Any]] = [
        {"status": "planned", "period": _period(consult.requested_at, planned_until)}
    ]
    if consult.started_at is not None:
        history.append(
            {"status": "in-progress", "period": _period(consult.started_at, consult.ended_at)}
        )
    return history


def consult_encounter(incident: Incident, consult: Consult) -> dict[str, Any]:
    """The consult as a FHIR R4 Encounter resource (JSON)."""
    code, display = PRACTICE_SETTING[consult.specialty]
    specialty = consult.specialty.value
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(consult.consult_id),
        "identifier": [_uuid_identifier(consult.consult_id)],
        "status": ENCOUNTER_STATUS[consult.status],
        "statusHistory": _history(consult),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "serviceType": {
            "coding": [
                {"system": SPECIALTY_SYSTEM, "code": specialty, "display": specialty},
                {"system": SNOMED, "code": code, "display": display},
            ],
            "text": f"{specialty} teleconsult",
        },
        "reasonCode": [{"text": consult.reason}],
        "basedOn": [
            {
                "type": "ServiceRequest",
                "identifier": _uuid_identifier(consult.consult_id),
                "display": f"{specialty} teleconsult requested by {consult.requested_by}"
                f" at {fhir_time(consult.requested_at)}",
            }
        ],
        "partOf": {
            "type": "Encounter",
            "identifier": _uuid_identifier(incident.id),
            "display": f"Najda incident {incident.id}: {incident.nature}"
            f" (priority {incident.priority.value})",
        },
    }
    period = _period(consult.started_at, consult.ended_at)
    if period:
        encounter["period"] = period
    if consult.specialist is not None:
        encounter["participant"] = [
            {
                "type": [
                    {"coding": [{"system": PARTICIPATION, "code": "CON", "display": "consultant"}]}
                ],
                "period": period,
                "individual": {
                    "type": "Practitioner",
                    "identifier": {"system": USER_SYSTEM, "value": consult.specialist},
                    "display": f"{consult.specialist} ({specialty})",
                },
            }
        ]
    if consult.started_at is not None and consult.ended_at is not None:
        minutes = round((consult.ended_at - consult.started_at).total_seconds() / 60, 1)
        encounter["length"] = {"value": minutes, "unit": "min", "system": UCUM, "code": "min"}
    outcome = _outcome(consult)
    if outcome is not None:
        encounter["extension"] = [{"url": OUTCOME_EXTENSION, "valueAnnotation": outcome}]
    encounter["text"] = {"status": "generated", "div": _narrative(incident, consult, outcome)}
    return encounter


def _outcome(consult: Consult) -> dict[str, str] | None:
    """The recommendation, or why the request was declined or cancelled (an Annotation)."""
    if consult.status is ConsultStatus.ENDED:
        text = consult.recommendation
    elif consult.status in (ConsultStatus.DECLINED, ConsultStatus.CANCELLED):
        text = f"{consult.status.value}: {consult.closing_reason}"
    else:
        return None
    return {
        "authorString": consult.closed_by or "",
        "time": fhir_time(consult.updated_at),
        "text": text,
    }


def _narrative(incident: Incident, consult: Consult, outcome: dict[str, str] | None) -> str:
    """XHTML narrative: what was asked, by whom, and the outcome."""
    lines = [
        f"{consult.specialty.value} teleconsult on incident {incident.id} ({incident.nature})",
        f"requested by {consult.requested_by} at {fhir_time(consult.requested_at)}:"
        f" {consult.reason}",
    ]
    if consult.specialist is not None and consult.started_at is not None:
        lines.append(f"joined by {consult.specialist} at {fhir_time(consult.started_at)}")
    if outcome is not None:
        lines.append(f"{outcome['authorString']}: {outcome['text']}")
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return f'<div xmlns="{XHTML}">{body}</div>'
