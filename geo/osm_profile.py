"""The drivable-road speed profile for OpenStreetMap ways (highway class, maxspeed, oneway, access).

Rules (documented in the README, section "Areas from OpenStreetMap"):
- A way is drivable when its `highway` class is in `CLASS_SPEED_KMH`, it is not an `area=yes`
  square, and neither `access`, `vehicle`, `motor_vehicle` nor `motorcar` forbids it (`no`,
  `private`, `agricultural`, `forestry`, `delivery`, `destination` is allowed); the most
  specific of those tags that is set wins, and `emergency=yes|designated` always allows it.
- Its regular speed is the class default, or the tagged `maxspeed` (km/h, `mph`, `knots`, or a
  zone such as `CH:urban`) when that is lower; an emergency vehicle (mode 1, lights and sirens)
  drives `EMERGENCY_FACTOR` times faster, up to the class default plus `EMERGENCY_MARGIN_KMH`.
- `oneway=yes|true|1` allows only the drawn direction, `-1|reverse` only the opposite one;
  motorways and roundabouts are one-way unless tagged `oneway=no`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: Typical free-flow speed by highway class, km/h (mode 2, regular driving).
CLASS_SPEED_KMH: dict[str, float] = {
    "motorway": 110.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 45.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 35.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 30.0,
    "service": 20.0,
    "track": 12.0,
}
#: Emergency driving (mode 1) is this much faster than regular driving...
EMERGENCY_FACTOR = 1.25
#: ... but never more than this above the class default.
EMERGENCY_MARGIN_KMH = 20.0
#: Implicit limits of `maxspeed=<country>:<zone>` where the country does not say otherwise.
ZONE_KMH: dict[str, float] = {
    "urban": 50.0,
    "rural": 80.0,
    "motorway": 120.0,
    "trunk": 100.0,
    "living_street": 7.0,
    "walk": 7.0,
    "zone30": 30.0,
    "zone20": 20.0,
    "bicycle_road": 30.0,
}
#: Countries whose rural limit differs from the default.
COUNTRY_RURAL_KMH: dict[str, float] = {"AT": 100.0, "DE": 100.0, "FR": 80.0, "IT": 90.0}
_FORBIDDING = frozenset({"no", "private", "agricultural", "forestry", "delivery", "discouraged"})
_ALLOWING = frozenset({"yes", "designated", "permissive", "destination", "customers"})
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|knots|km/h|kmh)?\s*$")


@dataclass(frozen=True)
class RoadProfile:
    """How one drivable way may be travelled: speeds (km/h) and allowed directions."""

    regular_kmh: float
    emergency_kmh: float
    forward: bool
    backward: bool


def parse_maxspeed(value: str | None) -> float | None:
    """A `maxspeed` value in km/h (None when absent, `none`, `signals` or unreadable)."""
    if not value:
        return None
    text = value.strip().split(";")[0]
    match = _NUMBER.match(text)
    if match:
        number = float(match.group(1))
        unit = match.group(2)
        if unit == "mph":
            return number * 1.609344
        if unit == "knots":
            return number * 1.852
        return number if number > 0 else None
    if ":" in text:
        country, zone = text.split(":", 1)
        if zone == "rural":
            return COUNTRY_RURAL_KMH.get(country.upper(), ZONE_KMH["rural"])
        return ZONE_KMH.get(zone)
    if text in ("walk", "living_street"):
        return ZONE_KMH["walk"]
    return None


def drivable(tags: Mapping[str, str]) -> bool:
    """True when a motor vehicle (an ambulance) may drive this way."""
    highway = tags.get("highway")
    if highway not in CLASS_SPEED_KMH or tags.get("area") == "yes":
        return False
    if tags.get("emergency") in ("yes", "designated"):
        return True
    verdict = True
    for key in ("access", "vehicle", "motor_vehicle", "motorcar"):  # least to most specific
        value = tags.get(key)
        if value in _FORBIDDING:
            verdict = False
        elif value in _ALLOWING:
            verdict = True
    return verdict


def profile(tags: Mapping[str, str]) -> RoadProfile | None:
    """The way's speeds and directions, or None when it is not drivable."""
    if not drivable(tags):
        return None
    highway = tags["highway"]
    default = CLASS_SPEED_KMH[highway]
    limit = parse_maxspeed(tags.get("maxspeed"))
    regular = min(default, limit) if limit is not None else default
    emergency = min(regular * EMERGENCY_FACTOR, default + EMERGENCY_MARGIN_KMH)
    emergency = max(emergency, regular)
    oneway = tags.get("oneway", "")
    implied = highway in ("motorway", "motorway_link") or tags.get("junction") in (
        "roundabout",
        "circular",
    )
    if oneway in ("yes", "true", "1"):
        forward, backward = True, False
    elif oneway in ("-1", "reverse"):
        forward, backward = False, True
    elif oneway == "no":
        forward, backward = True, True
    else:
        forward, backward = True, not implied
    return RoadProfile(regular, emergency, forward, backward)
