"""Report-to-console latency: POST an incident, time until 200 consoles have it with its
recommendation, at 20 incidents/s, on PostgreSQL and on the embedded store.

    python -m bench.live_latency [--quick | --full] [--repeats N]

Baseline, in the same run: a plain `websockets` server broadcasting the same message texts
to the same number of clients, at the same rate; its latency runs from the publisher's
send to each client's receipt. Ours runs from the POST being sent to each console's
receipt, so it includes the command, the store, the read models and the recommendation.
Figures: median over runs of each run's p50 and p99 over every (incident, console) pair.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import websockets

from bench._pg import scratch_database
from bench._stats import Latency, banner, log, parse_mode, ratio
from bench.server import NajdaServer, clean_env, free_port

RATE_PER_S = 20.0
CONSOLES = 200
MARK = "bench-call-"

BASELINE_SERVER = """
import asyncio, sys
import websockets
from websockets.asyncio.server import broadcast, serve

clients = set()

async def handler(ws):
    if ws.request.path == "/publish":
        async for text in ws:
            broadcast(clients, text)
        return
    clients.add(ws)
    try:
        await ws.wait_closed()
    finally:
        clients.discard(ws)

async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), max_size=None, compression=None):
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


class Consoles:
    """N websocket clients; each notes when it receives each marked incident."""

    def __init__(self) -> None:
        self.received: dict[int, list[float]] = {}
        self.with_recommendation = 0
        self.sockets: list[websockets.ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.ready = 0

    async def open(self, url: str, headers: dict[str, str], count: int) -> None:
        for _ in range(count):
            ws = await websockets.connect(
                url, additional_headers=headers, max_size=None, compression=None
            )
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: websockets.ClientConnection) -> None:
        clock = time.perf_counter
        async for text in ws:
            assert isinstance(text, str)
            at = clock()
            if text.startswith('{"type":"snapshot"'):
                self.ready += 1
                continue
            if '"event":"Incident.Reported"' not in text:
                continue
            start = text.find(MARK)
            if start < 0:
                continue
            end = text.find('"', start)
            number = int(text[start + len(MARK) : end])
            self.received.setdefault(number, []).append(at)
            if '"recommendation":[{' in text:
                self.with_recommendation += 1

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _until(check: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not (callable(check) and check()):
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


async def measure_najda(
    server: NajdaServer, token: str, incidents: int
) -> tuple[list[float], list[str]]:
    """One run: latencies (s) of every (incident, console) pair, and the message texts."""
    consoles = Consoles()
    ws_url = server.ws_url("/ws/console")
    headers = {"Authorization": f"Bearer {token}"}
    await consoles.open(ws_url, headers, CONSOLES)
    await _until(lambda: consoles.ready >= CONSOLES, 60)
    texts: list[str] = []
    capture = await websockets.connect(
        ws_url, additional_headers=headers, max_size=None, compression=None
    )
    sent: dict[int, float] = {}
    base = int(time.time() * 1000) % 10_000_000 * 1000
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:

        async def post(number: int) -> None:
            body = {
                "lat": 36.75 + (number % 50) * 0.001,
                "lon": 3.06,
                "nature": f"{MARK}{number}",
                "priority": "D",
                "address": "bench",
            }
            sent[number] = time.perf_counter()
            answer = await client.post("/incidents", json=body)
            answer.raise_for_status()

        start = time.perf_counter()
        posts = []
        for i in range(incidents):
            delay = start + i / RATE_PER_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(base + i)))
        await asyncio.gather(*posts)
    await _until(lambda: all(len(consoles.received.get(n, [])) >= CONSOLES for n in sent), 60)
    while len(texts) < incidents:
        text = await asyncio.wait_for(capture.recv(), 10)
        if isinstance(text, str) and MARK in text and '"event":"Incident.Reported"' in text:
            texts.append(text)
    await capture.close()
    await consoles.close()
    if consoles.with_recommendation != incidents * CONSOLES:
        raise AssertionError("some consoles received an incident without its recommendation")
    latencies = [at - sent[n] for n, ats in consoles.received.items() for at in ats]
    return latencies, texts


async def measure_baseline(port: int, texts: Sequence[str]) -> list[float]:
    """The same texts broadcast by a plain websockets server to the same number of clients."""
    consoles = Consoles()
    await consoles.open(f"ws://127.0.0.1:{port}/listen", {}, CONSOLES)
    await asyncio.sleep(0.2)  # let the server register the last client (no ready message)
    publisher = await websockets.connect(
        f"ws://127.0.0.1:{port}/publish", max_size=None, compression=None
    )
    sent: dict[int, float] = {}
    start = time.perf_counter()
    for i, text in enumerate(texts):
        delay = start + i / RATE_PER_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        number = int(text[text.find(MARK) + len(MARK) : text.find('"', text.find(MARK))])
        sent[number] = time.perf_counter()
        await publisher.send(text)
    await _until(lambda: all(len(consoles.received.get(n, [])) >= CONSOLES for n in sent), 60)
    await publisher.close()
    await consoles.close()
    return [at - sent[n] for n, ats in consoles.received.items() for at in ats]


def start_baseline(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The plain broadcast server, in its own process like ours."""
    port = free_port()
    script = workdir / "baseline_server.py"
    script.write_text(BASELINE_SERVER)
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)], stdout=subprocess.PIPE, cwd=workdir
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":
        raise RuntimeError("baseline server did not start")
    return process, port


def run(store: str, repeats: int, incidents: int, workdir: Path) -> tuple[Latency, Latency]:
    """Median latencies for our server on `store` and for the baseline, run after run."""
    ours: list[list[float]] = []
    base: list[list[float]] = []
    with scratch_database("najda_bench_live", postgis=True) as pg_url:
        args = ["--database-url", pg_url, "--demo"] if store == "postgresql" else []
        server = NajdaServer(workdir / store, args, clean_env()).start()
        baseline, port = start_baseline(workdir)
        try:
            token = server.add_user("bench-dispatcher", "dispatcher")
            asyncio.run(measure_najda(server, token, 20))  # warm-up (caches, plans), not counted
            for i in range(repeats):
                latencies, texts = asyncio.run(measure_najda(server, token, incidents))
                ours.append(latencies)
                base.append(asyncio.run(measure_baseline(port, texts)))
                log(
                    f"  {store} run {i + 1}: ours {Latency.of_runs([latencies]).text()}"
                    f" baseline {Latency.of_runs([base[-1]]).text()}"
                )
        finally:
            baseline.terminate()
            baseline.wait()
            server.stop()
    return Latency.of_runs(ours), Latency.of_runs(base)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_mode(__doc__ or "", argv)
    repeats = args.repeats or {"quick": 1, "default": 3, "full": 5}[args.mode]
    incidents = {"quick": 40, "default": 100, "full": 200}[args.mode]
    results: dict[str, tuple[Latency, Latency]] = {}
    with tempfile.TemporaryDirectory(prefix="najda-bench-") as tmp:
        for store in ("postgresql", "sqlite"):
            log(
                f"{store}: {repeats} runs of {incidents} incidents"
                f" at {RATE_PER_S:g}/s to {CONSOLES} consoles"
            )
            results[store] = run(store, repeats, incidents, Path(tmp))
    banner(f"report-to-console latency, {CONSOLES} consoles, {RATE_PER_S:g} incidents/s")
    for store, (ours, base) in results.items():
        print(
            f"{store:10s} ours {ours.text()}  baseline (plain websockets broadcast) {base.text()}"
            f"  ratio p50 {ratio(ours.p50_ms, base.p50_ms):.2f}x"
            f" p99 {ratio(ours.p99_ms, base.p99_ms):.2f}x"
            f"  goal p99 < 50 ms: {'met' if ours.p99_ms < 50 else 'missed'}"
        )
    print(f"runs per figure: {repeats}; samples per run: {incidents * CONSOLES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
