"""Embedded restart benchmark: time from `najda serve` to /health/ready on a large store.

    python -m bench.restart [--events N] [--repeats N] [--fresh]

A SQLite store with about a million valid, witnessed events (units, incidents worked from
call to close, recorded positions) is made once and kept under /tmp (`--fresh` remakes
it); a first server seals it. Each run copies it, then:

1. baseline: its saved read models are deleted, so the server replays the whole log (what
   every start did before the read models were saved), and the time to ready is taken;
   that server stops cleanly (saving its read models);
2. restart: a server starts again on the same copy and reads only what is new; 1,000
   events are written while it is down, so the restart has something new to apply.

Goal: restart under 5 s to ready. Medians of the runs; ratio restart/baseline.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._history import write_history
from bench._stats import banner, log, median, ratio, spread
from bench.server import free_port, najda_command
from najda.api.audit_trust import witnessed
from najda.api.settings import Settings
from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.store.environment import sqlite_env
from najda.projections.store.saved_read_models import ModelStore

SEED = 11
CACHE = Path(tempfile.gettempdir()) / "najda-bench-restart"
READY_TIMEOUT_S = 1_800.0
ADMIN_TOKEN = "najda_bench_" + secrets.token_urlsafe(32)


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="history size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="remake the cached store")
    return parser.parse_args(argv)


def _settings(root: Path) -> Settings:
    return Settings(data_dir=root / "data", audit_key=root / "audit.key", seed_demo=False)


def _write(root: Path, events: int, *, seed: int, call_signs: str = "U") -> int:
    """Append about `events` witnessed events to the store under `root`; how many."""
    settings = _settings(root)
    app = Dispatch(sqlite_env(settings.sqlite_path), distance=great_circle_m)
    try:
        witnessed(app, settings)
        return write_history(app, events, seed=seed, units=300, call_signs=call_signs).events
    finally:
        app.close()


class Server:
    """One `najda serve` process on the store under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def time_to_ready(self) -> float:
        """Start the process; seconds until /health/ready answers 200."""
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NAJDA_")}
        env |= {"NAJDA_ADMIN_TOKEN": ADMIN_TOKEN, "NAJDA_AUDIT_KEY": str(self.root / "audit.key")}
        command = [
            *najda_command(),
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.root / "data"),
            "--no-demo",
            "--log-level",
            "warning",
        ]
        start = time.perf_counter()
        with (self.root / "server.log").open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
        url = f"http://127.0.0.1:{self.port}/health/ready"
        while time.perf_counter() - start < READY_TIMEOUT_S:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited: see {self.root / 'server.log'}")
            try:
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling a process from outside, not synchronising a test
        raise SystemExit(f"not ready within {READY_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """Interrupt it (it saves its read models) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            if self.process.wait(timeout=600) != 0:
                raise SystemExit(f"server stopped badly: see {self.root / 'server.log'}")


def _cached(events: int, fresh: bool) -> tuple[Path, int]:
    """The cached store (made, then sealed by a first server, when absent); its size."""
    root = CACHE / f"{events}"
    done = root / "events.txt"
    if fresh:
        shutil.rmtree(root, ignore_errors=True)
    if done.exists():
        return root, int(done.read_text())
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    log(f"writing about {events:,} events into {root} (once) ...")
    start = time.perf_counter()
    written = _write(root, events, seed=SEED)
    log(f"wrote {written:,} events in {time.perf_counter() - start:.0f} s; sealing ...")
    server = Server(root)
    try:
        log(f"first start (replay and seal) ready in {server.time_to_ready():.1f} s")
    finally:
        server.stop()
    done.write_text(str(written))
    return root, written


def main(argv: Sequence[str] | None = None) -> None:
    args = _args(argv)
    cache, events = _cached(args.events, args.fresh)
    baselines, restarts = [], []
    for r in range(args.repeats):
        work = Path(tempfile.mkdtemp(prefix="najda-restart-"))
        try:
            shutil.copytree(cache, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log"))
            settings = _settings(work)
            ModelStore(settings.sqlite_path).clear()
            server = Server(work)
            try:
                baselines.append(server.time_to_ready())
            finally:
                server.stop()
            _write(work, 1_000, seed=SEED + 1 + r, call_signs=f"R{r}")  # while it is down
            server = Server(work)
            try:
                restarts.append(server.time_to_ready())
            finally:
                server.stop()
            log(f"run {r + 1}: full replay {baselines[-1]:.2f} s, restart {restarts[-1]:.2f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    baseline, restart = median(baselines), median(restarts)
    banner(f"embedded restart ({events:,} events, {args.repeats} runs, medians)")
    print(f"restart to /health/ready (saved read models): {restart:8.2f} s  {spread(restarts)}")
    print(f"baseline full replay to /health/ready:        {baseline:8.2f} s  {spread(baselines)}")
    print(f"ratio restart/replay: {ratio(restart, baseline):.3f}x  (goal: restart < 5 s)")


if __name__ == "__main__":
    main()
