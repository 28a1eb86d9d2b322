"""The live feed's incident messages: an incident event folded into the feed's open incident
and told as incident_public's shape (the view REST answers), with the new note or, on an
assignment, all of them (deltas otherwise), the report's recommendation and hold, and the units that
must hear of it."""

from __future__ import annotations

from typing import Any

from najda.api.live.feed_state import FeedState
from najda.api.live.messages import encode
from najda.api.live.subscribers import Message
from najda.api.schemas_incidents import NotePublic
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.projections.base import Tracked
from najda.projections.care.consult_queue import CONSULT_TOPICS
from najda.projections.dispatch.read_model_changes import board_change


def incident_message(
    state: FeedState,
    item: Tracked,
    base: dict[str, Any],
    build: bool,
    report: dict[str, Any] | None,
    plan: ResponsePlan,
) -> Message | None:
    """Fold an incident event (a teleconsult's too: the incident holds its consults) into
    `state`; its message when `build`, except for a consult's (care.consult_message tells it).
    `report` is what a report's message adds (messages.report_json: recommendation, hold)."""
    iid = item.originator_id
    held = state.incidents.get(iid)
    if held is None and item.topic != "najda:Incident.Reported":
        return None  # ended before the feed's start: consoles never see it again
    before = None if held is None else (held.location, set(held.active_unit_ids))
    incident: Incident = item.event.mutate(held)
    state.incidents[iid] = incident
    change = board_change(item)
    if change is not None:
        state.board.apply(change)
    if not incident.is_open:
        del state.incidents[iid]
    if not build or item.topic in CONSULT_TOPICS:
        return None
    base["type"] = "incident"
    # Deltas: a note message carries the new note; only an assignment carries them all
    # (the crew that joins needs what was said before), so nothing grows with each note.
    assigned = item.topic == "najda:Incident.UnitAssigned"
    shown = state.incident_json(incident, item.event.at, plan, with_notes=assigned)
    if not assigned:
        del shown["notes"]
    base["incident"] = shown
    if item.topic == "najda:Incident.NoteAdded":
        last = incident.notes[-1]
        base["note"] = NotePublic(text=last.text, actor=last.actor, at=last.at).model_dump(
            mode="json"
        )
    if report is not None:
        base.update(report)
    units = set(incident.active_unit_ids)
    if before is not None:
        units.update(before[1])
    if item.topic in ("najda:Incident.UnitReleased", "najda:Incident.UnitCleared"):
        units.add(item.event.unit_id)
    if not incident.is_open:  # its crews learn how it ended (their release events follow)
        units.update(u for u, unit in state.units.items() if unit.incident_id == iid)
    here = incident.location
    points = [(here.lat, here.lon)]
    if before is not None and before[0] != here:
        points.append((before[0].lat, before[0].lon))
    return Message(item.position, encode(base), tuple(points), frozenset(units))
