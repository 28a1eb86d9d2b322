"""Running it as a service: liveness, readiness naming the failing part, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import StartServer
from tests.e2e.harness import ok
from tests.e2e.live import Listener
from tests.pgcluster import ClusterUnavailable, PgCluster
from tests.waiting import eventually


def _metrics(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:  # fmt: skip
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_live_ready_and_metrics_on_the_embedded_store(start_server: StartServer) -> None:
    server = start_server()
    with server.client() as client:
        assert ok(client.get("/health/live")) == {"status": "live"}
        readiness = ok(client.get("/health/ready"))
        assert readiness["status"] == "ready"
        assert readiness["checks"] == {"store": "ok", "read_models": "ok", "sealer": "ok"}

        before = _metrics(client)
        for _ in range(3):
            ok(client.get("/units"))
        ok(client.post("/incidents", json={
            "lat": 36.75, "lon": 3.06, "nature": "fall", "priority": "C",
        }), 201)  # fmt: skip
        after = _metrics(client)
        # Counted by route template and status, not by raw path.
        route = dict(method="GET", route="/units", status="200")
        assert _value(after, "najda_http_requests_total", **route) == (
            _value(before, "najda_http_requests_total", **route) + 3
        )
        assert _value(after, "najda_command_duration_seconds_count", route="/incidents") >= 1
        head = int(_value(after, "najda_log_head"))
        assert head > 0 and _value(after, "najda_store_up") == 1
        lags = {dict(k[1])["model"]: v for k, v in after.items() if k[0] == "najda_projection_lag"}
        assert {"unit_locator", "incident_board", "live_feed", "user_directory"} <= set(lags)
        assert all(lag >= 0 for lag in lags.values())
        assert ("najda_seal_backlog", ()) in after

        assert _value(after, "najda_ws_clients", kind="console") == 0
        with Listener(server.ws_url("/ws/console"), server.admin_token) as console:
            assert console.wait_for(lambda m: any(x.get("type") == "hello" for x in m))
            eventually(lambda: _value(_metrics(client), "najda_ws_clients", kind="console") == 1)
        eventually(lambda: _value(_metrics(client), "najda_ws_clients", kind="console") == 0)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of the test's own, which it may stop (the machine's stays up)."""
    try:
        made = PgCluster().init().start()
    except (ClusterUnavailable, RuntimeError) as exc:
        pytest.fail(f"cannot make a PostgreSQL cluster here: {exc}")
    with psycopg.connect(made.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE najda")
    with psycopg.connect(made.url_for("najda"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    yield made
    made.destroy()


@pytest.mark.postgres
def test_ready_answers_503_naming_the_store_while_postgres_is_down(
    start_server: StartServer, cluster: PgCluster, tmp_path: Path
) -> None:
    server = start_server("--database-url", cluster.url_for("najda"), "--no-demo")
    with server.client() as client:
        readiness = eventually(lambda: ok(client.get("/health/ready")))
        assert readiness["checks"]["listen"] == "ok"

        cluster.stop()
        down = eventually(lambda: (r := client.get("/health/ready")).status_code == 503 and r)
        failing = down.json()["failing"]
        assert "store" in failing and "unreachable" in failing["store"]
        assert ok(client.get("/health/live")) == {"status": "live"}  # the process still runs
        metrics = _metrics(client)
        assert _value(metrics, "najda_store_up") == 0

        cluster.start()
        back = eventually(lambda: client.get("/health/ready").status_code == 200, timeout_s=30)
        assert back
        assert ok(client.get("/health/ready"))["checks"]["listen"] == "ok"
