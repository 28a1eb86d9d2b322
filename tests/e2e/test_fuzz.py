"""Schemathesis against a running server: well over a thousand generated requests, no 5xx."""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.area_fixture import liechtenstein
from tests.e2e.harness import CENTRE, NajdaServer, bearer, build_world, offset, ok, report

#: Thousands of requests over some fifty operations: more than the default two minutes on a
#: loaded two-core machine.
pytestmark = pytest.mark.timeout(600)

#: Generated requests per operation and generation mode (Hypothesis may stop earlier when an
#: operation has few distinct inputs, e.g. none at all).
EXAMPLES = 30
CREW_EXAMPLES = 15
MIN_REQUESTS = 1_000
CREW_UNIT = "A-NEAR"
#: Unit routes a crew may not use even on its own unit (a move-up is the dispatcher's call).
DISPATCHER_ONLY_UNIT_PATHS = frozenset({"/units/{unit}/relocate"})

#: Checks run on every response: no 5xx; status code, content type and body as documented;
#: schema-invalid data refused. (Not "schema-valid data accepted": the schema cannot say that
#: text must be free of control characters, nor that a unit needs a station or a home.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

#: Control characters, which the API refuses in any text (api/schemas.py).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class Tally:
    """Every generated request's status, and every check that failed."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many requests were sent."""
        return sum(self.statuses.values())

    def count(self, predicate: Callable[[int], bool], run: str | None = None) -> int:
        """Requests whose status satisfies `predicate` (in one run, or all)."""
        return sum(
            n
            for (name, status), n in self.statuses.items()
            if predicate(status) and run in (None, name)
        )


@dataclass
class Fuzz:
    """The server, its schema as Schemathesis loaded it, and the tokens to send."""

    server: NajdaServer
    schema: Any
    admin: httpx.Client
    crew_token: str
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    """A server with the test world, a station, a hospital and a crew on CREW_UNIT."""
    work = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(liechtenstein()[0] / "area", work / "data" / "area")  # /geocode answers
    server = NajdaServer(work, ["--no-demo"]).start()
    try:
        with server.client() as admin:
            build_world(admin)
            lat, lon = offset(*CENTRE, north_m=400.0)
            place = {"name": "Fuzz place", "lat": lat, "lon": lon}
            ok(admin.post("/stations", json={"code": "FZ-ST", **place}), 201)
            ok(admin.post("/hospitals", json={"code": "FZ-HO", **place}), 201)
            crew_token = server.add_user("fuzz-crew", "crew", unit=CREW_UNIT)
            raw = ok(admin.get("/openapi.json"))
            # Tokens are sent by the test, not generated: a negative case would drop them.
            config = schemathesis.Config.from_dict(
                {"generation": {"with-security-parameters": False}}
            )
            schema = schemathesis.openapi.from_dict(raw, config=config)
            yield Fuzz(server, schema, admin, crew_token)
    finally:
        server.stop()


def _operations(fuzz: Fuzz) -> list[Any]:
    return [result.ok() for result in fuzz.schema.get_all_operations()]


def _has_inputs(operation: Any) -> bool:
    """Whether the operation takes any parameter or body (else nothing can be made invalid)."""
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _without_control_characters(value: Any) -> Any:
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_without_control_characters(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_control_characters(v) for k, v in value.items()}
    return value


def _plausible(case: Any) -> Any:
    """The case with control characters taken out of its body, so that it gets past
    validation more often and reaches the store, the read models and the live feed."""
    if isinstance(case.body, dict | list):
        case.body = _without_control_characters(case.body)
    return case


def _run(
    fuzz: Fuzz,
    tally: Tally,
    name: str,
    operation: Any,
    strategy: st.SearchStrategy[Any],
    token: str,
    examples: int,
) -> None:
    """Send up to `examples` generated cases of one operation; record statuses and failures."""
    headers = bearer(token)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def send(case: Any) -> None:
        response = case.call(base_url=fuzz.server.url, headers=headers, timeout=30)
        tally.statuses[(name, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseExceptionGroup as failed:
            curl = case.as_curl_command(headers={"Authorization": "Bearer <token>"})
            tally.failures.append(
                f"[{name}] {operation.label} -> {response.status_code} {response.text[:300]}\n"
                f"  {type(failed).__name__}: {str(failed).splitlines()[0]}\n  {curl}"
            )

    send()


def _fresh_targets(fuzz: Fuzz) -> dict[str, str]:
    """Path parameters naming real things: an open incident with a fresh unit dispatched to it
    and a teleconsult requested on it, a fresh user, the station and the hospital."""
    n = next(fuzz.serial)
    lat, lon = offset(*CENTRE, north_m=200.0 * n)
    unit = f"FZ-{n}"
    ok(
        fuzz.admin.post("/units", json={"call_sign": unit, "kind": "als", "lat": lat, "lon": lon}),
        201,
    )
    incident = str(report(fuzz.admin, priority="B")["id"])
    ok(fuzz.admin.post(f"/incidents/{incident}/assignments", json={"units": [unit]}))
    body = {"specialty": "stroke", "reason": "facial droop"}
    consult = ok(fuzz.admin.post(f"/incidents/{incident}/consults", json=body), 201)["id"]
    user = f"fuzz-user-{n}"
    ok(fuzz.admin.post("/users", json={"name": user, "role": "auditor"}), 201)
    patient, alert = _monitored(fuzz, f"fz-mrn-{n}", lat, lon)
    return {
        "incident_id": incident,
        "consult_id": consult,
        "unit": unit,
        "name": user,
        "station": "FZ-ST",
        "hospital": "FZ-HO",
        "patient": patient,
        "alert_id": alert,
    }


def _monitored(fuzz: Fuzz, patient: str, lat: float, lon: float) -> tuple[str, str]:
    """An enrolled patient with an open alert (a critical SpO2 reading): ids for the paths."""
    body = {"identifier": patient, "name": "Fuzz patient", "lat": lat, "lon": lon, "address": "A"}
    ok(fuzz.admin.post("/patients", json=body), 201)
    reading = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": datetime.now(UTC).isoformat(timespec="seconds"),
        "valueQuantity": {"value": 80, "system": "http://unitsofmeasure.org", "code": "%"},
    }
    summary = ok(fuzz.admin.post("/fhir/Observation", json=reading))
    return patient, str(summary["patients"][0]["alerts"][0]["alert_id"])


def _path_names(operation: Any) -> list[str]:
    return [p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"]


def test_generated_requests_never_get_a_server_error(fuzz: Fuzz) -> None:
    tally = Tally()
    admin = fuzz.server.admin_token
    operations = _operations(fuzz)
    started = time.monotonic()
    for operation in operations:
        # Anything the schema allows, and requests that break it (wrong types, missing fields).
        _run(fuzz, tally, "positive", operation, operation.as_strategy(), admin, EXAMPLES)
        if _has_inputs(operation):
            negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            _run(fuzz, tally, "negative", operation, negative, admin, EXAMPLES)
        # Valid requests about things that exist, so that the handlers get past their 404s.
        names = _path_names(operation)
        if names:
            targets = _fresh_targets(fuzz)
            fixed = {k: v for k, v in targets.items() if k in names}
            real = operation.as_strategy(path_parameters=fixed).map(_plausible)
            _run(fuzz, tally, "real ids", operation, real, admin, EXAMPLES)
    # A crew on its own unit (statuses, acknowledgements, positions, reads), and anywhere else.
    for operation in operations:
        if (
            operation.path.startswith("/units/{unit}")
            and operation.path not in DISPATCHER_ONLY_UNIT_PATHS
        ):
            own = operation.as_strategy(path_parameters={"unit": CREW_UNIT}).map(_plausible)
            _run(fuzz, tally, "crew", operation, own, fuzz.crew_token, CREW_EXAMPLES)
        anywhere = operation.as_strategy()
        _run(fuzz, tally, "crew anywhere", operation, anywhere, fuzz.crew_token, CREW_EXAMPLES // 3)
    elapsed = time.monotonic() - started
    print(f"\n{tally.total} generated requests in {elapsed:.1f}s: {sorted(tally.statuses.items())}")

    server_errors = [line for line in tally.failures if re.search(r"^\[[^]]*\] \S+ \S+ -> 5", line)]
    assert not server_errors, "\n".join(server_errors) + "\n" + fuzz.server.log()[-8000:]
    assert not tally.failures, "\n".join(tally.failures[:30])
    assert tally.total >= MIN_REQUESTS
    assert tally.count(lambda s: s >= 500) == 0
    # The tokens were honoured throughout (else the fuzzing only ever met the 401 handler) ...
    assert tally.count(lambda s: s == 401) == 0
    assert tally.count(lambda s: s == 403, "crew") == 0
    # ... and a good share of the requests got past validation to the handlers.
    assert tally.count(lambda s: 200 <= s < 300, "real ids") >= 100
    # The server still runs, and no read model got stuck on an event the fuzzing recorded.
    health = ok(httpx.get(f"{fuzz.server.url}/health", timeout=10))
    assert health["status"] == "ok", health
    assert fuzz.server.process is not None and fuzz.server.process.poll() is None
