"""The live feed's snapshots: the full state at the feed's position as one client sees it
(a console within its box, a monitoring client, a crew), sent when it cannot resume."""

from __future__ import annotations

from uuid import UUID

from najda.api.live.care import consult_json, hospital_json
from najda.api.live.feed_state import FeedState
from najda.api.live.messages import encode, place_json
from najda.api.live.monitoring import MonitoringFeed
from najda.api.live.subscribers import BBox
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory


def monitoring_snapshot(position: int, monitoring: MonitoringFeed, box: BBox | None) -> str:
    """Patients and their open alerts within the box (a monitoring client)."""
    patients = monitoring.patients(box)
    body = {"type": "snapshot", "pos": position, "patients": patients}
    return encode({**body, "alerts": monitoring.open_alerts(box)})


def console_snapshot(
    position: int,
    state: FeedState,
    monitoring: MonitoringFeed,
    reference: ReferenceDirectory,
    plan: ResponsePlan,
    box: BBox | None,
) -> str:
    """Units and open incidents within the box, every station and hospital, the open
    teleconsults, alerts and device problems (a console)."""
    units = [
        state.unit_json(row)
        for row in state.units.values()
        if box is None or box.contains(row.lat, row.lon)
    ]
    incidents = [
        state.open_incident_json(row, plan)
        for row in state.board.ordered()
        if box is None or box.contains(row.lat, row.lon)
    ]
    stations = [place_json(p) for p in reference.list_stations()]
    hospitals = [
        hospital_json(p, reference.hospital_status(p.id)) for p in reference.list_hospitals()
    ]
    return encode(
        {
            "type": "snapshot",
            "pos": position,
            "units": sorted(units, key=lambda u: u["call_sign"]),
            "incidents": incidents,
            "stations": stations,
            "hospitals": hospitals,
            "consults": [consult_json(c) for c in state.consults.listed()],
            "alerts": monitoring.open_alerts(box),
            "device_problems": monitoring.device_problems(box),
        }
    )


def crew_snapshot(position: int, state: FeedState, plan: ResponsePlan, unit_id: UUID) -> str:
    """The crew's unit, the open incident it works with all its notes, and its teleconsults."""
    row = state.units.get(unit_id)
    incident = None
    consults = []
    if row is not None and row.incident_id is not None:
        board_row = state.board.rows.get(row.incident_id)
        if board_row is not None:
            incident = state.open_incident_json(board_row, plan)
        consults = [consult_json(c) for c in state.consults.listed(incident_id=row.incident_id)]
    return encode(
        {
            "type": "snapshot",
            "pos": position,
            "unit": None if row is None else state.unit_json(row),
            "incident": incident,
            "consults": consults,
        }
    )
