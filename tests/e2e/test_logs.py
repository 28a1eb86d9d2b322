"""Logs an operator can use: JSON lines with time, level, logger, request id and user; the
request id returned to the client and kept with the events, so a timeline links to its lines."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, ok
from tests.waiting import eventually


def _json_lines(text: str) -> list[dict[str, Any]]:
    """The lines of the server's output that are JSON objects (the log), parsed."""
    lines = []
    for raw in text.splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_json_log_lines_carry_the_request_id_and_user_and_link_to_the_timeline(
    start_server: StartServer,
) -> None:
    server = start_server("--log-format", "json", "--log-level", "info")
    token = server.admin_token
    with server.client() as client:
        answer = client.post(
            "/incidents",
            json={"lat": CENTRE[0], "lon": CENTRE[1], "nature": "fall", "priority": "C"},
            headers={"X-Request-ID": "req-report-7"},
        )
        incident = ok(answer, 201)["id"]
        assert answer.headers["X-Request-ID"] == "req-report-7"
        # A request id that is not a reasonable one is replaced, never logged as given.
        odd = client.get("/units", headers={"X-Request-ID": "bad id\twith spaces " + "x" * 80})
        made = odd.headers["X-Request-ID"]
        assert made and " " not in made and len(made) <= 64
        timeline = ok(client.get(f"/incidents/{incident}/timeline"))["entries"]
        assert timeline[0]["request_id"] == "req-report-7"

        def logged() -> list[dict[str, Any]]:
            return [
                line
                for line in _json_lines(server.log())
                if line.get("request_id") == "req-report-7" and line["logger"] == "najda.access"
            ]

        access = eventually(logged)
    line = access[0]
    assert {"time", "level", "logger", "message", "request_id", "user"} <= set(line)
    assert line["level"] == "INFO" and line["user"] == "admin"
    assert "POST /incidents" in line["message"] and "201" in line["message"]
    assert line["time"].endswith("+00:00")
    everything = _json_lines(server.log())
    assert any(x["logger"].startswith("uvicorn") for x in everything)  # one configuration
    assert any(x.get("request_id") == made for x in everything)
    assert token not in server.log()  # no token is ever logged
