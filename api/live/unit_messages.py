"""The live feed's unit messages: a unit event folded into the feed's unit row (the locator's
rule, `fold_unit_row`) and told as the unit's new state, with where a move-up sends the crew
and the destinations offered to a crew that starts transporting."""

from __future__ import annotations

from typing import Any

from najda.api.live.care import destinations_json
from najda.api.live.feed_state import FeedState
from najda.api.live.messages import encode
from najda.api.live.subscribers import Message
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.values import UnitStatus
from najda.projections.base import Tracked
from najda.projections.dispatch.destinations import TravelTimes
from najda.projections.dispatch.read_model_changes import (
    UnitMoved,
    UnitRow,
    UnitStatusSet,
    UnitUpserted,
    board_change,
    fold_unit_row,
    locator_change,
)
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory


def unit_message(
    state: FeedState,
    item: Tracked,
    base: dict[str, Any],
    build: bool,
    reference: ReferenceDirectory,
    plan: ResponsePlan,
    travel: TravelTimes,
) -> Message | None:
    """Fold a unit event into `state`; its message when `build` (None for a unit the feed
    never saw registered)."""
    uid = item.originator_id
    before = state.units.get(uid)
    change = locator_change(item)
    if isinstance(change, UnitUpserted):
        row: UnitRow | None = change.row
        state.recorded[uid] = (change.row.lat, change.row.lon, change.row.position_at)
    elif change is not None and before is not None:
        if isinstance(change, UnitMoved):
            state.recorded[uid] = (change.lat, change.lon, change.at)
        row = fold_unit_row(before, change)  # the locator's rule (one unit projection)
    else:
        row = before
    if row is None:
        return None
    state.units[uid] = row
    if item.topic == "najda:Unit.Acknowledged":
        state.acknowledged[uid] = item.event.incident_id
    state.heard_from(uid, item.event.at)
    board_change_ = board_change(item)  # a unit's status shows on its incident too
    if board_change_ is not None:
        state.board.apply(board_change_)
    if not build:
        return None
    base["type"] = "unit"
    base["unit"] = state.unit_json(row)
    if item.topic == "najda:Unit.Relocated":  # a move-up: the crew is told where to go
        place = reference.stations.get(item.event.station_id)
        base["relocation"] = {
            "station_id": str(item.event.station_id),
            "station": item.event.station_code,
            "name": place.name if place else item.event.station_code,
            "lat": place.lat if place else None,
            "lon": place.lon if place else None,
        }
    if isinstance(change, UnitStatusSet) and change.status is UnitStatus.TRANSPORTING:
        # The crew is offered its destinations as it leaves the scene.
        incident = None if row.incident_id is None else state.board.rows.get(row.incident_id)
        base["destinations"] = destinations_json(row, incident, reference, plan, travel, change.at)
    points = [(row.lat, row.lon)]
    if before is not None:
        points.append((before.lat, before.lon))
    return Message(item.position, encode(base), tuple(points), frozenset({uid}))
