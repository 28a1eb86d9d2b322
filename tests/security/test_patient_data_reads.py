"""Every read of patient data is recorded (who, what, when) and an administrator lists the
reads of a patient, over HTTP and from the command line, on both stores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from websockets.sync.client import connect

from najda.api.cli import main
from najda.domain.application import Dispatch
from najda.domain.values import Position
from najda.projections.audit.patient_reads import PatientRead, ReadLog, ReadRecorder, patient_reads
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.projections.store.event_rows import EventLog
from tests.e2e.harness import CENTRE, NajdaServer, bearer, build_world, offset, ok
from tests.fakes import new_dispatch
from tests.integration.support import run

FHIR = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "observation-spo2.json"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class CountingReadLog(ReadLog):
    """The real read log, counting the transactions it writes."""

    transactions = 0

    def append(self, reads: Sequence[PatientRead]) -> None:
        super().append(reads)
        self.transactions += 1


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Dispatch, list[str]]]:
    if request.param == "sqlite":
        app = new_dispatch(sqlite_env(tmp_path / "najda.sqlite"))
        options = ["--data-dir", str(tmp_path)]
    else:
        url: str = request.getfixturevalue("pg_url")
        app = new_dispatch(postgres_env(url))
        options = ["--database-url", url, "--data-dir", str(tmp_path)]
    yield app, options
    app.close()


def test_reads_are_committed_in_shared_transactions_and_listed_by_patient(
    store: tuple[Dispatch, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    app, options = store
    patient = app.enrol_patient(
        identifier="mrn-reads-1",
        name="Read Me",
        home=Position(*CENTRE),
        address="1 Test Street",
        actor="nurse.amal",
    )
    other = app.enrol_patient(
        identifier="mrn-reads-2", name="Not Me", home=Position(*CENTRE), address="2", actor="n"
    )
    read_log = CountingReadLog(EventLog(app))
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    async def readers() -> None:
        recorder = ReadRecorder(read_log)
        await recorder.start()
        try:
            await asyncio.gather(
                *(
                    recorder.record(
                        [PatientRead(at + timedelta(seconds=i), f"u{i}", "nurse", "GET x", p)]
                    )
                    for i in range(40)
                    for p in ([patient] if i % 2 == 0 else [other])
                )
            )
        finally:
            await recorder.close()

    run(readers())

    mine = patient_reads(app, read_log, patient, 1000)
    assert [r.user for r in mine] == [f"u{i}" for i in range(0, 40, 2)]
    assert mine[0] == PatientRead(at, "u0", "nurse", "GET x", patient, None)
    assert read_log.transactions < 40  # concurrent reads share a commit
    assert [r.user for r in patient_reads(app, read_log, patient, 3)] == ["u34", "u36", "u38"]

    assert main(["audit", "reads", "mrn-reads-1", "--json", *options]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 20 and listed[0]["user"] == "u0" and listed[0]["role"] == "nurse"
    assert main(["audit", "reads", "mrn-nobody", *options]) == 2


def _observation(mrn: str) -> Any:
    doc = json.loads(FHIR.read_text())
    doc["subject"]["reference"] = f"Patient/{mrn}"
    doc["effectiveDateTime"] = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    doc["valueQuantity"]["value"] = 74
    return doc


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NajdaServer]:
    args = ["--no-demo"]
    if request.param == "postgres":
        args += ["--database-url", request.getfixturevalue("pg_url")]
    started = NajdaServer(tmp_path / "server", args).start()
    try:
        yield started
    finally:
        started.stop()


def test_an_admin_lists_who_read_a_patient_and_their_incident(server: NajdaServer) -> None:
    mrn = f"mrn-{uuid4().hex[:8]}"
    tokens = {
        role: server.add_user(f"{role}.x", role)
        for role in ("nurse", "dispatcher", "auditor", "device")
    }
    with server.client() as admin:
        build_world(admin)
        lat, lon = offset(*CENTRE, north_m=500.0)
        body = {"identifier": mrn, "name": "Read Me", "lat": lat, "lon": lon, "address": "A 1",
                "devices": ["device.x"]}  # fmt: skip  # the device token posts for it (M6)
        patient = ok(admin.post("/patients", json=body), 201)["id"]
        with server.client(tokens["device"]) as device:
            headers = {"Content-Type": "application/fhir+json"}
            summary = ok(device.post("/fhir/Observation", json=_observation(mrn), headers=headers))
        incident = summary["patients"][0]["incident_id"]
        consult = {"specialty": "critical_care", "reason": "desaturating at home"}
        ok(admin.post(f"/incidents/{incident}/consults", json=consult), 201)
        assert ok(admin.get(f"/patients/{mrn}/reads"))["reads"] == []  # enrolling is no read

        clients: dict[str, httpx.Client] = {r: server.client(t) for r, t in tokens.items()}
        try:
            ok(clients["nurse"].get(f"/patients/{mrn}/readings"))
            ok(clients["nurse"].get("/monitoring/board"))
            ok(clients["dispatcher"].get(f"/incidents/{incident}"))
            ok(clients["dispatcher"].get(f"/incidents/{incident}/timeline"))
            ok(clients["dispatcher"].get("/consults"))
            ok(clients["auditor"].get(f"/incidents/{incident}"))  # redacted: no patient data
            feed = server.ws_url("/ws/monitoring")
            with connect(feed, additional_headers=bearer(tokens["nurse"])) as socket:
                assert json.loads(socket.recv(timeout=10))["type"] == "hello"
            refused = clients["auditor"].get(f"/patients/{mrn}/reads")
        finally:
            for client in clients.values():
                client.close()
        listed = ok(admin.get(f"/patients/{patient}/reads"))

    assert refused.status_code == 403
    assert listed["patient_id"] == patient
    seen = [(r["user"], r["role"], r["action"], r["incident_id"]) for r in listed["reads"]]
    assert seen == [
        ("nurse.x", "nurse", "GET /patients/{patient}/readings", None),
        ("nurse.x", "nurse", "GET /monitoring/board", None),
        ("dispatcher.x", "dispatcher", "GET /incidents/{incident_id}", incident),
        ("dispatcher.x", "dispatcher", "GET /incidents/{incident_id}/timeline", incident),
        ("dispatcher.x", "dispatcher", "GET /consults", incident),
        ("nurse.x", "nurse", "WS /ws/monitoring", None),
    ]
    times = [datetime.fromisoformat(r["at"]) for r in listed["reads"]]
    assert times == sorted(times) and datetime.now(UTC) - times[0] < timedelta(minutes=5)
