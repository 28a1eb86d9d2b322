"""M3: live messages carry deltas (a note message carries the new note only) and the resume
buffer is bounded in bytes as well as in count, so 600 notes of 4,000 characters leave the
server's memory within a stated bound."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

from najda.api.live.feed import LiveFeed
from najda.api.live.subscribers import Interest
from najda.api.services import open_services
from najda.api.settings import Settings
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority
from tests.integration.test_live_feed import World

NOTES = 600
NOTE_CHARS = 4_000
#: The bound on the server's growth: the notes' own text is 2.4 MB; the feed keeps it for
#: snapshots and the resume buffer once more, the console's messages (kept by this test) a
#: third time, SQLite's cache some; the review measured 712 MB before the fix.
GROWTH_BOUND_MB = 48.0


def _rss_mb() -> float:
    """This process's resident memory, from /proc (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _six_hundred_notes(data: Path) -> tuple[float, list[dict[str, Any]]]:
    """A server's services on the embedded store with a console subscribed: 600 notes of
    4,000 characters on one incident. Returns the memory growth (MB) and the messages."""
    settings = Settings(data_dir=data, seed_demo=False)
    messages: list[dict[str, Any]] = []
    async with open_services(settings, default_response_plan()) as services:
        console, _ = services.feed.subscribe(Interest(), None, 100_000)
        dispatch = services.dispatch
        incident = await services.command(
            lambda: dispatch.report_incident(
                location=Position(36.75, 3.06),
                address="1 Test Street",
                nature="fall",
                priority=Priority.C,
                actor="d.one",
            )
        )

        async def note(i: int, fill: str) -> None:
            text = f"{i:04d}" + fill * (NOTE_CHARS - 4)
            await services.command(lambda: dispatch.add_note(incident, text, "d.one"))
            messages.extend(json.loads(t) for t in await console.next())

        for i in range(20):  # warm up: the first notes pay for code paths and caches
            await note(i, "w")
        gc.collect()
        before_mb = _rss_mb()
        for i in range(NOTES):
            await note(i, "n")
        gc.collect()
        return _rss_mb() - before_mb, messages


def test_600_notes_of_4000_characters_keep_memory_and_messages_bounded(tmp_path: Path) -> None:
    growth_mb, messages = asyncio.run(_six_hundred_notes(tmp_path / "data"))
    notes = [m for m in messages if m.get("event") == "Incident.NoteAdded"]
    print(f"memory grew {growth_mb:.1f} MB over {NOTES} notes of {NOTE_CHARS} characters")
    assert len(notes) == NOTES + 20
    assert all("notes" not in m["incident"] for m in notes)  # the new note, not all of them
    assert notes[-1]["note"]["text"].startswith(f"{NOTES - 1:04d}")
    assert notes[-1]["incident"]["note_count"] == NOTES + 20
    assert max(len(json.dumps(m)) for m in notes) < NOTE_CHARS + 3_000
    assert growth_mb < GROWTH_BOUND_MB


def test_the_resume_buffer_is_bounded_in_bytes(tmp_path: Path) -> None:
    world = World(tmp_path / "events.sqlite", buffer_size=100_000)  # the count bound is far
    limit = 1024 * 1024
    world.feed = LiveFeed(
        world.locator, default_response_plan(), world.reference, buffer_bytes=limit
    )
    incident = world.incident()
    world.sync()
    first = world.feed.subscribe(Interest(), 0, 10_000)[1]
    assert first is not None  # everything is still in the buffer
    for i in range(NOTES):
        world.app.add_note(incident, f"{i:04d}" + "n" * (NOTE_CHARS - 4), "d.one")
    world.sync()
    _, from_start = world.feed.subscribe(Interest(), 1, 10_000)
    head = world.source.head()
    _, recent = world.feed.subscribe(Interest(), head - 10, 10_000)
    _, oldest_kept = world.feed.subscribe(Interest(), head - 230, 10_000)
    assert from_start is None  # fell out of the buffer: the client gets a snapshot
    assert recent is not None and len(recent) == 10
    kept = oldest_kept if oldest_kept is not None else []
    assert oldest_kept is None or sum(len(t) for t in kept) <= limit
    assert oldest_kept is None  # 230 notes of 4 KB are more than 1 MiB
