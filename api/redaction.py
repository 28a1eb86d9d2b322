"""Patient data by need: what an auditor without clinical access sees of a monitoring incident.

A monitoring incident is raised for an enrolled patient: its address is the patient's home,
its call-back number the patient's phone, its nature names the vital and its value, its notes
carry the name, record number, conditions and readings. Auditors need the incident's shape
(when, how urgent, who was sent, how long it took), not the patient: for them these fields
are replaced, the location rounded to about a kilometre, and every free text withheld.
Dispatchers, crews, nurses, specialists and administrators see them by their role; an
auditor sees them once granted clinical access (`najda users clinical NAME on`).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from najda.api.schemas_incidents import BoardIncidentPublic
from najda.domain.access.user import Role
from najda.domain.care.consult import Consult
from najda.domain.dispatch.incident import Incident, Note
from najda.domain.values import IncidentSource, Position
from najda.projections.access.user_directory import Principal
from najda.projections.audit.timeline import TimelineEntry

REDACTED = "[redacted: patient data]"
NATURE = "remote monitoring alert"
#: Decimal places kept of a monitoring incident's coordinates (about 1.1 km).
PLACES = 2
#: Event fields whose text may name the patient or their vitals.
_FREE_TEXT = ("text", "reason", "disposition", "recommendation", "address", "nature", "callback")


def redacts(viewer: Principal | None) -> bool:
    """True when this caller sees monitoring incidents without the patient's data."""
    return viewer is not None and viewer.role is Role.AUDITOR and not viewer.clinical


def _monitoring(source: object) -> bool:
    return str(source) == IncidentSource.MONITORING.value


def incident_for(viewer: Principal | None, incident: Incident) -> Incident:
    """The incident as this caller may see it (a redacted copy, or the incident itself)."""
    if not redacts(viewer) or not _monitoring(incident.source):
        return incident
    shown = copy.copy(incident)
    shown.address = REDACTED
    shown.nature = NATURE
    shown.callback = None
    shown.location = Position(
        round(incident.location.lat, PLACES), round(incident.location.lon, PLACES)
    )
    shown.notes = [Note(REDACTED, n.actor, n.at) for n in incident.notes]
    shown.disposition = REDACTED if incident.disposition else incident.disposition
    shown.consults = {k: consult_for(viewer, incident, c) for k, c in incident.consults.items()}
    return shown


def consult_for(viewer: Principal | None, incident: Incident, consult: Consult) -> Consult:
    """A teleconsult as this caller may see it: on a monitoring incident, an auditor without
    clinical access gets no reason, recommendation or closing reason."""
    if not redacts(viewer) or not _monitoring(incident.source):
        return consult
    return replace(
        consult,
        reason=REDACTED,
        recommendation=REDACTED if consult.recommendation else "",
        closing_reason=REDACTED if consult.closing_reason else "",
    )


def board_row_for(viewer: Principal | None, row: BoardIncidentPublic) -> BoardIncidentPublic:
    """A board row as this caller may see it."""
    if not redacts(viewer) or not _monitoring(row.source):
        return row
    return row.model_copy(
        update={
            "address": REDACTED,
            "nature": NATURE,
            "lat": round(row.lat, PLACES),
            "lon": round(row.lon, PLACES),
        }
    )


def timeline_for(viewer: Principal | None, entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Timeline entries as this caller may see them: free texts of a monitoring incident
    withheld from each sentence."""
    reported = next((e for e in entries if e.kind == "Incident.Reported"), None)
    if not redacts(viewer) or reported is None or not _monitoring(reported.event.source):
        return entries
    return [replace(e, text=_withheld(e.text, e.event)) for e in entries]


def _withheld(text: str, event: Any) -> str:
    """The sentence with every free-text value of its event replaced."""
    values = [getattr(event, name, None) for name in _FREE_TEXT]
    for value in sorted((v for v in values if isinstance(v, str) and v), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    location = getattr(event, "location", None)
    if isinstance(location, Position):
        text = text.replace(f"{location.lat:.5f}, {location.lon:.5f}", REDACTED)
    return text
