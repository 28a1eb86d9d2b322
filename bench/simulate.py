"""Simulated days per wall-clock minute on JEMSS Manhattan through the real Dispatch application.

    python -m bench.simulate [--quick | --full] [--repeats N] [--policy P ...] [--backend B]

Figure, per policy: a run of the simulator (calls generated from the scenario's
distributions, the real Dispatch commands on an event store, in-memory by default, the
locator fed from the notification log, road travel over the 16,811-node network), in
simulated days per wall-clock minute (and per CPU minute of the process, less sensitive to
a shared machine). Baseline, in the same run: the same number of events written as
single-row SQLite transactions (raw sqlite3, WAL, the same scratch file system), expressed
as the days per minute the run would reach if storing its events in SQLite were all it did.
The ratio says how the whole simulation compares with that floor. Goal: >= 60 simulated
days per minute per policy.

Every measured run starts alike: the road network keeps the trees pinned at stations and
hospitals (made by the warm-up) and forgets what earlier runs remembered for their own
points (snaps, partial and full trees). The policies run the same seeds, hence the same
calls: without this the policy measured first paid for snapping and searching from those
calls and the later ones reused it (closest-straight, measured first, looked 15-25 %
slower than closest-road; measured second, it was the faster of the two).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stats import banner, log, median, ratio, spread
from najda.simulations.jemss import load_jemss
from najda.simulations.run import BACKENDS, SCRATCH, run_policy

SCENARIO = Path(__file__).resolve().parents[2] / "shared" / "scenarios" / "jemss-manhattan"
SIZES = {"quick": (0.25, 1), "default": (1.0, 3), "full": (7.0, 3)}
TABLE = """CREATE TABLE raw_events (originator_id TEXT NOT NULL, originator_version INTEGER
NOT NULL, topic TEXT, state BLOB, notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
UNIQUE (originator_id, originator_version))"""
POLICIES = ("closest-straight", "closest-road", "coverage")
GOAL = 60.0
PAYLOAD = b'{"status":"en_route","reason":"","actor":"simulator","at":"2026-01-05T00:00"}' * 3


def raw_inserts_s(count: int) -> float:
    """Seconds to write `count` single-row transactions with raw sqlite3 (WAL)."""
    root = SCRATCH if SCRATCH.is_dir() else None
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        conn = sqlite3.connect(os.path.join(scratch, "raw.sqlite"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(TABLE)
        ident = str(uuid.uuid4())
        start = time.perf_counter()
        for i in range(count):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                         " VALUES (?, ?, ?, ?)", (ident, i, "najda:Unit.StatusChanged", PAYLOAD))
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true")
    group.add_argument("--full", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--policy", action="append", help="repeat for several (default: three)")
    parser.add_argument("--backend", choices=BACKENDS, default="memory")
    args = parser.parse_args()
    days, repeats = SIZES["quick" if args.quick else "full" if args.full else "default"]
    repeats = args.repeats or repeats
    if not SCENARIO.is_dir():
        print(f"skipped: {SCENARIO} is absent")
        return 0
    scenario = load_jemss(SCENARIO)
    run_policy(scenario, "closest-road", days=0.02, seed=99, backend=args.backend)  # warm-up
    results: list[tuple[str, float, float, float, list[float], list[float]]] = []
    for policy in args.policy or POLICIES:
        figures: list[float] = []
        cpu: list[float] = []
        baselines: list[float] = []
        for run in range(repeats):
            if scenario.network is not None:
                scenario.network.forget()
            start, start_cpu = time.perf_counter(), time.process_time()
            result = run_policy(scenario, policy, days=days, seed=run + 1, backend=args.backend)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            events = int(result.extra["stored_events"])
            floor = raw_inserts_s(events)
            figures.append(days / (elapsed / 60))
            cpu.append(days / (elapsed_cpu / 60))
            baselines.append(days / (floor / 60))
            log(f"{policy} run {run + 1}: {len(result.calls)} calls, {events} events, "
                f"{elapsed:.1f}s ({elapsed_cpu:.1f}s CPU) -> {figures[-1]:.1f} days/min "
                f"(raw inserts alone {floor:.2f}s)")
        results.append((policy, median(figures), median(cpu), median(baselines), figures,
                        baselines))
    banner(f"simulate jemss-manhattan, {args.backend} store, {days:g} days x {repeats} runs")
    for policy, f, c, b, figures, baselines in results:
        print(f"{policy}: simulated days per wall-clock minute: {f:.1f} {spread(figures)}; "
              f"per CPU minute: {c:.1f}")
        print(f"{policy}: baseline (raw SQLite inserts of the same events): {b:.1f} days/min "
              f"{spread(baselines)}")
        print(f"{policy}: ratio: {ratio(f, b):.3f}   goal >= {GOAL:g} days/min: "
              f"{'met' if f >= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
