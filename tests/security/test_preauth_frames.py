"""H2: nothing large is read before a websocket client is authenticated: a 15 MB first frame is
refused from its header (close 1009) while /health keeps answering at once; after
authentication frames are limited too."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import statistics
import threading
import time

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.conftest import StartServer
from tests.e2e.harness import NajdaServer
from tests.e2e.live import Listener

FLOOD_BYTES = 15 * 1024 * 1024
#: /health while four 15 MB frames arrive: the review measured 9.3 s (the loop blocked reading
#: them); here the median must stay under 100 ms and nine in ten under 500 ms (two shared cores:
#: a 100 ms bound on the 90th percentile failed once at 110 ms in a whole-suite run).
HEALTH_MEDIAN_S = 0.100
HEALTH_P90_S = 0.500


def _flood(server: NajdaServer, codes: list[int | None], sent: threading.Event) -> None:
    """Connect without a token and send one 15 MB message as the first frame."""
    quiet = logging.getLogger("tests.flood")  # the reset it meets is expected, not news
    quiet.setLevel(logging.CRITICAL)
    with connect(server.ws_url("/ws/console"), open_timeout=10, logger=quiet) as ws:
        sent.set()
        with contextlib.suppress(ConnectionClosed, OSError):
            ws.send("x" * FLOOD_BYTES)
        with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
            ws.recv(timeout=10)
        codes.append(ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None)


def test_a_15_mb_frame_before_authentication_is_refused_while_health_answers_at_once(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    codes: list[int | None] = []
    started = [threading.Event() for _ in range(4)]
    floods = [
        threading.Thread(target=_flood, args=(server, codes, started[i]), daemon=True)
        for i in range(4)  # the review's four 15 MB messages
    ]
    timings: list[float] = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/health").status_code == 200  # the connection is open before
        for flood in floods:
            flood.start()
        for event in started:
            assert event.wait(10)
        while any(f.is_alive() for f in floods) or len(timings) < 20:
            began = time.perf_counter()
            assert client.get("/health").status_code == 200
            timings.append(time.perf_counter() - began)
        for flood in floods:
            flood.join(30)
    print(
        f"/health during the flood: median {statistics.median(timings) * 1000:.1f} ms, "
        f"max {max(timings) * 1000:.1f} ms over {len(timings)} requests"
    )
    # Each flood was cut off from its frame's header: closed as too big (1009), or reset
    # while still sending; never read through to an authentication answer (4401).
    assert len(codes) == 4 and set(codes) <= {1009, None}, codes
    # Never blocked behind the floods (the review measured 9.3 s).
    assert statistics.median(timings) < HEALTH_MEDIAN_S, timings
    assert statistics.quantiles(timings, n=10)[-1] < HEALTH_P90_S, timings


def test_frames_are_limited_before_and_after_authentication(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.frames", "dispatcher")
    padded = json.dumps({"type": "auth", "token": token, "pad": "p" * 8_000})
    with connect(server.ws_url("/ws/console"), open_timeout=10) as ws:
        with contextlib.suppress(ConnectionClosed):
            ws.send(padded)  # over the 4 KiB allowed before authentication
            ws.recv(timeout=10)
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1009
    with Listener(server.ws_url("/ws/console"), token, auth_by_message=True) as console:
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        console.send({"type": "ack", "pad": "p" * 10_000})  # 10 KB: fine once authenticated
        assert console.wait_for(lambda ms: any(m["type"] == "error" for m in ms))
        console.send({"type": "ack", "pad": "p" * 70_000})  # over the 64 KiB frame limit
        assert console.wait_closed(10)
    assert console.close_code == 1009


def test_a_large_http_body_is_not_read_before_the_token_is_checked(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    head = (
        f"POST /positions HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 900000\r\n"
        "Authorization: Bearer najda_not_a_token_anybody_holds_000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())  # the 900 KB body is never sent
        answer = sock.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 401"), answer[:200]
    assert "www-authenticate: bearer" in answer.lower()
