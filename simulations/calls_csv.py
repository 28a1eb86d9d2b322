"""Recorded call lists as CSV: replay the same calls under every policy, or real call data."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from najda.simulations.scenario import Call, FurtherUnit

COLUMNS = (
    "at_s",
    "lat",
    "lon",
    "priority",
    "dispatch_delay_s",
    "on_scene_s",
    "transport",
    "handover_s",
)
#: Optional column: the hospital (index into the scenario's, from 0) of a transported patient;
#: blank for the nearest.
HOSPITAL = "hospital"
#: Optional column: each further ambulance the call needed as "AFTER_S:ON_SCENE_S" (asked for
#: that many seconds after the first was sent; its seconds on scene), joined by ";" (blank:
#: one ambulance); written only when some call needed more than one.
BACKUPS = "backups"


class CallListError(ValueError):
    """A call list row cannot be read; the message names the line and the column."""


def write_calls(calls: Sequence[Call], path: Path) -> None:
    """Write calls in COLUMNS order (times in seconds from the start of the run)."""
    backups = any(c.backups for c in calls)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow((*COLUMNS, HOSPITAL, *([BACKUPS] if backups else [])))
        for c in calls:
            writer.writerow([
                f"{c.at_s:.3f}", f"{c.lat:.7f}", f"{c.lon:.7f}", c.priority,
                f"{c.dispatch_delay_s:.3f}", f"{c.on_scene_s:.3f}", int(c.transport),
                f"{c.handover_s:.3f}", "" if c.hospital is None else c.hospital,
                *([";".join(f"{b.after_s:.3f}:{b.on_scene_s:.3f}" for b in c.backups)]
                  if backups else []),
            ])


def read_calls(path: Path, priorities: Sequence[str], hospitals: int | None = None) -> list[Call]:
    """Read a call list; every priority must be one the scenario knows, every hospital one of
    its `hospitals` (when given)."""
    out: list[Call] = []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CallListError(f"{path}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            out.append(_call(row, f"{path}:{line}", priorities, hospitals))
    out.sort(key=lambda c: c.at_s)
    return out


def _further(text: str, where: str) -> FurtherUnit:
    """One further ambulance, "AFTER_S:ON_SCENE_S"."""
    after, _, on_scene = text.partition(":")
    try:
        values = [float(after), float(on_scene)]
    except ValueError:
        values = []
    if not values or not all(np.isfinite(v) and v >= 0 for v in values):
        raise CallListError(f"{where}: {BACKUPS} must be AFTER_S:ON_SCENE_S pairs joined by ';'")
    return FurtherUnit(*values)


def _call(
    row: dict[str, str], where: str, priorities: Sequence[str], hospitals: int | None
) -> Call:
    def num(column: str) -> float:
        try:
            value = float(row[column])
        except (TypeError, ValueError):
            raise CallListError(f"{where}: {column} must be a number") from None
        if not np.isfinite(value) or (column != "lat" and column != "lon" and value < 0):
            raise CallListError(f"{where}: {column} must be a finite non-negative number")
        return value

    if row["priority"] not in priorities:
        raise CallListError(f"{where}: priority must be one of {', '.join(priorities)}")
    if row["transport"] not in ("0", "1"):
        raise CallListError(f"{where}: transport must be 0 or 1")
    hospital = None
    if (row.get(HOSPITAL) or "").strip():
        text = row[HOSPITAL].strip()
        if not text.isdigit() or (hospitals is not None and int(text) >= hospitals):
            raise CallListError(f"{where}: {HOSPITAL} must be a hospital index (0 to "
                                f"{'n' if hospitals is None else hospitals - 1}) or blank")
        hospital = int(text)
    backups = [_further(text, where) for text in (row.get(BACKUPS) or "").split(";")
               if text.strip()]
    lat, lon = num("lat"), num("lon")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CallListError(f"{where}: lat/lon out of range")
    return Call(
        at_s=num("at_s"),
        lat=lat,
        lon=lon,
        priority=row["priority"],
        dispatch_delay_s=num("dispatch_delay_s"),
        on_scene_s=num("on_scene_s"),
        transport=row["transport"] == "1",
        handover_s=num("handover_s"),
        hospital=hospital,
        backups=tuple(backups),
    )


@dataclass(frozen=True)
class RecordedCalls:
    """A call source that replays a recorded list (the seed does not change it)."""

    recorded: tuple[Call, ...]

    def calls(self, duration_s: float, rng: np.random.Generator) -> list[Call]:
        """The recorded calls arriving before `duration_s`."""
        return [c for c in self.recorded if c.at_s < duration_s]
