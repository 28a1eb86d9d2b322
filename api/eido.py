"""NENA EIDO (NENA-STA-021) JSON: export an incident, read an EIDO into a new incident's fields."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from najda.api.pidf import location_document, read_location
from najda.api.settings import Agency
from najda.domain.application import Dispatch
from najda.domain.dispatch.command_inputs import MAX_CALL_AGE, MAX_CLOCK_SKEW
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.errors import AlreadyExists, InvalidValue, NotFound
from najda.domain.values import (
    IncidentSource,
    IncidentStatus,
    Position,
    Priority,
    UnitKind,
    UnitStatus,
)

#: The agency Najda speaks for by default (deployments set NAJDA_AGENCY_ID/NAME/DOMAIN).
DEFAULT_AGENCY = Agency()
#: Ids of incidents imported from EIDOs derive from the EIDO's id (an import is idempotent).
EIDO_NAMESPACE = UUID("3b0f6c2e-8a4d-5f7e-9c1b-2d6e4a8f0b13")

_RESOURCE_TYPES = {
    UnitKind.ALS: "Ambulance",
    UnitKind.BLS: "Ambulance",
    UnitKind.CRISIS: "Mental Health",
    UnitKind.RESPONDER: "EMS",
    UnitKind.SUPERVISOR: "Supervisor",
}

#: Najda unit statuses in the words of the EIDO Primary Unit Status registry.
_PRIMARY_STATUS = {
    UnitStatus.DISPATCHED: "Dispatched",
    UnitStatus.EN_ROUTE: "Enroute",
    UnitStatus.ON_SCENE: "OnScene",
    UnitStatus.TRANSPORTING: "Transporting",
    UnitStatus.AT_HOSPITAL: "AtDestination",
    UnitStatus.AVAILABLE: "Available",
    UnitStatus.OUT_OF_SERVICE: "OutOfService",
}

_INCIDENT_STATUS = {
    IncidentStatus.PENDING: "Pending",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.CLOSED: "Closed",
    IncidentStatus.CANCELLED: "Cancelled",
}


def _iso(at: datetime) -> str:
    return at.isoformat()


def incident_eido(
    incident: Incident,
    unit_statuses: Mapping[UUID, UnitStatus],
    agency_info: Agency = DEFAULT_AGENCY,
) -> dict[str, Any]:
    """The incident as an EIDO: incident, location, agency, agents, resources and notes;
    ids end in the agency's domain (NENA-STA-021 s. 3.1.2), the agency named as set."""
    agency = agency_info.domain
    agency_ref = {"$ref": agency_info.id}
    incident_uri = f"urn:emergency:uid:incidentid:{incident.id.hex}:{agency}"
    location_id = f"urn:emergency:uid:locationid:{incident.id.hex}:{agency}"
    actors = {incident.reported_by, incident.last_actor}
    actors |= {a.assigned_by for a in incident.assignment_history}
    actors |= {n.actor for n in incident.notes}

    def agent(actor: str) -> dict[str, str]:
        return {"$ref": f"{actor}@{agency}"}

    def prologue(ident: str, at: datetime, actor: str | None = None) -> dict[str, Any]:
        part: dict[str, Any] = {
            "$id": ident,
            "lastUpdateTimeStamp": _iso(at),
            "updatedByAgencyReference": agency_ref,
        }
        if actor is not None:
            part["updatedByAgentReference"] = agent(actor)
        return part

    notes = [
        {
            **prologue(f"urn:emergency:uid:noteid:{incident.id.hex}-{i}:{agency}", n.at, n.actor),
            "notesActionComments": html.escape(n.text),
            "agentReference": agent(n.actor),
        }
        for i, n in enumerate(incident.notes, start=1)
    ]
    resources = []
    dispatches = []
    for i, a in enumerate(incident.assignment_history, start=1):
        resource_id = f"urn:emergency:uid:unitid:{a.call_sign.replace(' ', '_')}-{i}:{agency}"
        status = unit_statuses.get(a.unit_id, UnitStatus.AVAILABLE) if a.active else None
        resource: dict[str, Any] = {
            **prologue(resource_id, a.ended_at or a.assigned_at, a.assigned_by),
            "emergencyResourceTypeCommonRegistryText": _RESOURCE_TYPES[a.kind],
            "emergencyResourceTypeInternalText": a.kind.value,
            "resourceAttributeRegistryText": [a.kind.value.upper()],
            "emergencyResourceName": a.call_sign,
            "primaryUnitStatusRegistryText": _PRIMARY_STATUS[status]
            if status is not None
            else "Cleared",
            "secondaryUnitStatusRegistryText": [],
            "unitStatusInternal": [status.value if status else a.end_reason or "ended"],
            "agentReference": [agent(a.assigned_by)],
        }
        if a.active:
            resource["activeOnIncidentId"] = incident_uri
        if a.eta_s is not None:
            resource["eta"] = _iso(a.assigned_at + timedelta(seconds=a.eta_s))
        resources.append(resource)
        dispatches.append(
            {
                **prologue(
                    f"urn:emergency:uid:dispatchid:{incident.id.hex}-{i}:{agency}",
                    a.assigned_at,
                    a.assigned_by,
                ),
                "agencyReference": agency_ref,
                "agentReference": agent(a.assigned_by),
                "emergencyResourceReference": [{"$ref": resource_id}],
            }
        )
    incident_part: dict[str, Any] = {
        **prologue(incident_uri, incident.last_at, incident.last_actor),
        "incidentTypeCommonRegistryText": "Medical",
        "incidentTypeInternalText": incident.nature,
        "incidentStatusCommonRegistryText": [_INCIDENT_STATUS[incident.status]],
        "incidentStatusInternalText": [incident.status.value],
        "internalIncidentId": str(incident.id),
        "incidentPriorityInternalText": incident.priority.value,
        "locationReference": [{"$ref": location_id}],
        "agentReference": [agent(incident.reported_by)],
        "notesReference": [{"$ref": n["$id"]} for n in notes],
    }
    if incident.determinant:
        incident_part["incidentTypeInternalCode"] = incident.determinant
    document: dict[str, Any] = {
        **prologue(incident_uri, incident.last_at, incident.last_actor),
        "eidoVersion": "1.0",
        "issuingElementIdentification": f"cad.{agency}",
        "incidentComponent": incident_part,
        "agencyComponent": [
            {
                **prologue(agency_info.id, incident.reported_at),
                "agencyJcard": _jcard(agency_info),
                "agencyRoleDescriptionRegistryText": ["Dispatching"],
                "agencyType": ["ems"],
                "incidentOwningAgencyIndicator": True,
            }
        ],
        "agentComponent": [
            {
                **prologue(f"{actor}@{agency}", incident.last_at),
                "agentRoleRegistryText": ["Dispatcher"],
                "agencyReference": agency_ref,
            }
            for actor in sorted(actors)
        ],
        "locationComponent": [
            {
                **prologue(location_id, incident.last_at),
                "locationTypeDescriptionRegistryText": "Incident",
                "locationByValue": location_document(
                    incident.location, entity=f"pres:{location_id}", at=incident.reported_at
                ),
                "locationDescriptionText": incident.address,
            }
        ],
        "emergencyResourceComponent": resources,
        "dispatchComponent": dispatches,
        "notesComponent": notes,
    }
    if incident.callback:
        document["callbackComponent"] = [
            {
                **prologue(
                    f"urn:emergency:uid:callbackid:{incident.id.hex}:{agency}", incident.reported_at
                ),
                "callBackInformationUri": [f"tel:{incident.callback}"],
            }
        ]
    return document


def _jcard(agency: Agency) -> str:
    """The agency's contact as a jCard (RFC 7095), as agencyJcard carries it."""
    card = [
        "vcard",
        [
            ["version", {}, "text", "4.0"],
            ["kind", {}, "text", "org"],
            ["fn", {}, "text", agency.name],
            ["org", {}, "text", agency.name],
            ["url", {}, "uri", f"https://{agency.domain}/"],
        ],
    ]
    return json.dumps(card, ensure_ascii=False)


# --- import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EidoCall:
    """What an EIDO says about a call, in the terms of `Dispatch.report_incident`."""

    eido_id: str
    location: Position | None
    address: str
    nature: str
    priority: Priority | None
    callback: str | None
    call_started_at: datetime | None
    notes: tuple[str, ...]


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _clean(text: str, max_length: int) -> str:
    """Text from outside with control characters blanked, trimmed to the field's length."""
    return _CONTROL.sub(" ", text).strip()[:max_length].strip()


_CIVIC_ORDER = ("HNO", "HNS", "PRD", "RD", "STS", "POD", "A3", "A1", "PC", "country")


def _list(document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = document.get(key, [])
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list):
        raise InvalidValue(key, "must be a list of components")
    return [v for v in value if isinstance(v, Mapping)]


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def read_eido(document: object) -> EidoCall:
    """The call an EIDO describes; refuses a document that is not an EIDO 1.0 (naming the field)."""
    if not isinstance(document, Mapping):
        raise InvalidValue("eido", "must be a JSON object")
    if document.get("eidoVersion") != "1.0":
        raise InvalidValue("eidoVersion", "must be '1.0' (NENA-STA-021 EIDO)")
    eido_id = document.get("$id")
    if not isinstance(eido_id, str) or not eido_id.strip():
        raise InvalidValue("$id", "the EIDO needs an identifier")
    location: Position | None = None
    address = ""
    for part in _list(document, "locationComponent"):
        by_value = part.get("locationByValue")
        if isinstance(by_value, str):
            found, civic = read_location(by_value)
            location = location or found
            address = address or civic
        if not address and isinstance(part.get("locationDescriptionText"), str):
            address = part["locationDescriptionText"]
    incident = document.get("incidentComponent")
    incident = incident if isinstance(incident, Mapping) else {}
    calls = _list(document, "callComponent")
    nature = next(
        (
            str(v)
            for v in (
                incident.get("incidentTypeInternalText"),
                incident.get("incidentTypeCommonRegistryText"),
                *(c.get("standardPrimaryCallType") for c in calls),
            )
            if isinstance(v, str) and v.strip()
        ),
        "EIDO call",
    )
    priority: Priority | None = None
    if isinstance(incident.get("incidentPriorityInternalText"), str):
        try:
            priority = Priority.parse(incident["incidentPriorityInternalText"])
        except InvalidValue:
            priority = None
    callback = None
    for part in _list(document, "callbackComponent"):
        for uri in part.get("callBackInformationUri", []) or []:
            if isinstance(uri, str) and uri.startswith("tel:"):
                callback = uri.removeprefix("tel:")[:40]
                break
        if callback:
            break
    started = next((t for c in calls if (t := _time(c.get("callStartTimestamp")))), None)
    issuer = document.get("issuingElementIdentification", "")
    notes = [f"Imported from EIDO {eido_id} issued by {issuer}".strip()]
    for part in _list(document, "notesComponent"):
        if isinstance(part.get("notesActionComments"), str):
            notes.append(html.unescape(part["notesActionComments"])[:4000])
    return EidoCall(
        eido_id=eido_id,
        location=location,
        address=_clean(address, 300),
        nature=_clean(nature, 200) or "EIDO call",
        priority=priority,
        callback=_clean(callback, 40) or None if callback else None,
        call_started_at=started,
        notes=tuple(c for n in notes if (c := _clean(n, 4000))),
    )


def import_eido(
    dispatch: Dispatch,
    call: EidoCall,
    actor: str,
    *,
    location: Position | None = None,
    priority: Priority | None = None,
    locate: Callable[[str], tuple[Position, LocationFix] | None] | None = None,
) -> tuple[UUID, bool]:
    """The incident for the EIDO's call, and True when this import opened it (blocking; run it
    in a worker thread). Idempotent: the incident's id derives from the EIDO's id, so an EIDO
    imported before (even concurrently, by another process) answers the incident it opened.

    The location and priority given here win over the EIDO's; without either, the EIDO must
    carry it (coordinates, or a civic address that `locate` finds in the operating area).
    A call start older than the store accepts is kept in a note instead.
    """
    incident_id = eido_incident_id(call.eido_id)
    try:
        dispatch.get_incident(incident_id)
        return incident_id, False
    except NotFound:
        pass
    where = location or call.location
    fix: LocationFix | None = None
    if where is None and locate is not None and call.address:
        found = locate(call.address)  # the civic address, geocoded with its precision
        if found is not None:
            where, fix = found
    if where is None:
        raise InvalidValue(
            "lat",
            "the EIDO carries no coordinates"
            + (" and its civic address is not found in the area" if call.address else "")
            + "; give lat and lon",
        )
    level = priority or call.priority
    if level is None:
        raise InvalidValue("priority", "the EIDO carries no priority; give one")
    now = dispatch.clock()
    started = call.call_started_at
    notes = list(call.notes)
    if started is not None and not (now - MAX_CALL_AGE <= started <= now + MAX_CLOCK_SKEW):
        notes.append(f"EIDO call start {started.isoformat()} is outside the accepted window")
        started = None
    try:
        dispatch.report_incident(
            location=where,
            address=call.address,
            nature=call.nature,
            priority=level,
            actor=actor,
            callback=call.callback,
            source=IncidentSource.OTHER,
            call_received_at=started,
            incident_id=incident_id,
            notes=notes,
            location_fix=fix,
        )
    except AlreadyExists:  # imported at the same moment by another request
        return incident_id, False
    return incident_id, True


def eido_incident_id(eido_id: str) -> UUID:
    """The id of the incident an EIDO opens (its `$id` is unique: NENA-STA-021)."""
    return uuid5(EIDO_NAMESPACE, eido_id.strip())
