"""Per-priority time targets a dispatch floor holds calls and units to (seconds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from najda.domain.errors import InvalidValue
from najda.domain.values import Priority

P = Priority


@dataclass(frozen=True)
class Targets:
    """The limits for one priority, in seconds.

    call_to_dispatch_s: call received → first unit dispatched (a pending call is overdue after);
    turnout_s: unit dispatched → en route; on_scene_s: call received → a unit on scene (a unit
    still dispatched or en route after it is overdue); at_hospital_s: handover at hospital.
    """

    call_to_dispatch_s: float
    turnout_s: float
    on_scene_s: float
    at_hospital_s: float


#: Defaults in the spirit of common EMS standards (e.g. 8 minutes on scene for the most
#: urgent calls); a centre sets its own in a JSON file (NAJDA_TARGETS).
DEFAULT_TARGETS: dict[Priority, Targets] = {
    P.E: Targets(60, 60, 480, 1_200),
    P.D: Targets(90, 60, 480, 1_200),
    P.C: Targets(120, 90, 900, 1_800),
    P.B: Targets(300, 120, 1_200, 1_800),
    P.A: Targets(600, 180, 1_800, 1_800),
    P.OMEGA: Targets(900, 180, 3_600, 1_800),
}
_NAMES = tuple(f.name for f in fields(Targets))


def targets_from_mapping(data: Mapping[str, Any]) -> dict[Priority, Targets]:
    """Targets from plain data keyed by priority (missing priorities and limits keep the
    default): {"E": {"call_to_dispatch_s": 45}, ...}."""
    out = dict(DEFAULT_TARGETS)
    for key, limits in data.items():
        priority = Priority.parse(str(key))
        if not isinstance(limits, Mapping):
            raise InvalidValue(f"targets.{key}", "must be an object of limits in seconds")
        unknown = sorted(set(limits) - set(_NAMES))
        if unknown:
            raise InvalidValue(f"targets.{key}", f"unknown limits {unknown}; known: {_NAMES}")
        for name, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidValue(f"targets.{key}.{name}", "must be a positive number of seconds")
        out[priority] = replace(out[priority], **{k: float(v) for k, v in limits.items()})
    return out
