"""Pure, deterministic alerting on one vital's readings: sustained breaches, hysteresis,
de-duplication, escalation to critical. No clock, no ids: the caller passes both in."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from najda.domain.care.vitals import MARGINS, Bounds, Direction, Severity, Vital

#: Readings of one vital kept in a patient's state (for trends, duplicates, sustained checks).
RECENT_READINGS = 64


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value, in the vital's canonical unit, at the time it was measured.

    `reported` keeps the value as sent when it was converted (e.g. "5.2 mmol/L");
    `source` the FHIR Observation's id and `device` the device that measured it, if given.
    """

    vital: Vital
    value: float
    at: datetime
    reported: str = ""
    source: str = ""
    device: str = ""

    def text(self) -> str:
        """'SpO2 82 % at 2024-03-01T08:00:00+00:00'."""
        unit = self.vital.unit
        value = f"{self.value:g} {unit}" if unit != "%" else f"{self.value:g} %"
        shown = f" ({self.reported})" if self.reported else ""
        return f"{self.vital.label} {value}{shown} at {self.at.isoformat(timespec='seconds')}"


@dataclass(frozen=True)
class MonitoringPolicy:
    """When breaches become alerts and incidents.

    - sustained: `sustained_count` consecutive readings breaching on one side, the first
      no more than `sustained_window` before the last, raise a warning alert;
      a critical reading raises a critical alert (and an incident) at once.
    - de-duplication: a breach within `dedup_window` of the alert last raised for that
      vital and side reopens it instead of raising another; no second incident is raised
      within `dedup_window` of the last one, nor while that one is still open.
    - a reading older than `act_within` (a late upload) alerts but raises no incident.
    """

    sustained_count: int = 2
    sustained_window: timedelta = timedelta(minutes=15)
    dedup_window: timedelta = timedelta(minutes=30)
    act_within: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class AlertState:
    """The alert of one vital: open, or the last one cleared (kept for de-duplication)."""

    alert_id: UUID
    vital: Vital
    level: Severity
    direction: Direction
    raised_at: datetime
    open: bool = True
    acknowledged: bool = False


@dataclass(frozen=True, slots=True)
class Effect:
    """What one reading did to its vital's alert.

    kind: 'raised', 'reopened', 'escalated' or 'cleared'. `readings` are those that caused
    it (for a sustained breach, the consecutive breaching readings)."""

    kind: str
    alert_id: UUID
    vital: Vital
    level: Severity
    direction: Direction
    readings: tuple[Reading, ...]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of one reading: its severity, its effects, and whether it is current
    enough to act on (an incident); `late` when older than the vital's latest reading."""

    reading: Reading
    severity: Severity
    direction: Direction | None
    effects: tuple[Effect, ...] = ()
    late: bool = False
    actionable: bool = False


@dataclass(frozen=True, slots=True)
class VitalTrack:
    """One vital's recent readings (sorted by time) and its alert."""

    recent: tuple[Reading, ...] = ()
    alert: AlertState | None = None

    @property
    def latest(self) -> Reading | None:
        """The newest reading by measurement time."""
        return self.recent[-1] if self.recent else None

    def find(self, at: datetime) -> Reading | None:
        """The reading measured at exactly `at`, if kept."""
        i = bisect.bisect_left([r.at for r in self.recent], at)
        if i < len(self.recent) and self.recent[i].at == at:
            return self.recent[i]
        return None

    def with_reading(self, reading: Reading) -> VitalTrack:
        """Recent readings with this one in time order (the oldest dropped past the cap)."""
        times = [r.at for r in self.recent]
        i = bisect.bisect_right(times, reading.at)
        recent = (*self.recent[:i], reading, *self.recent[i:])[-RECENT_READINGS:]
        return replace(self, recent=recent)

    def with_alert(self, alert: AlertState | None) -> VitalTrack:
        """The same readings with another alert state."""
        return replace(self, alert=alert)


def observe(
    track: VitalTrack,
    reading: Reading,
    bounds: Bounds,
    policy: MonitoringPolicy,
    now: datetime,
    new_alert_id: Callable[[], UUID],
) -> tuple[VitalTrack, Assessment]:
    """Take one reading into its vital's track; the new track and what it caused.

    Out-of-order readings (older than the latest kept) are kept for the record but change
    no alert: what happens now is judged on the newest readings. `new_alert_id` is called
    only when a new alert is raised.
    """
    severity, direction = bounds.classify(reading.value)
    latest = track.latest
    late = latest is not None and reading.at < latest.at
    track = track.with_reading(reading)
    if late:
        return track, Assessment(reading, severity, direction, late=True)
    effects: list[Effect] = []
    alert = track.alert
    margin = MARGINS[reading.vital]
    if alert is not None and alert.open and bounds.cleared(reading.value, alert.direction, margin):
        alert = replace(alert, open=False)
        effects.append(_effect("cleared", alert, (reading,)))
    if direction is not None:
        alert, effect = _breach(
            track, bounds, alert, reading, severity, direction, policy, new_alert_id
        )
        if effect is not None:
            effects.append(effect)
    actionable = severity is Severity.CRITICAL and now - reading.at <= policy.act_within
    assessment = Assessment(reading, severity, direction, tuple(effects), False, actionable)
    return track.with_alert(alert), assessment


def _breach(
    track: VitalTrack,
    bounds: Bounds,
    alert: AlertState | None,
    reading: Reading,
    severity: Severity,
    direction: Direction,
    policy: MonitoringPolicy,
    new_alert_id: Callable[[], UUID],
) -> tuple[AlertState | None, Effect | None]:
    """The alert after a breaching reading, and the effect if it changed."""
    if alert is not None and alert.open:
        if alert.direction is direction and severity.rank > alert.level.rank:
            alert = replace(alert, level=severity, acknowledged=False)
            return alert, _effect("escalated", alert, (reading,))
        return alert, None  # already alerting: repeated breaches do not raise twice
    if severity is Severity.CRITICAL:
        cause: tuple[Reading, ...] | None = (reading,)
    else:
        cause = sustained(track, bounds, direction, policy)
    if cause is None:
        return alert, None
    recent = alert is not None and reading.at - alert.raised_at < policy.dedup_window
    if alert is not None and recent and alert.direction is direction:
        alert = replace(alert, open=True, level=severity, acknowledged=False)
        return alert, _effect("reopened", alert, cause)
    alert = AlertState(new_alert_id(), reading.vital, severity, direction, reading.at)
    return alert, _effect("raised", alert, cause)


def sustained(
    track: VitalTrack, bounds: Bounds, direction: Direction, policy: MonitoringPolicy
) -> tuple[Reading, ...] | None:
    """The last `sustained_count` readings when they all breach on `direction` (judged
    against today's bounds) and the first is within the window of the last, else None."""
    count = policy.sustained_count
    last = track.recent[-count:]
    if len(last) < count or last[-1].at - last[0].at > policy.sustained_window:
        return None
    if any(bounds.classify(r.value)[1] is not direction for r in last):
        return None
    return last


def _effect(kind: str, alert: AlertState, readings: tuple[Reading, ...]) -> Effect:
    return Effect(kind, alert.alert_id, alert.vital, alert.level, alert.direction, readings)


__all__ = [
    "AlertState",
    "Assessment",
    "Effect",
    "MonitoringPolicy",
    "Reading",
    "VitalTrack",
    "observe",
    "sustained",
]
