"""What recording patient reads costs: reads/s recorded durably by the server's group-commit
recorder with 50 concurrent readers, against one INSERT transaction per read (the baseline),
on both stores, measured in the same run.

    python -m bench.read_log [--quick | --full] [--repeats N]

Goal: the recorder records >= 5x the baseline's reads/s (each request still waits for its
own record to be committed).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from bench._stats import banner, log, median, parse_mode, ratio, spread
from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.audit.patient_reads import PatientRead, ReadLog, ReadRecorder
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.projections.store.event_rows import EventLog

READERS = 50
SIZES = {"quick": (500, 3), "default": (2000, 5), "full": (5000, 7)}


@dataclass
class Row:
    """One store's per-run rates."""

    label: str
    grouped: list[float]
    single: list[float]


def _read(i: int) -> PatientRead:
    return PatientRead(datetime.now(UTC), f"nurse{i % 7}", "nurse", "GET /patients/{p}", uuid4())


def grouped_rate(read_log: ReadLog, n: int) -> float:
    """Reads/s through the recorder, READERS concurrent readers each waiting for its commit."""

    async def run() -> float:
        recorder = ReadRecorder(read_log)
        await recorder.start()
        per_reader = n // READERS

        async def reader(r: int) -> None:
            for i in range(per_reader):
                await recorder.record([_read(r * per_reader + i)])

        start = time.perf_counter()
        await asyncio.gather(*(reader(r) for r in range(READERS)))
        elapsed = time.perf_counter() - start
        await recorder.close()
        return per_reader * READERS / elapsed

    return asyncio.run(run())


def single_rate(read_log: ReadLog, n: int) -> float:
    """Reads/s with one INSERT transaction per read."""
    start = time.perf_counter()
    for i in range(n):
        read_log.append([_read(i)])
    return n / (time.perf_counter() - start)


@contextmanager
def store(kind: str) -> Iterator[ReadLog]:
    """A read log on a fresh store of the kind."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="najda_bench_") as tmp:
            app = Dispatch(sqlite_env(Path(tmp) / "events.sqlite"), distance=great_circle_m)
            try:
                yield ReadLog(EventLog(app))
            finally:
                app.close()
        return
    with scratch_database("najda_bench_reads") as url:
        app = Dispatch(postgres_env(url), distance=great_circle_m)
        try:
            yield ReadLog(EventLog(app))
        finally:
            app.close()


def bench(kind: str, n: int, repeats: int) -> Row:
    row = Row(kind, [], [])
    with store(kind) as read_log:
        read_log.ensure_table()
        for run in range(repeats):
            if run % 2 == 0:
                row.grouped.append(grouped_rate(read_log, n))
                row.single.append(single_rate(read_log, n // 4))
            else:
                row.single.append(single_rate(read_log, n // 4))
                row.grouped.append(grouped_rate(read_log, n))
            log(f"  run {run} {kind}: {row.grouped[-1]:.0f} vs {row.single[-1]:.0f} reads/s")
    return row


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_mode(__doc__ or "", argv)
    n, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    rows = [bench("sqlite", n, repeats), bench("postgres", n, repeats)]
    banner(f"read_log [{args.mode}]: {n} reads per run, {repeats} runs; medians [min..max]")
    print(
        f"figure: patient reads/s recorded by the group-commit recorder, {READERS} concurrent"
        " readers each awaiting its commit | baseline: one INSERT transaction per read"
    )
    for row in rows:
        fig, base = median(row.grouped), median(row.single)
        r = ratio(fig, base)
        print(
            f"read_log/{row.label:<9} {fig:7.0f} reads/s {spread(row.grouped)} | baseline"
            f" 1-read txns {base:7.0f} reads/s {spread(row.single)} | ratio {r:.1f}x"
            f" (goal >=5x: {'MET' if r >= 5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
