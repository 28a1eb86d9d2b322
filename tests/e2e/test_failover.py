"""A standby that takes over: the primary dies mid-stream, the synchronous standby is promoted,
and Najda, given both hosts, carries on with nothing acknowledged lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, bearer, ok
from tests.e2e.live import Listener
from tests.pgcluster import ClusterUnavailable, PgCluster
from tests.waiting import eventually

pytestmark = pytest.mark.postgres

#: The service must answer commands again this soon after the primary dies.
TAKEOVER_S = 30.0


@pytest.fixture
def replicated() -> Iterator[tuple[PgCluster, PgCluster]]:
    """A primary and a hot standby in synchronous streaming replication (remote flush)."""
    try:
        primary = PgCluster().init().start()
    except (ClusterUnavailable, RuntimeError) as exc:
        pytest.fail(f"cannot make a PostgreSQL cluster here: {exc}")
    standby = PgCluster()
    try:
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE najda")
        with psycopg.connect(primary.url_for("najda"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        standby.standby_of(primary, name="standby").start()
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = 'standby'")
            conn.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
            conn.execute("SELECT pg_reload_conf()")

            def synchronous() -> bool:
                rows = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchall()
                return [r[0] for r in rows] == ["sync"]

            eventually(synchronous, timeout_s=30)
        yield primary, standby
    finally:
        primary.destroy()
        standby.destroy()


@dataclass
class Writer:
    """Reports incidents one after another; keeps the ids the server acknowledged (201)."""

    url: str
    token: str
    acknowledged: list[str] = field(default_factory=list)
    acknowledged_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    failed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=bearer(self.token), timeout=15) as client:
            n = 0
            while not self.stop.is_set() and n < 2_000:
                n += 1
                body = {"lat": CENTRE[0], "lon": CENTRE[1], "nature": f"call {n}",
                        "priority": "C"}  # fmt: skip
                try:
                    response = client.post("/incidents", json=body)
                except httpx.TransportError:
                    self.failed += 1
                    continue
                if response.status_code == 201:
                    self.acknowledged.append(response.json()["id"])
                    self.acknowledged_at.append(time.monotonic())
                else:
                    self.failed += 1
                    self.stop.wait(0.05)  # the service is failing over: do not spin


def test_the_standby_takes_over_with_nothing_acknowledged_lost(
    replicated: tuple[PgCluster, PgCluster], start_server: StartServer
) -> None:  # `replicated` first: torn down last, the clusters outlive the server (no 20 s stop)
    primary, standby = replicated
    url = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/najda"
        "?target_session_attrs=read-write"
    )
    server = start_server("--database-url", url)
    token = server.admin_token
    with server.client() as client, Listener(server.ws_url("/ws/console"), token) as console:
        assert console.wait_for(lambda m: any(x.get("type") == "hello" for x in m))
        writer = Writer(server.url, token)
        thread = threading.Thread(target=writer.run, daemon=True)
        thread.start()
        try:
            eventually(lambda: len(writer.acknowledged) >= 20, timeout_s=60)
            primary.kill()  # mid-stream: commands are in flight
            killed = time.monotonic()
            standby.promote()
            acked_at_kill = len(writer.acknowledged)
            eventually(lambda: len(writer.acknowledged) >= acked_at_kill + 20, timeout_s=90)
        finally:
            writer.stop.set()
            thread.join(timeout=30)
        # Commands were acknowledged again within the take-over time of the kill.
        first_after = min(t for t in writer.acknowledged_at if t > killed)
        assert first_after - killed < TAKEOVER_S, f"took {first_after - killed:.1f}s"
        print(f"take-over: commands acknowledged again {first_after - killed:.1f}s after the kill")
        ready = eventually(
            lambda: client.get("/health/ready").status_code == 200, timeout_s=TAKEOVER_S
        )
        assert ready

        # Nothing acknowledged is lost: each acknowledged incident is in the store (the
        # promoted standby) and on the board read model.
        board = {i["id"] for i in ok(client.get("/incidents"))}
        missing = [i for i in writer.acknowledged if i not in board]
        assert not missing, f"{len(missing)} acknowledged incidents missing from the board"
        for incident in writer.acknowledged[-5:] + writer.acknowledged[:5]:
            assert ok(client.get(f"/incidents/{incident}"))["id"] == incident
        with psycopg.connect(standby.url_for("najda")) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            assert row is not None and row[0] is False  # writes went to the new primary

        # The console carried on: it shows an incident reported after the take-over.
        last = ok(client.post("/incidents", json={
            "lat": CENTRE[0], "lon": CENTRE[1], "nature": "after failover", "priority": "B",
        }), 201)["id"]  # fmt: skip
        assert console.wait_for(
            lambda messages: any(last in str(m) for m in messages), timeout_s=TAKEOVER_S
        ), "the console did not resume"
