"""FHIR intake: answer time of a gateway's Bundle of 100 vital-signs Observations, with the
structural pass (fhir.resources R4B) on, beside the same Bundle with Najda's checks alone.

    python -m bench.fhir_bundle [--quick | --full] [--repeats N]

Two real `najda serve` processes on embedded stores, started in the same run: one as
shipped, one with NAJDA_FHIR_STRUCTURE=0 (the baseline: Najda's own checks, UCUM and
plausibility, and the recording). Each has 20 patients enrolled to one device; each request
is a `transaction` Bundle of 100 Observations (5 vitals, the blood-pressure panel counting
as one, for each of the 20 patients) with fresh times and normal values, so every request
records 120 readings in one save and raises nothing. Requests alternate between the two
servers so both see the same machine noise. Time: from sending the POST to the full answer.
Figures: medians over runs of each run's p50 and p99. Goal: p99 under 250 ms with the pass.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._stats import Latency, banner, log, parse_mode, ratio
from bench.fhir_samples import quantity, vital_sign
from bench.server import CENTRE, NajdaServer, clean_env, ok

PATIENTS = 20
GOAL_P99_MS = 250.0
#: Requests per run (after WARM_UP unmeasured ones) and runs, by mode.
SIZES = {"quick": (20, 1), "default": (60, 3), "full": (150, 5)}
WARM_UP = 5
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _observation(patient: str, code: str, at: str, **value: Any) -> dict[str, Any]:
    return vital_sign(patient, code, at, device="gateway bench-gw", **value)


def bundle(at: datetime) -> dict[str, Any]:
    """100 normal Observations of the 20 patients, measured at `at`."""
    stamp = at.isoformat(timespec="milliseconds")
    entries = []
    for i in range(PATIENTS):
        p = f"bench-{i:03d}"
        bp = [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "valueQuantity": quantity(value, "mm[Hg]"),
            }
            for code, value in (("8480-6", 122), ("8462-4", 78))
        ]
        entries += [
            _observation(p, "8867-4", stamp, valueQuantity=quantity(72 + i % 5, "/min")),
            _observation(p, "59408-5", stamp, valueQuantity=quantity(96, "%")),
            _observation(p, "9279-1", stamp, valueQuantity=quantity(16, "{breaths}/min")),
            _observation(p, "15074-8", stamp, valueQuantity=quantity(5.8, "mmol/l")),
            _observation(p, "85354-9", stamp, component=bp),
        ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in entries
        ],
    }


def _prepare(server: NajdaServer) -> httpx.Client:
    """Enrol the patients to a device user; a client holding the device's token."""
    device = server.add_user("bench-gw", "device")
    with server.client() as admin:
        for i in range(PATIENTS):
            body = {"identifier": f"bench-{i:03d}", "name": f"Bench {i}", "address": "A"}
            body.update(lat=CENTRE[0], lon=CENTRE[1], devices=["bench-gw"])
            ok(admin.post("/patients", json=body), 201)
    return server.client(device)


def _post(client: httpx.Client, at: datetime) -> float:
    """Seconds from sending the Bundle to its full answer (which must record everything)."""
    document = bundle(at)
    start = time.perf_counter()
    response = client.post("/fhir", json=document, headers=FHIR_JSON)
    elapsed = time.perf_counter() - start
    summary = ok(response)
    if summary["recorded"] != 6 * PATIENTS:
        raise RuntimeError(f"expected {6 * PATIENTS} readings recorded, got {summary}")
    return elapsed


def run(requests: int, repeats: int) -> tuple[Latency, Latency]:
    """(with the structural pass, Najda's checks alone)."""
    with tempfile.TemporaryDirectory(prefix="najda-bench-fhir-") as tmp:
        servers = {
            "structural": NajdaServer(Path(tmp) / "on", ["--no-demo"], clean_env()),
            "najda-only": NajdaServer(
                Path(tmp) / "off", ["--no-demo"], clean_env(NAJDA_FHIR_STRUCTURE="0")
            ),
        }
        try:
            clients = {name: _prepare(s.start()) for name, s in servers.items()}
            samples: dict[str, list[list[float]]] = {name: [] for name in servers}
            at = datetime.now(UTC) - timedelta(hours=1)
            for repeat in range(repeats):
                runs: dict[str, list[float]] = {name: [] for name in servers}
                for i in range(WARM_UP + requests):
                    at += timedelta(seconds=1)  # fresh times: every reading is new
                    for name, client in clients.items():
                        elapsed = _post(client, at)
                        if i >= WARM_UP or repeat > 0:
                            runs[name].append(elapsed)
                for name in servers:
                    samples[name].append(runs[name])
                log(f"run {repeat + 1}/{repeats}: " + ", ".join(
                    f"{n} p50 {statistics.median(r) * 1000:.1f} ms" for n, r in runs.items()
                ))  # fmt: skip
            for client in clients.values():
                client.close()
        finally:
            for server in servers.values():
                server.stop()
    return Latency.of_runs(samples["structural"]), Latency.of_runs(samples["najda-only"])


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_mode(__doc__ or "", argv)
    requests, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    structural, alone = run(requests, repeats)
    banner(
        f"fhir_bundle [{args.mode}]: transaction Bundle of 100 Observations (120 readings, "
        f"{PATIENTS} patients, one gateway), {requests} requests x {repeats} runs per server, "
        "embedded store; medians over runs"
    )
    print(
        "figure: POST /fhir answer time with the structural pass (fhir.resources R4B) | "
        "baseline: the same Bundle, Najda's checks alone (NAJDA_FHIR_STRUCTURE=0), same run"
    )
    verdict = "MET" if structural.p99_ms < GOAL_P99_MS else "MISSED"
    print(
        f"fhir_bundle/100obs {structural.text()} | baseline {alone.text()} | "
        f"ratio p50 {ratio(structural.p50_ms, alone.p50_ms):.2f}x "
        f"p99 {ratio(structural.p99_ms, alone.p99_ms):.2f}x "
        f"(goal p99 < {GOAL_P99_MS:.0f} ms: {verdict})"
    )


if __name__ == "__main__":
    main()
