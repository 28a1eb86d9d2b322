"""Slow websocket clients are timed out: one that stops reading is dropped once a message
waits longer than NAJDA_WS_SEND_TIMEOUT_S, while the others keep receiving."""

from __future__ import annotations

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, offset, ok, report
from tests.e2e.live import Listener, has_event


def test_a_client_that_stops_reading_is_timed_out(start_server: StartServer) -> None:
    server = start_server("--no-demo", NAJDA_WS_SEND_TIMEOUT_S="1")
    token = server.add_user("d.slow", "dispatcher")
    # About 6 MB of messages: more than the kernel's buffers (up to 4 MB) and the transport's
    # hold for a client that reads nothing, so a send must wait, and time out.
    signs = [f"S{i:04d}" for i in range(1000)]
    with server.client() as client:
        for i, sign in enumerate(signs):
            lat, lon = offset(*CENTRE, north_m=float(i))
            ok(client.post("/units", json={"call_sign": sign, "kind": "bls", "lat": lat,
                                           "lon": lon}), 201)  # fmt: skip
        with (
            Listener(server.ws_url("/ws/console"), token, paused=True) as stalled,
            Listener(server.ws_url("/ws/console"), token) as healthy,
        ):
            assert healthy.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            for step in range(1, 76):  # 75 messages of 1,000 positions (about 80 KB each)
                moves = [
                    {"unit": s, "lat": offset(*CENTRE, north_m=i + step)[0], "lon": 3.06}
                    for i, s in enumerate(signs)
                ]
                ok(client.post("/positions", json={"positions": moves}))
            incident = report(client, "C", nature="after the flood")
            assert healthy.wait_for(has_event("Incident.Reported", id=incident["id"]), 10)
            stalled.resume()
            assert stalled.wait_closed(15)
    assert stalled.close_code == -1  # dropped: no close frame could get through to it
    assert not any(m.get("event") == "Incident.Reported" for m in stalled.messages)
    assert healthy.close_code is None or healthy.close_code == 1000
