"""Live note messages: what a console receives and the server keeps for a long incident.

    python -m bench.live_notes [--quick | --full] [--repeats N]

One incident gets N notes of 4,000 characters (600 by default, as in the security review)
on a real SQLite store; the live feed applies them with one console subscribed. Figures,
medians over the runs:

1. Bytes a console receives per note message (the new note only, a delta), against the
   baseline measured in the same run: the message the feed built before (the incident with
   all its notes), encoded for the same notes. Goal: ratio <= 0.01 at 600 notes.
2. Feed time per note (building, buffering and queueing the delta) against the baseline:
   encoding the all-notes message alone.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stats import banner, log, median, parse_mode, ratio, spread
from najda.api.live.feed import LiveFeed
from najda.api.live.messages import encode, incident_json
from najda.api.live.subscribers import Interest
from najda.domain.application import Dispatch
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority
from najda.geo.distance import great_circle_m
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.store.environment import sqlite_env

NOTE_CHARS = 4_000
NOTES = {"quick": 150, "default": 600, "full": 1_200}
REPEATS = {"quick": 3, "default": 3, "full": 5}


async def one_run(notes: int) -> tuple[float, float, float, float]:
    """(delta bytes/note, baseline bytes/note, delta s/note, baseline s/note) for one run."""
    with tempfile.TemporaryDirectory() as tmp:
        app = Dispatch(env=sqlite_env(Path(tmp) / "events.sqlite"), distance=great_circle_m)
        try:
            feed = LiveFeed(EmbeddedLocator(), default_response_plan(), ReferenceDirectory())
            board = EmbeddedBoard()  # the open incident as the read model holds it
            source = NotificationSource(app)
            console, _ = feed.subscribe(Interest(), None, 1_000_000)
            incident = app.report_incident(
                location=Position(36.75, 3.06),
                address="1 Test Street",
                nature="fall",
                priority=Priority.C,
                actor="bench",
            )
            first = source.read(0, 100)
            await feed.apply(first)
            await board.apply(first)
            await console.next()
            delta_bytes = baseline_bytes = 0
            delta_s = baseline_s = 0.0
            kept: list[dict[str, str]] = []
            for i in range(notes):
                text = f"{i:05d}" + "n" * (NOTE_CHARS - 5)
                app.add_note(incident, text, "bench")
                batch = source.read(await feed.position(), 10)
                started = time.perf_counter()
                await feed.apply(batch)
                delta_s += time.perf_counter() - started
                await board.apply(batch)
                delta_bytes += sum(len(t.encode()) for t in await console.next())
                kept.append({"text": text, "actor": "bench", "at": batch[-1].event.at.isoformat()})
                row = await board.get(incident)
                assert row is not None
                started = time.perf_counter()
                before = encode({"type": "incident", "incident": incident_json(row, kept, True)})
                baseline_s += time.perf_counter() - started
                baseline_bytes += len(before.encode())
            return delta_bytes / notes, baseline_bytes / notes, delta_s / notes, baseline_s / notes
        finally:
            app.close()


def main() -> None:
    args = parse_mode(__doc__ or "")
    notes = NOTES[args.mode]
    repeats = args.repeats or REPEATS[args.mode]
    runs = []
    for run in range(repeats):
        log(f"run {run + 1}/{repeats}: {notes} notes of {NOTE_CHARS} characters")
        runs.append(asyncio.run(one_run(notes)))
    delta_b = [r[0] for r in runs]
    base_b = [r[1] for r in runs]
    delta_t = [r[2] * 1e6 for r in runs]
    base_t = [r[3] * 1e6 for r in runs]
    banner(f"live note messages, {notes} notes of {NOTE_CHARS} characters, {repeats} runs")
    print(
        f"bytes per note message: delta {median(delta_b):,.0f} {spread(delta_b)}  "
        f"baseline all-notes {median(base_b):,.0f} {spread(base_b)}  "
        f"ratio {ratio(median(delta_b), median(base_b)):.4f}"
    )
    print(
        f"feed time per note: delta {median(delta_t):,.0f} us {spread(delta_t)}  "
        f"baseline all-notes encode {median(base_t):,.0f} us {spread(base_t)}  "
        f"ratio {ratio(median(delta_t), median(base_t)):.3f}"
    )


if __name__ == "__main__":
    main()
