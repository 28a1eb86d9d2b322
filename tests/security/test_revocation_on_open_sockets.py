"""H1: a revoked, replaced or expired token ends its open sockets at once (close 4401), on
every process, and a revoked crew can no longer report over its socket."""

from __future__ import annotations

import contextlib
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import StartServer
from tests.e2e.harness import NajdaServer, bearer, build_world, ok
from tests.e2e.live import Listener
from tests.waiting import eventually

#: Revocation must reach an open socket within this long (the issue asks for a second).
REACH_S = 1.0


def _hello(listener: Listener) -> bool:
    return listener.wait_for(lambda ms: any(m.get("type") == "hello" for m in ms))


def _revoked_while_open(writer: NajdaServer, reader: NajdaServer) -> None:
    """Open a console and a crew socket on `reader`, revoke both users through `writer`."""
    dispatcher = writer.add_user("d.leaving", "dispatcher")
    crew = writer.add_user("crew.leaving", "crew", unit="A-NEAR")
    stays = writer.add_user("d.staying", "dispatcher")
    with writer.client() as admin, reader.client(dispatcher) as on_reader:
        eventually(lambda: on_reader.get("/units").status_code == 200)  # b caught up
        eventually(lambda: on_reader.get("/units/A-NEAR", headers=bearer(crew)).is_success)
        with (
            Listener(reader.ws_url("/ws/console"), dispatcher) as console,
            Listener(reader.ws_url("/ws/crew"), crew, auth_by_message=True) as crew_socket,
            Listener(reader.ws_url("/ws/console"), stays) as bystander,
        ):
            assert _hello(console) and _hello(crew_socket) and _hello(bystander)
            started = time.monotonic()
            assert admin.delete("/users/d.leaving").status_code == 204
            assert admin.delete("/users/crew.leaving").status_code == 204
            assert console.wait_closed(5) and crew_socket.wait_closed(5)
            elapsed_s = time.monotonic() - started
            # The crew tries to go out of service on the socket it still holds open.
            with contextlib.suppress(ConnectionClosed):  # closed: nothing gets through
                crew_socket.send({"type": "status", "status": "out_of_service"})
            assert console.close_code == 4401 and crew_socket.close_code == 4401
            assert "revoked" in console.close_reason
            assert bystander.close_code is None  # other users are left alone
            assert ok(admin.get("/units/A-NEAR"))["status"] == "available"
    print(f"revocation reached the open sockets in {elapsed_s * 1000:.0f} ms")
    assert elapsed_s < REACH_S + 0.5  # the two DELETE requests take some of it


def test_revocation_closes_open_sockets_on_the_embedded_store(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    with server.client() as admin:
        build_world(admin)
    _revoked_while_open(server, server)


@pytest.mark.postgres
def test_revocation_through_one_process_closes_sockets_on_another(
    start_server: StartServer, pg_url: str
) -> None:
    a = start_server("--database-url", pg_url, name="a")
    b = start_server("--database-url", pg_url, name="b")
    with a.client() as admin:
        build_world(admin)
    _revoked_while_open(a, b)


def test_a_new_token_ends_the_sockets_of_the_old_one(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.rotating", "dispatcher")
    with server.client() as admin, Listener(server.ws_url("/ws/console"), token) as console:
        assert _hello(console)
        fresh = ok(admin.post("/users/d.rotating/token"))["token"]
        assert console.wait_closed(REACH_S + 1)
        with Listener(server.ws_url("/ws/console"), fresh) as renewed:
            assert _hello(renewed)
    assert console.close_code == 4401


def test_an_expiring_token_ends_its_socket_and_its_requests(start_server: StartServer) -> None:
    server = start_server("--no-demo", NAJDA_TOKEN_TTL_DAYS=str(4 / 86_400))  # four seconds
    token = server.add_user("d.short", "dispatcher")
    with server.client(token) as short, Listener(server.ws_url("/ws/console"), token) as console:
        assert _hello(console)
        assert short.get("/incidents").status_code == 200
        assert console.wait_closed(10)
        answer = short.get("/incidents")
    assert console.close_code == 4401 and "expired" in console.close_reason
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
