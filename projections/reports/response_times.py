"""Response-time reports: percentiles of the NEMSIS intervals, compliance, zones and hours."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np

from najda.domain.errors import InvalidValue
from najda.domain.values import Priority
from najda.geo.distance import great_circle_m
from najda.projections.audit.timeline import TimelineEntry, attribute
from najda.projections.reports.nemsis_intervals import (
    ETIMES,
    INTERVALS,
    UnitResponse,
    unit_responses,
)
from najda.projections.store.event_rows import EventLog

#: Intervals measured once per incident (from the first unit notified / first on scene).
PER_INCIDENT = ("call_processing", "response")
#: Intervals measured per unit response.
PER_UNIT = ("turnout", "travel", "on_scene", "transport")


@dataclass(frozen=True)
class Target:
    """A limit on an interval's percentile, for one priority or for all (priority None)."""

    metric: str
    priority: Priority | None
    limit_s: float
    percentile: float = 90.0

    @classmethod
    def parse(cls, text: str, field: str = "target") -> Target:
        """`response:E:8:59`, `turnout:*:60` or `response:D:539@90` (metric:priority:time)."""
        body, _, pct = text.strip().partition("@")
        metric, _, rest = body.partition(":")
        level, _, limit = rest.partition(":")
        if metric not in INTERVALS:
            raise InvalidValue(
                field, f"unknown interval {metric!r} (one of {', '.join(INTERVALS)})"
            )
        priority = None if level.strip() in ("*", "") else Priority.parse(level)
        try:
            minutes, _, seconds = limit.rpartition(":")
            limit_s = float(seconds) + 60 * float(minutes or 0)
            percentile = float(pct) if pct else 90.0
        except ValueError:
            raise InvalidValue(
                field, f"{text!r}: write metric:priority:seconds, e.g. response:E:8:59"
            ) from None
        if not (limit_s > 0 and math.isfinite(limit_s)) or not 0 < percentile <= 100:
            raise InvalidValue(field, f"{text!r}: the time and percentile must be positive")
        return cls(metric, priority, limit_s, percentile)

    def label(self) -> str:
        """`response E p90 <= 539 s`."""
        level = self.priority.value if self.priority else "all"
        return f"{self.metric} {level} p{self.percentile:g} <= {self.limit_s:g} s"


#: Defaults: response 8:59 at the 90th percentile for D and E; turnout 60 s for all.
DEFAULT_TARGETS: tuple[Target, ...] = (
    Target("response", Priority.D, 539.0),
    Target("response", Priority.E, 539.0),
    Target("turnout", None, 60.0),
)


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The q-th percentile by linear interpolation (None without samples)."""
    if not samples:
        return None
    return float(np.percentile(np.asarray(samples, dtype=float), q))


class Zones:
    """Zone of a point: the code of the nearest station (its first-due area)."""

    def __init__(self, stations: Iterable[tuple[str, float, float]]) -> None:
        self.stations = list(stations)

    def of(self, lat: float, lon: float) -> str:
        if not self.stations:
            return "unzoned"
        return min(self.stations, key=lambda s: great_circle_m(lat, lon, s[1], s[2]))[0]


def collect(
    log: EventLog,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
) -> tuple[list[UnitResponse], Zones]:
    """Walk the log once: unit responses of incidents called in [start, end), and stations."""
    by_incident: dict[UUID, list[TimelineEntry]] = defaultdict(list)
    stations: list[tuple[str, float, float]] = []

    def rows() -> Iterable[Any]:
        after = 0
        while found := log.scan(after, batch):
            for raw in found:
                if raw.topic == "najda:Station.Registered":
                    e = log.decode(raw)
                    stations.append((e.code, e.location.lat, e.location.lon))
            yield from found
            after = found[-1].position
            if progress is not None:
                progress(len(found))

    for incident_id, entry in attribute(log, rows()):
        by_incident[incident_id].append(entry)
    responses: list[UnitResponse] = []
    for entries in by_incident.values():
        for r in unit_responses(entries):
            if (start is None or r.call_received >= start) and (
                end is None or r.call_received < end
            ):
                responses.append(r)
    responses.sort(key=lambda r: (r.call_received, str(r.incident_id), r.unit_notified))
    return responses, Zones(stations)


def _samples(responses: Sequence[UnitResponse]) -> dict[str, list[float]]:
    """Interval samples: per incident for call processing and response, else per unit."""
    out: dict[str, list[float]] = {name: [] for name in INTERVALS}
    by_incident: dict[UUID, list[UnitResponse]] = defaultdict(list)
    for r in responses:
        by_incident[r.incident_id].append(r)
        for name in PER_UNIT:
            value = r.interval_s(name)
            if value is not None:
                out[name].append(value)
    for group in by_incident.values():
        first_notified = min(group, key=lambda r: r.unit_notified)
        value = first_notified.interval_s("call_processing")
        if value is not None:
            out["call_processing"].append(value)
        for r in group:
            if r.first_on_scene and (value := r.interval_s("response")) is not None:
                out["response"].append(value)
    return out


def _summary(responses: Sequence[UnitResponse]) -> dict[str, dict[str, Any]]:
    return {
        name: {"n": len(values), "p50_s": percentile(values, 50), "p90_s": percentile(values, 90)}
        for name, values in _samples(responses).items()
    }


def _compliance(responses: Sequence[UnitResponse], target: Target) -> dict[str, Any]:
    chosen = [r for r in responses if target.priority is None or r.priority is target.priority]
    values = _samples(chosen)[target.metric]
    value = percentile(values, target.percentile)
    within = sum(1 for v in values if v <= target.limit_s) / len(values) if values else None
    return {
        "metric": target.metric,
        "priority": target.priority.value if target.priority else None,
        "percentile": target.percentile,
        "target_s": target.limit_s,
        "n": len(values),
        "value_s": value,
        "within_target": within,
        "met": None if value is None else value <= target.limit_s,
    }


def build_report(
    responses: Sequence[UnitResponse],
    zones: Zones,
    targets: Sequence[Target] = DEFAULT_TARGETS,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    """The report as plain JSON-ready data (times ISO 8601, intervals in seconds)."""
    by_priority: dict[str, list[UnitResponse]] = defaultdict(list)
    by_zone: dict[str, list[UnitResponse]] = defaultdict(list)
    by_hour: dict[str, list[UnitResponse]] = defaultdict(list)
    for r in responses:
        by_priority[r.priority.value].append(r)
        by_zone[zones.of(r.lat, r.lon)].append(r)
        by_hour[f"{r.call_received.hour:02d}"].append(r)
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "incidents": len({r.incident_id for r in responses}),
        "unit_responses": len(responses),
        "intervals": _summary(responses),
        "compliance": [_compliance(responses, t) for t in targets],
        "by_priority": {k: _summary(v) for k, v in sorted(by_priority.items())},
        "by_zone": {k: _summary(v) for k, v in sorted(by_zone.items())},
        "by_hour": {k: _summary(v) for k, v in sorted(by_hour.items())},
        "responses": [response_row(r, zones) for r in responses],
    }


def response_row(r: UnitResponse, zones: Zones) -> dict[str, Any]:
    """One unit response: ids, eTimes (ISO 8601) and intervals (seconds)."""
    row: dict[str, Any] = {
        "incident_id": str(r.incident_id),
        "unit_id": str(r.unit_id),
        "call_sign": r.call_sign,
        "kind": r.kind,
        "priority": r.priority.value,
        "zone": zones.of(r.lat, r.lon),
        "first_on_scene": r.first_on_scene,
    }
    for code, attribute_name, _ in ETIMES:
        value: datetime | None = getattr(r, attribute_name)
        row[code] = value.isoformat() if value else None
    for name, value_s in r.intervals().items():
        row[f"{name}_s"] = value_s
    return row


def report_csv(report: dict[str, Any]) -> str:
    """The report's unit responses as CSV, one row per unit response."""
    columns = [
        "incident_id", "unit_id", "call_sign", "kind", "priority", "zone", "first_on_scene",
        *(code for code, _, _ in ETIMES),
        *(f"{name}_s" for name in INTERVALS),
    ]  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in report["responses"]:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
