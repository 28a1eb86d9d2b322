"""The lows at the HTTP edge, on one shared server: failed sign-ins throttled per client (429
with Retry-After), no-store on answers with personal data, access log lines with the user,
JSON nested deeply refused with 400/422 (never 500)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import NajdaServer, bearer, build_world, clean_env, ok, report
from tests.e2e.live import Listener
from tests.waiting import eventually


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    """One server, logging at info (the access log), with the default sign-in throttle."""
    started = NajdaServer(
        tmp_path_factory.mktemp("edges"), ["--no-demo", "--log-level", "info"], clean_env()
    ).start()
    try:
        with started.client() as admin:
            build_world(admin)
        yield started
    finally:
        started.stop()


def _from(address: str, server: NajdaServer, token: str) -> httpx.Client:
    """A client whose connections come from another loopback address (another client)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, headers=bearer(token), transport=transport)


def test_failed_sign_ins_are_throttled_per_client(server: NajdaServer) -> None:
    good = server.add_user("d.throttled", "dispatcher")
    with (
        _from("127.0.0.7", server, "najda_wrong_" + "x" * 40) as guesser,
        _from("127.0.0.8", server, good) as neighbour,
    ):
        answers = [guesser.get("/incidents") for _ in range(12)]
        codes = [a.status_code for a in answers]
        with_good = guesser.get("/incidents", headers=bearer(good))
        from_elsewhere = neighbour.get("/incidents")
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert "too many failed sign-ins" in answers[-1].json()["detail"]
    assert with_good.status_code == 429  # the client is refused whatever it sends now
    assert from_elsewhere.status_code == 200  # other clients are not


def test_answers_with_personal_data_are_never_cached(server: NajdaServer) -> None:
    with server.client() as admin:
        incident = report(admin, "C")
        answers = [
            admin.get(f"/incidents/{incident['id']}"),
            admin.get("/incidents"),
            admin.get("/users"),
            admin.get("/patients"),
            admin.post("/users", json={"name": "d.cached", "role": "dispatcher"}),
            admin.get("/incidents/not-an-id"),
        ]
        asset = admin.get("/ui/format.js")
    for answer in answers:
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
    assert asset.status_code == 200 and asset.headers.get("cache-control") != "no-store"


def test_access_log_lines_name_the_user(server: NajdaServer) -> None:
    token = server.add_user("d.logged", "dispatcher")
    with server.client(token) as dispatcher:
        ok(dispatcher.get("/units"))
    with Listener(server.ws_url("/ws/console"), token) as console:
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
    eventually(lambda: '"GET /units" 200 user=d.logged' in server.log())
    eventually(lambda: '"WS /ws/console" 101 user=d.logged' in server.log())
    assert '"GET /health" 200 user=-' in server.log()  # no token, no user


@pytest.mark.parametrize("depth", [600, 20_000])
def test_json_nested_deeply_is_refused_not_a_500(server: NajdaServer, depth: int) -> None:
    objects = '{"a":' * depth + "1" + "}" * depth
    arrays = "[" * depth + "]" * depth
    routes = ["/incidents", "/users", "/positions", "/patients", "/fhir/Observation", "/fhir"]
    with server.client() as admin:
        for route in routes:
            for body in (objects, arrays):
                answer = admin.post(
                    route, content=body, headers={"Content-Type": "application/json"}
                )
                assert answer.status_code in (400, 422), (route, answer.status_code)
                refusal = answer.json()  # FHIR routes answer an OperationOutcome
                assert refusal.get("detail") or refusal.get("issue"), (route, refusal)
