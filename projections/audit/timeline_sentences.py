"""Human sentences for timeline events, e.g. `d.ali assigned M-12 (ALS): 1.8 km, ETA 4 min`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from najda.domain.values import UnitStatus

_STATUS_WORDS = {
    UnitStatus.AVAILABLE: "back in service",
    UnitStatus.DISPATCHED: "dispatched",
    UnitStatus.EN_ROUTE: "en route",
    UnitStatus.ON_SCENE: "on scene",
    UnitStatus.TRANSPORTING: "transporting",
    UnitStatus.AT_HOSPITAL: "at hospital",
    UnitStatus.OUT_OF_SERVICE: "out of service",
}


def distance_text(distance_m: float | None) -> str:
    """`850 m` or `1.8 km`."""
    if distance_m is None:
        return "distance unknown"
    return f"{distance_m:.0f} m" if distance_m < 1000 else f"{distance_m / 1000:.1f} km"


def eta_text(eta_s: float | None) -> str:
    """`ETA 4 min` (rounded to the minute; `ETA <1 min` below half a minute)."""
    if eta_s is None:
        return "ETA unknown"
    minutes = round(eta_s / 60)
    return "ETA <1 min" if minutes == 0 else f"ETA {minutes} min"


def _with(reason: str) -> str:
    return f": {reason}" if reason else ""


def sentence(topic: str, e: Any, subject: str, call_signs: Mapping[UUID, str]) -> str:
    """What the event says happened, naming the actor and the unit."""
    who = e.actor
    kind = topic.removeprefix("najda:")
    if kind == "Incident.Reported":
        level = f"{e.priority}{' ' + e.determinant if e.determinant else ''}"
        where = f" at {e.address}" if e.address else ""
        return (
            f"{who} reported {e.nature} (priority {level}){where};"
            f" call received {e.call_received_at:%H:%M:%S}"
        )
    if kind == "Incident.PriorityChanged":
        det = f" ({e.determinant})" if e.determinant else ""
        return f"{who} changed the priority to {e.priority}{det}"
    if kind == "Incident.LocationCorrected":
        place = e.address or f"{e.location.lat:.5f}, {e.location.lon:.5f}"
        return f"{who} corrected the location to {place}"
    if kind == "Incident.NoteAdded":
        return f"{who} noted: {e.text}"
    if kind == "Incident.UnitAssigned":
        return (
            f"{who} assigned {e.call_sign} ({str(e.kind).upper()}):"
            f" {distance_text(e.distance_m)}, {eta_text(e.eta_s)}"
        )
    if kind == "Incident.UnitReleased":
        return f"{who} released {call_signs.get(e.unit_id, 'a unit')}{_with(e.reason)}"
    if kind == "Incident.UnitCleared":
        return f"{call_signs.get(e.unit_id, 'a unit')} cleared the incident ({who})"
    if kind == "Incident.DestinationChosen":
        return f"{who} chose {e.name} ({e.code}) as {e.call_sign}'s destination"
    if kind == "Incident.DuplicateLinked":
        return f"{who} linked this call as a duplicate of incident {e.original_id}"
    if kind == "Incident.DuplicateDismissed":
        return f"{who} ruled out incident {e.candidate_id} as a duplicate"
    if kind == "Incident.Closed":
        return f"{who} closed the incident{_with(e.disposition)}"
    if kind == "Incident.Cancelled":
        return f"{who} cancelled the incident{_with(e.reason)}"
    if kind.startswith("Incident.Consult"):
        return consult_sentence(kind.removeprefix("Incident.Consult"), e, call_signs)
    if kind == "Unit.Dispatched":
        return f"{subject} notified of the dispatch ({who})"
    if kind == "Unit.Acknowledged":
        return f"{subject} acknowledged the dispatch ({who})"
    if kind == "Unit.StatusChanged":
        return f"{who} reported {subject} {_STATUS_WORDS[UnitStatus(e.status)]}{_with(e.reason)}"
    if kind == "Unit.Relocated":
        return f"{who} moved {subject} up to station {e.station_code}"
    if kind == "Unit.Released":
        return f"{subject} released by {who}, available again{_with(e.reason)}"
    return f"{who}: {kind}"


def consult_sentence(kind: str, e: Any, call_signs: Mapping[UUID, str]) -> str:
    """`specialist dr.k (stroke) joined the incident by teleconsult`, and the other steps."""
    who = e.actor
    if kind == "Requested":
        crew = f" ({call_signs.get(e.unit_id, 'a unit')})" if e.unit_id is not None else ""
        return f"{who}{crew} requested a {e.specialty} teleconsult: {e.reason}"
    if kind == "Accepted":
        return f"specialist {who} ({e.specialty}) joined the incident by teleconsult"
    if kind == "Ended":
        return f"{who} ended the teleconsult: {e.recommendation}"
    if kind == "Declined":
        return f"{who} declined the {e.specialty} teleconsult{_with(e.reason)}"
    return f"{who} cancelled the {e.specialty} teleconsult{_with(e.reason)}"
