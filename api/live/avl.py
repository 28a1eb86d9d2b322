"""The live feed's messages that are not events: AVL positions between recorded samples
(each console gets those in its box) and the stale-unit flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.api.live.messages import encode, iso
from najda.api.live.subscribers import Subscriber
from najda.projections.dispatch.read_model_changes import UnitRow


def push_positions(
    consoles: Sequence[Subscriber],
    pos: int,
    shown: list[dict[str, Any]],
    points: list[tuple[float, float]],
) -> None:
    """Push the moved units to the consoles, each console only those inside its box."""
    if not shown:
        return
    body = {"type": "positions", "pos": pos, "units": shown}
    shared = encode(body)
    for subscriber in consoles:
        box = subscriber.interest.bbox
        if box is None:
            subscriber.push(shared)
            continue
        mine = [u for u, (lat, lon) in zip(shown, points, strict=True) if box.contains(lat, lon)]
        if mine:
            subscriber.push(encode({**body, "units": mine}))


def position_json(unit_id: UUID, lat: float, lon: float, at: datetime) -> dict[str, Any]:
    """One unit's position as a positions message lists it."""
    return {"id": str(unit_id), "lat": lat, "lon": lon, "at": iso(at)}


def stale_message(
    pos: int,
    units: Mapping[UUID, UnitRow],
    heard: Mapping[UUID, datetime],
    changed: Sequence[UUID],
    stale: set[UUID],
) -> str:
    """The message telling which units' stale flag changed."""
    body = {
        "type": "stale",
        "pos": pos,
        "units": [
            {
                "id": str(uid),
                "call_sign": units[uid].call_sign,
                "stale": uid in stale,
                "last_heard": iso(heard[uid]),
            }
            for uid in changed
        ],
    }
    return encode(body)
